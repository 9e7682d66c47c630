// Package service holds the use cases that pair a change in the database with
// a call to Temporal, each written once: the HTTP API (httpapi) and the
// starter CLI are adapters that decode a request, call it, and render the
// answer. Deactivating someone re-routes the stages they hold; setting a
// status or recording an absence drains or moves work; assignment options
// ask a product module on the caller's behalf or read the ledger.
//
// It may import store, claimclient, policy and workflows; nothing it imports
// may import it.
package service

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/batonhq/baton/claimclient"
	"github.com/batonhq/baton/policy"
	"github.com/batonhq/baton/store"
)

// Service runs the use cases over one store and one claim client.
type Service struct {
	store  *store.Store
	claims *claimclient.Client
	module policy.ProductModule // nil: product_module stages answer their recorded decision
	log    *slog.Logger
}

// New builds the service; module may be nil, log defaults to slog.Default.
func New(st *store.Store, claims *claimclient.Client, module policy.ProductModule, log *slog.Logger) *Service {
	if log == nil {
		log = slog.Default()
	}
	return &Service{store: st, claims: claims, module: module, log: log}
}

// ActiveResult is what SetActive did: on deactivation, how many open stages
// were sent to be decided again; Already, that the person was so before.
type ActiveResult struct {
	UserID        string `json:"userId"`
	Active        bool   `json:"active"`
	Redistributed int    `json:"redistributed"`
	Already       bool   `json:"already,omitempty"`
}

// ErrNotRerouted wraps a deactivation that was recorded but whose stages
// could not all be sent to be decided again: repeating it finishes the job.
var ErrNotRerouted = errors.New("re-routing their stages failed: repeat the deactivation")

// SetActive deactivates (active false) or reactivates target on behalf of
// actor, an admin. A deactivation re-routes every stage they hold, once each;
// repeated, it re-routes those a cut-short run left. Errors wrap the store's
// (store.ErrForbidden, store.ErrNotFound) or ErrNotRerouted.
func (s *Service) SetActive(ctx context.Context, actor, target string, active bool) (ActiveResult, error) {
	held, changed, err := s.store.UserActiveSet(ctx, actor, target, active)
	if err != nil {
		return ActiveResult{}, err
	}
	res := ActiveResult{UserID: target, Active: active, Already: !changed}
	if !active {
		if err := s.claims.Redistribute(ctx, held, target, target+" was deactivated"); err != nil {
			return res, fmt.Errorf("%s is deactivated, but %w (%v)", target, ErrNotRerouted, err)
		}
		res.Redistributed = len(held)
	}
	return res, nil
}

// StatusResult is what SetStatus did: the status set, the one it replaced,
// and how many waiting stages were asked to decide again.
type StatusResult struct {
	UserID   string              `json:"userId"`
	Status   policy.Availability `json:"status"`
	Previous policy.Availability `json:"previous"`
	Nudged   int                 `json:"nudged"`
}

// SetStatus sets target's status on behalf of actor (themselves or an
// admin). Back at work, the waiting stages they may take decide again; a
// nudge that cannot be sent now is logged, not returned: the next freed slot
// sends it once its lease ends (two minutes).
func (s *Service) SetStatus(ctx context.Context, actor, target string, status policy.Availability) (StatusResult, error) {
	old, drain, err := s.store.UserStatusSet(ctx, actor, target, status)
	if err != nil {
		return StatusResult{}, err
	}
	res := StatusResult{UserID: target, Status: status, Previous: old}
	if err := s.claims.DecideAgain(ctx, drain); err != nil {
		s.log.WarnContext(ctx, "nudge the backlog", "user", target, "error", err)
	} else {
		res.Nudged = len(drain)
	}
	return res, nil
}

// AddAbsence records an absence of target's on behalf of actor (themselves or
// an admin) and, if it has begun, acts on it at once: the stages whose policy
// says onAbsence: redistribute move. Acting is also the worker's sweeper's
// job, so a failure here is logged and left to it. It returns how many stages
// were asked to move.
func (s *Service) AddAbsence(ctx context.Context, actor, target string, a store.Absence) (moved int, err error) {
	if err := s.store.AbsenceAdd(ctx, actor, target, a); err != nil {
		return 0, err
	}
	if a.From.After(time.Now()) {
		return 0, nil // the worker acts on its start
	}
	n, err := s.store.StartAbsences(ctx, s.claims.RedistributeAbsent)
	if err != nil {
		s.log.WarnContext(ctx, "act on absences starting", "error", err)
		return 0, nil
	}
	return n, nil
}
