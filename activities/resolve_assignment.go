package activities

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"math/rand/v2"

	"go.temporal.io/sdk/temporal"

	"github.com/batonhq/baton/internal/store"
	"github.com/batonhq/baton/policy"
	"github.com/batonhq/baton/workflows"
)

// ResolveAssignment decides a stage: it asks the directory who is eligible, runs
// the stage's method, takes the turn, writes the ledger row and notifies the
// assignee, all in one transaction keyed by (workflow id, stage, seq). A retry, or
// a second copy running at the same time, returns the decision already made and
// never takes the turn again.
func (a *Activities) ResolveAssignment(ctx context.Context, in workflows.ResolveAssignmentInput) (policy.Decision, error) {
	key := policy.DecisionKey{WorkflowID: in.WorkflowID, Stage: in.Stage, Seq: in.Seq}
	pol, err := a.policyFor(ctx, in.Policy)
	if err != nil {
		return policy.Decision{}, err
	}
	if len(in.Without) > 0 {
		// A redistribution: a retry is answered from the ledger before the
		// move is judged again (its holder may have come back since).
		if d, ok, err := a.recorded(ctx, key); ok || err != nil {
			return d, err
		}
		if in, err = a.warranted(ctx, pol, in); err != nil {
			return policy.Decision{}, err
		}
	}
	var module *moduleAnswer
	if pol.UsesProductModule(in.Stage) {
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
	scope := ""
	if module == nil {
		scope = pol.TurnScopeFor(in.Stage, in.Claim)
	}
	return a.recordOnce(ctx, key, in.Claim.ID, scope, func(qs *store.Queries, people *store.People) (pending, error) {
		d, ex, err := a.decide(ctx, qs, people, pol, in, module)
		d.Seq = in.Seq
		return pending{decision: d, explanation: &ex, at: in.At, redistributed: len(in.Without) > 0}, err
	})
}

// warranted checks a redistribution against the store, not the signal that
// asked for it: each person in.Without names must hold the stage with a move
// the store marked (their deactivation, or an absence of theirs beginning where
// the stage's policy says onAbsence: redistribute), and the reasons become the
// store's. Anything else is refused (BatonConflict) and nothing moves, so the
// redistribute signal, which anyone with a Temporal client can send, is only
// ever a nudge, and none of its text reaches a decision, the timeline or a
// notification.
func (a *Activities) warranted(ctx context.Context, pol *policy.Policy, in workflows.ResolveAssignmentInput) (workflows.ResolveAssignmentInput, error) {
	without := make(map[string]string, len(in.Without))
	for user := range in.Without {
		reason, absence, ok, err := a.Store.StageMove(ctx, in.WorkflowID, in.Stage, user)
		if err != nil {
			return in, err
		}
		if !ok {
			return in, temporal.NewNonRetryableApplicationError(fmt.Sprintf(
				"claim %s: %s is not to be moved off %q: it is not theirs, or they were neither deactivated nor went away; nothing moves",
				in.Claim.ID, in.Stage, user), workflows.ErrTypeConflict, nil)
		}
		if absence && !pol.RulesFor(in.Stage).RedistributeOnAbsence {
			return in, temporal.NewNonRetryableApplicationError(fmt.Sprintf(
				"claim %s: %s stays with %q while they are away: its policy does not say onAbsence: redistribute",
				in.Claim.ID, in.Stage, user), workflows.ErrTypeConflict, nil)
		}
		without[user] = reason
		in.Why = reason
	}
	in.Without = without
	return in, nil
}

// decide runs the stage's method inside the transaction, reading the directory
// through indexed SQL (qs.People), never all of it.
func (a *Activities) decide(ctx context.Context, qs *store.Queries, people *store.People, pol *policy.Policy,
	in workflows.ResolveAssignmentInput, module *moduleAnswer) (policy.Decision, policy.Explanation, error) {
	if module != nil && module.err == nil {
		d, ex, err := policy.DecideFromModule(ctx, pol, in.Stage, people, module.opts)
		if err == nil {
			ref := people.Ref(ex.Requirement) // a pool's requirement; none for a list
			ex.RequirementID, ex.Generation = ref.ID, ref.Generation
			if why, off := in.Without[d.Assignee]; off && d.Assignee != "" {
				d.Reason += fmt.Sprintf("; %s is passed over (%s), so nobody is assigned", d.Assignee, why)
				d.Assignee = ""
			}
			if in.Why != "" {
				d.Reason = in.Why + "; " + d.Reason
			}
			return d, ex, nil
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
	din := policy.DecideInput{Policy: p, Stage: in.Stage, Outcome: in.Outcome, People: people,
		Claim: in.Claim, Steps: in.Steps, Random: rand.Int(), Without: in.Without, Why: in.Why}
	if p.AssignmentsEnabled && p.MethodFor(in.Stage) == policy.MethodRecentHost {
		var err error
		if din.RecentHost, err = qs.RecentHost(ctx, in.Claim.Data[policy.ClaimKeySubject]); err != nil {
			return policy.Decision{}, policy.Explanation{}, err
		}
	}
	d, ex, err := policy.Decide(ctx, din)
	if err != nil {
		return d, ex, err
	}
	ref := people.Ref(ex.Requirement)
	ex.RequirementID, ex.Generation = ref.ID, ref.Generation
	if module != nil {
		d.Reason = fmt.Sprintf("product module answer rejected (%v); left for manual assignment among %d eligible users",
			module.err, d.Eligible)
	}
	return d, ex, nil
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
		u, err := a.Store.UserGet(ctx, in.CurrentUser)
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
