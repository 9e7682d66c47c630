// Package service holds Baton's use cases, each written once: the HTTP API
// (httpapi) and the starter CLI are adapters that decode a request, call it,
// and render the answer. Deactivating someone, by hand or by a directory
// load, re-routes the stages they hold; setting a status or recording an
// absence drains or moves work; groups are applied by those who may; the
// queue, the workload and the team views are read for whoever may see them
// (queue.go); assignment options ask a product module on the caller's behalf
// or read the ledger; a policy file is applied or tested, and API tokens made
// and revoked, with the database alone (policies.go), so those work while
// Temporal is down.
//
// It is the only caller of the authorisation rules (policy.Authorize*)
// outside the activities, asking them in the transaction that makes the
// change; store holds SQL only. It may import store, claimclient, policy,
// policy/yamlfile and workflows; nothing it imports may import it.
package service

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/batonhq/baton/claimclient"
	"github.com/batonhq/baton/internal/store"
	"github.com/batonhq/baton/policy"
	"github.com/batonhq/baton/policy/yamlfile"
)

// Service runs the use cases over one store and one claim client.
type Service struct {
	store  *store.Store
	claims *claimclient.Client
	module policy.ProductModule // nil: product_module stages answer their recorded decision
	log    *slog.Logger
	lists  *listCache // the queue's recent visibility listings
}

