package policy

import "time"

// TimelineEvent is one entry in a claim's timeline: what the workflow asks to
// record (workflows.RecordEventInput carries it), what the store keeps and
// what the API and the CLI show. Seq is the workflow's own number for it, one
// sequence with its decisions.
type TimelineEvent struct {
	WorkflowID string    `json:"workflowId"`
	ClaimID    string    `json:"claimId"`
	Stage      Stage     `json:"stage"`
	Seq        int       `json:"seq"`
	Kind       string    `json:"kind"`
	Actor      string    `json:"actor,omitempty"`
	Subject    string    `json:"subject,omitempty"`
	Reason     string    `json:"reason,omitempty"`
	Comment    string    `json:"comment,omitempty"`
	At         time.Time `json:"at"`
}

// Timeline event kinds: the vocabulary of a claim's timeline, shared by the
// workflow that decides when events happen and the store that keeps them.
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
	EventPolicyMigrated      = "policy_migrated"      // an admin moved the claim to another policy version
)

// EventKindOf names the timeline event a recorded decision is; previous is the
// assignee it replaced.
func EventKindOf(d Decision, previous string) string {
	switch d.Method {
	case MethodClaim:
		return EventClaimed
	case MethodUnassign:
		return EventUnassigned
	case MethodDefaultAssignee:
		return EventDefaultAssigned
	case MethodAssign, MethodEscalation, MethodReassignmentGroup:
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
