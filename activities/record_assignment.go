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
// the new assignee, exactly once per (workflow, stage, seq). The user must still be
// in the directory and active: the workflow's candidate list is a snapshot and
// someone may have been deactivated since.
func (a *Activities) RecordAssignment(ctx context.Context, in workflows.RecordAssignmentInput) (policy.Decision, error) {
	key := store.DecisionKey{WorkflowID: in.WorkflowID, Stage: in.Stage, Seq: in.Seq}
	if d, ok, err := a.recorded(ctx, key); ok || err != nil {
		return d, err
	}
	return a.recordOnce(ctx, key, in.ClaimID, func(qs *store.Queries) (pending, error) {
		u, err := qs.GetUser(ctx, in.Assignee)
		if errors.Is(err, store.ErrNotFound) {
			return pending{}, temporal.NewNonRetryableApplicationError(
				fmt.Sprintf("user %q is not in the directory", in.Assignee), workflows.ErrTypeUnknownUser, nil)
		}
		if err != nil {
			return pending{}, err
		}
		if !u.Active {
			return pending{}, temporal.NewNonRetryableApplicationError(
				fmt.Sprintf("user %q is inactive", in.Assignee), workflows.ErrTypeUnknownUser, nil)
		}
		reason := fmt.Sprintf("assigned by %s", in.Actor)
		if in.Previous != "" {
			reason = fmt.Sprintf("reassigned from %s by %s", in.Previous, in.Actor)
		}
		if in.Comment != "" {
			reason += ": " + in.Comment
		}
		return pending{decision: policy.Decision{
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
		}}, nil
	})
}
