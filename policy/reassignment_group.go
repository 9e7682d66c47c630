package policy

import (
	"time"
)

// PermManageReassignmentGroups lets a user edit reassignment groups (the
// reassignment-groups source's "Contact Routing Rule Management").
const PermManageReassignmentGroups = "ManageReassignmentGroups"

// GroupMethod is how a reassignment group offers work.
type GroupMethod string

// Group distribution methods.
const (
	// GroupRoundRobin offers to one member at a time, in turn, each for the offer
	// timeout; turns carry over from claim to claim, round by round.
	GroupRoundRobin GroupMethod = "round_robin"
	// GroupBroadcast offers to every member at once; the first to claim wins.
	GroupBroadcast GroupMethod = "broadcast"
)

// DefaultOfferTimeout is how long an offer stands when a group sets none.
const DefaultOfferTimeout = time.Hour

// ReassignmentGroup routes work that is already in the system: its members are
// offered the claim and, if nobody takes it, the default assignee gets it.
type ReassignmentGroup struct {
	Name            string        `json:"name"`
	Members         []string      `json:"members"`
	DefaultAssignee string        `json:"defaultAssignee"`
	Method          GroupMethod   `json:"method"`
	OfferTimeout    time.Duration `json:"offerTimeout"`
	Line            int           `json:"-"`
	MemberLines     []int         `json:"-"`
}
