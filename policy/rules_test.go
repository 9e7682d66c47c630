package policy

import (
	"encoding/json"
	"fmt"
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

const rulesDoc = `
claims:
  enableClaimAssignments: true
  claimAssignmentMethod: distribution
  distribution:
    rules:
%s
`

func TestParseRules(t *testing.T) {
	t.Parallel()
	p, err := ParsePolicy("p.yaml", []byte(fmt.Sprintf(rulesDoc, `
      - id: vip
        description: VIP to seniors
        when:
          - {attribute: customer_group, operator: in, values: [VIP, Gold]}
          - {attribute: customer_name, operator: name_range_start, values: A}
          - {attribute: customer_name, operator: NAME RANGE END, values: [M]}
        then:
          - {action: assign_team, team: seniors}
          - {action: Set Priority, priority: high}
      - id: rest
        then: [{action: assign_user, user: gus}]`)))
	require.NoError(t, err)
	require.Len(t, p.Rules, 2)
	require.Equal(t, OpIn, p.Rules[0].When[0].Operator)
	require.Equal(t, []string{"A"}, p.Rules[0].When[1].Values, "a bare value is a one-value list")
	require.Equal(t, PriorityHigh, p.Rules[0].Then[1].Priority)
	require.Equal(t, "when customer_group IN VIP|Gold and customer_name NAME RANGE START A and customer_name NAME RANGE END M then assign_team seniors, set_priority High",
		DescribeRule(p.Rules[0]))
}

func TestParseRulesErrors(t *testing.T) {
	t.Parallel()
	cases := map[string]string{
		"      - {id: a, when: [{attribute: customer_name, operator: NAME RANGE START, values: [M]}], then: [{action: assign_user, user: x}]}":  "claims.distribution.rules[a].when: customer_name NAME RANGE START needs a NAME RANGE END",
		"      - {id: a, when: [{attribute: customer_name, operator: NAME RANGE END, values: [M]}], then: [{action: assign_user, user: x}]}":    "rules[a].when: customer_name NAME RANGE END needs a NAME RANGE START",
		"      - {id: a, when: [{attribute: customer_group, operator: CONTAINS, values: [V]}], then: [{action: assign_user, user: x}]}":         "rules[a].when[0].operator: CONTAINS does not fit customer_group: it takes IN",
		"      - {id: a, when: [{attribute: email_subject, operator: IN, values: [V]}], then: [{action: assign_user, user: x}]}":                "rules[a].when[0].operator: IN does not fit email_subject: it takes CONTAINS",
		"      - {id: a, when: [{attribute: customer_name, operator: NAME RANGE START, values: [Mo]}], then: [{action: assign_user, user: x}]}": "NAME RANGE START takes a single letter",
		"      - {id: a, then: [{action: assign_user, user: x}]}\n      - {id: a, then: [{action: assign_user, user: y}]}":                      `rules[a].id: rule id "a" already used at line 7`,
		"      - {id: a, then: [{action: assign_user}]}":                                          "rules[a].then[0].user: required by assign_user",
		"      - {id: a, then: [{action: set_priority, priority: Urgent}]}":                       `rules[a].then[0].priority: unknown priority "Urgent"`,
		"      - {id: a, then: [{action: reassign, user: x}]}":                                    `rules[a].then[0].action: unknown action "reassign"`,
		"      - {id: a, then: [{action: assign_user, user: x}, {action: assign_team, team: t}]}": "rules[a].then: more than one assign action",
		"      - {description: no id, then: [{action: assign_user, user: x}]}":                    "rules[0].id: required",
		"      - {id: a}": "rules[a].then: required",
		"      - {id: a, when: [{attribute: customer_name, operator: LIKE, values: [x]}], then: [{action: assign_user, user: x}]}":                                                                                `unknown operator "LIKE"`,
		"      - {id: a, when: [{attribute: customer_name, operator: NAME RANGE START, values: [T]}, {attribute: customer_name, operator: NAME RANGE END, values: [C]}], then: [{action: assign_user, user: x}]}": "customer_name name range T–C is empty",
	}
	for rules, want := range cases {
		p, err := ParsePolicy("p.yaml", []byte(fmt.Sprintf(rulesDoc, rules)))
		require.Nil(t, p, rules)
		require.ErrorContains(t, err, want, rules)
	}
	_, err := ParsePolicy("p.yaml", []byte("claims:\n  claimAssignmentMethod: distribution\n"))
	require.ErrorContains(t, err, "the distribution method needs at least one rule")
}

func TestCheckReferences(t *testing.T) {
	t.Parallel()
	p, err := ParsePolicy("p.yaml", []byte(fmt.Sprintf(rulesDoc, `
      - {id: a, then: [{action: assign_team, team: ghosts}]}
      - {id: b, then: [{action: assign_user, user: nobody}]}`)))
	require.NoError(t, err)
	err = CheckReferences("p.yaml", p, []User{{ID: "gus"}}, []Team{{ID: "seniors"}})
	require.ErrorContains(t, err, `p.yaml:8: claims.distribution.rules[a].then[0].team: unknown team "ghosts"`)
	require.ErrorContains(t, err, `p.yaml:9: claims.distribution.rules[b].then[0].user: unknown user "nobody"`)
}

func FuzzRules(f *testing.F) {
	f.Add("customer_name", "NAME RANGE START", "M", "assign_team", "t", "VIP", "Mason")
	f.Add("customer_group", "IN", "VIP", "assign_user", "u", "customer_group", "vip")
	f.Add("email_subject", "CONTAINS", "flood", "set_priority", "High", "email_subject", "FLOOD")
	f.Fuzz(func(t *testing.T, attr, op, value, action, target, key, data string) {
		line := func(s string) string { return strings.NewReplacer("\n", " ", "\"", "'", "\\", "/").Replace(s) }
		rules := fmt.Sprintf("      - id: r1\n        when:\n          - {attribute: %q, operator: %q, values: [%q]}\n        then:\n          - {action: %q, team: %q, user: %q, priority: %q}\n      - {id: r2, then: [{action: set_priority, priority: Low}]}",
			line(attr), line(op), line(value), line(action), line(target), line(target), line(target))
		p, err := ParsePolicy("f.yaml", []byte(fmt.Sprintf(rulesDoc, rules)))
		if err != nil {
			require.Nil(t, p)
			for _, e := range strings.Split(err.Error(), "\n") {
				require.True(t, strings.Contains(e, "claims.distribution.rules[r1]") || strings.Contains(e, "claims.distribution.rules[r2]"),
					"a rejection names the rule and field: %s", e)
			}
			return
		}
		claim := map[string]string{key: data, attr: data}
		r, trace := EvaluateRules(p.Rules, claim)
		require.NotNil(t, r, "r2 has no conditions: it always matches")
		require.Equal(t, r, MatchRules(p.Rules, claim))
		require.True(t, trace[len(trace)-1].Matched)
		// The parser compiled the rules: the decision path picks the same rule
		// and its record renders the same trace.
		rr, rec := p.RecordRules(claim)
		require.Same(t, r, rr)
		rendered, drift := RenderTrace(p, roundTrip(t, rec))
		require.False(t, drift.Drifted, drift.Why)
		require.Equal(t, Written(trace), Written(rendered))
	})
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
