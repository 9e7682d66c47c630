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
// value of each attribute the rules tried read (Values), an attribute the
// claim lacks marked Missing (an empty value is not missing: the trace says
// which). The explanation renders the trace from it when read (RenderTrace).
type RuleRecord struct {
	Engine int
	// Policy is the stored version the rules came from; zero when the policy
	// was not read from the store (a worker's own file, before policies were
	// stored), and then the trace cannot be rendered.
	Policy  StoredVersion
	Matched bool
	Rule    string // the matched rule's id, when Matched
	Tried   int

	// values are the recorded values of a record read back or built
	// (NewRuleRecord).
	values []RecordedValue
	// A record fresh from a decision holds its JSON as the decision wrote it
	// (written, for rule match of set, -1 for none, under policy wrote), and
	// reads its values from the claim's data, which must not change while the
	// record is in use: the decision path allocates the JSON and nothing else.
	written []byte
	set     *RuleSet
	data    map[string]string
	match   int
	wrote   StoredVersion
}

// fresh reports whether written still says what the record's fields say.
func (r *RuleRecord) fresh() bool {
	if r.written == nil || r.Engine != RuleEngine || r.Policy != r.wrote || r.Matched != (r.match >= 0) {
		return false
	}
	if r.match < 0 {
		return r.Tried == len(r.set.rules)
	}
	return r.Tried == r.match+1 && r.Rule == r.set.src[r.match].ID
}

// RecordedValue is one claim attribute as a decision read it.
type RecordedValue struct {
	Attribute string
	Value     string
	Missing   bool // the claim had no such attribute (Value is "")
}

// NewRuleRecord returns a record of the given values, as one read back from
// the ledger is.
func NewRuleRecord(engine int, policy StoredVersion, matched bool, rule string, tried int, values []RecordedValue) RuleRecord {
	return RuleRecord{Engine: engine, Policy: policy, Matched: matched, Rule: rule, Tried: tried, values: values}
}

// Values are the claim's attributes the rules tried read, in the order the
// rules first name them.
func (r RuleRecord) Values() []RecordedValue {
	if r.set == nil {
		return r.values
	}
	out := make([]RecordedValue, r.set.slotsTried[min(max(r.Tried, 0), len(r.set.rules))])
	for s := range out {
		v, ok := r.data[r.set.attrs[s]]
		out[s] = RecordedValue{Attribute: r.set.attrs[s], Value: v, Missing: !ok}
	}
	return out
}

// Data is the claim data the record holds: the recorded values, without the
// missing ones.
func (r RuleRecord) Data() map[string]string {
	values := r.Values()
	data := make(map[string]string, len(values))
	for _, v := range values {
		if !v.Missing {
			data[v.Attribute] = v.Value
		}
	}
	return data
}

// RecordRules is the policy's decision path over its rules: the first rule
// whose conditions all hold for the claim's data (nil for none), as Match
// finds it, and the record of the evaluation, its JSON already written. It
// writes no trace. The record reads its values from data, which must not
// change while it is in use.
func (p *Policy) RecordRules(data map[string]string) (*Rule, RuleRecord) {
	rs := p.RuleSet()
	var e evaluation
	e.init(rs, data)
	i := e.first()
	rec := RuleRecord{Engine: RuleEngine, Policy: p.Stored, Tried: len(rs.rules), set: rs, data: data, match: i, wrote: p.Stored}
	var r *Rule
	if i >= 0 {
		r = &rs.src[i]
		rec.Matched, rec.Rule, rec.Tried = true, r.ID, i+1
	}
	rec.written = e.appendRecord(make([]byte, 0, e.recordSize(&rec, i)), &rec, i)
	return r, rec
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

// MarshalJSON writes the record as the ledger stores it. A record fresh from
// a decision returns the JSON the decision wrote (shared: callers must not
// change it), unless its fields were changed since.
func (r RuleRecord) MarshalJSON() ([]byte, error) {
	if r.fresh() {
		return r.written, nil
	}
	values := r.Values()
	n := 96 + len(r.Policy.Name) + len(r.Rule)
	for _, v := range values {
		n += len(v.Attribute) + len(v.Value) + 8
	}
	return r.appendJSON(make([]byte, 0, n), values), nil
}

// recordSize is room for a fresh record's JSON when nothing needs escaping.
func (e *evaluation) recordSize(r *RuleRecord, match int) int {
	n := 64 + len(r.Policy.Name) + len(e.rs.none) // `{"engine":1,"policy":{"name":"","version":1},` … `,"values":{` … `}}`
	if match >= 0 {
		n += len(e.rs.rules[match].record)
	}
	for s := range e.rs.slotsTried[r.Tried] {
		n += len(e.rs.attrJSON[s]) + len(e.get(s).value) + 3
	}
	return n
}

// appendRecord writes a fresh record's JSON from the rule set's text compiled
// for it and the values the evaluation looked up: the bytes appendJSON writes.
func (e *evaluation) appendRecord(buf []byte, r *RuleRecord, match int) []byte {
	buf = r.appendStart(buf)
	if match >= 0 {
		buf = append(buf, e.rs.rules[match].record...)
	} else {
		buf = append(buf, e.rs.none...)
	}
	buf = append(buf, `,"values":{`...)
	for s := range e.rs.slotsTried[r.Tried] {
		if s > 0 {
			buf = append(buf, ',')
		}
		buf = append(buf, e.rs.attrJSON[s]...)
		v := e.get(s)
		e.classify(v)
		switch {
		case !v.present:
			buf = append(buf, "null"...)
		case v.plain:
			buf = append(append(append(buf, '"'), v.value...), '"')
		default:
			buf = append(appendRecordText(append(buf, '"'), v.value), '"')
		}
	}
	return append(buf, "}}"...)
}

// appendStart appends the record's start, up to its match.
func (r *RuleRecord) appendStart(buf []byte) []byte {
	buf = append(buf, `{"engine":`...)
	buf = strconv.AppendInt(buf, int64(r.Engine), 10)
	if !r.Policy.IsZero() {
		buf = append(buf, `,"policy":{"name":"`...)
		buf = appendRecordText(buf, r.Policy.Name)
		buf = append(buf, `","version":`...)
		buf = strconv.AppendInt(buf, int64(r.Policy.Version), 10)
		buf = append(buf, '}')
	}
	return append(buf, ',')
}

// appendJSON appends the record's JSON, with values as its values.
func (r *RuleRecord) appendJSON(buf []byte, values []RecordedValue) []byte {
	buf = r.appendStart(buf)
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
	buf = append(buf, `,"values":{`...)
	for k, v := range values {
		if k > 0 {
			buf = append(buf, ',')
		}
		buf = append(buf, '"')
		buf = appendRecordText(buf, v.Attribute)
		buf = append(buf, `":`...)
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
	if out.values, err = readRecordValues(raw.Values); err != nil {
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
