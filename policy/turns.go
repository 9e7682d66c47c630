package policy

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strings"
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
// A person with no count yet (a newcomer) is given one when the scope first
// decides among them: the lowest level among the eligible people who have a
// count, so they get a turn in the current round and nobody gets two; when
// everyone eligible has just finished a round (all level, none part-way), one
// level below, so they take their turn in the round just finished, as someone
// not yet served in it. A leaver is simply not eligible and is skipped. Nothing
// here is rewritten whole at a decision: one person's count moves.

// TurnOrder says how a scope orders people among equals.
type TurnOrder struct {
	// Weighted gives each person their ticket priority's share per round.
	Weighted bool
	// Team orders by a team's member order and draws only from its members.
	Team string
	// Stage is the stage being decided, whose limits apply.
	Stage Stage
	// EvenIfAway takes people who are away or offline too (a stage set to
	// assign when nobody is available); limits still hold.
	EvenIfAway bool
	// Exclude are people who may not take the stage whatever their turn (four
	// eyes), with why.
	Exclude map[string]string
}

// Take decides whether the turn order takes person id, whose workload is w.
// why is "" when it does. When they are away on an absence and a delegate can
// take the work (People.Delegate), why is "" and del says who. Otherwise why
// says why they are passed over. The store's turn scan, MemDirectory and named
// picks all decide through it.
func (o TurnOrder) Take(ctx context.Context, people People, req Requirement, id string, w Workload) (why string, del *Delegation, err error) {
	why = o.Refuse(id, w)
	if _, excluded := o.Exclude[id]; why == "" || excluded || w.Away() == "" || w.Delegate == "" {
		return why, nil, nil
	}
	d, err := people.Delegate(ctx, id, w.Delegate, req, o)
	switch {
	case err != nil:
		return "", nil, err
	case d.To != "":
		return "", &d, nil
	}
	return why + "; " + d.Why, nil, nil
}

// Refuse says why the turn order passes over person id with workload w, or "".
func (o TurnOrder) Refuse(id string, w Workload) string {
	if why, ok := o.Exclude[id]; ok {
		return why
	}
	if o.EvenIfAway {
		return w.Full(o.Stage)
	}
	return w.Refuse(o.Stage)
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
	// Open is how many stages the person holds open (least_loaded reads it).
	Open int
	// Delegated is set when the person is away and their delegate takes the
	// turn's work: the turn is theirs, the stage their delegate's.
	Delegated *Delegation
}

func (c TurnCandidate) level() int64 { return c.Served / c.Weight }

// TurnLevels summarises the eligible people who have a count in a scope: all a
// newcomer's entry depends on.
type TurnLevels struct {
	Counted  int
	MinLevel int64
	MaxLevel int64
	// Complete is true when every counted person has finished their share of a
	// round (turns a multiple of weight).
	Complete bool
}

// LevelsOf summarises the counted candidates.
func LevelsOf(cs []TurnCandidate) TurnLevels {
	l := TurnLevels{Complete: true}
	for _, c := range cs {
		if !c.Counted {
			continue
		}
		if l.Counted == 0 || c.level() < l.MinLevel {
			l.MinLevel = c.level()
		}
		l.MaxLevel = max(l.MaxLevel, c.level())
		l.Complete = l.Complete && c.Served%c.Weight == 0
		l.Counted++
	}
	return l
}

// EntryLevel is where newcomers enter the scope (see the package's notes on
// turns).
func (l TurnLevels) EntryLevel() int64 {
	if l.Counted == 0 {
		return 0
	}
	if l.MinLevel == l.MaxLevel && l.Complete {
		return max(l.MinLevel-1, 0)
	}
	return l.MinLevel
}

// before orders two candidates: lower level, then higher weight, then earlier
// order.
func before(a, b TurnCandidate) bool {
	if c := cmp.Compare(a.level(), b.level()); c != 0 {
		return c < 0
	}
	if c := cmp.Compare(b.Weight, a.Weight); c != 0 {
		return c < 0
	}
	return a.Order < b.Order
}

