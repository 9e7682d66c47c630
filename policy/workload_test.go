package policy

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestWorkloadRules(t *testing.T) {
	t.Parallel()
	limits := Capacity{Total: 3, PerStage: map[Stage]int{StageReview: 1}}
	for _, tc := range []struct {
		name   string
		w      Workload
		stage  Stage
		want   string
		spare  int
		capped bool
	}{
		{"no status reads as available", Workload{}, StageCapture, "", 0, false},
		{"available with no limit", Workload{Status: Available, Open: Open{Total: 40}}, StageCapture, "", 0, false},
		{"away", Workload{Status: Away}, StageCapture, "away", 0, false},
		{"offline", Workload{Status: Offline}, StageCapture, "offline", 0, false},
		{"away before full", Workload{Status: Away, Capacity: limits, Open: Open{Total: 3}}, StageCapture, "away", 0, true},
		{"room in all and at the stage", Workload{Capacity: limits, Open: Open{Total: 1}}, StageReview, "", 1, true},
		{"full at the stage", Workload{Capacity: limits, Open: Open{Total: 1, Stage: 1}}, StageReview,
			"at capacity: 1 of 1 open review stages", 0, true},
		{"the stage limit binds only its stage", Workload{Capacity: limits, Open: Open{Total: 1, Stage: 0}}, StageCapture, "", 2, true},
		{"full in all", Workload{Capacity: limits, Open: Open{Total: 3}}, StageCapture, "at capacity: 3 of 3 open stages", 0, true},
		{"over a limit lowered since", Workload{Capacity: Capacity{Total: 2}, Open: Open{Total: 5}}, StageCapture,
			"at capacity: 5 of 2 open stages", 0, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			require.Equal(t, tc.want, tc.w.Refuse(tc.stage))
			spare, capped := tc.w.Spare(tc.stage)
			require.Equal(t, tc.capped, capped)
			require.Equal(t, tc.spare, spare)
		})
	}
	require.Equal(t, "total 3, review 1", limits.String())
	require.Equal(t, "no limit", Capacity{}.String())
}

func TestManualAssignmentWorkload(t *testing.T) {
	t.Parallel()
	full := Workload{Capacity: Capacity{Total: 2}, Open: Open{Total: 2}}
	r, warn := ManualRefusal("root", "ann", StageCapture, "C-1", full, false)
	require.NotNil(t, r)
	require.Equal(t, RefusedConflict, r.Kind)
	require.Equal(t, `"root" may not give capture of claim C-1 to "ann": ann is at capacity: 2 of 2 open stages; set override to assign past the limit`, r.Msg)
	require.Empty(t, warn)

	r, warn = ManualRefusal("root", "ann", StageCapture, "C-1", full, true)
	require.Nil(t, r)
	require.Equal(t, "past ann's limit by override (at capacity: 2 of 2 open stages)", warn)

	r, warn = ManualRefusal("root", "ann", StageCapture, "C-1", Workload{Status: Away}, false)
	require.Nil(t, r, "assigning someone away is allowed")
	require.Equal(t, "ann is away", warn)

	r, warn = ManualRefusal("ann", "ann", StageCapture, "C-1", Workload{}, false)
	require.Nil(t, r)
	require.Empty(t, warn)
}

func TestParseAvailability(t *testing.T) {
	t.Parallel()
	a, err := ParseAvailability(" Away ")
	require.NoError(t, err)
	require.Equal(t, Away, a)
	_, err = ParseAvailability("awya")
	require.EqualError(t, err, `unknown status "awya": want available, away or offline (did you mean "away"?)`)
}

// decide runs one decision over m, recording its turn and the open stage it
// gives, as the store does in the decision's transaction.
func decide(t *testing.T, p *Policy, m *MemDirectory, stage Stage) Decision {
	t.Helper()
	d, ex, err := Decide(context.Background(), DecideInput{Policy: p, Stage: stage, People: m, Claim: Claim{ID: "c"}})
	require.NoError(t, err)
	if ex.Turn != nil {
		m.Record(*ex.Turn)
	}
	if d.Assignee != "" {
		m.OpenStage(d.Assignee, stage)
	}
	return d
}

