package policy

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestEligibilityFilters(t *testing.T) {
	t.Parallel()
	dir := []User{
		{ID: "ann", Active: true, Tags: []string{"Motor", "home"}, Credentials: []string{"CA", "NY"}},
		{ID: "bob", Active: true, Tags: []string{"motor"}, Credentials: []string{"TX"}},
		{ID: "cat", Active: true},
	}
	teams := []Team{{ID: "ct-1", Members: []string{"bob", "ann"}}}
	claim := Claim{ID: "c", Data: map[string]string{"state": "ca", "care_team": "ct-1"}}
	cases := []struct {
		e    Eligibility
		c    Claim
		kept []string
		why  map[string]string
	}{
		{Eligibility{TagsOneOf: []string{"home", "travel"}}, claim, []string{"ann"}, map[string]string{"bob": "has none of the tags home, travel"}},
		{Eligibility{TagsOneOf: []string{"MOTOR"}}, claim, []string{"ann", "bob"}, nil},
		{Eligibility{TagsAllOf: []string{"motor", "home"}}, claim, []string{"ann"}, map[string]string{"bob": "lacks tag home (all of motor, home required)"}},
		{Eligibility{StateCredential: true}, claim, []string{"ann"}, map[string]string{"bob": "no credential for state ca"}},
		{Eligibility{StateCredential: true}, Claim{ID: "c"}, nil, map[string]string{"ann": "the claim has no state"}},
		{Eligibility{CareTeam: true}, claim, []string{"ann", "bob"}, map[string]string{"cat": "not on care team ct-1"}},
		{Eligibility{CareTeam: true}, Claim{ID: "c", Data: map[string]string{"care_team": "ct-9"}}, nil, map[string]string{"ann": "the claim's care team ct-9 is not in the directory"}},
		{Eligibility{TagsOneOf: []string{"motor"}, StateCredential: true, CareTeam: true}, claim, []string{"ann"}, nil},
		{Eligibility{}, claim, []string{"ann", "bob", "cat"}, nil},
	}
	for i, tc := range cases {
		kept, removed := filterWith(tc.e, dir, tc.c, teams)
		var ids []string
		for _, u := range kept {
			ids = append(ids, u.ID)
		}
		require.Equal(t, tc.kept, ids, "case %d", i)
		reasons := map[string]string{}
		for _, r := range removed {
			reasons[r.UserID] = r.Reason
		}
		for id, want := range tc.why {
			require.Contains(t, reasons[id], want, "case %d", i)
		}
	}
}

func TestWeightedRoundRobinExactSharesHighestFirst(t *testing.T) {
	t.Parallel()
	dir := []User{{ID: "low", TicketPriority: 1}, {ID: "high", TicketPriority: 5}, {ID: "mid", TicketPriority: 3}, {ID: "unset"}}
	var s turns
	var firstRound []string
	for round := 1; round <= 50; round++ {
		counts := map[string]int{}
		for i := 0; i < 10; i++ { // 5 + 3 + 1 + 1 per round
			u, ok := s.pick(dir, true)
			require.True(t, ok)
			counts[u.ID]++
			if round == 1 {
				firstRound = append(firstRound, u.ID)
			}
		}
		require.Equal(t, map[string]int{"high": 5, "mid": 3, "low": 1, "unset": 1}, counts, "round %d", round)
	}
	require.Equal(t, []string{"high", "high", "high", "high", "high", "mid", "mid", "mid", "low", "unset"}, firstRound,
		"the highest priority gets the first and the most")
}

