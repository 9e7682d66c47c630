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

// checkOpen rejects actions while the stage cannot take them.
func (c *claim) checkOpen(action string) error {
	switch {
	case c.state.Stage == policy.StageFinalise:
		return reject(ErrTypeConflict, "claim %s is finalised: %s is not possible", c.in.ClaimID, action)
	case c.state.Status == StatusDeciding:
		return reject(ErrTypeConflict, "claim %s: %s is still being decided; try again shortly", c.in.ClaimID, c.state.Stage)
	case c.busy > 0:
		return reject(ErrTypeConflict, "claim %s: an assignment at %s is being recorded; try again shortly", c.in.ClaimID, c.state.Stage)
	case c.completed:
		return reject(ErrTypeConflict, "claim %s: %s is already completed", c.in.ClaimID, c.state.Stage)
	}
	return nil
}

// isAdmin uses the admins captured with the stage's decision, so validators need
// no I/O.
func (c *claim) isAdmin(user string) bool { return slices.Contains(c.decision.Admins, user) }

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
	privileged := c.isAdmin(in.Actor) || (c.in.Owner != "" && in.Actor == c.in.Owner)
	if c.state.Assignee == "" {
		if in.Actor != in.UserID && !privileged {
			return reject(ErrTypeForbidden, "%q may not assign %s of claim %s to %q: only admins and the owner assign others; eligible users may take it themselves",
				in.Actor, stage, c.in.ClaimID, in.UserID)
		}
	} else if in.Actor != c.state.Assignee && !privileged {
		return reject(ErrTypeForbidden, "%q may not reassign %s of claim %s: only the assignee (%s), admins and the owner may",
			in.Actor, stage, c.in.ClaimID, c.state.Assignee)
	}
	if !c.isCandidate(in.UserID) {
		return reject(ErrTypeInvalid, "%q is not eligible for %s of claim %s: eligible are %s",
			in.UserID, stage, c.in.ClaimID, candidateList(c.state.Candidates))
	}
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
	if !c.isCandidate(in.Actor) {
		return reject(ErrTypeForbidden, "%q may not claim %s of claim %s: they are not eligible (eligible are %s)",
			in.Actor, stage, c.in.ClaimID, candidateList(c.state.Candidates))
	}
	return nil
}

// validateUnassign lets the assignee, admins and the owner return a stage to its
// queue, as they may reassign it.
func (c *claim) validateUnassign(in UnassignInput) error {
	if in.Actor == "" {
		return reject(ErrTypeInvalid, "unassign: actor is required")
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
	if in.Actor != c.state.Assignee && !c.isAdmin(in.Actor) && !(c.in.Owner != "" && in.Actor == c.in.Owner) {
		return reject(ErrTypeForbidden, "%q may not unassign %s of claim %s: only the assignee (%s), admins and the owner may",
			in.Actor, stage, c.in.ClaimID, c.state.Assignee)
	}
	if in.Comment == "" && c.state.Rules.RequireReassignComment {
		return reject(ErrTypeInvalid, "unassigning %s of claim %s needs a comment saying why (claims.requireReassignComment)", stage, c.in.ClaimID)
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

func (c *claim) isCandidate(user string) bool {
	return slices.ContainsFunc(c.state.Candidates, func(x policy.Candidate) bool { return x.UserID == user })
}

// validateComplete allows only the assignee to complete a stage; with claim
// assignments disabled, anyone eligible may.
func (c *claim) validateComplete(in CompleteInput) error {
	if in.Actor == "" {
		return reject(ErrTypeInvalid, "complete_stage: actor is required")
	}
	if err := c.checkOpen("completion"); err != nil {
		return err
	}
	stage := c.state.Stage
	if err := c.checkNotReassigning(); err != nil {
		return err
	}
	switch {
	case !c.state.AssignmentsEnabled:
		if !c.isCandidate(in.Actor) {
			return reject(ErrTypeForbidden, "%q may not complete %s of claim %s: they do not hold %s",
				in.Actor, stage, c.in.ClaimID, strings.Join(c.decision.Required, ", "))
		}
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

func candidateList(cs []policy.Candidate) string {
	if len(cs) == 0 {
		return "nobody"
	}
	ids := make([]string, len(cs))
	for i, x := range cs {
		ids[i] = x.UserID
	}
	return strings.Join(ids, ", ")
}

func orNobody(ids []string) string {
	if len(ids) == 0 {
		return "nobody right now"
	}
	return strings.Join(ids, ", ")
}
