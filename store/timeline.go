package store

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/batonhq/baton/policy"
)

// Timeline event kinds.
const (
	EventQueued              = "queued"               // decided with nobody assigned: waits in its queue
	EventAssigned            = "assigned"             // a method or a person assigned it
	EventClaimed             = "claimed"              // an eligible user took it
	EventReassigned          = "reassigned"           // moved from one assignee to another
	EventUnassigned          = "unassigned"           // returned to its queue
	EventDefaultAssigned     = "default_assigned"     // the default assignee got it
	EventWindowExpired       = "window_expired"       // nobody claimed it within the claim window
	EventEscalated           = "escalated"            // not completed by its due time
	EventReassignmentStarted = "reassignment_started" // sent to a reassignment group
	EventOffered             = "offered"              // offered to group members
	EventOfferExpired        = "offer_expired"        // an offer timed out
	EventReassignmentEnded   = "reassignment_ended"   // a member took it, or the default assignee got it
	EventCompleted           = "completed"            // the stage was completed
)

// TimelineEvent is one entry in a claim's timeline.
type TimelineEvent struct {
	WorkflowID string       `json:"-"`
	ClaimID    string       `json:"-"`
	Stage      policy.Stage `json:"stage"`
	Seq        int          `json:"seq"`
	Kind       string       `json:"kind"`
	Actor      string       `json:"actor,omitempty"`
	Subject    string       `json:"subject,omitempty"`
	Reason     string       `json:"reason,omitempty"`
	Comment    string       `json:"comment,omitempty"`
	At         time.Time    `json:"at"`
}

// TimelineAdd records an event; a second write of the same (workflow, seq) does
// nothing.
func (qs *Queries) TimelineAdd(ctx context.Context, e TimelineEvent) error {
	if e.At.IsZero() {
		e.At = time.Now()
	}
	if _, err := qs.db.Exec(ctx, q("TimelineAdd"), e.WorkflowID, e.ClaimID, e.Stage, e.Seq, e.Kind,
		e.Actor, e.Subject, e.Reason, e.Comment, e.At); err != nil {
		return fmt.Errorf("add timeline event %s/%d %s: %w", e.WorkflowID, e.Seq, e.Kind, err)
	}
	return nil
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

// TimelineCount counts a claim's events of one kind.
func (qs *Queries) TimelineCount(ctx context.Context, claimID, kind string) (int, error) {
	var n int
	if err := qs.db.QueryRow(ctx, q("TimelineCountByKind"), claimID, kind).Scan(&n); err != nil {
		return 0, fmt.Errorf("count %s events of %s: %w", kind, claimID, err)
	}
	return n, nil
}

// EventKindOf names the timeline event a recorded decision is.
func EventKindOf(d policy.Decision, previous string) string {
	switch d.Method {
	case policy.MethodClaim:
		return EventClaimed
	case policy.MethodUnassign:
		return EventUnassigned
	case policy.MethodDefaultAssignee:
		return EventDefaultAssigned
	case policy.MethodAssign, policy.MethodEscalation, policy.MethodReassignmentGroup:
		if previous != "" {
			return EventReassigned
		}
		return EventAssigned
	}
	if d.Assignee == "" {
		return EventQueued
	}
	return EventAssigned
}
