package policy

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func users(specs ...string) []User {
	// spec: "id:perm1,perm2" ; a leading "!" marks the user inactive.
	var out []User
	for _, s := range specs {
		active := true
		if s[0] == '!' {
			active, s = false, s[1:]
		}
		var id, perms string
		for i := range s {
			if s[i] == ':' {
				id, perms = s[:i], s[i+1:]
				break
			}
		}
		u := User{ID: id, Name: id, Email: id + "@example.com", Role: "Claims assessor", Active: active}
		for _, p := range splitComma(perms) {
			u.Permissions = append(u.Permissions, p)
		}
		out = append(out, u)
	}
	return out
}

func splitComma(s string) []string {
	var out []string
	start := 0
	for i := 0; i <= len(s); i++ {
		if i == len(s) || s[i] == ',' {
			if i > start {
				out = append(out, s[start:i])
			}
			start = i + 1
		}
	}
	return out
}

func TestEligible(t *testing.T) {
	t.Parallel()
	dir := users("ann:MakeClaimDecisions", "!bob:MakeClaimDecisions", "cat:AcknowledgeClaimDecisions",
		"dan:AcknowledgeClaimDecisions,AcknowledgeClaimApproval")
	cases := []struct {
		stage    Stage
		outcome  Outcome
		eligible []string
		excluded map[string]string
	}{
		{StageCapture, "", []string{"ann"}, map[string]string{"bob": "inactive", "cat": "missing MakeClaimDecisions", "dan": "missing MakeClaimDecisions"}},
		{StageReview, "", []string{"ann"}, nil},
		{StageAcknowledge, OutcomeApproval, []string{"dan"}, map[string]string{"cat": "missing AcknowledgeClaimApproval", "ann": "missing AcknowledgeClaimDecisions, AcknowledgeClaimApproval"}},
		{StageAcknowledge, OutcomeGoodwill, nil, map[string]string{"dan": "missing AcknowledgeClaimGoodwill"}},
	}
	for _, tc := range cases {
		t.Run(fmt.Sprintf("%s/%s", tc.stage, tc.outcome), func(t *testing.T) {
			el, ex := eligible(dir, DefaultPolicy().Required(tc.stage, tc.outcome))
			var ids []string
			for _, u := range el {
				ids = append(ids, u.ID)
			}
			require.Equal(t, tc.eligible, ids)
			reasons := map[string]string{}
			for _, e := range ex {
				reasons[e.UserID] = e.Reason
			}
			for id, want := range tc.excluded {
				require.Equal(t, want, reasons[id], id)
			}
		})
	}
}

func TestRoundRobinExactlyEven(t *testing.T) {
	t.Parallel()
	dir := users("a:P", "b:P", "c:P", "d:P", "e:P", "f:P", "g:P")
	for _, n := range []int{1, 6, 7, 10, 100, 1000} {
		counts := map[string]int{}
		var s turns
		for i := 0; i < n; i++ {
			pick, ok := s.pick(dir, false)
			require.True(t, ok)
			counts[pick.ID]++
			require.LessOrEqual(t, spread(counts, dir), 1, "after %d assignments: %v", i+1, counts)
		}
	}
}

func spread(counts map[string]int, dir []User) int {
	lo, hi := int(^uint(0)>>1), 0
	for _, u := range dir {
		lo, hi = min(lo, counts[u.ID]), max(hi, counts[u.ID])
	}
	return hi - lo
}

func TestRoundRobinMembershipChangeMidRound(t *testing.T) {
	t.Parallel()
	abc := users("a:P", "b:P", "c:P")
	var s turns
	var picks []string
	pick := func(dir []User) {
		u, ok := s.pick(dir, false)
		require.True(t, ok)
		picks = append(picks, u.ID)
	}
	pick(abc) // a
	// d joins mid-round: the round goes on, d gets a turn in it, nobody gets two.
	abcd := append(users("d:P"), abc...)
	pick(abcd)
	pick(abcd)
	pick(abcd)
	require.Equal(t, []string{"a", "d", "b", "c"}, picks)
	// b leaves; the next round serves the remaining members once each.
	acd := users("d:P", "a:P", "c:P")
	pick(acd)
	pick(acd)
	pick(acd)
	require.Equal(t, []string{"d", "a", "c"}, picks[4:])
}

