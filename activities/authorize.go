package activities

import (
	"context"
	"errors"
	"fmt"

	"go.temporal.io/sdk/temporal"

	"github.com/batonhq/baton/internal/store"
	"github.com/batonhq/baton/policy"
	"github.com/batonhq/baton/workflows"
)

// ledgerStage is a stage's decision as the ledger holds it.
type ledgerStage struct {
	qs  *store.Queries
	key policy.DecisionKey
	n   int
}

func (l ledgerStage) WasCandidate(ctx context.Context, id string) (bool, error) {
	return l.qs.ExplanationIsCandidate(ctx, l.key, id)
}

func (l ledgerStage) FirstCandidates(ctx context.Context, n int) ([]policy.User, int, error) {
	users, err := l.qs.ExplanationCandidates(ctx, l.key, 0, n)
	return users, l.n, err
}

// stageAuthority reads who may take a stage from its decision in the ledger.
func stageAuthority(ctx context.Context, qs *store.Queries, key policy.DecisionKey) (policy.StageAuthority, error) {
	e, err := qs.ExplanationHead(ctx, key)
	if err != nil {
		return policy.StageAuthority{}, fmt.Errorf("read the stage's decision: %w", err)
	}
	s := policy.StageAuthority{Requirement: policy.Requirement{Stage: key.Stage}, Listed: e.Decision.Method == policy.MethodProductModule,
		Ledger: ledgerStage{qs: qs, key: key, n: e.Candidates}}
	if e.Requirement != nil {
		s.Requirement = *e.Requirement
	}
	return s, nil
}

// authorize decides an act against the directory as it is now, inside the
// caller's transaction; a refusal comes back as the update's typed rejection.
func (a *Activities) authorize(ctx context.Context, qs *store.Queries, act policy.Act, decidedSeq int, workflowID string) error {
	s, err := stageAuthority(ctx, qs, policy.DecisionKey{WorkflowID: workflowID, Stage: act.Stage, Seq: decidedSeq})
	if err != nil {
		return err
	}
	r, err := policy.AuthorizeNow(ctx, qs.People(), s, act)
	if err != nil || r == nil {
		return err
	}
	return workflows.Rejection(r)
}

// isRefusal reports a business failure that must reach the caller unwrapped.
func isRefusal(err error) bool {
	var app *temporal.ApplicationError
	return errors.As(err, &app)
}
