package activities

import (
	"context"
	"errors"
	"fmt"
	"time"

	"go.temporal.io/sdk/temporal"

	"github.com/batonhq/baton/metrics"
	"github.com/batonhq/baton/policy"
	"github.com/batonhq/baton/store"
)

// errDecidedElsewhere rolls back a transaction that lost the race to record a
// decision to another copy of the same activity.
var errDecidedElsewhere = errors.New("decision already recorded")

// recorded returns the decision already recorded under key, if any: how a retried
// activity finds the answer its first attempt committed.
func (a *Activities) recorded(ctx context.Context, key store.DecisionKey) (policy.Decision, bool, error) {
	d, err := a.Store.DecisionGet(ctx, key)
	switch {
	case err == nil:
		return d, true, nil
	case errors.Is(err, store.ErrNotFound):
		return policy.Decision{}, false, nil
	default:
		return policy.Decision{}, false, err
	}
}

// pending is a decision made inside recordOnce's transaction: a stage decision's
// explanation (with the turn it took), or for a person's or a timer's the seq of
// the stage decision it acts on; the assignee it replaces and the workflow's time
// of it, for the timeline.
type pending struct {
	decision    policy.Decision
	explanation *policy.Explanation
	decidedSeq  int
	previous    string
	at          time.Time
	// redistributed marks a stage decided again to move it off a leaver.
	redistributed bool
}

// recordOnce is Baton's exactly-once step. In one transaction it runs decide, writes
// the ledger row under key (with the explanation), takes the turn and notifies the assignee (in-app,
// and the e-mail and Slack messages queued in the outbox). If a
// concurrent copy of the activity recorded key first, everything rolls back and
// that copy's decision is returned, so no turn is taken twice and nobody is told
// twice. Business failures (application errors) come back unwrapped.
func (a *Activities) recordOnce(ctx context.Context, key store.DecisionKey, claimID string,
	decide func(*store.Queries) (pending, error)) (policy.Decision, error) {
	var decided policy.Decision
	var previous string
	var ex *policy.Explanation
	var redistributed bool
	err := a.Store.InTx(ctx, func(qs *store.Queries) error {
		p, err := decide(qs)
		if err != nil {
			return err
		}
		d := p.decision
		if d.Assignee != "" {
			// Queued before the ledger row so the row records how many: the workflow
			// schedules sending only when there are some. A copy that lost the race
			// rolls these back with everything else.
			n, err := a.queueNotifications(ctx, qs, notification{key: key, claimID: claimID, user: d.Assignee,
				subject: fmt.Sprintf("Claim %s is yours at %s", claimID, key.Stage), why: d.Reason})
			if err != nil {
				return err
			}
			d.Outbox = n
		}
		w := store.DecisionWrite{Key: key, ClaimID: claimID, Decision: d, Explanation: p.explanation, DecidedSeq: p.decidedSeq,
			Event: store.TimelineEvent{
				WorkflowID: key.WorkflowID, ClaimID: claimID, Stage: key.Stage, Seq: key.Seq,
				Kind: policy.EventKindOf(d, p.previous), Actor: d.Actor, Subject: d.Assignee,
				Reason: d.Reason, Comment: d.Comment, At: p.at,
			}}
		if d.Assignee != "" {
			why := d.Reason
			if d.Method == policy.MethodRoundRobin || d.Method == policy.MethodProductModule {
				why = string(d.Method)
			}
			w.Inbox = &store.InboxEntry{UserID: d.Assignee, Message: fmt.Sprintf("Claim %s is yours at %s (%s)", claimID, key.Stage, why),
				Link: a.link(key.WorkflowID, claimID, key.Stage)}
		}
		// One round trip for the ledger row, timeline, turn and inbox.
		inserted, err := qs.DecisionRecord(ctx, w)
		if err != nil {
			return err
		}
		if !inserted {
			return errDecidedElsewhere
		}
		decided, previous, ex, redistributed = d, p.previous, p.explanation, p.redistributed
		return nil
	})
	var app *temporal.ApplicationError
	switch {
	case errors.Is(err, errDecidedElsewhere):
		return a.Store.DecisionGet(ctx, key)
	case errors.As(err, &app):
		return policy.Decision{}, err
	case err != nil:
		return policy.Decision{}, fmt.Errorf("record decision %s: %w", key, err)
	}
	a.Log.InfoContext(ctx, "decision recorded", "claim_id", claimID, "stage", key.Stage, "seq", key.Seq,
		"method", decided.Method, "assignee", decided.Assignee, "actor", decided.Actor, "policy_version", decided.PolicyVersion)
	a.Metrics.Decision(decided)
	a.Metrics.Reassignment(decided, previous)
	if ex != nil {
		a.Metrics.PassedOver(decided.Stage, ex.PassedAway, ex.PassedFull, ex.PassedOther)
	}
	if redistributed {
		a.Metrics.Redistribution(decided.Stage)
	}
	a.Metrics.TimelineEvent(policy.EventKindOf(decided, previous))
	if decided.Assignee != "" {
		a.Metrics.Notification(metrics.ChannelInbox, nil)
	}
	if err := a.afterCommit(ctx, key); err != nil {
		return policy.Decision{}, err
	}
	return decided, nil
}