// Acknowledge's eligible sets overlap by review outcome; people share one count
// per stage, so each person's total is even, not just each outcome's.
func TestTurnsEvenPerPersonAcrossOverlappingSets(t *testing.T) {
	t.Parallel()
	all := users("p1:A", "p2:A", "p3:A")
	two := all[:2]
	var s turns
	counts := map[string]int{}
	for i := 0; i < 400; i++ {
		dir := two // goodwill, repudiation: p3 lacks them
		if i%4 == 0 || i%4 == 3 {
			dir = all // approval, no_claim
		}
		u, ok := s.pick(dir, false)
		require.True(t, ok)
		counts[u.ID]++
	}
	require.LessOrEqual(t, spread(counts, all), 2, "%v", counts)
}

func TestRoundRobinNobodyEligible(t *testing.T) {
	t.Parallel()
	var s turns
	_, ok := s.pick(nil, false)
	require.False(t, ok)
}

func TestTimestampModulusIsUneven(t *testing.T) {
	t.Parallel()
	// Claims arriving on a 7 ms beat all land on one of 7 users: why Baton does not
	// use the source's method.
	dir := users("a:P", "b:P", "c:P", "d:P", "e:P", "f:P", "g:P")
	counts := map[string]int{}
	for i := int64(0); i < 70; i++ {
		u, _ := TimestampModulus(dir, 1_700_000_000_000+i*7)
		counts[u.ID]++
	}
	require.Equal(t, 70, spread(counts, dir))
}

func TestDecide(t *testing.T) {
	t.Parallel()
	dir := users("ann:MakeClaimDecisions,Admin", "bob:MakeClaimDecisions", "cat:AcknowledgeClaimDecisions")
	rr := &Policy{Version: "v1", AssignmentsEnabled: true, Method: MethodRoundRobin}

	people := mem(dir, nil)
	d, ex, err := Decide(context.Background(), DecideInput{Policy: rr, Stage: StageCapture, People: people})
	require.NoError(t, err)
	require.Equal(t, "ann", d.Assignee)
	require.Equal(t, MethodRoundRobin, d.Method)
	require.Equal(t, "v1", d.PolicyVersion)
	require.Equal(t, 2, d.Eligible)
	require.Equal(t, 1, d.Excluded)
	require.Len(t, d.Sample, 2)
	people.Record(*ex.Turn)
	d, _, err = Decide(context.Background(), DecideInput{Policy: rr, Stage: StageCapture, People: people})
	require.NoError(t, err)
	require.Equal(t, "bob", d.Assignee)

	manual := &Policy{Version: "v1", AssignmentsEnabled: true, Method: MethodManual}
	d, ex, err = Decide(context.Background(), DecideInput{Policy: manual, Stage: StageReview, People: mem(dir, nil)})
	require.NoError(t, err)
	require.Empty(t, d.Assignee)
	require.Equal(t, 2, d.Eligible)
	require.Nil(t, ex.Turn, "manual takes no turn")

	off := &Policy{Version: "v1", Method: MethodRoundRobin}
	d, _, err = Decide(context.Background(), DecideInput{Policy: off, Stage: StageReview, People: mem(dir, nil)})
	require.NoError(t, err)
	require.Equal(t, MethodNone, d.Method)
	require.Empty(t, d.Assignee)
	require.False(t, d.AssignmentsEnabled)

	d, _, err = Decide(context.Background(), DecideInput{Policy: rr, Stage: StageAcknowledge, Outcome: OutcomeApproval, People: mem(dir, nil)})
	require.NoError(t, err)
	require.Empty(t, d.Assignee, "nobody holds AcknowledgeClaimApproval")
	require.Contains(t, d.Reason, "nobody holds")

	_, _, err = Decide(context.Background(), DecideInput{Policy: rr, Stage: StageFinalise, People: mem(dir, nil)})
	require.ErrorContains(t, err, "terminal")
}

