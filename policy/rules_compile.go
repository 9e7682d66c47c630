package policy

import (
	"bytes"
	"slices"
	"strconv"
	"unicode"
	"unicode/utf8"
)

// RuleSet is a policy's distribution rules compiled for evaluation. The parser
// builds it once (yamlfile.ParsePolicy, or Policy.Compile for a policy built in Go) and
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
