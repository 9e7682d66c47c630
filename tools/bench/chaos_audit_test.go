package bench

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/batonhq/baton/policy"
	"github.com/batonhq/baton/workflows"
)

// The audit's negative controls: a clean observation passes, and each known
// loss fed to it, one at a time, fails it with a loss that names it. No
// Temporal server or database: the audit is a pure function.

const auditClaims = 14 // two full rounds of the seven round-robin people

// cleanRun is a run nothing went wrong in: the expectation and an observation
// that meets it exactly.
func cleanRun() (chaosExpected, chaosObserved) {
	start := time.Date(2026, 1, 1, 9, 0, 0, 0, time.UTC)
	exp := chaosExpected{Users: Users, Default: chaosDefault, Limit: chaosLimit, Gives: map[string]giveOutcome{}, Start: start}
	obs := chaosObserved{Claims: map[string]claimObservation{}, Deliveries: map[string][]time.Time{}, PeakOpen: map[string]int{}}
	for i := range auditClaims {
		id := fmt.Sprintf("chaos-%05d", i)
		exp.Claims = append(exp.Claims, id)
		wf := workflows.WorkflowID(id)
		decisions := []policy.Decision{
			{Stage: policy.StageCapture, Seq: 1, Method: policy.MethodRoundRobin, Assignee: Users[i%7]},
			{Stage: policy.StageReview, Seq: 3, Method: policy.MethodManual},
			{Stage: policy.StageReview, Seq: 5, Method: policy.MethodDefaultAssignee, Assignee: chaosDefault},
			{Stage: policy.StageAcknowledge, Seq: 8, Method: policy.MethodRoundRobin, Assignee: Users[(i+3)%7]},
		}
		for _, d := range decisions {
			obs.Ledger = append(obs.Ledger, ledgerRow{WorkflowID: wf, ClaimID: id, Stage: d.Stage, Seq: d.Seq, Method: d.Method,
				Assignee: d.Assignee, Reason: "round robin"})
			if d.Assignee != "" {
				msg := fmt.Sprintf("%s.%s.%d@chaos.example", wf, d.Stage, d.Seq)
				obs.Outbox = append(obs.Outbox, outboxRow{MessageID: msg, ClaimID: id, Sent: true})
				obs.Deliveries[msg] = []time.Time{start.Add(time.Duration(i) * time.Second)}
			}
		}
		st := &workflows.ClaimState{ClaimID: id, Stage: policy.StageFinalise, Status: workflows.StatusFinalised, Decisions: decisions}
		obs.Claims[id] = claimObservation{State: st, TimersStarted: 1, TimersFired: 1, WindowExpired: 1, CompletedBy: map[policy.Stage]string{}}
	}
	for _, u := range Users {
		obs.PeakOpen[u] = 2
	}
	return exp, obs
}

// requireLoss runs the audit and requires a loss containing want.
func requireLoss(t *testing.T, exp chaosExpected, obs chaosObserved, want string) {
	t.Helper()
	tally := auditChaos(exp, obs)
	require.True(t, tally.Lost(), "the audit passed a run with a known loss (%s)", want)
	require.True(t, slices.ContainsFunc(tally.Losses, func(l string) bool { return strings.Contains(l, want) }),
		"no loss names %q; losses:\n%s", want, strings.Join(tally.Losses, "\n"))
}

// dropLedger removes claim id's ledger row of stage at seq.
func dropLedger(obs *chaosObserved, id string, stage policy.Stage, seq int) {
	obs.Ledger = slices.DeleteFunc(obs.Ledger, func(r ledgerRow) bool { return r.ClaimID == id && r.Stage == stage && r.Seq == seq })
}

// dropState removes claim id's decision of stage at seq from its state.
func dropState(obs *chaosObserved, id string, stage policy.Stage, seq int) {
	o := obs.Claims[id]
	st := *o.State
	st.Decisions = slices.DeleteFunc(slices.Clone(st.Decisions), func(d policy.Decision) bool { return d.Stage == stage && d.Seq == seq })
	o.State = &st
	obs.Claims[id] = o
}

func TestChaosAuditPassesACleanRun(t *testing.T) {
	exp, obs := cleanRun()
	tally := auditChaos(exp, obs)
	require.Empty(t, tally.Losses)
	require.Equal(t, auditClaims, tally.Finished)
	require.Equal(t, 4*auditClaims, tally.Decisions)
	require.Equal(t, 4*auditClaims, tally.Expected)
	require.Equal(t, auditClaims, tally.TimersOnce)
	require.Equal(t, 3*auditClaims, tally.Delivered)
	require.True(t, tally.Exact[string(policy.StageCapture)], "14 claims over 7 people with nobody passed over: exact shares")
}

func TestChaosAuditCatchesADeletedLedgerRow(t *testing.T) {
	exp, obs := cleanRun()
	dropLedger(&obs, "chaos-00012", policy.StageCapture, 1)
	requireLoss(t, exp, obs, "ledger: decision capture#1 (round_robin) of claim chaos-00012 missing")
}

