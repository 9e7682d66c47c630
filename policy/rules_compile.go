package policy

import (
	"bytes"
	"slices"
	"strconv"
	"unicode"
	"unicode/utf8"
)

// RuleSet is a policy's distribution rules compiled for evaluation. The parser
// builds it once (ParsePolicy, or Policy.Compile for a policy built in Go) and
// every decision reads it; Policy.Rules stays the source of truth, for display,
// diffs and the trace's wording.
//
// Compiling does three things the interpretation (EvaluateRules, MatchRules)
// does on every call:
//
//   - Attribute slots. Each attribute the rules read gets an index, in the order
//     the rules first name it, so an evaluation looks the claim's value up once
//     per attribute, not once per condition.
//   - Lowered values. Each condition's values are folded once: IN values to a
//     canonical case fold (appendFoldKey) that two strings share exactly when
//     strings.EqualFold says they are equal, CONTAINS values lowered when ASCII,
//     name-range values to their folded first letter.
//   - An IN index. The attribute most rules test with IN gets a map from folded
//     value to the ascending list of rules whose IN condition on it lists that
//     value. An evaluation folds the claim's value once, and walks that list
//     merged, in rule order, with the rules that have no IN condition on the
//     attribute: the first rule of the merged walk whose conditions all hold is
//     the first rule of the policy that matches, as in the interpretation.
//
// The results are those of EvaluateRules and MatchRules on every input, a
// property FuzzCompiledRules checks against both.
type RuleSet struct {
	src   []Rule
	attrs []string // slot → attribute
	rules []compiledRule
	// slotsTried[t] is how many slots the first t rules read: the slots are
	// numbered in order of first use, so they are a prefix.
	slotsTried []int
	index      *ruleIndex // nil when no attribute is tested with IN by two rules
	// attrJSON[s] is `"attr":` for a record's values, escaped once.
	attrJSON []string
	// none is a record's `"matched":null,"tried":N` when no rule matches.
	none string
	// traceSize is room for a trace's JSON but for the values its reasons
	// quote: every rule's longest entry, its condition failing on a value.
	traceSize int
}

type compiledRule struct {
	conds []compiledCond
	// settled is the condition the index settles when it offers the rule: its
	// IN condition on the indexed attribute; -1 when it has none.
	settled int
	// record is `"matched":"id","tried":N` for a record that matched it.
	record string
}

// compiledCond is one condition, folded, with its part of a trace's reason
// written once.
type compiledCond struct {
	src  *Condition
	slot int
	op   Operator
	// keys: IN, each value's foldKey; CONTAINS, each value lowered when ASCII
	// (subs, for bytes.Contains), with ascii saying which.
	keys  []string
	subs  [][]byte
	ascii []bool
	// firsts: NAME RANGE, each value's first letter folded as foldRune does.
	firsts []rune
	// text is "attr OP v1, v2", as a reason starts; textJSON the same escaped
	// for a JSON string; attrJSON the attribute escaped.
	text, textJSON, attrJSON string
	// head is the rule's trace entry up to its reason when it did not match:
	// {"ruleId":"r1","matched":false,"why":"
	head string
	// failJSON is the entry when this condition fails, up to the value
	// (head, textJSON, ": "); missingJSON the whole entry when it fails for
	// want of the attribute. RenderTraceJSON writes an entry from them.
	failJSON, missingJSON string
}

// ruleIndex is the IN index over one attribute.
type ruleIndex struct {
	slot  int
	byKey map[string][]int32
	rest  []int32 // rules without an IN condition on the attribute, ascending
}

