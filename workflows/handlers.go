package workflows

import (
	"errors"
	"fmt"

	"go.temporal.io/sdk/temporal"

	"go.temporal.io/sdk/workflow"

	"github.com/batonhq/baton/policy"
)

// Update handlers. Each waits until no other change is being recorded, then
// validates again: validators of concurrent updates all ran against the state
// before any handler, so checking again makes the first one win, and the second
// is answered from the state the first left (already assigned, say) instead of
// "try again".

// waitTurn waits until no change of assignee is being recorded. If the stage was
// decided again meanwhile (completed, or moved on), the update is refused: it
// was meant for a stage that is gone.
func (c *claim) waitTurn(ctx workflow.Context) error {
	stage, seq := c.state.Stage, c.decision.Seq
	if err := workflow.Await(ctx, func() bool { return c.busy == 0 }); err != nil {
		return err
	}
	if c.state.Stage != stage || c.decision.Seq != seq {
		return reject(ErrTypeConflict, "claim %s: %s was decided again while this waited; nothing was changed", c.in.ClaimID, stage)
	}
	return nil
}

func (c *claim) assign(ctx workflow.Context, in AssignInput) (policy.Decision, error) {
	if err := c.waitTurn(ctx); err != nil {
		return policy.Decision{}, err
	}
	if err := c.validateAssign(in); err != nil {
		return policy.Decision{}, err
	}
	return c.record(ctx, RecordAssignmentInput{Action: policy.DoAssign, Assignee: in.UserID, Actor: in.Actor, Comment: in.Comment,
		Override: in.Override})
}

func (c *claim) claim(ctx workflow.Context, in ClaimStageInput) (policy.Decision, error) {
	if err := c.waitTurn(ctx); err != nil {
		return policy.Decision{}, err
	}
	if err := c.validateClaim(in); err != nil {
		return policy.Decision{}, err
	}
	if c.state.Status == StatusReassigning {
		return c.record(ctx, RecordAssignmentInput{Action: policy.DoClaim, Reassigning: true, Method: policy.MethodReassignmentGroup,
			Assignee: in.Actor, Actor: in.Actor, Override: in.Override,
			Reason: fmt.Sprintf("claimed by %s from reassignment group %s", in.Actor, c.state.Reassignment.Group)})
	}
	return c.record(ctx, RecordAssignmentInput{Action: policy.DoClaim, Method: policy.MethodClaim, Assignee: in.Actor, Actor: in.Actor,
		Override: in.Override, Reason: fmt.Sprintf("claimed by %s from queue %s", in.Actor, c.state.Queue)})
}

func (c *claim) unassign(ctx workflow.Context, in UnassignInput) (policy.Decision, error) {
	if err := c.waitTurn(ctx); err != nil {
		return policy.Decision{}, err
	}
	if err := c.validateUnassign(in); err != nil {
		return policy.Decision{}, err
	}
	return c.record(ctx, RecordAssignmentInput{Action: policy.DoUnassign, Method: policy.MethodUnassign, Actor: in.Actor, Comment: in.Comment,
		Reason: fmt.Sprintf("returned to queue %s by %s", c.state.Queue, in.Actor)})
}

// complete finishes the current stage once RecordCompletion has authorised it
// against the directory as it is now and written its timeline entry; the main
// loop then moves to the next stage.
func (c *claim) complete(ctx workflow.Context, in CompleteInput) (StageResult, error) {
	if err := c.waitTurn(ctx); err != nil {
		return StageResult{}, err
	}
	if err := c.validateComplete(in); err != nil {
		return StageResult{}, err
	}
	c.busy++
	defer func() { c.busy-- }()
	r := StageResult{Stage: c.state.Stage, Assignee: c.state.Assignee, CompletedBy: in.Actor, Note: in.Note}
	if c.state.Stage == policy.StageReview {
		r.Outcome, _ = policy.ParseOutcome(in.Outcome) // validated above
	}
	rec := RecordCompletionInput{WorkflowID: workflow.GetInfo(ctx).WorkflowExecution.ID, ClaimID: c.in.ClaimID, Stage: r.Stage,
		Seq: c.nextSeq(), DecidedSeq: c.decision.Seq, Actor: in.Actor, Assignee: r.Assignee,
		AssignmentsEnabled: c.state.AssignmentsEnabled, AssigneeExempt: assigneeExempt(c.lastDecision().Method),
		Outcome: r.Outcome, Note: in.Note, At: workflow.Now(ctx), FourEyes: c.decision.FourEyes,
		FourEyesOf: c.decision.Rules.ExcludeActorsOf}
	if err := c.bookkeeping(ActivityRecordCompletion, rec.Actor, rec).Get(ctx, nil); err != nil {
		return StageResult{}, asRejection(err)
	}
	if r.Stage == policy.StageReview {
		c.state.ReviewOutcome = r.Outcome
	}
	c.state.Completed = append(c.state.Completed, r)
	c.completed = true
	return r, nil
}

// asRejection turns an activity's business failure into the update's rejection.
func asRejection(err error) error {
	var app *temporal.ApplicationError
	if errors.As(err, &app) {
		return temporal.NewNonRetryableApplicationError(app.Message(), app.Type(), nil)
	}
	return err
}

// validateMigrate lets an admin move the claim to another stored policy version.
func (c *claim) validateMigrate(in MigratePolicyInput) error {
	if in.Actor == "" || in.Version < 1 {
		return reject(ErrTypeInvalid, "migrate_policy: actor and a version of at least 1 are required")
	}
	if c.state.Stage == policy.StageFinalise {
		return reject(ErrTypeConflict, "claim %s is finalised: nothing left to decide", c.in.ClaimID)
	}
	return nil
}

// migratePolicy pins another stored version; it applies from the next decision on.
func (c *claim) migratePolicy(ctx workflow.Context, in MigratePolicyInput) (PolicyRef, error) {
	if err := c.validateMigrate(in); err != nil {
		return PolicyRef{}, err
	}
	var ref PolicyRef
	// PinPolicy checks, as the directory is now, that the actor is an active admin.
	err := workflow.ExecuteActivity(c.activities, ActivityPinPolicy, PinPolicyInput{Version: in.Version, Actor: in.Actor, ClaimID: c.in.ClaimID}).Get(ctx, &ref)
	if err != nil {
		var app *temporal.ApplicationError
		if errors.As(err, &app) && app.Type() == ErrTypeForbidden {
			return PolicyRef{}, asRejection(err)
		}
		return PolicyRef{}, temporal.NewNonRetryableApplicationError(temporalMessage(err), ErrTypeInvalid, nil)
	}
	if ref == c.state.Policy {
		return PolicyRef{}, reject(ErrTypeConflict, "claim %s already runs under %s", c.in.ClaimID, c.state.Policy)
	}
	from := c.state.Policy
	c.state.Policy = ref
	c.event(ctx, RecordEventInput{TimelineEvent: policy.TimelineEvent{Kind: policy.EventPolicyMigrated, Actor: in.Actor, Comment: in.Comment,
		Reason: fmt.Sprintf("migrated from %s to %s; applies from the next decision", from, ref)}})
	return ref, nil
}

// assigneeExempt reports an assignee who got the stage by a timer, as its default
// assignee or escalation target: they need not be eligible (care-team source), so
// completing asks only that they are still active.
func assigneeExempt(m policy.Method) bool {
	return m == policy.MethodDefaultAssignee || m == policy.MethodEscalation
}

func (c *claim) lastDecision() policy.Decision {
	if len(c.state.Decisions) == 0 {
		return policy.Decision{}
	}
	return c.state.Decisions[len(c.state.Decisions)-1]
}