// The loss the old audit could not see: the decision is missing from the
// ledger and from the claim's own state alike, so comparing the two agrees.
func TestChaosAuditCatchesADecisionMissingEverywhere(t *testing.T) {
	exp, obs := cleanRun()
	dropLedger(&obs, "chaos-00004", policy.StageReview, 5)
	dropState(&obs, "chaos-00004", policy.StageReview, 5)
	requireLoss(t, exp, obs, "ledger: decision review#2 (default_assignee) of claim chaos-00004 missing")
}

func TestChaosAuditCatchesALedgerRowMissingFromTheClaim(t *testing.T) {
	exp, obs := cleanRun()
	dropState(&obs, "chaos-00003", policy.StageReview, 5)
	requireLoss(t, exp, obs, "claim chaos-00003: ledger decision review seq 5 (default_assignee) missing from the claim's state")
}

func TestChaosAuditCatchesADoubledEmail(t *testing.T) {
	exp, obs := cleanRun()
	msg := obs.Outbox[7].MessageID
	obs.Deliveries[msg] = append(obs.Deliveries[msg], obs.Deliveries[msg][0].Add(3*time.Second))
	requireLoss(t, exp, obs, "notifications: e-mail "+msg+" of claim "+obs.Outbox[7].ClaimID+" delivered 2 times")
}

// The one excuse for a second copy is a crash between the two: the audit
// accepts it then, and only then.
func TestChaosAuditExcusesADoubledEmailOnlyAcrossACrash(t *testing.T) {
	exp, obs := cleanRun()
	msg := obs.Outbox[7].MessageID
	first := obs.Deliveries[msg][0]
	obs.Deliveries[msg] = append(obs.Deliveries[msg], first.Add(3*time.Second))
	exp.Faults = []Fault{{Kind: faultKill, At: first.Add(time.Second).Sub(exp.Start)}}
	require.Empty(t, auditChaos(exp, obs).Losses)

	exp.Faults = []Fault{{Kind: faultKill, At: first.Add(time.Minute).Sub(exp.Start)}}
	requireLoss(t, exp, obs, "delivered 2 times with no crash or cut connection between")
}

func TestChaosAuditCatchesATimerThatFiredTwice(t *testing.T) {
	exp, obs := cleanRun()
	o := obs.Claims["chaos-00005"]
	o.TimersStarted, o.TimersFired = 2, 2
	obs.Claims["chaos-00005"] = o
	requireLoss(t, exp, obs, "timers: claim window of claim chaos-00005 fired 2 times, expected 1")
	requireLoss(t, exp, obs, "timers: claim chaos-00005 armed 2 claim windows, expected 1")

	// The window's fallback run twice shows in the timeline too.
	exp, obs = cleanRun()
	o = obs.Claims["chaos-00005"]
	o.WindowExpired = 2
	obs.Claims["chaos-00005"] = o
	requireLoss(t, exp, obs, "timeline: claim chaos-00005 has 2 window_expired entries, expected 1")
}

// A skipped turn: u3's turn at capture went to u4 instead, recorded
// consistently everywhere. Only exact shares can see it: max − min is 2 here,
// but over counts that do not divide evenly it would read 1.
func TestChaosAuditCatchesASkippedTurn(t *testing.T) {
	exp, obs := cleanRun()
	setCapture(&obs, "chaos-00002", "u4")
	requireLoss(t, exp, obs, "round robin at capture: u3 had 1 turns, exactly 2 expected")
}

// A give and a re-route are decisions the run caused: expected when the run
// made them, and a loss when they are missing.
func TestChaosAuditExpectsTheRunsOwnDecisions(t *testing.T) {
	exp, obs := cleanRun()
	exp.Gives["chaos-00006"] = giveMade
	requireLoss(t, exp, obs, "ledger: decision review#3 (assign) of claim chaos-00006 missing")

	// A give that landed after the window fell back (visibility lagged)
	// reassigns from the default assignee: expected, when recorded.
	wf := workflows.WorkflowID("chaos-00006")
	give := policy.Decision{Stage: policy.StageReview, Seq: 6, Method: policy.MethodAssign, Assignee: "u5"}
	obs.Ledger = append(obs.Ledger, ledgerRow{WorkflowID: wf, ClaimID: "chaos-00006", Stage: give.Stage, Seq: give.Seq, Method: give.Method, Assignee: give.Assignee})
	o := obs.Claims["chaos-00006"]
	st := *o.State
	st.Decisions = append(slices.Clone(st.Decisions), give)
	o.State = &st
	obs.Claims["chaos-00006"] = o
	obs.Outbox = append(obs.Outbox, outboxRow{MessageID: "give@chaos.example", ClaimID: "chaos-00006", Sent: true})
	obs.Deliveries["give@chaos.example"] = []time.Time{exp.Start}
	require.Empty(t, auditChaos(exp, obs).Losses)

	exp, obs = cleanRun()
	exp.Leaver, exp.Touched = "u2", []string{"u2"}
	exp.Held = []string{workflows.WorkflowID("chaos-00001")} // u2 held its capture
	requireLoss(t, exp, obs, "ledger: decision capture#2 (round_robin) of claim chaos-00001 missing")
}

