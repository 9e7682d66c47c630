package policy

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
)

// Diff lists what changed from old to new, one line each, in a stable order:
// settings, then stages, then rules by id (added, removed, changed, moved).
// Reordering rules shows as moves: rule ids never change.
func Diff(old, new *Policy) []string {
	var out []string
	field := func(name string, a, b any) {
		if fmt.Sprint(a) != fmt.Sprint(b) {
			out = append(out, fmt.Sprintf("~ %s: %v → %v", name, a, b))
		}
	}
	field("claims.enableClaimAssignments", old.AssignmentsEnabled, new.AssignmentsEnabled)
	field("claims.claimAssignmentMethod", old.Method, new.Method)
	field("claims.requireReassignComment", old.RequireReassignComment, new.RequireReassignComment)
	field("claims.maxAssigneeChanges", old.MaxAssigneeChanges, new.MaxAssigneeChanges)
	for _, s := range AssignableStages {
		a, b := flatten(old.Stages[s]), flatten(new.Stages[s])
		keys := map[string]bool{}
		for k := range a {
			keys[k] = true
		}
		for k := range b {
			keys[k] = true
		}
		names := make([]string, 0, len(keys))
		for k := range keys {
			names = append(names, k)
		}
		slices.Sort(names)
		for _, k := range names {
			if a[k] != b[k] {
				out = append(out, fmt.Sprintf("~ claims.stages.%s.%s: %s → %s", s, k, orNone(a[k]), orNone(b[k])))
			}
		}
	}
	return append(out, diffRules(old.Rules, new.Rules)...)
}

func diffRules(old, new []Rule) []string {
	var out []string
	pos := func(rules []Rule, id string) int {
		return slices.IndexFunc(rules, func(r Rule) bool { return r.ID == id })
	}
	for i, r := range new {
		j := pos(old, r.ID)
		switch {
		case j < 0:
			out = append(out, fmt.Sprintf("+ rule %s at position %d: %s", r.ID, i+1, DescribeRule(r)))
		default:
			if DescribeRule(old[j]) != DescribeRule(r) || old[j].Description != r.Description {
				out = append(out, fmt.Sprintf("~ rule %s: %s → %s", r.ID, DescribeRule(old[j]), DescribeRule(r)))
			}
			if j != i {
				out = append(out, fmt.Sprintf("↕ rule %s: position %d → %d", r.ID, j+1, i+1))
			}
		}
	}
	for _, r := range old {
		if pos(new, r.ID) < 0 {
			out = append(out, fmt.Sprintf("- rule %s: %s", r.ID, DescribeRule(r)))
		}
	}
	return out
}

// DescribeRule renders a rule on one line: "when A IN x, y and B CONTAINS z then
// assign_team seniors, set_priority High".
func DescribeRule(r Rule) string {
	var when, then []string
	for _, c := range r.When {
		when = append(when, fmt.Sprintf("%s %s %s", c.Attribute, c.Operator, strings.Join(c.Values, "|")))
	}
	for _, a := range r.Then {
		then = append(then, strings.TrimSpace(fmt.Sprintf("%s %s%s%s", a.Kind, a.Team, a.User, a.Priority)))
	}
	w := "always"
	if len(when) > 0 {
		w = "when " + strings.Join(when, " and ")
	}
	return w + " then " + strings.Join(then, ", ")
}

// flatten renders a stage's settings as key → JSON value, leaving out empty ones.
func flatten(sc StageConfig) map[string]string {
	out := map[string]string{}
	put := func(k string, v any) {
		b, _ := json.Marshal(v)
		if s := string(b); s != `""` && s != "null" && s != "false" && s != "0" && s != "{}" && s != "[]" {
			out[k] = s
		}
	}
	put("method", sc.Method)
	put("permissions", sc.Permissions)
	put("outcomePermissions", sc.OutcomePermissions)
	put("assignee", sc.Assignee)
	if sc.AssigneeExpression != nil {
		put("assigneeExpression", sc.AssigneeExpression.Source)
	}
	put("fallback", sc.Fallback)
	put("eligibility", sc.Eligibility)
	put("defaultAlways", sc.DefaultAlways)
	put("queue", sc.Rules.Queue)
	put("claimWindow", sc.Rules.ClaimWindow.String())
	put("defaultAssignee", sc.Rules.DefaultAssignee)
	put("dueIn", sc.Rules.DueIn.String())
	put("escalateTo", sc.Rules.EscalateTo)
	put("escalationReassign", sc.Rules.EscalationReassign)
	if out["claimWindow"] == `"0s"` {
		delete(out, "claimWindow")
	}
	if out["dueIn"] == `"0s"` {
		delete(out, "dueIn")
	}
	return out
}

func orNone(s string) string {
	if s == "" {
		return "(none)"
	}
	return s
}
