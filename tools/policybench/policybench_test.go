package policybench

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/batonhq/baton/policy"
	"github.com/batonhq/baton/policy/yamlfile"
)

// TestHandWrittenMatchesRules keeps the baseline honest: HandWritten must pick the
// rule the engine picks, or the benchmark compares different work.
func TestHandWrittenMatchesRules(t *testing.T) {
	t.Parallel()
	rules := Rules(RuleCount)
	cases := map[string]struct {
		data map[string]string
		want int
	}{
		"match at the last rule":    {MatchingData(), RuleCount - 1},
		"match at the first rule":   {map[string]string{"customer_group": "group-0", "email_from_domain": "domain0.example"}, 0},
		"the second value (OR)":     {map[string]string{"customer_group": "alt-42", "email_from_domain": "x.domain42.example"}, 42},
		"case differs in both":      {map[string]string{"customer_group": "Alt-7", "email_from_domain": "MAIL.DOMAIN7.EXAMPLE"}, 7},
		"group without its domain":  {map[string]string{"customer_group": "group-3", "email_from_domain": "domain4.example"}, -1},
		"domain without its group":  {map[string]string{"customer_group": "group-5", "email_from_domain": "domain6.example"}, -1},
		"group is not a substring":  {map[string]string{"customer_group": "group-19x", "email_from_domain": "domain19.example"}, -1},
		"no group at all":           {map[string]string{"email_from_domain": "domain1.example"}, -1},
		"empty claim":               {map[string]string{}, -1},
		"past the last rule":        {map[string]string{"customer_group": "group-200", "email_from_domain": "domain200.example"}, -1},
		"group and domain of 1 win": {map[string]string{"customer_group": "GROUP-1", "email_from_domain": "domain1.example.domain10.example"}, 1},
		"not ASCII, still matches":  {map[string]string{"customer_group": "group-9", "email_from_domain": "ümlaut.domain9.example"}, 9},
		"longer than the buffer":    {map[string]string{"customer_group": "group-2", "email_from_domain": strings.Repeat("x", 70) + "domain2.example"}, 2},
	}
	cases["empty group"] = struct {
		data map[string]string
		want int
	}{map[string]string{"customer_group": "", "email_from_domain": "domain1.example"}, -1}
	cases["quotes in the values"] = struct {
		data map[string]string
		want int
	}{map[string]string{"customer_group": `group-"3"`, "email_from_domain": "a\\b\"c"}, -1}
	p, _ := DecisionPolicy(rules)
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			require.Equal(t, tc.want, HandWritten(tc.data))
			require.Equal(t, tc.want, ruleIndex(rules, policy.MatchRules(rules, tc.data)))
			require.Equal(t, tc.want, HandWrittenIndexed(tc.data))

			// The decision path by hand writes the engine's record, byte for byte.
			r, rec := p.RecordRules(tc.data)
			require.Equal(t, tc.want, ruleIndex(rules, r))
			record, err := rec.MarshalJSON()
			require.NoError(t, err)
			i, hand := HandWrittenDecision(tc.data)
			require.Equal(t, tc.want, i)
			require.Equal(t, string(record), string(hand))
			require.LessOrEqual(t, len(record), MaxRecordBytes)

			// The explanation by hand writes the trace the engine renders.
			trace, drift := policy.RenderTrace(p, rec)
			require.False(t, drift.Drifted, drift.Why)
			rendered, err := trace.MarshalJSON()
			require.NoError(t, err)
			require.Equal(t, string(rendered), string(HandWrittenTrace(tc.data)))
			onePass, drift := policy.RenderTraceJSON(p, rec)
			require.False(t, drift.Drifted, drift.Why)
			require.Equal(t, string(rendered), string(onePass))
		})
	}
}

func TestDecisionPolicyMatchesTheLastRule(t *testing.T) {
	t.Parallel()
	p, teams := DecisionPolicy(Rules(RuleCount))
	d, _, err := policy.Decide(context.Background(), policy.DecideInput{
		Policy: p, Stage: policy.StageCapture, People: &policy.MemDirectory{Users: Users(UserCount), Teams: teams},
		Claim: policy.Claim{ID: "c", Data: MatchingData()},
	})
	require.NoError(t, err)
	require.Equal(t, "r199", d.MatchedRule)
	require.Equal(t, "u9000", d.Assignee)
}

func ruleIndex(rules []policy.Rule, r *policy.Rule) int {
	for i := range rules {
		if &rules[i] == r {
			return i
		}
	}
	return -1
}

func TestOrganisationRoundTrips(t *testing.T) {
	t.Parallel()
	d := Organisation(25, 10)
	var buf bytes.Buffer
	require.NoError(t, WriteDirectory(&buf, d))
	back, err := yamlfile.ParseDirectory("org.yaml", buf.Bytes())
	require.NoError(t, err)
	require.Len(t, back.Users, 25)
	eligible := 0
	for i, u := range back.Users {
		require.Equal(t, d.Users[i].User, u.User)
		if u.Has(policy.PermMakeClaimDecisions) {
			eligible++
		}
	}
	require.Equal(t, 3, eligible, "o000000, o000010, o000020")
}