// setCapture gives claim id's capture to who, in the ledger and the claim's
// state alike.
func setCapture(obs *chaosObserved, id, who string) {
	for i, r := range obs.Ledger {
		if r.ClaimID == id && r.Stage == policy.StageCapture {
			obs.Ledger[i].Assignee = who
		}
	}
	o := obs.Claims[id]
	st := *o.State
	st.Decisions = slices.Clone(st.Decisions)
	st.Decisions[0].Assignee = who
	o.State = &st
	obs.Claims[id] = o
}

// A skipped turn the whole run's totals hide: people were passed over at
// their limits while the faults ran, so the whole run is held only to max −
// min ≤ 1, and an opposite slip earlier evens the totals out. The calm
// segment after the faults is held to exact shares, and catches it.
func TestChaosAuditCatchesASkippedTurnInTheCalm(t *testing.T) {
	exp, obs := cleanRun()
	exp.Calm = exp.Claims[7:]
	exp.CalmTurns = calmTurns(1, 1, 1, 1, 1, 1, 1)
	require.Empty(t, auditChaos(exp, obs).Losses)
	for i, r := range obs.Ledger {
		if !slices.Contains(exp.Calm, r.ClaimID) {
			obs.Ledger[i].Reason = "round robin; passed over u5 (at their limit of 3)"
		}
	}
	setCapture(&obs, "chaos-00003", "u3") // u4's turn, before the calm
	setCapture(&obs, "chaos-00009", "u4") // u3's turn, in the calm
	tally := auditChaos(exp, obs)
	require.False(t, tally.Exact[string(policy.StageCapture)])
	require.Equal(t, 0, tally.Spread[string(policy.StageCapture)], "the whole run's totals are even")
	requireLoss(t, exp, obs, "calm: round robin at capture: u3 had 0 turns, exactly 1 expected")
}

// calmTurns are the turn counts as the calm claims begin, at capture and
// acknowledge: served[i] for Users[i].
func calmTurns(served ...int64) map[policy.Stage][]turnCount {
	out := map[policy.Stage][]turnCount{}
	for _, st := range []policy.Stage{policy.StageCapture, policy.StageAcknowledge} {
		for i, u := range Users {
			out[st] = append(out[st], turnCount{User: u, Served: served[i], Weight: 1, Order: int64(i)})
		}
	}
	return out
}

// Someone the faults left behind (passed over at their limit, keeping their
// turn) is served first in the calm, then the order goes round as before:
// exactly the shares the counts call for, which are not an even split. A turn
// given otherwise is still a loss.
func TestChaosAuditCalmServesWhomTheFaultsLeftBehindFirst(t *testing.T) {
	exp, obs := cleanRun()
	exp.Calm = exp.Claims[7:]
	// Before the calm, Users[4] was full when their turn came: passed over,
	// then Users[0] began the next round.
	for i, who := range map[int]string{4: Users[5], 5: Users[6], 6: Users[0]} {
		id := fmt.Sprintf("chaos-%05d", i)
		setCapture(&obs, id, who)
		for k, r := range obs.Ledger {
			if r.ClaimID == id && r.Stage == policy.StageCapture {
				obs.Ledger[k].Reason = "round robin; passed over " + Users[4] + " (at capacity: 3 of 3 open stages)"
			}
		}
	}
	exp.CalmTurns = calmTurns(1, 1, 1, 1, 1, 1, 1)
	exp.CalmTurns[policy.StageCapture] = calmTurns(2, 1, 1, 1, 0, 1, 1)[policy.StageCapture]
	// In the calm, Users[4] catches up, then the round goes on from Users[1];
	// Users[0]'s next turn falls past the calm.
	calm := []string{Users[4], Users[1], Users[2], Users[3], Users[4], Users[5], Users[6]}
	for i, who := range calm {
		setCapture(&obs, fmt.Sprintf("chaos-%05d", 7+i), who)
	}
	require.Empty(t, auditChaos(exp, obs).Losses, "catching up is what round robin does")

	setCapture(&obs, "chaos-00007", Users[0]) // Users[4]'s catch-up turn, given away
	requireLoss(t, exp, obs, fmt.Sprintf("calm: round robin at capture: %s had 1 turns, exactly 2 expected", Users[4]))
}

func TestCalmShares(t *testing.T) {
	start := []turnCount{{"a", 4, 2, 0}, {"b", 1, 1, 1}, {"c", 3, 1, 2}}
	// Levels (served / weight) a 2, b 1, c 3: b first; then a, weighing
	// more, before b at each level, two turns a level: b a a b a a.
	got, err := calmShares(start, []string{"a", "b", "c"}, 6)
	require.NoError(t, err)
	require.Equal(t, map[string]int{"a": 4, "b": 2}, got)
	require.Equal(t, int64(4), start[0].Served, "the counts given are left alone")
	_, err = calmShares(start, []string{"a", "d"}, 1)
	require.ErrorContains(t, err, "d had no turn count when the calm claims began")
}
