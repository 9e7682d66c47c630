package yamlfile

import (
	"fmt"
	"slices"
	"strings"
	"unicode/utf8"

	"gopkg.in/yaml.v3"

	"github.com/batonhq/baton/policy"
)

// distribution parses claims.distribution:
//
//	distribution:
//	  rules:
//	    - id: vip
//	      description: VIP customers go to the senior team, high priority
//	      when:
//	        - {attribute: customer_group, operator: IN, values: [VIP, Gold]}
//	      then:
//	        - {action: assign_team, team: seniors}
//	        - {action: set_priority, priority: High}
func (w *walker) distribution(n *yaml.Node, field string, p *policy.Policy) {
	w.mapping(n, field, map[string]func(*yaml.Node, string){
		"rules": func(v *yaml.Node, f string) {
			if !w.isSequence(v, f) {
				return
			}
			ids := map[string]int{}
			for i, row := range v.Content {
				r := w.rule(row, fmt.Sprintf("%s[%d]", f, i))
				if first, dup := ids[r.ID]; dup && r.ID != "" {
					w.fail(row, fmt.Sprintf("%s[%s].id", f, r.ID), fmt.Sprintf("rule id %q already used at line %d", r.ID, first))
				}
				ids[r.ID] = row.Line
				p.Rules = append(p.Rules, r)
			}
		},
	})
}

func (w *walker) rule(n *yaml.Node, field string) policy.Rule {
	r := policy.Rule{Line: n.Line}
	if n.Kind == yaml.MappingNode {
		// Name the rule by its id in every error, once the id is known.
		for i := 0; i+1 < len(n.Content); i += 2 {
			if n.Content[i].Value == "id" && n.Content[i+1].Value != "" {
				field = field[:strings.LastIndex(field, "[")] + "[" + n.Content[i+1].Value + "]"
			}
		}
	}
	w.mapping(n, field, map[string]func(*yaml.Node, string){
		"id":          func(v *yaml.Node, f string) { r.ID = w.ident(v, f) },
		"description": func(v *yaml.Node, f string) { r.Description = w.str(v, f) },
		"when": func(v *yaml.Node, f string) {
			w.rows(v, f, func(row *yaml.Node, rf string) { r.When = append(r.When, w.condition(row, rf)) })
		},
		"then": func(v *yaml.Node, f string) {
			w.rows(v, f, func(row *yaml.Node, rf string) { r.Then = append(r.Then, w.action(row, rf)) })
		},
	})
	if n.Kind != yaml.MappingNode {
		return r
	}
	if r.ID == "" && !w.hasKey(n, "id") {
		w.fail(n, field+".id", "required: rules keep their id when reordered")
	}
	if len(r.Then) == 0 {
		w.fail(n, field+".then", "required: at least one action")
	}
	w.checkRanges(n, field, r)
	counts := map[string]int{}
	for _, a := range r.Then {
		group := string(a.Kind)
		if a.Kind == policy.ActionAssignTeam || a.Kind == policy.ActionAssignUser {
			group = "assign"
		}
		if counts[group]++; counts[group] == 2 {
			w.fail(n, field+".then", fmt.Sprintf("more than one %s action: a rule assigns once and sets priority once", group))
		}
	}
	return r
}

// checkRanges enforces the source's rule that a NAME RANGE START needs a NAME RANGE
// END on the same attribute (and the other way round), start no later than end.
func (w *walker) checkRanges(n *yaml.Node, field string, r policy.Rule) {
	starts, ends := map[string]string{}, map[string]string{}
	for _, c := range r.When {
		switch c.Operator {
		case policy.OpNameRangeStart:
			starts[c.Attribute] = firstValue(c)
		case policy.OpNameRangeEnd:
			ends[c.Attribute] = firstValue(c)
		}
	}
	for attr, s := range starts {
		e, ok := ends[attr]
		if !ok {
			w.fail(n, field+".when", fmt.Sprintf("%s NAME RANGE START needs a NAME RANGE END on the same attribute", attr))
			continue
		}
		if policy.NameRangeEmpty(s, e) {
			w.fail(n, field+".when", fmt.Sprintf("%s name range %s–%s is empty: start after end", attr, s, e))
		}
	}
	for attr := range ends {
		if _, ok := starts[attr]; !ok {
			w.fail(n, field+".when", fmt.Sprintf("%s NAME RANGE END needs a NAME RANGE START on the same attribute", attr))
		}
	}
}

