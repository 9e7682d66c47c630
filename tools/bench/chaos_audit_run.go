package bench

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/batonhq/baton/policy"
)

// The audit's run-wide checks: round-robin shares, the calm segment, the
// outbox against the mailbox, capacity and the leaver. The per-claim checks
// are in chaos_audit.go.

// roundRobin checks the round-robin stages' counts. The total is exact: one
// per claim, plus one per re-route the run caused. The shares are exact (each
// of the pool exactly total/len(pool)) when nothing could have skewed them: no
// workload fault touched anyone and no decision passed anyone over at a limit;
// otherwise people a fault touched rightly have fewer, and someone passed over
// at a limit catches up only as their stages finish, so among the untouched the
// check is max − min ≤ 1.
func (a *chaosAudit) roundRobin() {
	for _, st := range chaosStages {
		want := 0
		for _, s := range a.matched {
			want += count(s[st], policy.MethodRoundRobin)
		}
		if want == 0 {
			continue
		}
		counts, total, passed := map[string]int{}, 0, 0
		for _, r := range a.obs.Ledger {
			if r.Stage == st && r.Method == policy.MethodRoundRobin {
				counts[r.Assignee]++
				total++
				if strings.Contains(r.Reason, "passed over") {
					passed++
				}
			}
		}
		if total != want {
			a.loss("round robin at %s: %d decisions, expected %d (one per claim, one per re-route)", st, total, want)
		}
		even := slices.DeleteFunc(slices.Clone(a.exp.Users), func(u string) bool { return slices.Contains(a.exp.Touched, u) })
		a.t.Spread[string(st)] = spread(counts, even)
		exact := passed == 0 && len(even) == len(a.exp.Users) && want%len(even) == 0
		a.t.Exact[string(st)] = exact
		if exact {
			share := want / len(even)
			for _, u := range even {
				if counts[u] != share {
					a.loss("round robin at %s: %s had %d turns, exactly %d expected (%d decisions over %d people, nobody passed over)",
						st, u, counts[u], share, want, len(even))
				}
			}
			continue
		}
		if n := a.t.Spread[string(st)]; n > 1 {
			a.loss("round robin at %s: max−min %d among the people no workload fault touched", st, n)
		}
	}
}

// calm checks exact shares over the calm claims: with nobody full, away or
// gone mid-segment, each round-robin decision serves whoever has the lowest
// turn count (highest weight, then first in order), so from the counts the
// faults left the calm claims' shares follow exactly (calmShares): an even
// split where the faults left everyone level, and the behind first where they
// did not. One skipped or doubled turn shows as one person short and another
// over, whatever the totals.
func (a *chaosAudit) calm() {
	if len(a.exp.Calm) == 0 {
		return
	}
	calm := map[string]bool{}
	for _, id := range a.exp.Calm {
		calm[id] = true
	}
	pool := slices.DeleteFunc(slices.Clone(a.exp.Users), func(u string) bool { return u == a.exp.Leaver })
	for _, st := range []policy.Stage{policy.StageCapture, policy.StageAcknowledge} {
		counts, total := map[string]int{}, 0
		for _, r := range a.obs.Ledger {
			if !calm[r.ClaimID] || r.Stage != st || r.Method != policy.MethodRoundRobin {
				continue
			}
			counts[r.Assignee]++
			total++
			if strings.Contains(r.Reason, "passed over") {
				a.loss("calm: decision %s of claim %s passed someone over, which three claims at a time cannot cause: %s", st, r.ClaimID, r.Reason)
			}
		}
		a.t.CalmSpread = max(a.t.CalmSpread, spread(counts, pool))
		want, err := calmShares(a.exp.CalmTurns[st], pool, total)
		if err != nil {
			a.loss("calm: round robin at %s: %v", st, err)
			continue
		}
		for _, u := range pool {
			if counts[u] != want[u] {
				a.loss("calm: round robin at %s: %s had %d turns, exactly %d expected (%d decisions over %d people, from turn counts %s)",
					st, u, counts[u], want[u], total, len(pool), countsText(a.exp.CalmTurns[st]))
			}
		}
		for u, n := range counts {
			if !slices.Contains(pool, u) {
				a.loss("calm: round robin at %s gave %s, who is not eligible, %d turns", st, u, n)
			}
		}
	}
	a.t.Calm = len(a.exp.Calm)
}

// turnCount is one person's row of a round-robin scope: turns served, their
// weight and their place in the order.
type turnCount struct {
	User          string
	Served        int64
	Weight, Order int64
}

