package activities

import (
	"context"
	"fmt"

	"github.com/batonhq/baton/internal/store"
	"github.com/batonhq/baton/policy"
	"github.com/batonhq/baton/workflows"
)

// RecordCompletion authorises a stage's completion against the directory as it is
// now (only the assignee, or with assignments disabled anyone eligible, and only
// while active and eligible) and writes its timeline entry, in one transaction
// keyed by the workflow's seq: a retry writes nothing twice, and is not judged
// again. A refusal is a typed, non-retryable error and nothing is written.
func (a *Activities) RecordCompletion(ctx context.Context, in workflows.RecordCompletionInput) error {
	var inserted bool
	var drain []string
	err := a.Store.InTx(ctx, func(qs *store.Queries) error {
		// A retry whose first attempt committed (its worker died before the
		// claim heard back) is answered from the timeline: judged again, a
		// completer deactivated meanwhile would be refused a completion the
		// database already holds, and the claim would wait on them for ever.
		if done, err := qs.TimelineHas(ctx, in.WorkflowID, in.Seq); err != nil || done {
			return err
		}
		act := policy.Act{Action: policy.DoComplete, ClaimID: in.ClaimID, Stage: in.Stage, Actor: in.Actor,
			Assignee: in.Assignee, AssignmentsEnabled: in.AssignmentsEnabled, AssigneeExempt: in.AssigneeExempt, FourEyes: in.FourEyes,
			FourEyesOf: in.FourEyesOf}
		if err := a.authorize(ctx, qs, act, in.DecidedSeq, in.WorkflowID); err != nil {
			return err
		}
		var err error
		inserted, _, err = qs.TimelineAddOnce(ctx, store.TimelineEvent{WorkflowID: in.WorkflowID, ClaimID: in.ClaimID, Stage: in.Stage,
			Seq: in.Seq, Kind: policy.EventCompleted, Actor: in.Actor, Reason: string(in.Outcome), Comment: in.Note, At: in.At})
		if err != nil {
			return err
		}
		// The stage is nobody's open work any more: a slot frees, and the
		// backlog stage its holder may take first is leased to be nudged.
		if err := qs.OpenStageClose(ctx, in.WorkflowID, in.Stage); err != nil {
			return err
		}
		if inserted && in.Assignee != "" { // a retry nudges nothing twice
			drain, err = qs.BacklogTake(ctx, in.Assignee, 1)
		}
		return err
	})
	if err != nil {
		if isRefusal(err) {
			return err
		}
		return fmt.Errorf("record completion of %s at %s: %w", in.ClaimID, in.Stage, err)
	}
	if inserted {
		a.Metrics.TimelineEvent(policy.EventCompleted)
	}
	a.nudge(ctx, drain)
	return nil
}