func TestCareTeamSubmitterHostStaticDynamic(t *testing.T) {
	t.Parallel()
	dir := users("ann:MakeClaimDecisions", "bob:MakeClaimDecisions", "cat:AcknowledgeClaimDecisions", "gus:MakeClaimDecisions")
	teams := []Team{{ID: "ct-1", Members: []string{"cat", "bob", "ann"}}}
	claim := Claim{ID: "c1", Owner: "bob", Data: map[string]string{"care_team": "ct-1", "reviewer": "gus", "subject": "p-7"}}
	expr := func(s string) *Expression {
		e, err := ParseExpression(s)
		require.NoError(t, err)
		return e
	}
	cases := []struct {
		name, host string
		stage      StageConfig
		random     int
		steps      map[Stage]StepOutput
		method     Method
		assignee   string
		reason     string
	}{
		{"care team primary", "", StageConfig{Method: MethodCareTeamPrimary}, 0, nil, MethodCareTeamPrimary, "bob", "bob is first on care team ct-1 among the eligible"},
		{"care team random", "", StageConfig{Method: MethodCareTeamRandom}, 3, nil, MethodCareTeamRandom, "ann", "drawn from 2 eligible on care team ct-1"},
		{"form submitter", "", StageConfig{Method: MethodFormSubmitter}, 0, nil, MethodFormSubmitter, "bob", "the user who started the claim: bob"},
		{"recent host", "gus", StageConfig{Method: MethodRecentHost}, 0, nil, MethodRecentHost, "gus", "the most recent host"},
		{"no recent host", "", StageConfig{Method: MethodRecentHost}, 0, nil, MethodRecentHost, "", `nobody is recorded against subject "p-7"; left in queue default`},
		{"fixed assignee", "", StageConfig{Assignee: "ann"}, 0, nil, MethodStatic, "ann", "the stage's fixed assignee: ann"},
		{"fixed assignee not eligible", "", StageConfig{Assignee: "cat"}, 0, nil, MethodStatic, "", `names "cat", who is not eligible for capture (missing MakeClaimDecisions); left in queue default`},
		{"expression", "", StageConfig{AssigneeExpression: expr("{{claim.data.reviewer}}")}, 0, nil, MethodExpression, "gus", "{{claim.data.reviewer}}: gus"},
		{"expression to nothing, default", "", StageConfig{AssigneeExpression: expr("{{claim.data.missing}}"), Fallback: FallbackDefault,
			Rules: StageRules{DefaultAssignee: "gus"}}, 0, nil, MethodDefaultAssignee, "gus",
			"{{claim.data.missing}} resolved to nothing; default assignee gus"},
		{"expression over steps", "", StageConfig{AssigneeExpression: expr("{{steps.review.completed_by}}")}, 0,
			map[Stage]StepOutput{StageReview: {CompletedBy: "zed"}}, MethodExpression, "",
			`names "zed", who is not in the directory; left in queue default`},
		{"expression to the owner", "", StageConfig{AssigneeExpression: expr("{{claim.owner}}")}, 0, nil, MethodExpression, "bob", ""},
		{"queue", "", StageConfig{Method: MethodQueue, Rules: StageRules{Queue: "intake"}}, 0, nil, MethodQueue, "", "waiting in queue intake"},
		{"default always", "", StageConfig{Method: MethodRoundRobin, DefaultAlways: true, Rules: StageRules{DefaultAssignee: "cat"}}, 0, nil,
			MethodDefaultAssignee, "cat", "always goes to its default assignee"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			p := policyOf(MethodManual, map[Stage]StageConfig{StageCapture: tc.stage})
			d, _, err := Decide(context.Background(), DecideInput{Policy: p, Stage: StageCapture, People: mem(dir, teams),
				Claim: claim, RecentHost: tc.host, Random: tc.random, Steps: tc.steps})
			require.NoError(t, err)
			require.Equal(t, tc.method, d.Method)
			require.Equal(t, tc.assignee, d.Assignee)
			require.Contains(t, d.Reason, tc.reason)
		})
	}
}

func TestWhatIf(t *testing.T) {
	t.Parallel()
	dir := users("ann:MakeClaimDecisions", "bob:MakeClaimDecisions")
	p := &Policy{Name: "w", Version: "w@v1", AssignmentsEnabled: true, Method: MethodRoundRobin, Stages: map[Stage]StageConfig{}}
	res, err := WhatIf(p, dir, nil, []SampleClaim{
		{Claim: Claim{ID: "c1"}, Stages: []Stage{StageCapture}},
		{Claim: Claim{ID: "c2"}, Stages: []Stage{StageCapture, StageReview}},
	})
	require.NoError(t, err)
	require.Len(t, res, 3)
	require.Equal(t, "ann", res[0].Decision.Assignee)
	require.Equal(t, "bob", res[1].Decision.Assignee, "the in-memory cursor advances across samples")
	require.Equal(t, "ann", res[2].Decision.Assignee, "each stage has its own cursor")
}