// CompileRules compiles rules. It never fails: every rule a Rule can hold has a
// compiled form, including operators the parser would reject (which, as in the
// interpretation, never hold). The RuleSet keeps rules, which must not be
// changed afterwards.
func CompileRules(rules []Rule) *RuleSet {
	rs := &RuleSet{src: rules, rules: make([]compiledRule, len(rules)), slotsTried: make([]int, len(rules)+1), traceSize: len("[]")}
	slots := map[string]int{}
	for i := range rules {
		r := &rules[i]
		cr := &rs.rules[i]
		cr.settled = -1
		cr.conds = make([]compiledCond, len(r.When))
		head := string(appendJSONText([]byte(`{"ruleId":"`), r.ID)) + `","matched":false,"why":"`
		for j := range r.When {
			c := &r.When[j]
			s, ok := slots[c.Attribute]
			if !ok {
				s = len(rs.attrs)
				slots[c.Attribute] = s
				rs.attrs = append(rs.attrs, c.Attribute)
			}
			cr.conds[j] = compileCondition(c, s, head)
		}
		rs.slotsTried[i+1] = len(rs.attrs)
		longest := len(`{"ruleId":"","matched":true,"why":"no conditions: the default rule"}`) + len(r.ID)
		for j := range cr.conds {
			c := &cr.conds[j]
			longest = max(longest, len(c.head)+len(c.textJSON)+len(`: does not match"}`))
		}
		rs.traceSize += longest + len(",")
		cr.record = `"matched":"` + string(appendRecordText(nil, r.ID)) + `","tried":` + strconv.Itoa(i+1)
	}
	rs.none = `"matched":null,"tried":` + strconv.Itoa(len(rules))
	rs.attrJSON = make([]string, len(rs.attrs))
	for s, a := range rs.attrs {
		rs.attrJSON[s] = `"` + string(appendRecordText(nil, a)) + `":`
	}
	rs.buildIndex()
	return rs
}

func compileCondition(c *Condition, slot int, head string) compiledCond {
	cc := compiledCond{src: c, slot: slot, op: c.Operator, head: head}
	switch c.Operator {
	case OpIn:
		for _, v := range c.Values {
			cc.keys = append(cc.keys, string(appendFoldKey(nil, v)))
		}
	case OpContains:
		for _, v := range c.Values {
			ascii := isASCII(v)
			low := []byte(v)
			if ascii {
				low = bytes.ToLower(low)
			}
			cc.subs, cc.ascii = append(cc.subs, low), append(cc.ascii, ascii)
		}
	case OpNameRangeStart, OpNameRangeEnd:
		for _, v := range c.Values {
			cc.firsts = append(cc.firsts, foldRune(firstRune(v)))
		}
	}
	plain := reasonWriter{}
	cc.text = string(plain.condition(nil, c))
	esc := reasonWriter{json: true}
	cc.textJSON = string(esc.condition(nil, c))
	cc.attrJSON = string(appendJSONText(nil, c.Attribute))
	cc.failJSON = head + cc.textJSON + ": "
	cc.missingJSON = head + cc.textJSON + ": the claim has no " + cc.attrJSON + `"}`
	return cc
}

// buildIndex indexes the attribute most rules test with IN, when two or more
// do: fewer, and walking the rules is as quick as folding the value for a map.
func (rs *RuleSet) buildIndex() {
	count := make([]int, len(rs.attrs))
	for i := range rs.rules {
		conds := rs.rules[i].conds
		for j := range conds {
			if conds[j].op == OpIn && !slices.ContainsFunc(conds[:j], func(c compiledCond) bool {
				return c.op == OpIn && c.slot == conds[j].slot // a second IN on the attribute counts once
			}) {
				count[conds[j].slot]++
			}
		}
	}
	best := -1
	for s, n := range count {
		if n >= 2 && (best < 0 || n > count[best]) {
			best = s
		}
	}
	if best < 0 {
		return
	}
	ix := &ruleIndex{slot: best, byKey: map[string][]int32{}}
	for i := range rs.rules {
		cr := &rs.rules[i]
		for j := range cr.conds {
			if c := &cr.conds[j]; c.op == OpIn && c.slot == best {
				cr.settled = j
				break
			}
		}
		if cr.settled < 0 {
			ix.rest = append(ix.rest, int32(i))
			continue
		}
		for _, k := range cr.conds[cr.settled].keys {
			if list := ix.byKey[k]; len(list) == 0 || list[len(list)-1] != int32(i) {
				ix.byKey[k] = append(list, int32(i))
			}
		}
	}
	rs.index = ix
}

