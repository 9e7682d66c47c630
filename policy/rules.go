package policy

import (
	"strconv"
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
//
// Two engines evaluate them and must agree on every input. EvaluateRules and
// MatchRules interpret a []Rule as it is; they are the reference. A policy's
// rules are also compiled once, when it is parsed (RuleSet, rules_compile.go),
// and decisions run the compiled form: Policy.RecordRules picks the rule and
// writes a RuleRecord, not a trace; the trace is rendered from the record when
// the explanation is read (RenderTrace, RenderTraceJSON, rules_render.go).

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

// PriorityRank orders priorities for the backlog: High before Medium (and no
// priority) before Low.
func PriorityRank(p string) int {
	switch p {
	case PriorityHigh:
		return 3
	case PriorityLow:
		return 1
	}
	return 2
}

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
//
// A trace is not written when rules are evaluated: it keeps the failing
// condition and the claim's value, and Reason (and the trace's JSON) writes
// the text when it is read. Why is set when the text is already written, as
// it is in a trace read back from the ledger.
type RuleTrace struct {
	RuleID  string `json:"ruleId"`
	Matched bool   `json:"matched"`
	Why     string `json:"why"`

	failed  *Condition // the first condition that did not hold
	value   string     // the claim's value for it
	missing bool       // the claim has no such attribute
	// compiled is the failed condition as a RuleSet compiled it, with its
	// text written once; nil for a trace from EvaluateRules.
	compiled *compiledCond
}

// Reason says why the rule did or did not match.
func (t RuleTrace) Reason() string {
	if t.Why != "" || t.failed == nil {
		return t.Why
	}
	var w reasonWriter
	return string(w.reason(nil, &t))
}

// Written is the trace with every Reason written into Why, as it reads once
// stored.
func Written(trace []RuleTrace) []RuleTrace {
	out := make([]RuleTrace, len(trace))
	w := reasonWriter{}
	for i := range trace {
		t := &trace[i]
		out[i] = RuleTrace{RuleID: t.RuleID, Matched: t.Matched, Why: t.Why}
		if t.Why == "" && t.failed != nil {
			out[i].Why = string(w.reason(nil, t))
		}
	}
	return out
}

// Trace is the rules a decision tried, in order. Its JSON is written in one
// pass, each reason straight into the buffer: a trace over 200 rules holds 200
// reasons, and formatting each on its own cost more than evaluating the rules.
type Trace []RuleTrace

// MarshalJSON writes the trace as a JSON array of {ruleId, matched, why}.
func (t Trace) MarshalJSON() ([]byte, error) {
	if t == nil {
		return []byte("null"), nil
	}
	w := reasonWriter{json: true}
	buf := make([]byte, 0, 160*len(t)+2)
	buf = append(buf, '[')
	for i := range t {
		if i > 0 {
			buf = append(buf, ',')
		}
		buf = w.entry(buf, &t[i])
	}
	return append(buf, ']'), nil
}

// MarshalJSON writes the trace entry with its reason.
func (t RuleTrace) MarshalJSON() ([]byte, error) {
	w := reasonWriter{json: true}
	return w.entry(nil, &t), nil
}

// reasonWriter writes reasons, the one place their text is made: for Reason
// as it is, for JSON (json true) escaped.
type reasonWriter struct {
	json bool
	// value is the last value quoted, quoted its quote as written: most rules
	// fail on the same value.
	value  string
	quoted []byte
}

func (w *reasonWriter) esc(buf []byte, s string) []byte {
	if w.json {
		return appendJSONText(buf, s)
	}
	return append(buf, s...)
}

// entry appends t as a JSON object {ruleId, matched, why}.
func (w *reasonWriter) entry(buf []byte, t *RuleTrace) []byte {
	if c := t.compiled; c != nil && w.json && !t.Matched && t.Why == "" {
		buf = append(buf, c.head...)
		return append(w.reason(buf, t), `"}`...)
	}
	buf = append(buf, `{"ruleId":"`...)
	buf = appendJSONText(buf, t.RuleID)
	if t.Matched {
		buf = append(buf, `","matched":true,"why":"`...)
	} else {
		buf = append(buf, `","matched":false,"why":"`...)
	}
	return append(w.reason(buf, t), `"}`...)
}

// condition appends "attr OP v1, v2": how a reason names its condition.
func (w *reasonWriter) condition(buf []byte, c *Condition) []byte {
	buf = w.esc(buf, c.Attribute)
	buf = append(buf, ' ')
	buf = w.esc(buf, string(c.Operator))
	buf = append(buf, ' ')
	for k, v := range c.Values {
		if k > 0 {
			buf = append(buf, ", "...)
		}
		buf = w.esc(buf, v)
	}
	return buf
}

// reason appends why t did or did not match.
func (w *reasonWriter) reason(buf []byte, t *RuleTrace) []byte {
	c := t.failed
	if t.Why != "" || c == nil {
		return w.esc(buf, t.Why)
	}
	cc := t.compiled
	switch {
	case cc != nil && w.json:
		buf = append(buf, cc.textJSON...)
	case cc != nil:
		buf = append(buf, cc.text...)
	default:
		buf = w.condition(buf, c)
	}
	if t.missing {
		buf = append(buf, ": the claim has no "...)
		if cc != nil && w.json {
			return append(buf, cc.attrJSON...)
		}
		return w.esc(buf, c.Attribute)
	}
	if w.quoted == nil || w.value != t.value {
		w.value, w.quoted = t.value, w.esc(w.quoted[:0], strconv.Quote(t.value))
	}
	buf = append(buf, ": "...)
	buf = append(buf, w.quoted...)
	return append(buf, " does not match"...)
}

// appendJSONText appends s escaped for the inside of a JSON string.
func appendJSONText(buf []byte, s string) []byte {
	if !utf8.ValidString(s) {
		s = strings.ToValidUTF8(s, "\ufffd")
	}
	start := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 0x20 && c != '"' && c != '\\' {
			continue
		}
		buf = append(buf, s[start:i]...)
		switch c {
		case '"', '\\':
			buf = append(buf, '\\', c)
		default:
			buf = append(buf, `\u00`...)
			buf = append(buf, "0123456789abcdef"[c>>4], "0123456789abcdef"[c&0xf])
		}
		start = i + 1
	}
	return append(buf, s[start:]...)
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
// data, or nil, and a trace of every rule tried: the interpretation, which the
// compiled RuleSet.Evaluate must match. It allocates the trace and nothing per
// rule or condition; the trace points into rules, whose reasons are written
// from them when read (RuleTrace.Reason), so rules must not be changed while
// the trace is in use.
func EvaluateRules(rules []Rule, data map[string]string) (*Rule, []RuleTrace) {
	trace := make([]RuleTrace, 0, len(rules))
	claim := claimValues{data: data}
	for i := range rules {
		r := &rules[i]
		if c, v := claim.firstFailing(r.When); c != nil {
			trace = append(trace, RuleTrace{RuleID: r.ID, failed: c, value: v.value, missing: !v.present})
			continue
		}
		trace = append(trace, RuleTrace{RuleID: r.ID, Matched: true, Why: matchedWhy(r)})
		return r, trace
	}
	return nil, trace
}

// MatchRules is EvaluateRules without the trace. It allocates nothing and needs
// no compiled form of the rules, so it suits rules built as struct literals
// and edited between calls; decisions use the policy's compiled rules
// (Policy.RecordRules), which pick the same rule.
func MatchRules(rules []Rule, data map[string]string) *Rule {
	claim := claimValues{data: data}
	for i := range rules {
		if claim.allHold(rules[i].When) {
			return &rules[i]
		}
	}
	return nil
}

// claimValues memoizes the claim's attributes for one evaluation. A rule set
// names a handful of attributes over and over (every rule of a 200-rule policy
// may test customer_group first), and hashing the name into the claim's map for
// each condition cost as much as the comparisons themselves. The first
// maxMemoized distinct attributes are kept in a fixed array on the caller's
// stack, so a repeat is a short scan of string compares, most of them settled by
// length or by the two names sharing memory. Each is also checked once for being
// ASCII, which is what lets the comparisons below skip Unicode folding.
// Attributes past the first maxMemoized go to the map every time and take the
// general path.
type claimValues struct {
	data  map[string]string
	n     int
	memo  [maxMemoized]claimValue
	spill claimValue // an attribute past the first maxMemoized, for one condition
}

// maxMemoized bounds the scan: past a handful of names, comparing against each
// stops being cheaper than hashing into the map.
const maxMemoized = 8

// claimValue is one attribute of the claim. ascii false means not known to be
// ASCII, which is always safe, only slower.
type claimValue struct {
	attr, value    string
	present, ascii bool
	// lower is value lowered, when it is ASCII and fits (n ≥ 0; -1 when not),
	// so each comparison with a rule's value is a byte compare that only has
	// to lower the rule's side.
	lower [maxLowered]byte
	n     int
}

// maxLowered is the longest claim value kept lowered; a longer one takes the
// general path.
const maxLowered = 64

// lowered fills v.lower from v.value.
func (v *claimValue) lowered() {
	v.n = -1
	if !v.ascii || len(v.value) > maxLowered {
		return
	}
	for i := 0; i < len(v.value); i++ {
		c := v.value[i]
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		v.lower[i] = c
	}
	v.n = len(v.value)
}

func (c *claimValues) get(attr string) *claimValue {
	for i := 0; i < c.n; i++ {
		if c.memo[i].attr == attr {
			return &c.memo[i]
		}
	}
	value, present := c.data[attr]
	if c.n == len(c.memo) {
		c.spill = claimValue{attr: attr, value: value, present: present, n: -1}
		return &c.spill
	}
	m := &c.memo[c.n]
	*m = claimValue{attr: attr, value: value, present: present, ascii: isASCII(value)}
	m.lowered()
	c.n++
	return m
}

func (c *claimValues) allHold(conds []Condition) bool {
	for i := range conds {
		cd := &conds[i]
		if v := c.get(cd.Attribute); !holdsValue(cd, v) {
			return false
		}
	}
	return true
}

// firstFailing returns the first condition that does not hold, with the
// claim's value for it (valid until the next get); nil when they all do.
func (c *claimValues) firstFailing(conds []Condition) (*Condition, *claimValue) {
	for i := range conds {
		cd := &conds[i]
		v := c.get(cd.Attribute)
		if !holdsValue(cd, v) {
			return cd, v
		}
	}
	return nil, nil
}

// holds evaluates one condition against one value: OR across the values.
func holds(c *Condition, v string) bool { return holdsFor(c, v, isASCII(v)) }

// holdsValue is holds for a memoized claim value: IN and CONTAINS compare its
// lowered copy when it has one, exactly as holdsFor would decide.
func holdsValue(c *Condition, v *claimValue) bool {
	in := c.Operator == OpIn
	if v.n <= 0 || (!in && c.Operator != OpContains) {
		return holdsFor(c, v.value, v.ascii)
	}
	low := v.lower[:v.n]
	for _, want := range c.Values {
		switch {
		case !in:
			if containsLower(low, want) {
				return true
			}
		case len(want) == len(low):
			if equalLower(low, want) {
				return true
			}
		case len(want) > len(low):
			// Longer in bytes may still fold equal: a Kelvin sign is three
			// bytes and folds to k (see inFold).
			if strings.EqualFold(v.value, want) {
				return true
			}
		}
	}
	return false
}

// equalLower reports whether the lowered ASCII low equals t ignoring case, for
// a t of the same length: only t's side needs lowering, and a byte of t
// outside ASCII never matches.
func equalLower(low []byte, t string) bool {
	for i := range low {
		a, b := low[i], t[i]
		if a != b && !('A' <= b && b <= 'Z' && b+('a'-'A') == a) {
			return false
		}
	}
	return true
}

// containsLower is containsFoldFor over a lowered ASCII value: every window
// of len(sub) bytes compared with equalLower.
func containsLower(low []byte, sub string) bool {
	if sub == "" {
		return true
	}
	first := sub[0]
	if 'A' <= first && first <= 'Z' {
		first += 'a' - 'A'
	}
	for i := 0; i+len(sub) <= len(low); i++ {
		if low[i] == first && equalLower(low[i:i+len(sub)], sub) {
			return true
		}
	}
	return false
}

// holdsFor is holds for a value already known to be ASCII (ascii true) or not
// known to be (false); false is always safe, only slower.
func holdsFor(c *Condition, v string, ascii bool) bool {
	if v == "" {
		return false
	}
	switch c.Operator {
	case OpIn:
		return inFold(v, ascii, c.Values)
	case OpContains:
		for _, want := range c.Values {
			if containsFoldFor(v, ascii, want) {
				return true
			}
		}
	case OpNameRangeStart:
		first := foldRune(firstRune(v))
		for _, want := range c.Values {
			if first >= foldRune(firstRune(want)) {
				return true
			}
		}
	case OpNameRangeEnd:
		first := foldRune(firstRune(v))
		for _, want := range c.Values {
			if first <= foldRune(firstRune(want)) {
				return true
			}
		}
	}
	return false
}

// inFold reports whether v equals one of values, ignoring case, exactly as
// strings.EqualFold does. When v is ASCII most values are settled by length:
// every rune that folds to an ASCII letter is at least one byte long, so a
// shorter value cannot match, and one of the same length matches only if it is
// ASCII too, which equalFoldASCII checks byte by byte. Only a longer value,
// which may hold a Kelvin sign (U+212A) or a long s (U+017F), needs Unicode
// folding.
func inFold(v string, ascii bool, values []string) bool {
	for _, want := range values {
		if ascii && len(want) <= len(v) {
			if len(want) == len(v) && equalFoldASCII(v, want) {
				return true
			}
			continue
		}
		if strings.EqualFold(v, want) {
			return true
		}
	}
	return false
}

// equalFoldASCII is strings.EqualFold for an ASCII s and a t of the same length:
// a byte of t outside ASCII never matches.
func equalFoldASCII(s, t string) bool {
	for i := 0; i < len(s); i++ {
		a, b := s[i], t[i]
		if a == b {
			continue
		}
		if 'A' <= a && a <= 'Z' {
			a += 'a' - 'A'
		}
		if 'A' <= b && b <= 'Z' {
			b += 'a' - 'A'
		}
		if a != b {
			return false
		}
	}
	return true
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

func firstRune(s string) rune {
	r, _ := utf8.DecodeRuneInString(s)
	return r
}

func foldRune(r rune) rune { return unicode.ToLower(r) }

// NameRangeEmpty reports whether a NAME RANGE from start to end matches no
// name: its start's first letter comes after its end's, case ignored.
func NameRangeEmpty(start, end string) bool {
	return start != "" && end != "" && foldRune(firstRune(start)) > foldRune(firstRune(end))
}

// containsFoldFor is strings.Contains ignoring case, without allocating, for an s
// known to be ASCII (ascii true) or not known to be. It compares each window of
// len(sub) bytes, so a match must be as long in bytes as sub; every window of an
// ASCII s is ASCII and that long, so equalFoldASCII decides it as
// strings.EqualFold would.
func containsFoldFor(s string, ascii bool, sub string) bool {
	if sub == "" {
		return true
	}
	for i := 0; i+len(sub) <= len(s); i++ {
		if ascii {
			if equalFoldASCII(s[i:i+len(sub)], sub) {
				return true
			}
		} else if strings.EqualFold(s[i:i+len(sub)], sub) {
			return true
		}
	}
	return false
}