// EnterAndPick gives every newcomer among the eligible candidates a count at the
// entry level (entered lists them, to store) and returns whose turn it is.
// ok is false when nobody is eligible.
func EnterAndPick(cs []TurnCandidate) (next TurnCandidate, entered []TurnCandidate, ok bool) {
	entry := LevelsOf(cs).EntryLevel()
	for i := range cs {
		c := &cs[i]
		if !c.Counted {
			c.Served, c.Counted = entry*c.Weight, true
			entered = append(entered, *c)
		}
		if !ok || before(*c, next) {
			next, ok = *c, true
		}
	}
	return next, entered, ok
}

// EnterAndOrder gives every newcomer among the candidates a count at the entry
// level (entered lists them, to store) and returns the candidates in turn order.
func EnterAndOrder(cs []TurnCandidate) (ordered, entered []TurnCandidate) {
	entry := LevelsOf(cs).EntryLevel()
	ordered = slices.Clone(cs)
	for i := range ordered {
		c := &ordered[i]
		if !c.Counted {
			c.Served, c.Counted = entry*c.Weight, true
			entered = append(entered, *c)
		}
	}
	slices.SortStableFunc(ordered, func(a, b TurnCandidate) int {
		switch {
		case before(a, b):
			return -1
		case before(b, a):
			return 1
		}
		return 0
	})
	return ordered, entered
}

// LoadCandidate is one person as least_loaded weighs them: their place in the
// turn order and their workload.
type LoadCandidate struct {
	Turn TurnCandidate
	Work Workload
}

// LessLoaded orders two people for least_loaded at stage: fewer open stages,
// then more spare capacity (no limit is the most), then the turn order.
func LessLoaded(a, b LoadCandidate, stage Stage) bool {
	if c := cmp.Compare(a.Work.Open.Total, b.Work.Open.Total); c != 0 {
		return c < 0
	}
	as, al := a.Work.Spare(stage)
	bs, bl := b.Work.Spare(stage)
	switch {
	case al != bl:
		return !al // no limit has the most spare
	case al && as != bs:
		return as > bs
	}
	if before(a.Turn, b.Turn) {
		return true
	}
	return !before(b.Turn, a.Turn) && a.Turn.User.ID < b.Turn.User.ID
}

// PickLeastLoaded names the least loaded of cs (in turn order) whom order
// takes: the first in least_loaded's order (LessLoaded) among those in turn
// (OutOfTurn) whom order does not pass over. Those ahead of the pick in that
// order, passed over or out of turn, are recorded in v (PassInOrder), as a
// turn order records those ahead of whoever's turn it is; the store reads the
// same order from its indexes and stops at the same person.
func PickLeastLoaded(cs []LoadCandidate, order TurnOrder, v *TurnView) (LoadCandidate, bool) {
	sorted := slices.Clone(cs)
	slices.SortStableFunc(sorted, func(a, b LoadCandidate) int {
		switch {
		case LessLoaded(a, b, order.Stage):
			return -1
		case LessLoaded(b, a, order.Stage):
			return 1
		}
		return 0
	})
	var ahead []Passing
	for _, c := range sorted {
		why := order.Refuse(c.Turn.User.ID, c.Work)
		if out := order.OutOfTurn(c.Work); out || why != "" {
			ahead = append(ahead, Passing{ID: c.Turn.User.ID, Why: why, Out: out})
			continue
		}
		v.PassInOrder(ahead)
		c.Turn.Open = c.Work.Open.Total
		return c, true
	}
	v.PassInOrder(ahead)
	return LoadCandidate{}, false
}

// OutOfTurnCounted bounds how many of those out of turn ahead of a pick a
// decision counts (the count is then a lower bound: TurnView.PassedMore).
const OutOfTurnCounted = 20

// Passing is someone a turn order went past on the way to its pick: passed
// over in turn (Why says why), or out of turn (Out: away or full, OutOfTurn).
type Passing struct {
	ID, Why string
	Out     bool
}

// PassInOrder records ps, those ahead of a pick in its order, as passed over:
// all of those passed over in turn, and the first OutOfTurnCounted of those
// out of turn (PassedMore when there were more).
func (v *TurnView) PassInOrder(ps []Passing) {
	outs := 0
	for _, p := range ps {
		if p.Out {
			if outs++; outs > OutOfTurnCounted {
				v.PassedMore = true
				continue
			}
		}
		v.Pass(p.ID, p.Why)
	}
}

