package workflows

import (
	"fmt"
	"slices"
	"strings"

	"go.temporal.io/sdk/temporal"

	"github.com/batonhq/baton/policy"
)

func reject(kind, format string, args ...any) error {
	return temporal.NewNonRetryableApplicationError(fmt.Sprintf(format, args...), kind, nil)
}

// checkStage refuses an action meant for another stage than the claim's
// current one (want set by a caller acting on what it saw).
func (c *claim) checkStage(want policy.Stage, action string) error {
	if want != "" && want != c.state.Stage {
		return reject(ErrTypeConflict, "claim %s is at %s, not %s: %s refused", c.in.ClaimID, c.state.Stage, want, action)
	}
	return nil
}

// checkOpen rejects actions while the stage cannot take them. A change being
// recorded is not one of those reasons: the update waits its turn (waitTurn).
func (c *claim) checkOpen(action string) error {
	switch {
	case c.state.Stage == policy.StageFinalise:
		return reject(ErrTypeConflict, "claim %s is finalised: %s is not possible", c.in.ClaimID, action)
	case c.state.Status == StatusDeciding:
		return reject(ErrTypeConflict, "claim %s: %s is still being decided; try again shortly", c.in.ClaimID, c.state.Stage)
	case c.completed:
		return reject(ErrTypeConflict, "claim %s: %s is already completed", c.in.ClaimID, c.state.Stage)
	}
	return nil
}

// validateAssign allows, on an unassigned stage, an eligible user to take it
// themselves, and admins or the owner to assign anyone eligible; on an assigned
// stage, the current assignee, admins and the owner may reassign (interventions
// source). The new assignee must be eligible for the stage.
func (c *claim) validateAssign(in AssignInput) error {
	if in.Actor == "" {
		return reject(ErrTypeInvalid, "assign: actor is required")
	}
	if in.UserID == "" {
		return reject(ErrTypeInvalid, "assign: userId is required")
	}
	if err := c.checkStage(in.Stage, "assignment"); err != nil {
		return err
	}
	if err := c.checkOpen("assignment"); err != nil {
		return err
	}
	stage := c.state.Stage
	if !c.state.AssignmentsEnabled {
		return reject(ErrTypeConflict, "claim %s: claim assignments are disabled; anyone eligible may complete %s", c.in.ClaimID, stage)
	}
	if err := c.checkNotReassigning(); err != nil {
		return err
	}
	if in.UserID == c.state.Assignee {
		return reject(ErrTypeConflict, "claim %s: %s is already assigned to %s", c.in.ClaimID, stage, in.UserID)
	}
	if err := c.checkBudget("assignment", 1); err != nil {
		return err
	}
	// Who may assign whom is decided by RecordAssignment against the directory as
	// it is now (policy.Authorize); nothing captured earlier can grant it.
	if c.state.Assignee != "" && in.Comment == "" && c.state.Rules.RequireReassignComment {
		return reject(ErrTypeInvalid, "reassigning %s of claim %s needs a comment saying why (claims.requireReassignComment)", stage, c.in.ClaimID)
	}
	return nil
}

// validateClaim lets an eligible user take an unassigned stage themselves.
func (c *claim) validateClaim(in ClaimStageInput) error {
	if in.Actor == "" {
		return reject(ErrTypeInvalid, "claim: actor is required")
	}
	if err := c.checkStage(in.Stage, "claiming"); err != nil {
		return err
	}
	if err := c.checkOpen("claiming"); err != nil {
		return err
	}
	stage := c.state.Stage
	if !c.state.AssignmentsEnabled {
		return reject(ErrTypeConflict, "claim %s: claim assignments are disabled; anyone eligible may complete %s", c.in.ClaimID, stage)
	}
	if c.state.Status == StatusReassigning {
		r := c.state.Reassignment
		if !slices.Contains(r.Offered, in.Actor) {
			return reject(ErrTypeForbidden, "%q may not claim %s of claim %s: reassignment group %s is offering it to %s",
				in.Actor, stage, c.in.ClaimID, r.Group, orNobody(r.Offered))
		}
		return nil
	}
	if c.state.Assignee != "" {
		return reject(ErrTypeConflict, "claim %s: %s is already assigned to %s", c.in.ClaimID, stage, c.state.Assignee)
	}
	if err := c.checkBudget("claiming", 1); err != nil {
		return err
	}
	return nil // eligibility is checked live by RecordAssignment
}