// listed is a module directory over a slice, for RolesByStage.
type listed []User

func (l listed) UsersPage(_ context.Context, q UserQuery, after int64, limit int) (UserPage, error) {
	var page UserPage
	for i, u := range l {
		if int64(i+1) <= after || !u.Active || (len(q.Roles) > 0 && !slices.Contains(q.Roles, u.Role)) {
			continue
		}
		if len(page.Users) == limit {
			return page, nil
		}
		page.Users, page.Next = append(page.Users, u), int64(i+1)
	}
	page.Next = 0
	return page, nil
}

func (l listed) UsersByID(_ context.Context, ids []string) ([]User, error) {
	var out []User
	for _, u := range l {
		if slices.Contains(ids, u.ID) {
			out = append(out, u)
		}
	}
	return out, nil
}

func TestRolesByStageAndDecideFromModule(t *testing.T) {
	t.Parallel()
	dir := []User{
		{ID: "ann", Role: "Admin", Active: true},
		{ID: "bob", Role: "Claims assessor", Active: true},
		{ID: "cat", Role: "Call center agent", Active: true},
		{ID: "dan", Role: "Claims supervisor", Active: false},
	}
	m := RolesByStage{Users: listed(dir)}
	ctx := context.Background()
	p := &Policy{Version: "v1", AssignmentsEnabled: true, Method: MethodProductModule}

	opts, err := m.GetClaimAssignmentOptions(ctx, p, Claim{ID: "c1"}, nil, StageReview)
	require.NoError(t, err)
	require.Equal(t, &UserQuery{Roles: DefaultRolesByStage[StageReview], Description: "Available for review"}, opts.Pool,
		"a pool of the stage's roles, not a list of the directory")
	require.Equal(t, "ann", opts.AssignedTo.UserID, "system-initiated: the first available user")
	d, ex, err := DecideFromModule(ctx, p, StageReview, mem(dir, nil), opts)
	require.NoError(t, err)
	require.Equal(t, 2, d.Eligible, "ann, bob; dan is inactive")
	require.Equal(t, []string{"ann", "bob"}, d.Sample)
	require.Equal(t, DefaultRolesByStage[StageReview], ex.Requirement.Roles)
	require.Equal(t, "product module: picked ann from 2 users (role Claims assessor or Admin or Claims supervisor)", d.Reason)

	opts, err = m.GetClaimAssignmentOptions(ctx, p, Claim{ID: "c1"}, &dir[1], StageReview)
	require.NoError(t, err)
	require.Equal(t, "bob", opts.AssignedTo.UserID, "the current user when available")

	d, _, err = DecideFromModule(ctx, p, StageReview, mem(dir, nil), opts)
	require.NoError(t, err)
	require.Equal(t, "bob", d.Assignee)
	require.Equal(t, MethodProductModule, d.Method)

	pool := &UserQuery{Roles: []string{"Admin"}}
	_, _, err = DecideFromModule(ctx, p, StageReview, mem(dir, nil), AssignmentOptions{Pool: pool, AssignedTo: &Candidate{UserID: "bob"}})
	require.ErrorContains(t, err, `assigned_to "bob" is not in its pool (role Admin): role "Claims assessor" is not one of Admin`)
	_, _, err = DecideFromModule(ctx, p, StageReview, mem(dir, nil), AssignmentOptions{Pool: pool, Users: []Candidate{{UserID: "ann"}}})
	require.ErrorContains(t, err, "lists users and a pool")
	many := make([]Candidate, MaxListed+1)
	_, _, err = DecideFromModule(ctx, p, StageReview, mem(dir, nil), AssignmentOptions{Users: many})
	require.ErrorContains(t, err, "1001 users listed, at most 1000: answer with a pool")

	_, _, err = DecideFromModule(ctx, p, StageReview, mem(dir, nil), AssignmentOptions{Users: []Candidate{{UserID: "zed"}}})
	require.ErrorContains(t, err, `users[0]: unknown user "zed"`)
	_, _, err = DecideFromModule(ctx, p, StageReview, mem(dir, nil), AssignmentOptions{Users: []Candidate{{UserID: "dan"}}})
	require.ErrorContains(t, err, `user "dan" is inactive`)
	_, _, err = DecideFromModule(ctx, p, StageReview, mem(dir, nil), AssignmentOptions{Users: []Candidate{{UserID: "ann"}}, AssignedTo: &Candidate{UserID: "bob"}})
	require.ErrorContains(t, err, `assigned_to "bob" is not among its users`)
}

