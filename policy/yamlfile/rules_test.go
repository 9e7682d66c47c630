package yamlfile

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/batonhq/baton/policy"
)

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
	require.Equal(t, policy.OpIn, p.Rules[0].When[0].Operator)
	require.Equal(t, []string{"A"}, p.Rules[0].When[1].Values, "a bare value is a one-value list")
	require.Equal(t, policy.PriorityHigh, p.Rules[0].Then[1].Priority)
	require.Equal(t, "when customer_group IN VIP|Gold and customer_name NAME RANGE START A and customer_name NAME RANGE END M then assign_team seniors, set_priority High",
		policy.DescribeRule(p.Rules[0]))
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
	err = CheckReferences("p.yaml", p, []policy.User{{ID: "gus"}}, []policy.Team{{ID: "seniors"}})
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
		r, trace := policy.EvaluateRules(p.Rules, claim)
		require.NotNil(t, r, "r2 has no conditions: it always matches")
		require.Equal(t, r, policy.MatchRules(p.Rules, claim))
		require.True(t, trace[len(trace)-1].Matched)
		// The parser compiled the rules: the decision path picks the same rule
		// and its record renders the same trace.
		rr, rec := p.RecordRules(claim)
		require.Same(t, r, rr)
		b, err := json.Marshal(rec) // as the ledger keeps it
		require.NoError(t, err)
		var back policy.RuleRecord
		require.NoError(t, json.Unmarshal(b, &back), "%s", b)
		rendered, drift := policy.RenderTrace(p, back)
		require.False(t, drift.Drifted, drift.Why)
		require.Equal(t, policy.Written(trace), policy.Written(rendered))
	})
}