// TurnView is what a decision reads of a scope: how many are eligible and whose
// turn it is, after any newcomers have entered.
type TurnView struct {
	Eligible int
	Next     *TurnCandidate
	// Passed are the first few eligible people passed over on the way to Next
	// (away, offline or at a limit), and PassedCount how many in all.
	Passed      []PassedOver
	PassedCount int
	// Away counts the passed over who were away or offline, Full those at a
	// limit.
	Away, Full int
	// PassedMore is set when more were passed over than PassedCount, which
	// then is a lower bound: the people out of turn are counted only so far.
	PassedMore bool
}

// PassedList words the passed over for a reason: PassedOverList, with "… (more
// than N)" when the count stopped short.
func (v TurnView) PassedList() string {
	if !v.PassedMore {
		return PassedOverList(v.Passed, v.PassedCount)
	}
	return PassedOverList(v.Passed, len(v.Passed)) + fmt.Sprintf(", … (more than %d in all)", v.PassedCount)
}

// OutOfTurn reports whether a turn order leaves person id, whose workload is
// w, out of its order altogether rather than passing over them each time
// their turn comes: away or offline with nobody to delegate to (unless the
// stage assigns even if away), or at a limit at the scope's stage (for a
// team's scope, which serves every stage, the total limit). The store keeps
// them off the index it reads turns from, so however many are away or full,
// a decision reads as few rows as when nobody is; those of them ahead of the
// pick are read from an index of their own (at most OutOfTurnCounted), to say
// who was passed over and why.
func (o TurnOrder) OutOfTurn(w Workload) bool {
	if !o.EvenIfAway && w.Away() != "" && w.Delegate == "" {
		return true
	}
	if o.Team != "" {
		return w.Capacity.Total > 0 && w.Open.Total >= w.Capacity.Total
	}
	spare, limited := w.Spare(o.Stage)
	return limited && spare == 0
}

// Pass records that someone eligible was passed over.
func (v *TurnView) Pass(id, why string) {
	if len(v.Passed) < SampleSize {
		v.Passed = append(v.Passed, PassedOver{UserID: id, Why: why})
	}
	v.PassedCount++
	switch {
	case why == "away" || why == "offline":
		v.Away++
	case strings.HasPrefix(why, "at capacity"):
		v.Full++
	}
}

// Turn is a turn taken: the person, the scope, and the count to store for them.
type Turn struct {
	Scope  string
	User   User
	Served int64
	Weight int64
	Order  int64
	Reason string
}

// NextTurn takes the turn the view names. ok is false when nobody is eligible.
func NextTurn(scope, method string, v TurnView) (t Turn, ok bool) {
	if v.Next == nil {
		return Turn{}, false
	}
	c := *v.Next
	t = Turn{Scope: scope, User: c.User, Served: c.Served + 1, Weight: c.Weight, Order: c.Order}
	t.Reason = fmt.Sprintf("%s: %s has had the fewest turns (%d) of the %d eligible", method, c.User.ID, c.Served, v.Eligible)
	if c.Weight > 1 {
		t.Reason += fmt.Sprintf(", turn %d of %d this round (ticket priority %d)", c.Served%c.Weight+1, c.Weight, c.Weight)
	}
	if v.PassedCount > 0 {
		t.Reason += "; passed over " + v.PassedList()
	}
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

// GroupTurn is a reassignment group's next turn: members are its eligible
// members in group order, served their counts in the group's scope. Groups are
// small, so their turns are worked out here whole; entered are the newcomers
// given a count, to store with the turn.
func GroupTurn(group string, members []string, served map[string]int64) (t Turn, entered []Turn, ok bool) {
	scope := GroupScope(group)
	cs := make([]TurnCandidate, len(members))
	for i, m := range members {
		cs[i] = TurnCandidate{User: User{ID: m}, Order: int64(i), Weight: 1}
		cs[i].Served, cs[i].Counted = served[m]
	}
	next, in, ok := EnterAndPick(cs)
	if !ok {
		return Turn{}, nil, false
	}
	for _, c := range in {
		entered = append(entered, Turn{Scope: scope, User: c.User, Served: c.Served, Weight: c.Weight, Order: c.Order})
	}
	t, _ = NextTurn(scope, "round robin", TurnView{Eligible: len(members), Next: &next})
	return t, entered, true
}
