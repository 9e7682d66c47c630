package policy

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Distribution policies (the distribution-policy source): an ordered list of rules,
// each When (conditions) → Then (actions). Conditions in a rule are ANDed; the
// values of one condition are ORed; rules are tried in order and the first match
// wins; a rule without conditions matches everything (the default); no match
// leaves the claim unassigned. Reordering rules changes their order, never their
// ids.

// Operator compares a claim attribute with a condition's values.
type Operator string

// Operators. Comparisons ignore case: e-mail addresses, domains and ERP picklist
// values are not case-sensitive in practice, and a rule that silently missed
// "ACME.com" would be worse than one that matched it.
const (
	OpIn             Operator = "IN"               // equals one of the values
	OpContains       Operator = "CONTAINS"         // contains one of the values
	OpNameRangeStart Operator = "NAME RANGE START" // first letter at or after the value
	OpNameRangeEnd   Operator = "NAME RANGE END"   // first letter at or before the value
)

// Condition is one When line.
type Condition struct {
	Attribute string   `json:"attribute"`
	Operator  Operator `json:"operator"`
	Values    []string `json:"values"`
	Line      int      `json:"-"`
}

// ActionKind is what a Then line does.
type ActionKind string

// Actions.
const (
	ActionAssignTeam  ActionKind = "assign_team"  // round robin among the team, in the order members were added
	ActionAssignUser  ActionKind = "assign_user"  // a named user
	ActionSetPriority ActionKind = "set_priority" // High, Medium or Low
)

// Priorities a rule may set.
const (
	PriorityHigh   = "High"
	PriorityMedium = "Medium"
	PriorityLow    = "Low"
)

// Action is one Then line.
type Action struct {
	Kind     ActionKind `json:"action"`
	Team     string     `json:"team,omitempty"`
	User     string     `json:"user,omitempty"`
	Priority string     `json:"priority,omitempty"`
	Line     int        `json:"-"`
}

// Rule is one distribution rule.
type Rule struct {
	ID          string      `json:"id"`
	Description string      `json:"description,omitempty"`
	When        []Condition `json:"when,omitempty"`
	Then        []Action    `json:"then"`
	Line        int         `json:"-"`
}

// RuleTrace says whether a rule matched and, if not, which condition failed.
type RuleTrace struct {
	RuleID  string `json:"ruleId"`
	Matched bool   `json:"matched"`
	Why     string `json:"why"`
}

// attributeOperators lists the operators each source attribute accepts. Claim data
// keys not listed here are custom attributes: IN and CONTAINS, and the name-range
// operators only on keys ending in _name.
var attributeOperators = map[string][]Operator{
	"email_from": {OpIn, OpContains}, "email_from_domain": {OpIn, OpContains}, "email_to": {OpIn, OpContains},
	"email_subject": {OpContains}, "email_body": {OpContains}, "sender_type": {OpIn}, "detected_intent": {OpIn},
	"customer": {OpIn}, "customer_name": {OpIn, OpContains, OpNameRangeStart, OpNameRangeEnd},
	"customer_group": {OpIn}, "customer_category": {OpIn}, "customer_status": {OpIn}, "entity": {OpIn},
	"collections_agent_name": {OpContains}, "collections_agent_email": {OpContains},
	"collections_manager_name": {OpContains}, "collections_manager_email": {OpContains},
	"sales_agent_name": {OpContains}, "sales_agent_email": {OpContains},
	"vendor": {OpIn}, "vendor_name": {OpIn, OpContains, OpNameRangeStart, OpNameRangeEnd},
	"supplier_group": {OpIn}, "supplier_default_payment_method": {OpIn}, "supplier_category": {OpIn},
	"address": {OpContains},
}

// OperatorsFor lists the operators an attribute accepts.
func OperatorsFor(attribute string) []Operator {
	if ops, ok := attributeOperators[attribute]; ok {
		return ops
	}
	if strings.HasSuffix(attribute, "_name") {
		return []Operator{OpIn, OpContains, OpNameRangeStart, OpNameRangeEnd}
	}
	return []Operator{OpIn, OpContains}
}

// ParseOperator accepts an operator in any case, with spaces or underscores.
func ParseOperator(s string) (Operator, bool) {
	switch strings.ToUpper(strings.Join(strings.Fields(strings.ReplaceAll(s, "_", " ")), " ")) {
	case "IN":
		return OpIn, true
	case "CONTAINS":
		return OpContains, true
	case "NAME RANGE START":
		return OpNameRangeStart, true
	case "NAME RANGE END":
		return OpNameRangeEnd, true
	}
	return "", false
}

// EvaluateRules returns the first rule whose conditions all hold for the claim's
// data, or nil, and a trace of every rule tried. It does not allocate per
// condition.
func EvaluateRules(rules []Rule, data map[string]string) (*Rule, []RuleTrace) {
	trace := make([]RuleTrace, 0, len(rules))
	for i := range rules {
		r := &rules[i]
		if c, ok := firstFailing(r.When, data); !ok {
			trace = append(trace, RuleTrace{RuleID: r.ID, Why: c})
			continue
		}
		why := "all conditions hold"
		if len(r.When) == 0 {
			why = "no conditions: the default rule"
		}
		trace = append(trace, RuleTrace{RuleID: r.ID, Matched: true, Why: why})
		return r, trace
	}
	return nil, trace
}

// MatchRules is EvaluateRules without the trace: the hot path.
func MatchRules(rules []Rule, data map[string]string) *Rule {
	for i := range rules {
		if allHold(rules[i].When, data) {
			return &rules[i]
		}
	}
	return nil
}

func allHold(conds []Condition, data map[string]string) bool {
	for i := range conds {
		if !holds(&conds[i], data[conds[i].Attribute]) {
			return false
		}
	}
	return true
}

// firstFailing describes the first condition that does not hold; ok is true when
// they all do.
func firstFailing(conds []Condition, data map[string]string) (why string, ok bool) {
	for i := range conds {
		c := &conds[i]
		v, present := data[c.Attribute]
		if !holds(c, v) {
			if !present {
				return fmt.Sprintf("%s %s %s: the claim has no %s", c.Attribute, c.Operator, strings.Join(c.Values, ", "), c.Attribute), false
			}
			return fmt.Sprintf("%s %s %s: %q does not match", c.Attribute, c.Operator, strings.Join(c.Values, ", "), v), false
		}
	}
	return "", true
}

// holds evaluates one condition against one value: OR across the values.
func holds(c *Condition, v string) bool {
	if v == "" {
		return false
	}
	for _, want := range c.Values {
		switch c.Operator {
		case OpIn:
			if strings.EqualFold(v, want) {
				return true
			}
		case OpContains:
			if containsFold(v, want) {
				return true
			}
		case OpNameRangeStart:
			if foldRune(firstRune(v)) >= foldRune(firstRune(want)) {
				return true
			}
		case OpNameRangeEnd:
			if foldRune(firstRune(v)) <= foldRune(firstRune(want)) {
				return true
			}
		}
	}
	return false
}

func firstRune(s string) rune {
	r, _ := utf8.DecodeRuneInString(s)
	return r
}

func foldRune(r rune) rune { return unicode.ToLower(r) }

// containsFold is strings.Contains ignoring case, without allocating.
func containsFold(s, sub string) bool {
	if sub == "" {
		return true
	}
	for i := 0; i+len(sub) <= len(s); i++ {
		if strings.EqualFold(s[i:i+len(sub)], sub) {
			return true
		}
	}
	return false
}