func TestRoundRobinPassesOverTheAwayAndTheFull(t *testing.T) {
	t.Parallel()
	p := policyOf(MethodRoundRobin, nil)
	dir := users("ann:MakeClaimDecisions", "bob:MakeClaimDecisions", "cat:MakeClaimDecisions")
	dir[1].Status = Away
	dir[2].Capacity = Capacity{Total: 1}
	m := mem(dir, nil)

	var picks []string
	for range 4 {
		picks = append(picks, decide(t, p, m, StageCapture).Assignee)
	}
	require.Equal(t, []string{"ann", "cat", "ann", "ann"}, picks, "bob is away; cat takes one, up to her limit")
	d := decide(t, p, m, StageCapture)
	require.Equal(t, "ann", d.Assignee)
	require.Contains(t, d.Reason, "passed over bob (away), cat (at capacity: 1 of 1 open stages)",
		"bob (away) and cat (full) are out of turn, and named as passed over while ahead of the pick")

	// Everyone away: queued by default, saying who was passed over and why.
	for i := range m.Users {
		m.Users[i].Status = Away
	}
	d = decide(t, p, m, StageCapture)
	require.Empty(t, d.Assignee)
	require.Equal(t, "round_robin: everyone eligible was passed over: bob (away), cat (away), ann (away); left in queue default", d.Reason)

	// A stage set to assign anyway gives it to the next in turn under their limits.
	anyway := policyOf(MethodRoundRobin, map[Stage]StageConfig{StageCapture: {WhenNobodyAvailable: NobodyAvailableAssign}})
	d = decide(t, anyway, m, StageCapture)
	require.Equal(t, "bob", d.Assignee, "bob has had the fewest turns; cat is full")
	require.Contains(t, d.Reason, "nobody eligible is available (bob (away), cat (away), ann (away)), so assigned anyway: round robin: bob")
}

func TestRoundRobinUnchangedWhenEveryoneIsAvailable(t *testing.T) {
	t.Parallel()
	p := policyOf(MethodRoundRobin, nil)
	m := mem(users("ann:MakeClaimDecisions", "bob:MakeClaimDecisions", "cat:MakeClaimDecisions"), nil)
	var picks []string
	for range 6 {
		picks = append(picks, decide(t, p, m, StageCapture).Assignee)
	}
	require.Equal(t, []string{"ann", "bob", "cat", "ann", "bob", "cat"}, picks)
}

func TestLeastLoaded(t *testing.T) {
	t.Parallel()
	p := policyOf(MethodLeastLoaded, nil)
	dir := users("ann:MakeClaimDecisions", "bob:MakeClaimDecisions", "cat:MakeClaimDecisions")
	m := mem(dir, nil)
	m.OpenStage("ann", StageReview)
	m.OpenStage("ann", StageReview)
	m.OpenStage("bob", StageReview)

	d := decide(t, p, m, StageCapture)
	require.Equal(t, "cat", d.Assignee)
	require.Equal(t, MethodLeastLoaded, d.Method)
	require.Equal(t, "least loaded: cat has the fewest open stages (0) of the 3 eligible", d.Reason)
	// bob and cat now hold one each: the tie goes by turn order (cat has had a
	// turn here, bob none), and so on: equal people alternate.
	var next []string
	for range 4 {
		next = append(next, decide(t, p, m, StageCapture).Assignee)
	}
	require.Equal(t, []string{"bob", "cat", "ann", "bob"}, next)

	// Limits: among equals the most spare capacity goes first, and a full person
	// is passed over.
	m2 := mem(users("ann:MakeClaimDecisions", "bob:MakeClaimDecisions", "cat:MakeClaimDecisions"), nil)
	m2.Users[0].Capacity = Capacity{Total: 1}
	m2.Users[1].Capacity = Capacity{Total: 5}
	m2.OpenStage("ann", StageReview)
	m2.OpenStage("bob", StageReview)
	m2.OpenStage("cat", StageReview)
	d = decide(t, p, m2, StageCapture)
	require.Equal(t, "cat", d.Assignee, "no limit is the most spare")
	require.Equal(t, "bob", decide(t, p, m2, StageCapture).Assignee, "ann is full; bob has 4 spare")
	d = decide(t, p, m2, StageCapture)
	require.Equal(t, "cat", d.Assignee, "ann, full, is out of turn")
	require.Contains(t, d.Reason, "passed over ann (at capacity: 1 of 1 open stages)")
}

func TestNamedPicksPassOverTheAway(t *testing.T) {
	t.Parallel()
	dir := users("ann:MakeClaimDecisions", "bob:MakeClaimDecisions", "dee:")
	dir[0].Status = Away
	teams := []Team{{ID: "care", Members: []string{"ann", "bob"}}}

	static := policyOf(MethodManual, map[Stage]StageConfig{StageCapture: {Assignee: "ann"}})
	d := decide(t, static, mem(dir, teams), StageCapture)
	require.Empty(t, d.Assignee)
	require.Equal(t, "the stage's fixed assignee names ann, who is passed over (away); left in queue default", d.Reason)

	care := policyOf(MethodCareTeamPrimary, nil)
	d, _, err := Decide(context.Background(), DecideInput{Policy: care, Stage: StageCapture, People: mem(dir, teams),
		Claim: Claim{ID: "c", Data: map[string]string{ClaimKeyCareTeam: "care"}}})
	require.NoError(t, err)
	require.Equal(t, "bob", d.Assignee)
	require.Equal(t, "care team primary: bob is first on care team care among the eligible; passed over ann (away)", d.Reason)

	// The default assignee is automatic too: away, the stage stays queued.
	dir[2].Status = Offline
	def := policyOf(MethodManual, map[Stage]StageConfig{StageCapture: {DefaultAlways: true, Rules: StageRules{DefaultAssignee: "dee"}}})
	d = decide(t, def, mem(dir, teams), StageCapture)
	require.Empty(t, d.Assignee)
	require.Contains(t, d.Reason, "default assignee dee is passed over (offline), so it is left unassigned in queue default")
}

