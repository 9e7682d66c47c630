package policy

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

func cond(attr string, op Operator, values ...string) Condition {
	return Condition{Attribute: attr, Operator: op, Values: values}
}

func TestConditionOperators(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name  string
		c     Condition
		value string
		want  bool
	}{
		{"IN exact", cond("customer_group", OpIn, "VIP"), "VIP", true},
		{"IN ignores case", cond("email_from_domain", OpIn, "acme.com"), "ACME.com", true},
		{"IN any of the values (OR)", cond("customer_group", OpIn, "Gold", "VIP"), "vip", true},
		{"IN is not a substring", cond("customer_group", OpIn, "VIP"), "VIPs", false},
		{"CONTAINS substring", cond("email_subject", OpContains, "urgent"), "RE: URGENT claim", true},
		{"CONTAINS any value", cond("email_body", OpContains, "fire", "flood"), "basement flood", true},
		{"CONTAINS miss", cond("email_body", OpContains, "fire"), "theft", false},
		{"empty value never matches", cond("customer_group", OpIn, "VIP"), "", false},
		// NAME RANGE is inclusive at both ends, on the first letter, ignoring case.
		{"range start: same letter", cond("customer_name", OpNameRangeStart, "M"), "Mason Ltd", true},
		{"range start: after", cond("customer_name", OpNameRangeStart, "M"), "zeta", true},
		{"range start: before", cond("customer_name", OpNameRangeStart, "M"), "Lima", false},
		{"range end: same letter", cond("customer_name", OpNameRangeEnd, "R"), "rivers", true},
		{"range end: after", cond("customer_name", OpNameRangeEnd, "R"), "Sierra", false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			require.Equal(t, tc.want, holds(&tc.c, tc.value))
		})
	}
}

func TestEvaluateRulesFirstMatchAndDefault(t *testing.T) {
	t.Parallel()
	rules := []Rule{
		{ID: "m-to-r", When: []Condition{cond("customer_name", OpNameRangeStart, "m"), cond("customer_name", OpNameRangeEnd, "r")}},
		{ID: "vip-acme", When: []Condition{cond("customer_group", OpIn, "VIP"), cond("email_from_domain", OpContains, "acme")}},
		{ID: "default"},
	}
	cases := []struct {
		data  map[string]string
		match string
		why   []string
	}{
		{map[string]string{"customer_name": "Mason"}, "m-to-r", nil},
		{map[string]string{"customer_name": "Rivers"}, "m-to-r", nil}, // R is inside: inclusive
		{map[string]string{"customer_name": "Sierra", "customer_group": "vip", "email_from_domain": "mail.ACME.com"}, "vip-acme",
			[]string{`customer_name NAME RANGE END r: "Sierra" does not match`}},
		// AND across conditions: VIP alone is not enough.
		{map[string]string{"customer_name": "Sierra", "customer_group": "VIP"}, "default",
			[]string{`customer_name NAME RANGE END r: "Sierra" does not match`, "email_from_domain CONTAINS acme: the claim has no email_from_domain"}},
		{map[string]string{}, "default", []string{"the claim has no customer_name", "the claim has no customer_group"}},
	}
	for _, tc := range cases {
		r, trace := EvaluateRules(rules, tc.data)
		require.Equal(t, tc.match, r.ID, tc.data)
		require.Equal(t, r, MatchRules(rules, tc.data), "the traced and untraced paths agree")
		require.True(t, trace[len(trace)-1].Matched)
		for i, why := range tc.why {
			require.Contains(t, trace[i].Reason(), why)
		}
	}
	r, trace := EvaluateRules(rules[:2], map[string]string{})
	require.Nil(t, r, "no match leaves the claim unassigned")
	require.Len(t, trace, 2)
}

// The trace is written when read: its JSON, written in one pass for the
// ledger, reads back as the same reasons Reason gives, whatever the values.
func TestTraceJSONIsTheReasons(t *testing.T) {
	t.Parallel()
	rules := []Rule{
		{ID: `r"1`, When: []Condition{{Attribute: "customer_group", Operator: OpIn, Values: []string{"VIP", `Gold "A"`}}}},
		{ID: "r2", When: []Condition{{Attribute: "email_subject", Operator: OpContains, Values: []string{"<urgent> & \\ now"}}}},
		{ID: "r3", When: []Condition{{Attribute: "missing_attr", Operator: OpIn, Values: []string{"x"}}}},
		{ID: "r4", When: []Condition{{Attribute: "customer_group", Operator: OpIn, Values: []string{"Basic\tTab"}}}},
		{ID: "default"},
	}
	for _, data := range []map[string]string{
		{"customer_group": "Basic", "email_subject": "hello"},
		{"customer_group": "quote \" back\\slash \x01 ctrl é ünï", "email_subject": "\u2028line"},
		{"customer_group": "bad utf8 \xff\xfe", "email_subject": ""},
		{},
	} {
		_, trace := EvaluateRules(rules, data)
		b, err := json.Marshal(Trace(trace))
		require.NoError(t, err)
		require.True(t, json.Valid(b), "%s", b)
		var back []RuleTrace
		require.NoError(t, json.Unmarshal(b, &back))
		want := Written(trace)
		for i := range want {
			want[i].Why = strings.ToValidUTF8(want[i].Why, "\ufffd")
		}
		require.Equal(t, want, back, "%v", data)
		// Each entry on its own writes the same.
		one, err := json.Marshal(trace[0])
		require.NoError(t, err)
		var first RuleTrace
		require.NoError(t, json.Unmarshal(one, &first))
		require.Equal(t, want[0], first)
	}
}
