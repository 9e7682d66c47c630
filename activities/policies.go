package activities

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"go.temporal.io/sdk/temporal"

	"github.com/batonhq/baton/internal/store"
	"github.com/batonhq/baton/policy"
	"github.com/batonhq/baton/workflows"
)

// policyCache holds parsed stored policy versions. A stored version never changes,
// so an entry never goes stale.
type policyCache struct {
	mu sync.Mutex
	m  map[workflows.PolicyRef]*policy.Policy
}

// PinPolicy returns the stored policy version a claim runs under: the latest
// version of the worker's policy name, or the version asked for. With no stored
// policy it returns an empty reference, and decisions use the worker's own.
func (a *Activities) PinPolicy(ctx context.Context, in workflows.PinPolicyInput) (workflows.PolicyRef, error) {
	if in.Start != nil {
		if err := a.checkStart(ctx, *in.Start); err != nil {
			return workflows.PolicyRef{}, err
		}
	}
	if in.Actor != "" {
		// A migration: the actor must be an active admin as the directory is now.
		act := policy.Act{Action: policy.DoMigratePolicy, ClaimID: in.ClaimID, Actor: in.Actor}
		c, err := a.Store.People().Check(ctx, in.Actor, policy.Requirement{})
		if err != nil {
			return workflows.PolicyRef{}, err
		}
		act.ActorCheck, act.ActorAdmin = c, c.User.IsAdmin()
		if r := policy.Authorize(act); r != nil {
			return workflows.PolicyRef{}, workflows.Rejection(r)
		}
	}
	name := a.Policy.Name
	if name == "" {
		name = "default"
	}
	var sp store.StoredPolicy
	var err error
	if in.Version > 0 {
		sp, err = a.Store.PolicyVersion(ctx, name, in.Version)
		if errors.Is(err, store.ErrNotFound) {
			return workflows.PolicyRef{}, temporal.NewNonRetryableApplicationError(
				fmt.Sprintf("policy %s has no version %d", name, in.Version), workflows.ErrTypeInvalid, nil)
		}
	} else {
		sp, err = a.Store.PolicyLatest(ctx, name)
		if errors.Is(err, store.ErrNotFound) {
			return workflows.PolicyRef{}, nil
		}
	}
	if err != nil {
		return workflows.PolicyRef{}, err
	}
	return workflows.PolicyRef{Name: sp.Name, Version: sp.Version}, nil
}

// checkStart judges a claim's start before anything about it is recorded: the
// input's own checks, then its owner against the directory. An owner who is in
// the directory but inactive is accepted: being the owner grants nothing while
// they are inactive (authority is live), and they may come back.
func (a *Activities) checkStart(ctx context.Context, s workflows.StartCheck) error {
	if err := s.Check(); err != nil {
		return temporal.NewNonRetryableApplicationError(err.Error(), workflows.ErrTypeInvalid, nil)
	}
	if len(a.ActorKeys) > 0 {
		if err := a.ActorKeys.VerifyStart(s, time.Now()); err != nil {
			return temporal.NewNonRetryableApplicationError(fmt.Sprintf("start of claim %s refused: %v", s.ClaimID, err),
				workflows.ErrTypeForbidden, nil)
		}
	}
	if s.Owner == "" {
		return nil
	}
	c, err := a.Store.People().Check(ctx, s.Owner, policy.Requirement{})
	if err != nil {
		return err
	}
	if !c.Found {
		return temporal.NewNonRetryableApplicationError(
			fmt.Sprintf("start input: field %q: user %q is not in the directory", "owner", s.Owner), workflows.ErrTypeInvalid, nil)
	}
	return nil
}

// policyFor returns the policy a decision runs under.
func (a *Activities) policyFor(ctx context.Context, ref workflows.PolicyRef) (*policy.Policy, error) {
	if ref.IsZero() {
		return a.Policy, nil
	}
	a.policies.mu.Lock()
	defer a.policies.mu.Unlock()
	if p, ok := a.policies.m[ref]; ok {
		return p, nil
	}
	sp, err := a.Store.PolicyVersion(ctx, ref.Name, ref.Version)
	if err != nil {
		return nil, err
	}
	p, err := sp.Parse()
	if err != nil {
		return nil, temporal.NewNonRetryableApplicationError(fmt.Sprintf("stored policy %s: %v", ref, err), workflows.ErrTypeInvalid, nil)
	}
	if a.policies.m == nil {
		a.policies.m = map[workflows.PolicyRef]*policy.Policy{}
	}
	a.policies.m[ref] = p
	return p, nil
}
