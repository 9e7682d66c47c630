package activities

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"go.temporal.io/sdk/temporal"

	"github.com/batonhq/baton/internal/metrics"
	"github.com/batonhq/baton/internal/store"
	"github.com/batonhq/baton/policy"
	"github.com/batonhq/baton/workflows"
)

// PlanReassignment loads a reassignment group for a round and records, once, that
// the round started. Only members eligible for the stage (and active) are offered
// it; the rest are listed with why.
func (a *Activities) PlanReassignment(ctx context.Context, in workflows.PlanReassignmentInput) (workflows.ReassignmentPlan, error) {
	var plan workflows.ReassignmentPlan
	var started bool // false on a retry: the round's start is already recorded
	err := a.Store.InTx(ctx, func(qs *store.Queries) error {
		// Authority first: someone who may not send the stage learns nothing
		// of the groups. A retry whose first attempt recorded the round's
		// start was authorised then (RecordCompletion says why not again).
		retried, err := qs.TimelineHas(ctx, in.WorkflowID, in.Seq)
		if err != nil {
			return err
		}
		act := policy.Act{Action: policy.DoStartReassignment, ClaimID: in.ClaimID, Stage: in.Stage, Actor: in.Actor,
			Owner: in.Owner, Assignee: in.Assignee, AssignmentsEnabled: true}
		if !retried {
			if err := a.authorize(ctx, qs, act, in.DecidedSeq, in.WorkflowID); err != nil {
				return err
			}
		}
		g, err := qs.Group(ctx, in.Group)
		if errors.Is(err, store.ErrNotFound) {
			return temporal.NewNonRetryableApplicationError(unknownGroup(ctx, qs, in.Group), workflows.ErrTypeInvalid, nil)
		}
		if err != nil {
			return err
		}
		plan = workflows.ReassignmentPlan{Group: g.Name, Method: g.Method, DefaultAssignee: g.DefaultAssignee, OfferTimeout: g.OfferTimeout}
		plan.Members, plan.Skipped, err = eligibleMembers(ctx, qs, g, in.WorkflowID, in.Stage, in.DecidedSeq)
		if err != nil {
			return err
		}
		reason := fmt.Sprintf("sent to reassignment group %s (%s, offers stand %s; default assignee %s)",
			g.Name, g.Method, g.OfferTimeout, g.DefaultAssignee)
		started, _, err = qs.TimelineAddOnce(ctx, store.TimelineEvent{WorkflowID: in.WorkflowID, ClaimID: in.ClaimID, Stage: in.Stage,
			Seq: in.Seq, Kind: policy.EventReassignmentStarted, Actor: in.Actor, Reason: reason, Comment: in.Comment, At: in.At})
		return err
	})
	var app *temporal.ApplicationError
	if err != nil && !errors.As(err, &app) {
		err = fmt.Errorf("plan reassignment of %s to %s: %w", in.ClaimID, in.Group, err)
	}
	if err == nil && started {
		a.Metrics.TimelineEvent(policy.EventReassignmentStarted)
	}
	return plan, err
}

func unknownGroup(ctx context.Context, qs *store.Queries, name string) string {
	msg := fmt.Sprintf("unknown reassignment group %q", name)
	if gs, err := qs.Groups(ctx); err == nil && len(gs) > 0 {
		names := make([]string, len(gs))
		for i, g := range gs {
			names[i] = g.Name
		}
		msg += ": known groups are " + strings.Join(names, ", ")
	}
	return msg
}

// eligibleMembers returns the group's members who are active and eligible for the
// stage now, in group order, and the others with why. Groups are small: each
// member is looked up on their own.
func eligibleMembers(ctx context.Context, qs *store.Queries, g policy.ReassignmentGroup, workflowID string, stage policy.Stage,
	decidedSeq int) ([]string, []policy.Exclusion, error) {
	s, err := stageAuthority(ctx, qs, policy.DecisionKey{WorkflowID: workflowID, Stage: stage, Seq: decidedSeq})
	if err != nil {
		return nil, nil, err
	}
	var in []string
	var out []policy.Exclusion
	for _, m := range g.Members {
		c, _, err := s.Check(ctx, qs.People(), m)
		switch {
		case err != nil:
			return nil, nil, err
		case !c.Found || !c.User.Active:
			out = append(out, policy.Exclusion{UserID: m, Reason: "inactive"})
		case c.Reason != "":
			out = append(out, policy.Exclusion{UserID: m, Reason: "not eligible for the stage"})
		default:
			in = append(in, m)
		}
	}
	return in, out, nil
}

