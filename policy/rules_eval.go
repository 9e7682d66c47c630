package policy

import (
	"bytes"
	"strconv"
	"unicode/utf8"
)

// How a compiled RuleSet evaluates one claim: the claim's values by slot, each
// looked up, classified and folded at most once, the IN index's walk, the
// trace, and the trace written straight to JSON.

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