func TestFollowDelegates(t *testing.T) {
	t.Parallel()
	people := map[string]Workload{
		"bob": {},                              // available
		"cat": {Status: Away, Delegate: "dan"}, // away, delegates on
		"dan": {Status: Away, Delegate: "ann"}, // back to ann: a loop
		"eve": {Capacity: Capacity{Total: 1}, Open: Open{Total: 1}},
		"fay": {Status: Away}, // away, no delegate
		"gil": {},             // not eligible
	}
	look := func(id string) (bool, Workload, error) { return id != "gil", people[id], nil }
	for _, tc := range []struct {
		first, to, says string
	}{
		{"bob", "bob", "delegated ann → bob"},
		{"cat", "", "delegate chain ann → cat → dan → ann loops"},
		{"eve", "", "delegate eve is at capacity: 1 of 1 open stages"},
		{"fay", "", "delegate fay is away"},
		{"gil", "", "delegate gil is not eligible"},
	} {
		d, err := FollowDelegates("ann", tc.first, StageCapture, look)
		require.NoError(t, err)
		require.Equal(t, tc.to, d.To, tc.first)
		require.Equal(t, tc.says, d.String(), tc.first)
	}
	// A long chain stops at MaxDelegation.
	chain := func(id string) (bool, Workload, error) { return true, Workload{Status: Away, Delegate: id + "x"}, nil }
	d, err := FollowDelegates("ann", "b", StageCapture, chain)
	require.NoError(t, err)
	require.Empty(t, d.To)
	require.Contains(t, d.Why, "is longer than 5")
}

func TestAbsentPeoplesTurnsGoToTheirDelegate(t *testing.T) {
	t.Parallel()
	p := policyOf(MethodRoundRobin, nil)
	dir := users("ann:MakeClaimDecisions", "bob:MakeClaimDecisions", "cat:MakeClaimDecisions")
	dir[0].Status, dir[0].Delegate = Away, "cat"
	m := mem(dir, nil)
	d := decide(t, p, m, StageCapture)
	require.Equal(t, "cat", d.Assignee)
	require.Equal(t, "round robin: ann has had the fewest turns (0) of the 3 eligible; ann is away: delegated ann → cat", d.Reason)
	require.Equal(t, "bob", decide(t, p, m, StageCapture).Assignee, "ann's turn was taken; bob is next")
	require.Equal(t, "cat", decide(t, p, m, StageCapture).Assignee)
}

// What a decision carries into the claim's history stays small however many
// people it passes over: five named, and at most OutOfTurnCounted of those
// out of turn counted, at 100,000 people.
func TestPassedOverStaysSmallAtScale(t *testing.T) {
	t.Parallel()
	p := policyOf(MethodRoundRobin, nil)
	const n = 100000
	dir := make([]User, n)
	for i := range dir {
		dir[i] = User{ID: fmt.Sprintf("u%06d", i), Active: true, Permissions: []string{"MakeClaimDecisions"}, Status: Away}
	}
	dir[n-1].Status = Available
	d := decide(t, p, mem(dir, nil), StageCapture)
	require.Equal(t, "u099999", d.Assignee)
	require.Contains(t, d.Reason, "passed over u000000 (away), u000001 (away), u000002 (away), u000003 (away), u000004 (away), … (more than 20 in all)")
	dir[n-1].Status = Away
	d = decide(t, p, mem(dir, nil), StageCapture)
	require.Empty(t, d.Assignee)
	require.Equal(t, "round_robin: everyone eligible was passed over: u000000 (away), u000001 (away), u000002 (away), u000003 (away), "+
		"u000004 (away), … (more than 20 in all); left in queue default", d.Reason)
	require.True(t, d.Backlog, "everyone away: it waits for someone to come back")
	body, err := json.Marshal(d)
	require.NoError(t, err)
	require.Less(t, len(body), 1024, "the decision is %d bytes", len(body))
}
