package policy

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"
)

// RuleEngine is the version of the rules engine. Every rule-routed decision
// records the engine that made it; a change to how rules are evaluated, or to
// how a trace reads, must increment it, so an explanation rendered by a later
// engine can say which engine the decision was made by when the two disagree.
const RuleEngine = 1

// StoredVersion names a stored version of a policy: its name and the version
// number the store gave it.
type StoredVersion struct {
	Name    string
	Version int
}

// IsZero reports a policy that was not read from the store.
func (v StoredVersion) IsZero() bool { return v.Name == "" && v.Version == 0 }

// String is "name@vN".
func (v StoredVersion) String() string { return fmt.Sprintf("%s@v%d", v.Name, v.Version) }

// RuleRecord is what a rule-routed decision records instead of its trace:
// enough to reproduce the trace, and small whatever the number of rules. It
// names the engine and the stored policy version whose rules were evaluated,
// the rule that matched (or none), how many rules were tried, and the claim's
// value of each attribute the rules tried read, an attribute the claim lacks
// marked Missing (an empty value is not missing: the trace says which). The
// explanation renders the trace from it when read (RenderTrace).
type RuleRecord struct {
	Engine int
	// Policy is the stored version the rules came from; zero when the policy
	// was not read from the store (a worker's own file, before policies were
	// stored), and then the trace cannot be rendered.
	Policy  StoredVersion
	Matched bool
	Rule    string // the matched rule's id, when Matched
	Tried   int
	// Values are the attributes the rules tried read, in the order the rules
	// first name them.
	Values []RecordedValue

	// set is the rule set that made the record: its JSON is then written from
	// text the set escaped once.
	set *RuleSet
}

// RecordedValue is one claim attribute as a decision read it.
type RecordedValue struct {
	Attribute string
	Value     string
	Missing   bool // the claim had no such attribute (Value is "")
}

// Record evaluates the rules for the claim's data, as Match does, and returns
// the first matching rule (nil for none) with the record of the evaluation.
// It is the decision path: it writes no trace.
func (rs *RuleSet) Record(data map[string]string) (*Rule, RuleRecord) {
	var e evaluation
	e.init(rs, data)
	i := e.first()
	rec := RuleRecord{Engine: RuleEngine, Tried: len(rs.rules), set: rs}
	var r *Rule
	if i >= 0 {
		r = &rs.src[i]
		rec.Matched, rec.Rule, rec.Tried = true, r.ID, i+1
	}
	n := rs.slotsTried[rec.Tried]
	rec.Values = make([]RecordedValue, n)
	for s := range n {
		v := e.get(s)
		rec.Values[s] = RecordedValue{Attribute: rs.attrs[s], Value: v.value, Missing: !v.present}
	}
	return r, rec
}

// RecordRules is the policy's decision path over its rules: Record on its
// compiled rules, with the record naming the policy's stored version.
func (p *Policy) RecordRules(data map[string]string) (*Rule, RuleRecord) {
	r, rec := p.RuleSet().Record(data)
	rec.Policy = p.Stored
	return r, rec
}

// Data is the claim data the record holds: the recorded values, without the
// missing ones.
func (r RuleRecord) Data() map[string]string {
	data := make(map[string]string, len(r.Values))
	for _, v := range r.Values {
		if !v.Missing {
			data[v.Attribute] = v.Value
		}
	}
	return data
}

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
	if (rule != nil) == rec.Matched && (rule == nil || rule.ID == rec.Rule) && len(trace) == rec.Tried {
		return trace, RuleDrift{}
	}
	now := fmt.Sprintf("matches no rule (%d rules tried)", len(trace))
	if rule != nil {
		now = fmt.Sprintf("matches %s (%d rules tried)", rule.ID, len(trace))
	}
	return trace, RuleDrift{Drifted: true, Why: fmt.Sprintf("re-evaluating the rules of policy %s with the recorded values now %s, but the decision recorded %s",
		p.Version, now, rec.recorded())}
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

// The record's JSON, as the ledger stores it:
//
//	{"engine":1,"policy":{"name":"claims","version":3},"matched":"r12","tried":13,
//	 "values":{"customer_group":"Gold","email_from_domain":null}}
//
// "policy" is left out for a policy not read from the store, "matched" is null
// when no rule matched, and a missing attribute's value is null. A text that
// is not valid UTF-8, holds a NUL (which jsonb refuses) or starts with U+0001
// is written as U+0001 followed by its base64, so every text reads back to the
// same bytes: the trace quotes the claim's values byte for byte.

// MarshalJSON writes the record as the ledger stores it.
func (r RuleRecord) MarshalJSON() ([]byte, error) {
	n := 96 + len(r.Policy.Name) + len(r.Rule)
	for _, v := range r.Values {
		n += len(v.Attribute) + len(v.Value) + 8
	}
	return r.AppendJSON(make([]byte, 0, n)), nil
}