func firstValue(c policy.Condition) string {
	if len(c.Values) == 0 {
		return ""
	}
	return c.Values[0]
}

func (w *walker) condition(n *yaml.Node, field string) policy.Condition {
	c := policy.Condition{Line: n.Line}
	var opNode *yaml.Node
	w.mapping(n, field, map[string]func(*yaml.Node, string){
		"attribute": func(v *yaml.Node, f string) { c.Attribute = w.ident(v, f) },
		"operator": func(v *yaml.Node, f string) {
			opNode = v
			op, ok := policy.ParseOperator(w.str(v, f))
			if !ok {
				w.fail(v, f, fmt.Sprintf("unknown operator %q: want IN, CONTAINS, NAME RANGE START or NAME RANGE END", v.Value))
			}
			c.Operator = op
		},
		"values": func(v *yaml.Node, f string) {
			if v.Kind == yaml.ScalarNode { // a single value may be written bare
				c.Values = []string{w.str(v, f)}
				return
			}
			if !w.isSequence(v, f) {
				return
			}
			for i, item := range v.Content {
				if s := w.str(item, fmt.Sprintf("%s[%d]", f, i)); s != "" {
					c.Values = append(c.Values, s)
				}
			}
		},
	})
	if n.Kind != yaml.MappingNode {
		return c
	}
	for _, k := range []string{"attribute", "operator", "values"} {
		if !w.hasKey(n, k) {
			w.fail(n, field+"."+k, "required")
		}
	}
	if c.Attribute != "" && c.Operator != "" && !slices.Contains(policy.OperatorsFor(c.Attribute), c.Operator) {
		names := make([]string, 0, 4)
		for _, o := range policy.OperatorsFor(c.Attribute) {
			names = append(names, string(o))
		}
		w.fail(opNode, field+".operator", fmt.Sprintf("%s does not fit %s: it takes %s", c.Operator, c.Attribute, strings.Join(names, ", ")))
	}
	if c.Operator == policy.OpNameRangeStart || c.Operator == policy.OpNameRangeEnd {
		if len(c.Values) != 1 || utf8.RuneCountInString(c.Values[0]) != 1 {
			w.fail(n, field+".values", fmt.Sprintf("%s takes a single letter, got %q", c.Operator, strings.Join(c.Values, ", ")))
		}
	}
	if w.hasKey(n, "values") && len(c.Values) == 0 {
		w.fail(n, field+".values", "at least one value")
	}
	return c
}

func (w *walker) action(n *yaml.Node, field string) policy.Action {
	a := policy.Action{Line: n.Line}
	w.mapping(n, field, map[string]func(*yaml.Node, string){
		"action": func(v *yaml.Node, f string) {
			switch k := policy.ActionKind(strings.ToLower(strings.ReplaceAll(strings.TrimSpace(w.str(v, f)), " ", "_"))); k {
			case policy.ActionAssignTeam, policy.ActionAssignUser, policy.ActionSetPriority:
				a.Kind = k
			default:
				w.fail(v, f, fmt.Sprintf("unknown action %q: want assign_team, assign_user or set_priority", v.Value))
			}
		},
		"team": func(v *yaml.Node, f string) { a.Team = w.ident(v, f) },
		"user": func(v *yaml.Node, f string) { a.User = w.ident(v, f) },
		"priority": func(v *yaml.Node, f string) {
			switch p := w.str(v, f); strings.ToLower(p) {
			case "high":
				a.Priority = policy.PriorityHigh
			case "medium":
				a.Priority = policy.PriorityMedium
			case "low":
				a.Priority = policy.PriorityLow
			default:
				w.fail(v, f, fmt.Sprintf("unknown priority %q: want High, Medium or Low", p))
			}
		},
	})
	need := map[policy.ActionKind]string{policy.ActionAssignTeam: "team", policy.ActionAssignUser: "user", policy.ActionSetPriority: "priority"}
	if k, ok := need[a.Kind]; ok && n.Kind == yaml.MappingNode && !w.hasKey(n, k) {
		w.fail(n, field+"."+k, fmt.Sprintf("required by %s", a.Kind))
	}
	return a
}
