package workflows

import (
	"fmt"

	"go.temporal.io/sdk/workflow"

	"github.com/batonhq/baton/policy"
)

// Update handlers. Each validates again on entry: validators of concurrent updates
// all ran against the state before any handler, so checking again makes the first
// one win.

func (c *claim) assign(ctx workflow.Context, in AssignInput) (policy.Decision, error) {
	if err := c.validateAssign(in); err != nil {
		return policy.Decision{}, err
	}
	return c.record(ctx, RecordAssignmentInput{Assignee: in.UserID, Actor: in.Actor, Comment: in.Comment})
}

func (c *claim) claim(ctx workflow.Context, in ClaimStageInput) (policy.Decision, error) {
	if err := c.validateClaim(in); err != nil {
		return policy.Decision{}, err
	}
	if c.state.Status == StatusReassigning {
		return c.record(ctx, RecordAssignmentInput{Method: policy.MethodReassignmentGroup, Assignee: in.Actor, Actor: in.Actor,
			Reason: fmt.Sprintf("claimed by %s from reassignment group %s", in.Actor, c.state.Reassignment.Group)})
	}
	return c.record(ctx, RecordAssignmentInput{Method: policy.MethodClaim, Assignee: in.Actor, Actor: in.Actor,
		Reason: fmt.Sprintf("claimed by %s from queue %s", in.Actor, c.state.Queue)})
}

func (c *claim) unassign(ctx workflow.Context, in UnassignInput) (policy.Decision, error) {
	if err := c.validateUnassign(in); err != nil {
		return policy.Decision{}, err
	}
	return c.record(ctx, RecordAssignmentInput{Method: policy.MethodUnassign, Actor: in.Actor, Comment: in.Comment,
		Reason: fmt.Sprintf("returned to queue %s by %s", c.state.Queue, in.Actor)})
}

// complete finishes the current stage; the main loop then moves to the next one.
func (c *claim) complete(_ workflow.Context, in CompleteInput) (StageResult, error) {
	if err := c.validateComplete(in); err != nil {
		return StageResult{}, err
	}
	r := StageResult{Stage: c.state.Stage, Assignee: c.state.Assignee, CompletedBy: in.Actor, Note: in.Note}
	if c.state.Stage == policy.StageReview {
		r.Outcome, _ = policy.ParseOutcome(in.Outcome) // validated above
		c.state.ReviewOutcome = r.Outcome
	}
	c.state.Completed = append(c.state.Completed, r)
	c.completed = true
	return r, nil
}
