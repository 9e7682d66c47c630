package activities

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"math/rand/v2"

	"github.com/batonhq/baton/policy"
	"github.com/batonhq/baton/store"
	"github.com/batonhq/baton/workflows"
)

// ResolveAssignment decides a stage: it reads the directory, runs the stage's
// method, advances the round-robin cursor, writes the ledger row and notifies the
// assignee, all in one transaction keyed by (workflow id, stage, seq). A retry, or
// a second copy running at the same time, returns the decision already made and
// never advances the cursor again.
func (a *Activities) ResolveAssignment(ctx context.Context, in workflows.ResolveAssignmentInput) (policy.Decision, error) {
	key := store.DecisionKey{WorkflowID: in.WorkflowID, Stage: in.Stage, Seq: in.Seq}
	pol, err := a.policyFor(ctx, in.Policy)
	if err != nil {
		return policy.Decision{}, err
	}
	var module *moduleAnswer
	if pol.AssignmentsEnabled && pol.MethodFor(in.Stage) == policy.MethodProductModule {
		// A retry must not ask the module again. Other methods need no such check:
		// recordOnce finds the recorded decision when its insert conflicts.
		if d, ok, err := a.recorded(ctx, key); ok || err != nil {
			return d, err
		}
		// Asked outside the transaction: a module may do slow I/O of its own.
		ans, err := a.askModule(ctx, pol, in)
		if err != nil {
			return policy.Decision{}, err // the module failed to answer: retry
		}
		module = &ans
	}
	return a.recordOnce(ctx, key, in.Claim.ID, func(qs *store.Queries) (pending, error) {
		users, err := qs.ListUsers(ctx)
		if err != nil {
			return pending{}, err
		}
		d, next, scope, err := a.decide(ctx, qs, pol, in, users, module)
		d.Seq = in.Seq
		return pending{decision: d, scope: scope, cursor: next, at: in.At}, err
	})
}

// decide runs the stage's method inside the transaction. When scope is not empty
// the returned cursor must be stored under it.
func (a *Activities) decide(ctx context.Context, qs *store.Queries, pol *policy.Policy, in workflows.ResolveAssignmentInput,
	users []policy.User, module *moduleAnswer) (d policy.Decision, next policy.Cursor, scope string, err error) {
	if module != nil && module.err == nil {
		d, err := policy.DecideFromModule(pol, in.Stage, users, module.opts)
		if err == nil {
			return d, policy.Cursor{}, "", nil
		}
		module.err = err
	}
	p := pol
	if module != nil {
		// The module's answer was unusable: fall back to the stage's permissions with
		// nobody assigned, so a person can still pick, and say why in the ledger.
		fallback := *p
		fallback.Stages = maps.Clone(p.Stages)
		if fallback.Stages == nil {
			fallback.Stages = map[policy.Stage]policy.StageConfig{}
		}
		sc := fallback.Stages[in.Stage]
		sc.Method = policy.MethodManual
		fallback.Stages[in.Stage] = sc
		p = &fallback
	}
	var teams []policy.Team
	if p.NeedsTeams(in.Stage) {
		if teams, err = qs.ListTeams(ctx); err != nil {
			return d, next, "", err
		}
	}
	din := policy.DecideInput{Policy: p, Stage: in.Stage, Outcome: in.Outcome, Users: users, Teams: teams,
		Claim: in.Claim, Steps: in.Steps, Random: rand.Int()}
	if p.AssignmentsEnabled && p.MethodFor(in.Stage) == policy.MethodRecentHost {
		if din.RecentHost, err = qs.RecentHost(ctx, in.Claim.Data[policy.ClaimKeySubject]); err != nil {
			return d, next, "", err
		}
	}
	if scope = policy.ScopeFor(din); scope != "" {
		if din.Cursor, err = qs.CursorLock(ctx, scope); err != nil {
			return d, next, "", err
		}
	}
	d, next, err = policy.Decide(din)
	if err != nil {
		return d, next, "", err
	}
	if module != nil {
		d.Reason = fmt.Sprintf("product module answer rejected (%v); left for manual assignment among %d eligible users",
			module.err, len(d.Candidates))
	}
	if d.Assignee == "" || d.Method == policy.MethodDefaultAssignee {
		scope = "" // nobody was picked by the cursor: it did not move
	}
	return d, next, scope, nil
}

type moduleAnswer struct {
	opts policy.AssignmentOptions
	err  error // set when the answer cannot be used
}

// askModule calls the product module outside any transaction, since it may do I/O
// of its own. A module error is returned for the activity to retry; a missing
// module is recorded as an unusable answer so the stage falls back.
func (a *Activities) askModule(ctx context.Context, pol *policy.Policy, in workflows.ResolveAssignmentInput) (moduleAnswer, error) {
	if a.Module == nil {
		return moduleAnswer{err: errors.New("no product module is configured on this worker")}, nil
	}
	var current *policy.User
	if in.CurrentUser != "" {
		u, err := a.Store.GetUser(ctx, in.CurrentUser)
		if err != nil {
			return moduleAnswer{}, err
		}
		current = &u
	}
	opts, err := a.Module.GetClaimAssignmentOptions(ctx, pol, in.Claim, current, in.Stage)
	if err != nil {
		return moduleAnswer{}, fmt.Errorf("product module: %w", err)
	}
	return moduleAnswer{opts: opts}, nil
}