// compiledFrom reports whether rs was compiled from exactly these rules (the
// same slice), so a stale compiled form is never used.
func (rs *RuleSet) compiledFrom(rules []Rule) bool {
	if rs == nil || len(rs.src) != len(rules) {
		return false
	}
	return len(rules) == 0 || &rs.src[0] == &rules[0]
}

// Match returns the first rule whose conditions all hold for the claim's data,
// or nil: MatchRules, compiled.
func (rs *RuleSet) Match(data map[string]string) *Rule {
	var e evaluation
	e.init(rs, data)
	if i := e.first(); i >= 0 {
		return &rs.src[i]
	}
	return nil
}

// Evaluate is EvaluateRules, compiled: the first matching rule or nil, and the
// trace of every rule tried. The trace's reasons are written when read, from
// text compiled once; it points into the rule set, which must outlive it.
func (rs *RuleSet) Evaluate(data map[string]string) (*Rule, Trace) {
	var e evaluation
	e.init(rs, data)
	return e.trace()
}

// evaluation is one evaluation's view of the claim: each slot's value, looked
// up when a condition first needs it, and its case fold, written once. For a
// policy of up to len(small) attributes whose values fold into buf it lives
// on the caller's stack: it holds no pointer into itself, which would move it
// to the heap.
type evaluation struct {
	rs     *RuleSet
	data   map[string]string
	small  [8]slotValue
	more   []slotValue // the slots past small
	buf    [128]byte   // folds, up to used
	used   int
	spill  []byte // folds that did not fit in buf
	quotes []byte // values quoted for a trace's reasons
}

type slotValue struct {
	value      string
	looked     bool
	present    bool
	classified bool // ascii and plain are set
	ascii      bool
	plain      bool // ASCII and nothing a JSON string escapes: written as it is
	folded     bool
	spilled    bool
	off, n     int32 // the fold, in buf (or spill), once folded
	quoted     bool
	qoff, qn   int32 // the value quoted, in quotes, once quoted
}

func (e *evaluation) init(rs *RuleSet, data map[string]string) {
	e.rs, e.data = rs, data
	if n := len(rs.attrs) - len(e.small); n > 0 {
		e.more = make([]slotValue, n)
	}
}

func (e *evaluation) get(s int) *slotValue {
	var v *slotValue
	if s < len(e.small) {
		v = &e.small[s]
	} else {
		v = &e.more[s-len(e.small)]
	}
	if !v.looked {
		v.value, v.present = e.data[e.rs.attrs[s]]
		v.looked = true
	}
	return v
}

// classify sets whether the slot's value is ASCII, and plain.
func (e *evaluation) classify(v *slotValue) {
	if v.classified {
		return
	}
	v.classified, v.ascii, v.plain = true, true, true
	for i := 0; i < len(v.value); i++ {
		if c := v.value[i]; c >= utf8.RuneSelf {
			v.ascii, v.plain = false, false
			return
		} else if c < 0x20 || c == '"' || c == '\\' {
			v.plain = false
		}
	}
}

