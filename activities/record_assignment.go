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

// RecordAssignment writes a person's choice of assignee to the ledger and notifies
// the new assignee, in one transaction keyed like every decision. The user must
// still be in the directory and active: the workflow's candidate list is a snapshot
// and someone may have been deactivated since.
func (a *Activities) RecordAssignment(ctx context.Context, in workflows.RecordAssignmentInput) (policy.Decision, error) {
	key := store.DecisionKey{WorkflowID: in.WorkflowID, Stage: in.Stage, Seq: in.Seq}
	if d, err := a.Store.DecisionGet(ctx, key); err == nil {
		return d, nil
	} else if !errors.Is(err, store.ErrNotFound) {
		return policy.Decision{}, err
	}
	var decided policy.Decision
	err := a.Store.InTx(ctx, func(qs *store.Queries) error {
		u, err := qs.GetUser(ctx, in.Assignee)
		if errors.Is(err, store.ErrNotFound) {
			return temporal.NewNonRetryableApplicationError(
				fmt.Sprintf("user %q is not in the directory", in.Assignee), workflows.ErrTypeUnknownUser, nil)
		}
		if err != nil {
			return err
		}
		if !u.Active {
			return temporal.NewNonRetryableApplicationError(
				fmt.Sprintf("user %q is inactive", in.Assignee), workflows.ErrTypeUnknownUser, nil)
		}
		reason := fmt.Sprintf("assigned by %s", in.Actor)
		if in.Previous != "" {
			reason = fmt.Sprintf("reassigned from %s by %s", in.Previous, in.Actor)
		}
		if in.Comment != "" {
			reason += ": " + in.Comment
		}
		d := policy.Decision{
			Seq:                in.Seq,
			Stage:              in.Stage,
			Method:             policy.MethodAssign,
			AssignmentsEnabled: true,
			Assignee:           in.Assignee,
			Actor:              in.Actor,
			Candidates:         in.Candidates,
			Reason:             reason,
			PolicyVersion:      in.PolicyVersion,
			Comment:            in.Comment,
		}
		inserted, err := qs.DecisionInsert(ctx, key, in.ClaimID, d)
		if err != nil {
			return err
		}
		if !inserted {
			return errDecidedElsewhere
		}
		msg := fmt.Sprintf("Claim %s is yours at %s (%s)", in.ClaimID, in.Stage, reason)
		if err := qs.InboxAdd(ctx, key, in.ClaimID, in.Assignee, msg, a.link(in.WorkflowID, in.ClaimID, in.Stage)); err != nil {
			return err
		}
		decided = d
		return nil
	})
	if errors.Is(err, errDecidedElsewhere) {
		return a.Store.DecisionGet(ctx, key)
	}
	if err != nil {
		var app *temporal.ApplicationError
		if errors.As(err, &app) {
			return policy.Decision{}, err
		}
		return policy.Decision{}, fmt.Errorf("record assignment %s: %w", key, err)
	}
	a.Log.InfoContext(ctx, "assignment recorded", "claim_id", in.ClaimID, "stage", in.Stage, "seq", in.Seq,
		"assignee", in.Assignee, "actor", in.Actor)
	if err := a.afterCommit(ctx, key); err != nil {
		return policy.Decision{}, err
	}
	return decided, nil
}