// calmShares is how many of n round-robin decisions each of pool takes from
// the counts start: each goes to the lowest level (served / weight), the
// highest weight, then the first in order, as the store's turn index reads
// them. Everyone in pool must have a count: by the calm claims, everyone has
// taken turns.
func calmShares(start []turnCount, pool []string, n int) (map[string]int, error) {
	rows := make([]turnCount, 0, len(pool))
	for _, u := range pool {
		i := slices.IndexFunc(start, func(c turnCount) bool { return c.User == u })
		if i < 0 {
			return nil, fmt.Errorf("%s had no turn count when the calm claims began: shares not checkable", u)
		}
		rows = append(rows, start[i])
	}
	level := func(c turnCount) int64 { return c.Served / max(c.Weight, 1) }
	got := map[string]int{}
	for range n {
		best := 0
		for i, c := range rows[1:] {
			b := rows[best]
			if cmp.Or(cmp.Compare(level(c), level(b)), cmp.Compare(b.Weight, c.Weight), cmp.Compare(c.Order, b.Order)) < 0 {
				best = i + 1
			}
		}
		rows[best].Served++
		got[rows[best].User]++
	}
	return got, nil
}

// countsText prints counts as user=served, in order.
func countsText(cs []turnCount) string {
	parts := make([]string, len(cs))
	for i, c := range cs {
		parts[i] = fmt.Sprintf("%s=%d", c.User, c.Served)
	}
	return strings.Join(parts, " ")
}

// outbox checks every e-mail the claims' decisions queued was sent and
// delivered once, and that each claim queued one per person its decisions
// assigned.
func (a *chaosAudit) outbox() {
	perClaim := map[string]int{}
	queued := map[string]bool{}
	for _, m := range a.obs.Outbox {
		a.t.Outbox++
		perClaim[m.ClaimID]++
		queued[m.MessageID] = true
		if !m.Sent {
			a.t.Unsent++
			a.loss("notifications: e-mail %s of claim %s never marked sent", m.MessageID, m.ClaimID)
		}
		got := a.obs.Deliveries[m.MessageID]
		switch {
		case len(got) == 0:
			a.t.NeverDelivered++
			a.loss("notifications: e-mail %s of claim %s never delivered", m.MessageID, m.ClaimID)
		case len(got) > 1:
			a.t.Delivered++
			a.t.Duplicate += len(got) - 1
			if !a.crashBetween(got[0], got[len(got)-1]) {
				a.loss("notifications: e-mail %s of claim %s delivered %d times with no crash or cut connection between to explain it",
					m.MessageID, m.ClaimID, len(got))
			}
		default:
			a.t.Delivered++
		}
	}
	for id, times := range a.obs.Deliveries {
		if !queued[id] {
			a.loss("notifications: e-mail %s delivered %d times but never queued", id, len(times))
		}
	}
	for _, id := range a.exp.Claims {
		want := 0
		for _, ms := range a.matched[id] {
			for _, m := range ms {
				if m != policy.MethodManual {
					want++ // every decision that names someone e-mails them
				}
			}
		}
		if perClaim[id] != want {
			a.loss("notifications: claim %s queued %d e-mails, expected %d (one per assignment)", id, perClaim[id], want)
		}
	}
}

// crashBetween reports whether a fault that can repeat a send (the sender
// killed, or its database connection cut, between the SMTP server's acceptance
// and the sent mark) struck between two deliveries, with a second's slack for
// the first delivery racing the fault.
func (a *chaosAudit) crashBetween(first, last time.Time) bool {
	for _, f := range a.exp.Faults {
		if !repeatsSends(f.Kind) {
			continue
		}
		at := a.exp.Start.Add(f.At)
		if !at.Before(first.Add(-time.Second)) && !at.After(last) {
			return true
		}
	}
	return false
}

// capacity: nobody limited may have been seen past their limit.
func (a *chaosAudit) capacity() {
	for _, u := range a.exp.Users {
		if u == a.exp.Default {
			continue
		}
		n := a.obs.PeakOpen[u]
		a.t.PeakOpen = max(a.t.PeakOpen, n)
		if n > a.exp.Limit {
			a.loss("capacity: %s held %d open stages, over the limit of %d", u, n, a.exp.Limit)
		}
	}
}

// leaver tallies the re-routes and checks the leaver holds nothing now. That
// each held stage was re-routed exactly once is part of its claim's shape.
func (a *chaosAudit) leaver() {
	if a.exp.Leaver == "" {
		return
	}
	a.t.Deactivated, a.t.Held, a.t.HeldBy = a.exp.Leaver, len(a.exp.Held), a.exp.Held
	for _, wf := range a.exp.Held {
		for _, r := range a.obs.Ledger {
			if r.WorkflowID == wf && strings.HasPrefix(r.Reason, a.exp.Leaver+" was deactivated") {
				a.t.Moved++
			}
		}
	}
	if a.obs.LeaverOpen > 0 {
		a.loss("redistribution: %s still holds %d open stages", a.exp.Leaver, a.obs.LeaverOpen)
	}
}