func TestParseStageAndOutcome(t *testing.T) {
	t.Parallel()
	s, err := ParseStage(" Review ")
	require.NoError(t, err)
	require.Equal(t, StageReview, s)
	_, err = ParseStage("acknowlege")
	require.EqualError(t, err, `unknown stage "acknowlege": want one of capture, review, acknowledge, finalise (did you mean "acknowledge"?)`)
	_, err = ParseOutcome("approved")
	require.ErrorContains(t, err, `did you mean "approval"`)
	require.Equal(t, StageFinalise, StageAcknowledge.Next())
	require.Equal(t, Stage(""), StageFinalise.Next())
}

func TestDefaultAssigneeWhenNobodyEligible(t *testing.T) {
	t.Parallel()
	dir := users("ann:AcknowledgeClaimDecisions", "gus:Admin", "!old:MakeClaimDecisions")
	p := policyOf(MethodRoundRobin, map[Stage]StageConfig{
		StageCapture: {Rules: StageRules{Queue: "intake", ClaimWindow: 2 * time.Hour, DefaultAssignee: "gus", DueIn: 24 * time.Hour, EscalateTo: "gus"}},
		StageReview:  {Rules: StageRules{DefaultAssignee: "old"}},
	})
	p.RequireReassignComment = true
	d, _, err := Decide(context.Background(), DecideInput{Policy: p, Stage: StageCapture, People: mem(dir, nil)})
	require.NoError(t, err)
	require.Equal(t, MethodDefaultAssignee, d.Method)
	require.Equal(t, "gus", d.Assignee)
	require.Equal(t, "nobody holds MakeClaimDecisions; default assignee gus", d.Reason)
	require.Equal(t, StageRules{Queue: "intake", ClaimWindow: 2 * time.Hour, DefaultAssignee: "gus",
		DueIn: 24 * time.Hour, EscalateTo: "gus", RequireReassignComment: true}, d.Rules)

	d, _, err = Decide(context.Background(), DecideInput{Policy: p, Stage: StageReview, People: mem(dir, nil)})
	require.NoError(t, err)
	require.Empty(t, d.Assignee)
	require.Contains(t, d.Reason, `default assignee "old" is not an active user, so it is left unassigned in queue default`)
}