// lower folds an ASCII value (lowers it) into buf, classifying it on the same
// pass, and reports whether it is ASCII; a value that is not is classified and
// left unfolded.
func (e *evaluation) lower(v *slotValue) bool {
	switch {
	case v.folded: // a folded value is classified
		return v.ascii
	case v.classified && !v.ascii:
		return false
	case e.used+len(v.value) > len(e.buf):
		if e.classify(v); v.ascii {
			e.spillFold(v)
		}
		return v.ascii
	}
	dst := e.buf[e.used : e.used+len(v.value)]
	plain := true
	for i := range dst {
		c := v.value[i]
		switch {
		case c >= utf8.RuneSelf:
			v.classified, v.ascii, v.plain = true, false, false
			return false
		case 'A' <= c && c <= 'Z':
			c += 'a' - 'A'
		case c < 0x20 || c == '"' || c == '\\':
			plain = false
		}
		dst[i] = c
	}
	v.classified, v.ascii, v.plain = true, true, plain
	v.off, v.n, v.folded = int32(e.used), int32(len(dst)), true
	e.used += len(dst)
	return true
}

// spillFold folds a classified value that does not fit in buf, or is not
// ASCII, into spill.
func (e *evaluation) spillFold(v *slotValue) {
	off := len(e.spill)
	e.spill = appendFoldKey(e.spill, v.value)
	v.off, v.n, v.spilled, v.folded = int32(off), int32(len(e.spill)-off), true, true
}

// fold returns the slot's value folded by appendFoldKey: lowered, for ASCII.
func (e *evaluation) fold(v *slotValue) []byte {
	if !v.folded && !e.lower(v) {
		e.spillFold(v)
	}
	if v.spilled {
		return e.spill[v.off : v.off+v.n]
	}
	return e.buf[v.off : v.off+v.n]
}

// holds evaluates one condition exactly as holdsFor does.
func (e *evaluation) holds(c *compiledCond) bool {
	v := e.get(c.slot)
	if v.value == "" {
		return false
	}
	switch c.op {
	case OpIn:
		f := e.fold(v)
		for _, k := range c.keys {
			if string(f) == k {
				return true
			}
		}
	case OpContains:
		if !e.lower(v) {
			for _, want := range c.src.Values {
				if containsFoldFor(v.value, false, want) {
					return true
				}
			}
			return false
		}
		// An ASCII value holds a window equal to a value ignoring case only
		// if the value is ASCII too (see containsFoldFor).
		f := e.fold(v)
		for i, sub := range c.subs {
			if c.ascii[i] && bytes.Contains(f, sub) {
				return true
			}
		}
	case OpNameRangeStart:
		first := foldRune(firstRune(v.value))
		for _, want := range c.firsts {
			if first >= want {
				return true
			}
		}
	case OpNameRangeEnd:
		first := foldRune(firstRune(v.value))
		for _, want := range c.firsts {
			if first <= want {
				return true
			}
		}
	}
	return false
}

// allHold reports whether every condition of the rule holds, skipping the one
// the index already settled (skip; -1 for none).
func (e *evaluation) allHold(r *compiledRule, skip int) bool {
	for j := range r.conds {
		if j != skip && !e.holds(&r.conds[j]) {
			return false
		}
	}
	return true
}

// first returns the index of the first rule that matches, or -1.
func (e *evaluation) first() int {
	rs := e.rs
	ix := rs.index
	if ix == nil {
		for i := range rs.rules {
			if e.allHold(&rs.rules[i], -1) {
				return i
			}
		}
		return -1
	}
	var offered []int32
	if v := e.get(ix.slot); v.value != "" {
		offered = ix.byKey[string(e.fold(v))]
	}
	rest := ix.rest
	for len(offered) > 0 || len(rest) > 0 {
		if len(rest) == 0 || (len(offered) > 0 && offered[0] < rest[0]) {
			i := offered[0]
			offered = offered[1:]
			if e.allHold(&rs.rules[i], rs.rules[i].settled) {
				return int(i)
			}
			continue
		}
		i := rest[0]
		rest = rest[1:]
		if e.allHold(&rs.rules[i], -1) {
			return int(i)
		}
	}
	return -1
}

// trace evaluates every rule in order until one matches, keeping for each the
// first condition that failed, as EvaluateRules does.
func (e *evaluation) trace() (*Rule, Trace) {
	trace := make(Trace, 0, len(e.rs.rules))
	for i := range e.rs.rules {
		t := e.entry(i)
		trace = append(trace, t)
		if t.Matched {
			return &e.rs.src[i], trace
		}
	}
	return nil, trace
}

