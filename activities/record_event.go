package activities

import (
	"context"
	"fmt"

	"github.com/batonhq/baton/internal/metrics"
	"github.com/batonhq/baton/internal/store"
	"github.com/batonhq/baton/policy"
	"github.com/batonhq/baton/workflows"
)

// RecordEvent writes a timeline event that is not a decision (an expired window, an
// escalation, an offer, a completion) and notifies the listed users in-app (and
// queues their e-mail and Slack messages), in one transaction keyed by the
// workflow's seq: a retry writes and notifies nothing new.
func (a *Activities) RecordEvent(ctx context.Context, in workflows.RecordEventInput) error {
	var inserted bool // false on a retry: the event and its notifications are already recorded
	err := a.Store.InTx(ctx, func(qs *store.Queries) error {
		var err error
		inserted, err = a.writeEvent(ctx, qs, in)
		return err
	})
	if err != nil {
		return fmt.Errorf("record %s event %s: %w", in.Kind, policy.DecisionKey{WorkflowID: in.WorkflowID, Stage: in.Stage, Seq: in.Seq}, err)
	}
	a.eventRecorded(ctx, in, inserted)
	return nil
}

// writeEvent writes event in and its notifications in the caller's
// transaction; inserted is false when its seq was recorded before.
func (a *Activities) writeEvent(ctx context.Context, qs *store.Queries, in workflows.RecordEventInput) (inserted bool, err error) {
	key := policy.DecisionKey{WorkflowID: in.WorkflowID, Stage: in.Stage, Seq: in.Seq}
	if inserted, _, err = qs.TimelineAddOnce(ctx, in.TimelineEvent); err != nil {
		return false, err
	}
	link := a.link(in.WorkflowID, in.ClaimID, in.Stage)
	for _, u := range in.Notify {
		if err := qs.InboxAdd(ctx, key, in.ClaimID, u, in.Message, link); err != nil {
			a.Metrics.Notification(metrics.ChannelInbox, err)
			return false, err
		}
		if _, err := a.queueNotifications(ctx, qs, notification{key: key, claimID: in.ClaimID, user: u, subject: in.Message}); err != nil {
			return false, err
		}
	}
	return inserted, nil
}

// eventRecorded counts and logs event in once its transaction committed.
func (a *Activities) eventRecorded(ctx context.Context, in workflows.RecordEventInput, inserted bool) {
	if inserted {
		a.Metrics.TimelineEvent(in.Kind)
		if in.Kind == policy.EventEscalated {
			a.Metrics.Escalation(in.Stage)
		}
		for range in.Notify {
			a.Metrics.Notification(metrics.ChannelInbox, nil)
		}
	}
	a.Log.InfoContext(ctx, "timeline event", "claim_id", in.ClaimID, "stage", in.Stage, "seq", in.Seq,
		"kind", in.Kind, "subject", in.Subject, "notified", in.Notify)
}
