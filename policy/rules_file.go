package policy

import (
	"fmt"
	"slices"
	"strings"
	"unicode/utf8"

	"gopkg.in/yaml.v3"
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
func (w *walker) distribution(n *yaml.Node, field string, p *Policy) {
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

func (w *walker) rule(n *yaml.Node, field string) Rule {
	r := Rule{Line: n.Line}
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
		if a.Kind == ActionAssignTeam || a.Kind == ActionAssignUser {
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
func (w *walker) checkRanges(n *yaml.Node, field string, r Rule) {
	starts, ends := map[string]string{}, map[string]string{}
	for _, c := range r.When {
		switch c.Operator {
		case OpNameRangeStart:
			starts[c.Attribute] = firstValue(c)
		case OpNameRangeEnd:
			ends[c.Attribute] = firstValue(c)
		}
	}
	for attr, s := range starts {
		e, ok := ends[attr]
		if !ok {
			w.fail(n, field+".when", fmt.Sprintf("%s NAME RANGE START needs a NAME RANGE END on the same attribute", attr))
			continue
		}
		if s != "" && e != "" && foldRune(firstRune(s)) > foldRune(firstRune(e)) {
			w.fail(n, field+".when", fmt.Sprintf("%s name range %s–%s is empty: start after end", attr, s, e))
		}
	}
	for attr := range ends {
		if _, ok := starts[attr]; !ok {
			w.fail(n, field+".when", fmt.Sprintf("%s NAME RANGE END needs a NAME RANGE START on the same attribute", attr))
		}
	}
}

func firstValue(c Condition) string {
	if len(c.Values) == 0 {
		return ""
	}
	return c.Values[0]
}

func (w *walker) condition(n *yaml.Node, field string) Condition {
	c := Condition{Line: n.Line}
	var opNode *yaml.Node
	w.mapping(n, field, map[string]func(*yaml.Node, string){
		"attribute": func(v *yaml.Node, f string) { c.Attribute = w.ident(v, f) },
		"operator": func(v *yaml.Node, f string) {
			opNode = v
			op, ok := ParseOperator(w.str(v, f))
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
	if c.Attribute != "" && c.Operator != "" && !slices.Contains(OperatorsFor(c.Attribute), c.Operator) {
		names := make([]string, 0, 4)
		for _, o := range OperatorsFor(c.Attribute) {
			names = append(names, string(o))
		}
		w.fail(opNode, field+".operator", fmt.Sprintf("%s does not fit %s: it takes %s", c.Operator, c.Attribute, strings.Join(names, ", ")))
	}
	if c.Operator == OpNameRangeStart || c.Operator == OpNameRangeEnd {
		if len(c.Values) != 1 || utf8.RuneCountInString(c.Values[0]) != 1 {
			w.fail(n, field+".values", fmt.Sprintf("%s takes a single letter, got %q", c.Operator, strings.Join(c.Values, ", ")))
		}
	}
	if w.hasKey(n, "values") && len(c.Values) == 0 {
		w.fail(n, field+".values", "at least one value")
	}
	return c
}

func (w *walker) action(n *yaml.Node, field string) Action {
	a := Action{Line: n.Line}
	w.mapping(n, field, map[string]func(*yaml.Node, string){
		"action": func(v *yaml.Node, f string) {
			switch k := ActionKind(strings.ToLower(strings.ReplaceAll(strings.TrimSpace(w.str(v, f)), " ", "_"))); k {
			case ActionAssignTeam, ActionAssignUser, ActionSetPriority:
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
				a.Priority = PriorityHigh
			case "medium":
				a.Priority = PriorityMedium
			case "low":
				a.Priority = PriorityLow
			default:
				w.fail(v, f, fmt.Sprintf("unknown priority %q: want High, Medium or Low", p))
			}
		},
	})
	need := map[ActionKind]string{ActionAssignTeam: "team", ActionAssignUser: "user", ActionSetPriority: "priority"}
	if k, ok := need[a.Kind]; ok && n.Kind == yaml.MappingNode && !w.hasKey(n, k) {
		w.fail(n, field+"."+k, fmt.Sprintf("required by %s", a.Kind))
	}
	return a
}

// CheckReferences checks a policy against the directory: every team and user a
// rule or stage names must exist. Errors name the rule id and field; it is run
// before a policy version is stored, so nothing half-valid is applied.
func CheckReferences(file string, p *Policy, users []User, teams []Team) error {
	known := map[string]bool{}
	for _, u := range users {
		known["user:"+u.ID] = true
	}
	for _, t := range teams {
		known["team:"+t.ID] = true
	}
	w := &walker{file: file}
	for _, r := range p.Rules {
		for i, a := range r.Then {
			f := fmt.Sprintf("claims.distribution.rules[%s].then[%d]", r.ID, i)
			switch {
			case a.Kind == ActionAssignTeam && !known["team:"+a.Team]:
				w.errs = append(w.errs, &FieldError{File: file, Line: a.Line, Field: f + ".team", Msg: fmt.Sprintf("unknown team %q", a.Team)})
			case a.Kind == ActionAssignUser && !known["user:"+a.User]:
				w.errs = append(w.errs, &FieldError{File: file, Line: a.Line, Field: f + ".user", Msg: fmt.Sprintf("unknown user %q", a.User)})
			}
		}
	}
	for _, s := range AssignableStages {
		sc := p.Stages[s]
		ids := map[string]string{"assignee": sc.Assignee, "defaultAssignee": sc.Rules.DefaultAssignee, "escalateTo": sc.Rules.EscalateTo}
		for _, key := range []string{"assignee", "defaultAssignee", "escalateTo"} { // in a stable order
			if id := ids[key]; id != "" && !known["user:"+id] {
				w.errs = append(w.errs, &FieldError{File: file, Line: sc.Lines[key], Field: fmt.Sprintf("claims.stages.%s.%s", s, key),
					Msg: fmt.Sprintf("unknown user %q", id)})
			}
		}
	}
	return problems(w.errs)
}
