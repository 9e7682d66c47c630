package activities

import (
	"context"
	"errors"
	"fmt"

	"go.temporal.io/sdk/temporal"

	"github.com/batonhq/baton/policy"
	"github.com/batonhq/baton/store"
	"github.com/batonhq/baton/workflows"
)

// refusal is a policy refusal as the update's typed rejection: non-retryable, so
// the workflow records nothing and the caller sees the reason.
func refusal(r *policy.Refusal) error {
	kind := workflows.ErrTypeForbidden
	switch r.Kind {
	case policy.RefusedInvalid:
		kind = workflows.ErrTypeInvalid
	case policy.RefusedUnknownUser:
		kind = workflows.ErrTypeUnknownUser
	}
	return temporal.NewNonRetryableApplicationError(r.Msg, kind, nil)
}

// stageRule is who may take a stage, read from its decision in the ledger: the
// requirement it recorded, or the candidates a product module listed.
type stageRule struct {
	key        store.DecisionKey
	req        policy.Requirement
	listed     bool // a product module chose the candidates: membership is the test
	candidates int  // how many candidates the ledger holds
}

func stageRuleOf(ctx context.Context, qs *store.Queries, key store.DecisionKey) (stageRule, error) {
	e, err := qs.ExplanationGet(ctx, key)
	if err != nil {
		return stageRule{}, fmt.Errorf("read the stage's decision: %w", err)
	}
	r := stageRule{key: key, req: policy.Requirement{Stage: key.Stage}}
	if e.Requirement != nil {
		r.req = *e.Requirement
	}
	r.listed, r.candidates = e.Decision.Method == policy.MethodProductModule, e.Candidates
	return r, nil
}

// check is a user's standing against the stage now, and whether they were a
// candidate when it was decided. That second answer only words a refusal (or, for
// a product module's list, is the test itself), so for a user eligible now it is
// not looked up and reads false: one query, not two, on the common path.
func (r stageRule) check(ctx context.Context, qs *store.Queries, id string) (policy.UserCheck, bool, error) {
	if id == "" {
		return policy.UserCheck{}, false, nil
	}
	c, err := qs.People().Check(ctx, id, r.req)
	if err != nil || (c.Eligible() && !r.listed) {
		return c, false, err
	}
	was, err := qs.ExplanationIsCandidate(ctx, r.key, id)
	if err != nil {
		return c, false, err
	}
	if r.listed && c.Reason == "" && !was {
		c.Reason = "not among the product module's users"
	}
	return c, was, nil
}

// eligibleNow names who may take the stage now, for a refusal's message.
func (r stageRule) eligibleNow(ctx context.Context, qs *store.Queries) (string, error) {
	if r.listed {
		users, err := qs.ExplanationCandidates(ctx, r.key, 0, policy.SampleSize)
		if err != nil {
			return "", err
		}
		return policy.SampleList(policy.CandidatesOf(users, ""), r.candidates), nil
	}
	set, err := qs.People().Eligible(ctx, r.req, policy.SampleSize)
	if err != nil {
		return "", err
	}
	return policy.SampleList(policy.CandidatesOf(set.Sample, ""), set.Count), nil
}

// authorize reads everything policy.Authorize needs, live, inside the caller's
// transaction.
func (a *Activities) authorize(ctx context.Context, qs *store.Queries, act policy.Act, decidedSeq int, workflowID string) error {
	rule, err := stageRuleOf(ctx, qs, store.DecisionKey{WorkflowID: workflowID, Stage: act.Stage, Seq: decidedSeq})
	if err != nil {
		return err
	}
	if act.ActorCheck, act.ActorWasCandidate, err = rule.check(ctx, qs, act.Actor); err != nil {
		return err
	}
	act.ActorAdmin = act.ActorCheck.User.IsAdmin()
	if act.Owner != "" {
		if act.Owner == act.Actor {
			act.OwnerActive = act.ActorCheck.Found && act.ActorCheck.User.Active
		} else if oc, err := qs.People().Check(ctx, act.Owner, rule.req); err != nil {
			return err
		} else {
			act.OwnerActive = oc.Found && oc.User.Active
		}
	}
	if act.Target != "" {
		if act.TargetCheck, act.TargetWasCandidate, err = rule.check(ctx, qs, act.Target); err != nil {
			return err
		}
	}
	r := policy.Authorize(act)
	if r == nil {
		return nil
	}
	// Word the refusal with who may take the stage now.
	if act.Eligible, err = rule.eligibleNow(ctx, qs); err != nil {
		return err
	}
	return refusal(policy.Authorize(act))
}

// isRefusal reports a business failure that must reach the caller unwrapped.
func isRefusal(err error) bool {
	var app *temporal.ApplicationError
	return errors.As(err, &app)
}