// AppendJSON appends the record's JSON to buf.
func (r RuleRecord) AppendJSON(buf []byte) []byte {
	buf = append(buf, `{"engine":`...)
	buf = strconv.AppendInt(buf, int64(r.Engine), 10)
	if !r.Policy.IsZero() {
		buf = append(buf, `,"policy":{"name":"`...)
		buf = appendRecordText(buf, r.Policy.Name)
		buf = append(buf, `","version":`...)
		buf = strconv.AppendInt(buf, int64(r.Policy.Version), 10)
		buf = append(buf, '}')
	}
	buf = append(buf, ',')
	set := r.set
	switch {
	case set != nil && !r.Matched && r.Tried == len(set.rules):
		buf = append(buf, set.none...)
	case set != nil && r.Matched && r.Tried >= 1 && r.Tried <= len(set.rules) && set.src[r.Tried-1].ID == r.Rule:
		buf = append(buf, set.rules[r.Tried-1].record...)
	default:
		set = nil
		buf = append(buf, `"matched":`...)
		if r.Matched {
			buf = append(buf, '"')
			buf = appendRecordText(buf, r.Rule)
			buf = append(buf, '"')
		} else {
			buf = append(buf, "null"...)
		}
		buf = append(buf, `,"tried":`...)
		buf = strconv.AppendInt(buf, int64(r.Tried), 10)
	}
	buf = append(buf, `,"values":{`...)
	for k, v := range r.Values {
		if k > 0 {
			buf = append(buf, ',')
		}
		if r.set != nil && k < len(r.set.attrs) && r.set.attrs[k] == v.Attribute {
			buf = append(buf, r.set.attrJSON[k]...)
		} else {
			buf = append(buf, '"')
			buf = appendRecordText(buf, v.Attribute)
			buf = append(buf, `":`...)
		}
		if v.Missing {
			buf = append(buf, "null"...)
			continue
		}
		buf = append(buf, '"')
		buf = appendRecordText(buf, v.Value)
		buf = append(buf, '"')
	}
	return append(buf, "}}"...)
}

// recordMark starts a text written as base64.
const recordMark = "\x01"

// appendRecordText appends s for the inside of a JSON string the ledger can
// store and give back byte for byte.
func appendRecordText(buf []byte, s string) []byte {
	plain := true
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c >= utf8.RuneSelf || c == '"' || c == '\\' {
			plain = false
			break
		}
	}
	if plain {
		return append(buf, s...)
	}
	if !utf8.ValidString(s) || strings.IndexByte(s, 0) >= 0 || strings.HasPrefix(s, recordMark) {
		s = recordMark + base64.StdEncoding.EncodeToString([]byte(s))
	}
	return appendJSONText(buf, s)
}

// recordText reads back a text appendRecordText wrote.
func recordText(s string) (string, error) {
	b64, ok := strings.CutPrefix(s, recordMark)
	if !ok {
		return s, nil
	}
	b, err := base64.StdEncoding.DecodeString(b64)
	if err != nil {
		return "", fmt.Errorf("text %q: not base64 after U+0001: %w", s, err)
	}
	return string(b), nil
}

// UnmarshalJSON reads a record as MarshalJSON writes it.
func (r *RuleRecord) UnmarshalJSON(b []byte) error {
	var raw struct {
		Engine *int `json:"engine"`
		Policy *struct {
			Name    string `json:"name"`
			Version int    `json:"version"`
		} `json:"policy"`
		Matched *string         `json:"matched"`
		Tried   int             `json:"tried"`
		Values  json.RawMessage `json:"values"`
	}
	if err := json.Unmarshal(b, &raw); err != nil {
		return fmt.Errorf("rule record: %w", err)
	}
	if raw.Engine == nil {
		return errors.New("rule record: no engine")
	}
	if raw.Tried < 0 {
		return fmt.Errorf("rule record: tried %d", raw.Tried)
	}
	out := RuleRecord{Engine: *raw.Engine, Tried: raw.Tried}
	var err error
	if raw.Policy != nil {
		out.Policy.Version = raw.Policy.Version
		if out.Policy.Name, err = recordText(raw.Policy.Name); err != nil {
			return fmt.Errorf("rule record: policy: %w", err)
		}
	}
	if raw.Matched != nil {
		out.Matched = true
		if out.Rule, err = recordText(*raw.Matched); err != nil {
			return fmt.Errorf("rule record: matched: %w", err)
		}
	}
	if out.Values, err = readRecordValues(raw.Values); err != nil {
		return fmt.Errorf("rule record: values: %w", err)
	}
	*r = out
	return nil
}

// readRecordValues reads the values object in its order.
func readRecordValues(b json.RawMessage) ([]RecordedValue, error) {
	if len(b) == 0 || string(b) == "null" {
		return nil, nil
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	if t, err := dec.Token(); err != nil || t != json.Delim('{') {
		return nil, fmt.Errorf("want an object, got %s", b)
	}
	var out []RecordedValue
	for dec.More() {
		t, err := dec.Token()
		if err != nil {
			return nil, err
		}
		key, ok := t.(string)
		if !ok {
			return nil, fmt.Errorf("want a key, got %v", t)
		}
		var v RecordedValue
		if v.Attribute, err = recordText(key); err != nil {
			return nil, err
		}
		t, err = dec.Token()
		if err != nil {
			return nil, err
		}
		switch x := t.(type) {
		case nil:
			v.Missing = true
		case string:
			if v.Value, err = recordText(x); err != nil {
				return nil, fmt.Errorf("%s: %w", v.Attribute, err)
			}
		default:
			return nil, fmt.Errorf("%s: want a string or null, got %v", v.Attribute, t)
		}
		out = append(out, v)
	}
	return out, nil
}
