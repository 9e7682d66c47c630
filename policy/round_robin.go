package policy

import (
	"fmt"
	"slices"
)

// Cursor is a round-robin scope's durable state: the current round and how many
// assignments each user has had in it. It is stored as is in PostgreSQL.
type Cursor struct {
	Round  int64          `json:"round"`
	Served map[string]int `json:"served"`
}

// RoundRobin picks the first eligible user, in order, who has not yet been served
// this round. When everyone eligible has been served it starts a new round. This is
// exactly even for any fixed eligible set (each round serves each user once) and
// survives membership changes: a newcomer is served in the current round, a leaver
// is simply skipped, and nobody is served twice in a round.
//
// It returns the pick, the cursor to store, and the reason. ok is false when there
// is nobody eligible; the cursor is then returned unchanged.
func RoundRobin(eligible []User, cur Cursor) (pick User, next Cursor, reason string, ok bool) {
	if len(eligible) == 0 {
		return User{}, cur, "", false
	}
	next = Cursor{Round: cur.Round, Served: make(map[string]int, len(cur.Served)+1)}
	for id, n := range cur.Served {
		next.Served[id] = n
	}
	if next.Round == 0 {
		next.Round = 1
	}
	for _, u := range eligible {
		if next.Served[u.ID] == 0 {
			next.Served[u.ID] = 1
			return u, next, fmt.Sprintf("round robin: round %d, %s is the first of %d eligible not yet served this round",
				next.Round, u.ID, len(eligible)), true
		}
	}
	next.Round++
	next.Served = map[string]int{eligible[0].ID: 1}
	return eligible[0], next, fmt.Sprintf("round robin: every eligible user was served in round %d; round %d starts with %s",
		next.Round-1, next.Round, eligible[0].ID), true
}

// WeightedRoundRobin is round robin by ticket priority (care-team source): users
// are taken highest priority first (directory order among equals), and each gets
// as many assignments per round as their priority (1 when unset). A user with
// priority 5 gets the first five and the most. Like RoundRobin, a round survives
// membership changes and nobody exceeds their share in a round.
func WeightedRoundRobin(eligible []User, cur Cursor) (pick User, next Cursor, reason string, ok bool) {
	if len(eligible) == 0 {
		return User{}, cur, "", false
	}
	order := slices.Clone(eligible)
	slices.SortStableFunc(order, func(a, b User) int { return weight(b) - weight(a) })
	next = Cursor{Round: max(cur.Round, 1), Served: make(map[string]int, len(cur.Served)+1)}
	for id, n := range cur.Served {
		next.Served[id] = n
	}
	for _, u := range order {
		if next.Served[u.ID] < weight(u) {
			next.Served[u.ID]++
			return u, next, fmt.Sprintf("weighted round robin: round %d, %s's assignment %d of %d (ticket priority %d)",
				next.Round, u.ID, next.Served[u.ID], weight(u), weight(u)), true
		}
	}
	next.Round++
	next.Served = map[string]int{order[0].ID: 1}
	return order[0], next, fmt.Sprintf("weighted round robin: round %d starts with %s (ticket priority %d, the highest)",
		next.Round, order[0].ID, weight(order[0])), true
}

func weight(u User) int { return max(u.TicketPriority, 1) }

// TimestampModulus is the claim-assignment source's own method: the user at index
// (milliseconds mod n). Baton does not use it; the benchmarks compare against it.
func TimestampModulus(eligible []User, unixMilli int64) (User, bool) {
	if len(eligible) == 0 {
		return User{}, false
	}
	return eligible[unixMilli%int64(len(eligible))], true
}