// New builds the service; module may be nil, log defaults to slog.Default.
func New(st *store.Store, claims *claimclient.Client, module policy.ProductModule, log *slog.Logger) *Service {
	if log == nil {
		log = slog.Default()
	}
	return &Service{store: st, claims: claims, module: module, log: log, lists: newListCache()}
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
	verb := "reactivate "
	if !active {
		verb = "deactivate "
	}
	var held []string
	var changed bool
	err := s.authorized(ctx, actor, func(u *policy.User) *policy.Refusal { return policy.AuthorizeUserAdmin(actor, u, verb+target) },
		func(qs *store.Queries) (err error) {
			held, changed, err = qs.UserActiveSet(ctx, target, active)
			return err
		})
	if err != nil {
		return ActiveResult{}, err
	}
	res := ActiveResult{UserID: target, Active: active, Already: !changed}
	if !active {
		if err := s.Reroute(ctx, []store.Leaver{{User: target, Held: held}}); err != nil {
			return res, err
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
	var old policy.Availability
	var drain []string
	err := s.authorized(ctx, actor, func(u *policy.User) *policy.Refusal { return policy.AuthorizeStatusChange(actor, u, target) },
		func(qs *store.Queries) (err error) {
			old, drain, err = qs.UserStatusSet(ctx, target, status)
			return err
		})
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
	err = s.authorized(ctx, actor, func(u *policy.User) *policy.Refusal { return policy.AuthorizeAbsence(actor, u, target) },
		func(qs *store.Queries) error { return qs.AbsenceAdd(ctx, actor, target, a) })
	if err != nil {
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

// ApplyGroups parses a reassignment-groups document (file names it in errors)
// and applies it on behalf of actor, who must hold ManageReassignmentGroups:
// someone who may not is refused before the document is read. Every group or
// none: a document that does not parse wraps ErrUnreadable, an unknown
// member or default assignee fails the whole apply with its file and line (a
// *policy.FieldError), and nothing changes.
func (s *Service) ApplyGroups(ctx context.Context, actor, file string, doc []byte) (int, error) {
	var n int
	err := s.authorized(ctx, actor, func(u *policy.User) *policy.Refusal { return policy.AuthorizeGroupEdit(actor, u) }, func(qs *store.Queries) error {
		groups, err := yamlfile.ParseGroups(file, doc)
		if err != nil {
			return invalid{err}
		}
		n = len(groups)
		return qs.ApplyGroups(ctx, file, actor, groups)
	})
	return n, err
}

// ErrUnreadable marks a document (a groups file, a request body) that did not
// parse, as opposed to one that parsed and names something unknown; its kind
// is invalid.
var ErrUnreadable error = &policy.Error{Kind: policy.KindInvalid, Msg: "the document could not be read"}

// invalid marks a document that could not be read (ErrUnreadable), keeping its
// message (file, line and field).
type invalid struct{ error }

func (e invalid) Unwrap() []error { return []error{e.error, ErrUnreadable} }

// authorized makes a change on behalf of actor in one transaction: it reads
// the actor as the directory has them now (nil when it does not know them),
// asks rule, one of the policy.Authorize* functions, and only then runs
// change. A refusal is forbidden (store.ErrForbidden), names the actor, and
// changes nothing.
func (s *Service) authorized(ctx context.Context, actor string, rule func(*policy.User) *policy.Refusal, change func(*store.Queries) error) error {
	return s.store.InTx(ctx, func(qs *store.Queries) error {
		var who *policy.User
		u, err := qs.UserGet(ctx, actor)
		switch {
		case err == nil:
			who = &u
		case !errors.Is(err, store.ErrNotFound):
			return err
		}
		if r := rule(who); r != nil {
			return &policy.Error{Kind: policy.KindForbidden, Msg: r.Msg, User: actor}
		}
		return change(qs)
	})
}

// Workload is target's status, limits and open stages, read for me (the
// caller as authenticated): anyone may read their own, an admin anyone's.
func (s *Service) Workload(ctx context.Context, me *policy.User, target string) (store.UserWork, error) {
	if r := policy.AuthorizeWorkloadRead(me.ID, me, target); r != nil {
		return store.UserWork{}, fmt.Errorf("%s: %w", r.Msg, store.ErrForbidden)
	}
	return s.store.UserWorkload(ctx, target)
}

// TeamView is one page of the team: each person's status, limits and open
// stages, the backlog by queue and stage, and the cursor of the next page.
type TeamView struct {
	People  []store.TeamMember   `json:"people"`
	Backlog []store.BacklogQueue `json:"backlog"`
	Next    string               `json:"next"`
}

// Team reads a page of the team view for me, an admin: after is the next of
// the page before. Pages are read by key, so a deep page costs what the first
// does.
func (s *Service) Team(ctx context.Context, me *policy.User, after store.TeamCursor, limit int) (TeamView, error) {
	if r := policy.AuthorizeUserAdmin(me.ID, me, "see the team view"); r != nil {
		return TeamView{}, fmt.Errorf("%s: %w", r.Msg, store.ErrForbidden)
	}
	people, next, err := s.store.TeamPage(ctx, after, limit)
	if err != nil {
		return TeamView{}, err
	}
	backlog, err := s.store.BacklogByQueue(ctx)
	if err != nil {
		return TeamView{}, err
	}
	return TeamView{People: nonNil(people), Backlog: nonNil(backlog), Next: next.String()}, nil
}

func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

// LoadDirectory makes the directory match a parsed file (store.Store.LoadDirectory)
// and re-routes what the people it deactivated hold (Reroute): a leaver in
// the hourly file keeps no claim waiting on them. The load is recorded even
// when re-routing fails (ErrNotRerouted).
func (s *Service) LoadDirectory(ctx context.Context, d *policy.Directory) (store.LoadSummary, error) {
	sum, err := s.store.LoadDirectory(ctx, d)
	if err != nil {
		return sum, err
	}
	return sum, s.Reroute(ctx, sum.Left)
}

// Reroute asks each claim a leaver's stage is marked to move off them (their
// deactivation, by hand or by a directory load) to decide it again without
// them. A claim that already moved it ignores the ask, so repeating it (or
// deactivating them again, which lists what they still hold) finishes a run
// cut short.
func (s *Service) Reroute(ctx context.Context, left []store.Leaver) error {
	for _, l := range left {
		if err := s.claims.Redistribute(ctx, l.Held, l.User, l.User+" was deactivated"); err != nil {
			return fmt.Errorf("%s is deactivated, but %w (%v)", l.User, ErrNotRerouted, err)
		}
	}
	return nil
}