func TestDistributionDecision(t *testing.T) {
	t.Parallel()
	dir := users("ann:MakeClaimDecisions", "bob:MakeClaimDecisions", "cat:MakeClaimDecisions", "gus:MakeClaimDecisions")
	teams := []Team{{ID: "seniors", Members: []string{"cat", "ann"}}}
	p := policyOf(MethodDistribution, nil)
	p.Rules = []Rule{
		{ID: "vip", When: []Condition{{Attribute: "customer_group", Operator: OpIn, Values: []string{"VIP"}}},
			Then: []Action{{Kind: ActionAssignTeam, Team: "seniors"}, {Kind: ActionSetPriority, Priority: PriorityHigh}}},
		{ID: "low", When: []Condition{{Attribute: "customer_group", Operator: OpIn, Values: []string{"Basic"}}},
			Then: []Action{{Kind: ActionSetPriority, Priority: PriorityLow}}},
	}
	p.Compile()
	vip := Claim{ID: "c", Data: map[string]string{"customer_group": "vip"}}
	in := DecideInput{Policy: p, Stage: StageCapture, People: mem(dir, teams), Claim: vip}
	var picks []string
	people := in.People.(*MemDirectory)
	for i := 0; i < 4; i++ {
		d, ex, err := Decide(context.Background(), in)
		require.NoError(t, err)
		require.Equal(t, "vip", d.MatchedRule)
		require.Equal(t, PriorityHigh, d.Priority)
		picks = append(picks, d.Assignee)
		people.Record(*ex.Turn)
		require.Equal(t, "team/default/seniors", ex.Turn.Scope)
	}
	require.Equal(t, []string{"cat", "ann", "cat", "ann"}, picks, "round robin in the order members were added")

	d, ex, err := Decide(context.Background(), DecideInput{Policy: p, Stage: StageCapture, People: mem(dir, teams), Claim: Claim{ID: "c", Data: map[string]string{"customer_group": "Basic"}}})
	require.NoError(t, err)
	require.Equal(t, "low", d.MatchedRule)
	require.Equal(t, PriorityLow, d.Priority)
	require.Empty(t, d.Assignee)
	trace, drift := RenderTrace(p, *ex.RuleRecord)
	require.False(t, drift.Drifted)
	require.Equal(t, []RuleTrace{{RuleID: "vip", Why: `customer_group IN VIP: "Basic" does not match`}, {RuleID: "low", Matched: true, Why: "all conditions hold"}}, Written(trace))
	require.Equal(t, 2, d.RulesTried)

	d, _, err = Decide(context.Background(), DecideInput{Policy: p, Stage: StageCapture, People: mem(dir, teams), Claim: Claim{ID: "c"}})
	require.NoError(t, err)
	require.Empty(t, d.MatchedRule)
	require.Contains(t, d.Reason, "no distribution rule matched; left in queue default")
}

func TestFourEyes(t *testing.T) {
	t.Parallel()
	p := policyOf(MethodRoundRobin, map[Stage]StageConfig{StageReview: {ExcludeActorsOf: []Stage{StageCapture},
		Fallback: FallbackDefault, Rules: StageRules{DefaultAssignee: "gus"}}})
	m := mem(users("ann:MakeClaimDecisions", "bob:MakeClaimDecisions", "gus:"), nil)
	steps := map[Stage]StepOutput{StageCapture: {Assignee: "ann", CompletedBy: "ann"}}
	review := func() (Decision, Explanation) {
		d, ex, err := Decide(context.Background(), DecideInput{Policy: p, Stage: StageReview, People: m, Claim: Claim{ID: "c"}, Steps: steps})
		require.NoError(t, err)
		return d, ex
	}
	d, ex := review()
	require.Equal(t, "bob", d.Assignee, "ann captured, so bob reviews though it is ann's turn")
	require.Equal(t, []string{"ann"}, d.FourEyes)
	require.Contains(t, d.Reason, "passed over ann (four eyes: acted on capture of this claim)")
	m.Record(*ex.Turn)

	// When only the excluded remain, the stage goes to its default assignee and says why.
	steps[StageCapture] = StepOutput{Assignee: "ann", CompletedBy: "bob"}
	d, _ = review()
	require.Equal(t, "gus", d.Assignee)
	require.Equal(t, MethodDefaultAssignee, d.Method)
	require.Contains(t, d.Reason, "everyone eligible was passed over: ")
	require.Contains(t, d.Reason, "four eyes: acted on capture of this claim")
	require.Equal(t, []string{"ann", "bob"}, d.FourEyes)

	require.Equal(t, []Stage{StageCapture}, d.Rules.ExcludeActorsOf, "the decision names the stages it excludes the actors of")
	require.Nil(t, RefuseFourEyes("gus", StageReview, "c", d.FourEyes, d.Rules.ExcludeActorsOf))
	r := RefuseFourEyes("ann", StageReview, "c", d.FourEyes, d.Rules.ExcludeActorsOf)
	require.NotNil(t, r)
	require.Equal(t, `"ann" may not take review of claim c: four eyes: they took or completed its capture, and review excludes whoever did (excludeActorsOf)`, r.Msg)
	r = RefuseFourEyes("ann", StageReview, "c", d.FourEyes, nil) // decided before decisions named them
	require.Equal(t, `"ann" may not take review of claim c: four eyes: they acted on an earlier stage of it that review excludes`, r.Msg)
}
