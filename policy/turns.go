package policy

import (
	"cmp"
	"fmt"
)

// Turns. Every round-robin method (round robin, weighted round robin, a
// distribution rule's team, a reassignment group) keeps one count per person and
// scope: how many turns they have had there. The eligible person with the lowest
// level goes next, where level is turns divided by weight (weight is the ticket
// priority for weighted round robin and 1 otherwise), highest weight and then
// turn order (directory, team or group order) among equals. For a fixed eligible
// set that is exactly round robin: each round serves everyone once (weighted:
// their priority's share, highest first), so nobody is more than one turn ahead.
//
// Because the count belongs to the person and not to the eligible set, claims
// whose eligible sets overlap (acknowledge of an approval and of a goodwill) share
// one notion of whose turn it is, and the people end up even, not just each set.
//
// A person with no count yet (a newcomer) enters at the lowest level among the
// eligible people who have one, so they get a turn in the current round and
// nobody gets two; when everyone eligible has just finished a round (all level,
// none part-way), they enter one level below, so they take their turn in the
// round just finished, as someone not yet served in it. A leaver is simply not
// eligible and is skipped. Nothing here is rewritten whole at a decision: one
// person's count moves.

// TurnOrder says how a scope orders people among equals.
type TurnOrder struct {
	// Weighted gives each person their ticket priority's share per round.
	Weighted bool
	// Team orders by a team's member order and draws only from its members.
	Team string
}

func (o TurnOrder) weight(u User) int64 {
	if o.Weighted {
		return int64(weight(u))
	}
	return 1
}

func weight(u User) int { return max(u.TicketPriority, 1) }

// TurnCandidate is one eligible person as the turn order sees them.
type TurnCandidate struct {
	User   User
	Order  int64 // position in the scope's order
	Weight int64
	Served int64 // turns had in the scope; meaningful when Counted
	// Counted is false for a newcomer to the scope.
	Counted bool
}

func (c TurnCandidate) level() int64 { return c.Served / c.Weight }

// TurnView is what a decision needs of a scope's turn state: aggregates over the
// eligible people with a count, and the best of each kind. It is all the store
// reads, whatever the size of the eligible set.
type TurnView struct {
	Eligible int // everyone eligible in the scope's pool
	Counted  int // of them, those with a count
	MinLevel int64
	MaxLevel int64
	// Complete is true when every counted person has finished their share of a
	// round (turns a multiple of weight).
	Complete bool
	// BestCounted is the counted person with the lowest level (highest weight,
	// then order, among equals); BestNew the first newcomer by weight then order.
	BestCounted *TurnCandidate
	BestNew     *TurnCandidate
}

// ViewOf computes a TurnView from every eligible candidate.
func ViewOf(cs []TurnCandidate) TurnView {
	v := TurnView{Eligible: len(cs), Complete: true}
	for i := range cs {
		c := &cs[i]
		if !c.Counted {
			if v.BestNew == nil || before(*c, *v.BestNew, 0, 0) {
				v.BestNew = c
			}
			continue
		}
		if v.Counted == 0 || c.level() < v.MinLevel {
			v.MinLevel = c.level()
		}
		v.MaxLevel = max(v.MaxLevel, c.level())
		v.Complete = v.Complete && c.Served%c.Weight == 0
		v.Counted++
		if v.BestCounted == nil || before(*c, *v.BestCounted, c.level(), v.BestCounted.level()) {
			v.BestCounted = c
		}
	}
	return v
}

// before orders two candidates at levels la and lb: lower level, then higher
// weight, then earlier order.
func before(a, b TurnCandidate, la, lb int64) bool {
	if c := cmp.Compare(la, lb); c != 0 {
		return c < 0
	}
	if c := cmp.Compare(b.Weight, a.Weight); c != 0 {
		return c < 0
	}
	return a.Order < b.Order
}

// EntryLevel is where a newcomer enters the scope (see the package's notes on
// turns).
func (v TurnView) EntryLevel() int64 {
	if v.Counted == 0 {
		return 0
	}
	if v.MinLevel == v.MaxLevel && v.Complete {
		return max(v.MinLevel-1, 0)
	}
	return v.MinLevel
}

// Turn is a turn taken: the person, the scope, and the count to store for them.
type Turn struct {
	Scope  string
	User   User
	Served int64
	Reason string
	// Entered is a newcomer who lost this turn on the order among equals: they
	// are given their entry count now, so they fall behind as others move on and
	// their turn comes, instead of re-entering level with the lowest every time.
	Entered *Turn
}

// Turns lists the counts to store: the turn and any newcomer entered with it.
func (t Turn) Turns() []Turn {
	if t.Entered == nil {
		return []Turn{t}
	}
	return []Turn{t, *t.Entered}
}

// NextTurn picks whose turn it is. ok is false when nobody is eligible.
func NextTurn(scope, method string, v TurnView) (t Turn, ok bool) {
	var pick TurnCandidate
	var level int64
	entry := v.EntryLevel()
	switch {
	case v.BestNew == nil && v.BestCounted == nil:
		return Turn{}, false
	case v.BestCounted == nil || (v.BestNew != nil && before(*v.BestNew, *v.BestCounted, entry, v.BestCounted.level())):
		pick, level = *v.BestNew, entry
		pick.Served = entry * pick.Weight
	default:
		pick, level = *v.BestCounted, v.BestCounted.level()
	}
	t = Turn{Scope: scope, User: pick.User, Served: pick.Served + 1}
	if pick.Counted && v.BestNew != nil {
		t.Entered = &Turn{Scope: scope, User: v.BestNew.User, Served: entry * v.BestNew.Weight}
	}
	who := fmt.Sprintf("%s has had the fewest turns (%d) of the %d eligible", pick.User.ID, pick.Served, v.Eligible)
	switch {
	case !pick.Counted && v.Counted == 0:
		who = fmt.Sprintf("%s is first in turn order of the %d eligible, none of whom has had a turn", pick.User.ID, v.Eligible)
	case !pick.Counted:
		who = fmt.Sprintf("%s has not had a turn yet and joins at level %d (the %d of %d eligible who have are at %d–%d)",
			pick.User.ID, level, v.Counted, v.Eligible, v.MinLevel, v.MaxLevel)
	}
	if pick.Weight > 1 {
		who += fmt.Sprintf(", turn %d of %d this round (ticket priority %d)", pick.Served%pick.Weight+1, pick.Weight, pick.Weight)
	}
	t.Reason = method + ": " + who
	return t, true
}

// TimestampModulus is the claim-assignment source's own method: the user at index
// (milliseconds mod n). Baton does not use it; the benchmarks compare against it.
func TimestampModulus(eligible []User, unixMilli int64) (User, bool) {
	if len(eligible) == 0 {
		return User{}, false
	}
	return eligible[unixMilli%int64(len(eligible))], true
}
