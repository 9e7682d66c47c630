package workflows

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/batonhq/baton/policy"
)

// Reassignment groups (reassignment-groups source): a person sends a claim already
// in the system to a group; the claim shows "reassigning" and its assignee cannot
// be edited until a member claims it or, when nobody does, the group's default
// assignee gets it. Either way the timeline says which.

// validateStartReassignment allows those who may reassign (the assignee, admins,
// the owner) to send the stage to a group; an unassigned stage, admins and the
// owner only.
func (c *claim) validateStartReassignment(in StartReassignmentInput) error {
	if in.Actor == "" || in.Group == "" {
		return reject(ErrTypeInvalid, "start_reassignment: actor and group are required")
	}
	if err := c.checkOpen("reassignment"); err != nil {
		return err
	}
	stage := c.state.Stage
	if !c.state.AssignmentsEnabled {
		return reject(ErrTypeConflict, "claim %s: claim assignments are disabled; nothing to reassign at %s", c.in.ClaimID, stage)
	}
	if err := c.checkNotReassigning(); err != nil {
		return err
	}
	if in.Comment == "" && c.state.Rules.RequireReassignComment {
		return reject(ErrTypeInvalid, "reassigning %s of claim %s needs a comment saying why (claims.requireReassignComment)", stage, c.in.ClaimID)
	}
	return c.checkBudget("reassignment", 1)
}

// startReassignment plans the round, puts the claim in "reassigning" and runs the
// offers in the background; the update returns once the round has started.
func (c *claim) startReassignment(ctx workflow.Context, in StartReassignmentInput) (Reassignment, error) {
	if err := c.waitTurn(ctx); err != nil {
		return Reassignment{}, err
	}
	if err := c.validateStartReassignment(in); err != nil {
		return Reassignment{}, err
	}
	c.busy++
	defer func() { c.busy-- }()
	// PlanReassignment authorises the actor against the directory as it is now.
	var plan ReassignmentPlan
	err := workflow.ExecuteActivity(c.activities, ActivityPlanReassignment, PlanReassignmentInput{
		WorkflowID: workflow.GetInfo(ctx).WorkflowExecution.ID, ClaimID: c.in.ClaimID, Stage: c.state.Stage,
		Seq: c.nextSeq(), Group: in.Group, Actor: in.Actor, Comment: in.Comment, DecidedSeq: c.decision.Seq,
		Owner: c.in.Owner, Assignee: c.state.Assignee, At: workflow.Now(ctx),
	}).Get(ctx, &plan)
	if err != nil {
		return Reassignment{}, asRejection(err)
	}
	r := &Reassignment{Group: plan.Group, Method: plan.Method, DefaultAssignee: plan.DefaultAssignee,
		OfferTimeout: plan.OfferTimeout, StartedBy: in.Actor, Comment: in.Comment, Offered: []string{}, OfferedSoFar: []string{}}
	c.state.Reassignment = r
	c.state.Status = StatusReassigning
	if err := c.publish(ctx); err != nil {
		return Reassignment{}, err
	}
	workflow.Go(ctx, func(ctx workflow.Context) { c.runReassignment(ctx, plan) })
	return *r, nil
}

// runReassignment makes the offers and, if nobody claims, gives the stage to the
// group's default assignee.
func (c *claim) runReassignment(ctx workflow.Context, plan ReassignmentPlan) {
	r := c.state.Reassignment
	claimed := func() bool { return c.state.Status != StatusReassigning }
	// offer waits for a claim by one of the offered members; a claim being recorded
	// as the offer expires still counts.
	offer := func(members []string) bool {
		r.Offered = members
		r.OfferedSoFar = append(r.OfferedSoFar, members...)
		got, err := workflow.AwaitWithTimeout(ctx, plan.OfferTimeout, claimed)
		if err == nil && !got {
			_ = workflow.Await(ctx, func() bool { return c.busy == 0 })
			got = claimed()
		}
		r.Offered = []string{}
		if !got {
			c.event(ctx, RecordEventInput{TimelineEvent: policy.TimelineEvent{Kind: policy.EventOfferExpired, Subject: strings.Join(members, ","),
				Reason: fmt.Sprintf("nobody claimed it within %s", plan.OfferTimeout)}})
		}
		return got
	}
	switch plan.Method {
	case policy.GroupBroadcast:
		if len(plan.Members) > 0 {
			c.event(ctx, RecordEventInput{TimelineEvent: policy.TimelineEvent{Kind: policy.EventOffered, Subject: strings.Join(plan.Members, ","),
				Reason: fmt.Sprintf("offered to every member of %s; the first to claim it wins", plan.Group)},
				Notify: plan.Members, Message: fmt.Sprintf("Claim %s at %s is offered to reassignment group %s for %s: the first to claim it takes it",
					c.in.ClaimID, c.state.Stage, plan.Group, plan.OfferTimeout)})
			if offer(plan.Members) {
				c.endReassignment(ctx, fmt.Sprintf("%s claimed it", c.state.Assignee))
				return
			}
		}
	default:
		for {
			var next OfferNextResult
			in := OfferNextInput{
				WorkflowID: workflow.GetInfo(ctx).WorkflowExecution.ID, ClaimID: c.in.ClaimID, Stage: c.state.Stage,
				Seq: c.nextSeq(), Group: plan.Group, DecidedSeq: c.decision.Seq, Offered: slices.Clone(r.OfferedSoFar),
				OfferTimeout: plan.OfferTimeout, At: workflow.Now(ctx),
			}
			err := workflow.ExecuteActivity(c.activities, ActivityOfferNext, in).Get(ctx, &next)
			if err != nil || next.Done {
				break
			}
			c.notify(ctx, in.Stage, in.Seq)
			if offer([]string{next.Member}) {
				c.endReassignment(ctx, fmt.Sprintf("%s claimed it", c.state.Assignee))
				return
			}
		}
	}
	c.busy++
	why := fmt.Sprintf("nobody in reassignment group %s claimed it", plan.Group)
	_, err := c.record(ctx, RecordAssignmentInput{Method: policy.MethodDefaultAssignee, Assignee: plan.DefaultAssignee,
		Reason: why + "; default assignee " + plan.DefaultAssignee})
	c.busy--
	if err != nil {
		c.state.Status = StatusAssigned
		if c.state.Assignee == "" {
			c.state.Status = StatusUnassigned
		}
		c.endReassignment(ctx, fmt.Sprintf("%s, and the default assignee %s could not be assigned (%s); it stays with %q",
			why, plan.DefaultAssignee, temporalMessage(err), c.state.Assignee))
		return
	}
	c.endReassignment(ctx, fmt.Sprintf("%s; the default assignee %s got it", why, plan.DefaultAssignee))
}

// endReassignment records how the round ended.
func (c *claim) endReassignment(ctx workflow.Context, result string) {
	c.state.Reassignment.Result = result
	_ = c.publish(ctx)
	c.event(ctx, RecordEventInput{TimelineEvent: policy.TimelineEvent{Kind: policy.EventReassignmentEnded, Subject: c.state.Assignee,
		Reason: result}})
}

func temporalMessage(err error) string {
	var app *temporal.ApplicationError
	if errors.As(err, &app) {
		return app.Message()
	}
	return err.Error()
}