// validateUnassign lets the assignee, admins and the owner return a stage to its
// queue, as they may reassign it.
func (c *claim) validateUnassign(in UnassignInput) error {
	if in.Actor == "" {
		return reject(ErrTypeInvalid, "unassign: actor is required")
	}
	if err := c.checkStage(in.Stage, "unassigning"); err != nil {
		return err
	}
	if err := c.checkOpen("unassigning"); err != nil {
		return err
	}
	stage := c.state.Stage
	if err := c.checkNotReassigning(); err != nil {
		return err
	}
	if c.state.Assignee == "" {
		return reject(ErrTypeConflict, "claim %s: %s is not assigned to anyone", c.in.ClaimID, stage)
	}
	if err := c.checkBudget("unassigning", 2); err != nil {
		return err
	}
	if in.Comment == "" && c.state.Rules.RequireReassignComment {
		return reject(ErrTypeInvalid, "unassigning %s of claim %s needs a comment saying why (claims.requireReassignComment)", stage, c.in.ClaimID)
	}
	return nil
}

// checkBudget refuses a person's change of the stage's assignee once the
// stage has changed hands its budget's worth (claims.maxAssigneeChanges):
// room is how many changes the action needs, two for an unassign (it and
// the claim or assignment that must follow), so a stage the budget stops is
// never left in its queue with nobody able to take it. Timers (a claim
// window's fallback, an escalation) are not held to it: each follows a
// person's change, so they are bounded by it.
func (c *claim) checkBudget(action string, room int) error {
	changes := c.state.Changes
	if budget := c.state.Rules.ChangeBudget(); changes+room > budget {
		return reject(ErrTypeConflict, "claim %s: %s refused: %s has changed hands %d times, and claims.maxAssigneeChanges allows %d; its assignee completes it",
			c.in.ClaimID, action, c.state.Stage, changes, budget)
	}
	return nil
}

// checkNotReassigning rejects edits to the assignee while a reassignment group
// round runs (reassignment-groups source: "unable to edit the assignee").
func (c *claim) checkNotReassigning() error {
	if c.state.Status == StatusReassigning {
		return reject(ErrTypeConflict, "claim %s: reassignment in progress at %s; the assignee cannot be edited until it ends",
			c.in.ClaimID, c.state.Stage)
	}
	return nil
}

// validateComplete allows only the assignee to complete a stage; with claim
// assignments disabled, anyone eligible may.
func (c *claim) validateComplete(in CompleteInput) error {
	if in.Actor == "" {
		return reject(ErrTypeInvalid, "complete_stage: actor is required")
	}
	if err := c.checkStage(in.Stage, "completion"); err != nil {
		return err
	}
	if err := c.checkOpen("completion"); err != nil {
		return err
	}
	stage := c.state.Stage
	if err := c.checkNotReassigning(); err != nil {
		return err
	}
	// Four eyes, on every path: with assignments disabled, whoever completes
	// is the stage's actor.
	if r := policy.RefuseFourEyesCompletion(in.Actor, stage, c.in.ClaimID, c.decision.FourEyes, c.decision.Rules.ExcludeActorsOf); r != nil {
		return Rejection(r)
	}
	// The assignee is the claim's own state, so a wrong actor is rejected here;
	// whether they (or, with assignments disabled, anyone) may still complete is
	// checked live by RecordCompletion.
	switch {
	case !c.state.AssignmentsEnabled:
	case c.state.Assignee == "":
		return reject(ErrTypeConflict, "claim %s: %s has no assignee yet; assign it before completing", c.in.ClaimID, stage)
	case in.Actor != c.state.Assignee:
		return reject(ErrTypeForbidden, "%q may not complete %s of claim %s: only the assignee (%s) may",
			in.Actor, stage, c.in.ClaimID, c.state.Assignee)
	}
	if stage == policy.StageReview {
		if in.Outcome == "" {
			return reject(ErrTypeInvalid, "complete_stage: outcome is required at review: approval, goodwill, repudiation or no_claim")
		}
		if _, err := policy.ParseOutcome(in.Outcome); err != nil {
			return reject(ErrTypeInvalid, "complete_stage: %v", err)
		}
	} else if in.Outcome != "" {
		return reject(ErrTypeInvalid, "complete_stage: outcome is only recorded at review, not at %s", stage)
	}
	return nil
}

func orNobody(ids []string) string {
	if len(ids) == 0 {
		return "nobody right now"
	}
	return strings.Join(ids, ", ")
}

// Rejection is a policy refusal as an update's typed rejection: non-retryable, so
// the workflow records nothing and the caller sees the reason and its kind.
func Rejection(r *policy.Refusal) error {
	kind := ErrTypeForbidden
	switch r.Kind {
	case policy.RefusedInvalid:
		kind = ErrTypeInvalid
	case policy.RefusedUnknownUser:
		kind = ErrTypeUnknownUser
	case policy.RefusedConflict:
		kind = ErrTypeConflict
	}
	return temporal.NewNonRetryableApplicationError(r.Msg, kind, nil)
}
