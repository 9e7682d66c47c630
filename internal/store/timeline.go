package store

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/batonhq/baton/policy"
)

// TimelineEvent is one entry in a claim's timeline (policy.TimelineEvent).
type TimelineEvent = policy.TimelineEvent

// timelineInsert is TimelineAdd with its arguments for events, a column each;
// an event without a time happens now.
func timelineInsert(events ...TimelineEvent) (string, []any, error) {
	n := len(events)
	wf, claim, stage, kind, actor, subject, reason, comment := make([]string, n), make([]string, n), make([]string, n),
		make([]string, n), make([]string, n), make([]string, n), make([]string, n), make([]string, n)
	seq, at := make([]int, n), make([]time.Time, n)
	for i, e := range events {
		if e.At.IsZero() {
			e.At = time.Now()
		}
		wf[i], claim[i], stage[i], seq[i], kind[i] = e.WorkflowID, e.ClaimID, string(e.Stage), e.Seq, string(e.Kind)
		actor[i], subject[i], reason[i], comment[i], at[i] = e.Actor, e.Subject, e.Reason, e.Comment, e.At
	}
	return named("TimelineAdd", Args{"workflow_id": wf, "claim_id": claim, "stage": stage, "seq": seq, "kind": kind,
		"actor": actor, "subject": subject, "reason": reason, "comment": comment, "at": at})
}

// Timeline lists a claim's events in order.
func (qs *Queries) Timeline(ctx context.Context, claimID string) ([]TimelineEvent, error) {
	rows, err := qs.db.Query(ctx, q("TimelineByClaim"), claimID)
	if err != nil {
		return nil, fmt.Errorf("timeline of %s: %w", claimID, err)
	}
	events, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (TimelineEvent, error) {
		e := TimelineEvent{ClaimID: claimID}
		err := r.Scan(&e.Stage, &e.Seq, &e.Kind, &e.Actor, &e.Subject, &e.Reason, &e.Comment, &e.At)
		return e, err
	})
	if err != nil {
		return nil, fmt.Errorf("timeline of %s: %w", claimID, err)
	}
	return events, nil
}

// TimelineAddOnce records an event and reports whether it was new; when it was
// not, subject is the subject recorded the first time.
func (qs *Queries) TimelineAddOnce(ctx context.Context, e TimelineEvent) (inserted bool, subject string, err error) {
	sql, args, err := timelineInsert(e)
	if err != nil {
		return false, "", err
	}
	tag, err := qs.db.Exec(ctx, sql, args...)
	if err != nil {
		return false, "", fmt.Errorf("add timeline event %s/%d %s: %w", e.WorkflowID, e.Seq, e.Kind, err)
	}
	if tag.RowsAffected() == 1 {
		return true, e.Subject, nil
	}
	err = qs.db.QueryRow(ctx, q("TimelineSubject"), e.WorkflowID, e.Seq).Scan(&subject)
	return false, subject, err
}

// TimelineHas reports whether the claim's event seq is recorded: how a retry of
// an action whose first attempt committed (its worker died before the claim
// heard back) is answered from what was recorded, not judged again against a
// directory that has changed since.
func (qs *Queries) TimelineHas(ctx context.Context, workflowID string, seq int) (bool, error) {
	var has bool
	if err := qs.db.QueryRow(ctx, q("TimelineHas"), workflowID, seq).Scan(&has); err != nil {
		return false, fmt.Errorf("timeline event %s/%d: %w", workflowID, seq, err)
	}
	return has, nil
}
