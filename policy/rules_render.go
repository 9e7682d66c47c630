package policy

import "fmt"

// RuleDrift says that an explanation's rules tried may not be the ones its
// decision saw: re-evaluating the decision's rules over its recorded values
// picked differently, or they could not be re-read. Why says so in a sentence.
type RuleDrift struct {
	Drifted bool   `json:"drifted"`
	Why     string `json:"why,omitempty"`
}

// RenderTrace renders a rule-routed decision's trace from its record: it
// re-evaluates p's rules (the decision's pinned policy version) over the
// recorded values. The trace reads exactly as the trace the decision would
// have written when it was made. When re-evaluation no longer picks what the
// record says (the matched rule, or how many rules were tried), the trace
// shown is today's and the drift says so.
func RenderTrace(p *Policy, rec RuleRecord) (Trace, RuleDrift) {
	rule, trace := p.RuleSet().Evaluate(rec.Data())
	match := -1
	if rule != nil {
		match = len(trace) - 1
	}
	return trace, rec.drift(p, match, len(trace))
}

// RenderTraceJSON is RenderTrace written as JSON, the bytes a decision stored
// as its trace before decisions recorded their rules, written in one pass as
// the rules are evaluated: an old row and a new one read back the same.
func RenderTraceJSON(p *Policy, rec RuleRecord) ([]byte, RuleDrift) {
	rs := p.RuleSet()
	data := rec.Data()
	quoted := 0 // room for the longest value quoted in every reason
	for _, v := range data {
		quoted = max(quoted, len(v)+len(`""`))
	}
	var e evaluation
	e.init(rs, data)
	buf, match, tried := e.appendTrace(make([]byte, 0, rs.traceSize+len(rs.rules)*quoted))
	return buf, rec.drift(p, match, tried)
}

// drift compares re-evaluation (rule index match of p's rules, -1 for none,
// after tried rules) with the record.
func (r RuleRecord) drift(p *Policy, match, tried int) RuleDrift {
	id := ""
	if match >= 0 {
		id = p.Rules[match].ID
	}
	if (match >= 0) == r.Matched && id == r.Rule && tried == r.Tried {
		return RuleDrift{}
	}
	now := fmt.Sprintf("matches no rule (%d rules tried)", tried)
	if match >= 0 {
		now = fmt.Sprintf("matches %s (%d rules tried)", id, tried)
	}
	return RuleDrift{Drifted: true, Why: fmt.Sprintf("re-evaluating the rules of policy %s with the recorded values now %s, but the decision recorded %s",
		p.Version, now, r.recorded())}
}

// Unrendered is the drift of a record whose rules could not be re-read (why):
// the explanation shows no rules tried, only what the decision recorded.
func (r RuleRecord) Unrendered(why string) RuleDrift {
	return RuleDrift{Drifted: true, Why: fmt.Sprintf("the rules tried cannot be shown: %s; the decision recorded %s", why, r.recorded())}
}

func (r RuleRecord) recorded() string {
	engine := fmt.Sprintf("engine %d", r.Engine)
	if r.Engine != RuleEngine {
		engine += fmt.Sprintf("; this is engine %d", RuleEngine)
	}
	if !r.Matched {
		return fmt.Sprintf("no match (%d rules tried, %s)", r.Tried, engine)
	}
	return fmt.Sprintf("%s (%d rules tried, %s)", r.Rule, r.Tried, engine)
}