// entry evaluates rule i and returns its trace entry.
func (e *evaluation) entry(i int) RuleTrace {
	r, src := &e.rs.rules[i], &e.rs.src[i]
	if j := e.failing(r); j >= 0 {
		c := &r.conds[j]
		v := e.get(c.slot)
		return RuleTrace{RuleID: src.ID, failed: c.src, value: v.value, missing: !v.present, compiled: c}
	}
	return RuleTrace{RuleID: src.ID, Matched: true, Why: matchedWhy(src)}
}

// failing returns the first of the rule's conditions that does not hold, or
// -1 when they all do.
func (e *evaluation) failing(r *compiledRule) int {
	for j := range r.conds {
		if !e.holds(&r.conds[j]) {
			return j
		}
	}
	return -1
}

// appendTrace is trace written as JSON, entry by entry as each rule is
// evaluated, with nothing kept per rule: the bytes Trace.MarshalJSON writes
// for trace's result, from the text each condition compiled. It returns the
// rule that matched (-1 for none) and how many were tried.
func (e *evaluation) appendTrace(buf []byte) ([]byte, int, int) {
	buf = append(buf, '[')
	for i := range e.rs.rules {
		if i > 0 {
			buf = append(buf, ',')
		}
		r := &e.rs.rules[i]
		j := e.failing(r)
		if j < 0 {
			t := RuleTrace{RuleID: e.rs.src[i].ID, Matched: true, Why: matchedWhy(&e.rs.src[i])}
			w := reasonWriter{json: true}
			return append(w.entry(buf, &t), ']'), i, i + 1
		}
		c := &r.conds[j]
		if v := e.get(c.slot); v.present {
			buf = append(buf, c.failJSON...)
			buf = append(buf, e.quoted(v)...)
			buf = append(buf, ` does not match"}`...)
		} else {
			buf = append(buf, c.missingJSON...)
		}
	}
	return append(buf, ']'), -1, len(e.rs.rules)
}

// quoted returns the slot's value quoted as a reason quotes it (strconv.Quote)
// and escaped for a JSON string, written once per evaluation into quotes.
func (e *evaluation) quoted(v *slotValue) []byte {
	if !v.quoted {
		off := len(e.quotes)
		e.quotes = appendJSONText(e.quotes, strconv.Quote(v.value))
		v.qoff, v.qn, v.quoted = int32(off), int32(len(e.quotes)-off), true
	}
	return e.quotes[v.qoff : v.qoff+v.qn]
}

func matchedWhy(r *Rule) string {
	if len(r.When) == 0 {
		return "no conditions: the default rule"
	}
	return "all conditions hold"
}

// appendFoldKey appends s folded so that two strings fold to the same bytes
// exactly when strings.EqualFold reports them equal: each rune is replaced by
// the least rune of its case-folding orbit (unicode.SimpleFold), an ASCII
// capital by its small letter, and a byte that is not UTF-8 by U+FFFD, as
// EqualFold decodes it. An ASCII string is simply lowered.
func appendFoldKey(buf []byte, s string) []byte {
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if 'A' <= c && c <= 'Z' {
				c += 'a' - 'A'
			}
			buf = append(buf, c)
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		i += size
		buf = utf8.AppendRune(buf, foldOrbit(r))
	}
	return buf
}

// foldOrbit is the least rune r is equal to ignoring case, with an ASCII
// capital lowered: the Kelvin sign folds to k, the long s to s.
func foldOrbit(r rune) rune {
	least := r
	for f := unicode.SimpleFold(r); f != r; f = unicode.SimpleFold(f) {
		least = min(least, f)
	}
	if 'A' <= least && least <= 'Z' {
		least += 'a' - 'A'
	}
	return least
}