// OfferNext offers the claim to the group member whose turn it is: the eligible
// member with the fewest turns in the group (group order among equals), the turn
// counts every claim sent to the group shares (policy.GroupTurn). Being offered
// is the member's turn, taken or not, so nobody is offered twice in a round and a
// member added mid-round still gets theirs. The offer, the turn and the
// notification are one transaction keyed by the workflow's seq: a retry returns the
// member already offered.
func (a *Activities) OfferNext(ctx context.Context, in workflows.OfferNextInput) (workflows.OfferNextResult, error) {
	var res workflows.OfferNextResult
	var offered bool // a new offer was recorded, not a retry's
	err := a.Store.InTx(ctx, func(qs *store.Queries) error {
		g, err := qs.Group(ctx, in.Group)
		if errors.Is(err, store.ErrNotFound) {
			res.Done = true // the group was deleted mid-round: nobody left to offer
			return nil
		}
		if err != nil {
			return err
		}
		members, _, err := eligibleMembers(ctx, qs, g, in.WorkflowID, in.Stage, in.DecidedSeq)
		if err != nil {
			return err
		}
		scope := policy.GroupScope(g.Name)
		if err := qs.TurnsLock(ctx, scope); err != nil {
			return err
		}
		served, err := qs.TurnCounts(ctx, scope)
		if err != nil {
			return err
		}
		turn, entered, ok := policy.GroupTurn(g.Name, members, served)
		pick, reason := turn.User, turn.Reason
		if !ok || slices.Contains(in.Offered, pick.ID) {
			res.Done = true // everyone eligible has had their turn in this round
			return nil
		}
		inserted, subject, err := qs.TimelineAddOnce(ctx, store.TimelineEvent{WorkflowID: in.WorkflowID, ClaimID: in.ClaimID,
			Stage: in.Stage, Seq: in.Seq, Kind: policy.EventOffered, Subject: pick.ID, At: in.At,
			Reason: fmt.Sprintf("reassignment group %s: %s", g.Name, reason)})
		if err != nil {
			return err
		}
		res.Member = subject
		if !inserted {
			return nil // a retry: the offer, turn and notification are already recorded
		}
		for _, t := range append(entered, turn) {
			if err := qs.TurnRecord(ctx, t); err != nil {
				return err
			}
		}
		key := policy.DecisionKey{WorkflowID: in.WorkflowID, Stage: in.Stage, Seq: in.Seq}
		msg := fmt.Sprintf("Claim %s at %s is offered to you by reassignment group %s for %s: claim it to take it",
			in.ClaimID, in.Stage, g.Name, in.OfferTimeout)
		if err := qs.InboxAdd(ctx, key, in.ClaimID, pick.ID, msg, a.link(in.WorkflowID, in.ClaimID, in.Stage)); err != nil {
			a.Metrics.Notification(metrics.ChannelInbox, err)
			return err
		}
		if _, err := a.queueNotifications(ctx, qs, notification{key: key, claimID: in.ClaimID, user: pick.ID,
			subject: fmt.Sprintf("Claim %s at %s is offered to you", in.ClaimID, in.Stage), why: msg}); err != nil {
			return err
		}
		offered = true
		return nil
	})
	if err != nil {
		return res, fmt.Errorf("offer %s to group %s: %w", in.ClaimID, in.Group, err)
	}
	if offered {
		a.Metrics.TimelineEvent(policy.EventOffered)
		a.Metrics.Notification(metrics.ChannelInbox, nil)
	}
	return res, nil
}
