package policy

import (
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// compiled returns a policy over rules, compiled as the parser compiles it.
func compiled(rules []Rule) *Policy {
	p := &Policy{Name: "p", Version: "p@v1", Stored: StoredVersion{Name: "p", Version: 1}, Rules: rules}
	p.Compile()
	return p
}

// roundTrip writes a record as the ledger stores it and reads it back.
func roundTrip(t *testing.T, rec RuleRecord) RuleRecord {
	t.Helper()
	b, err := json.Marshal(rec)
	require.NoError(t, err)
	require.True(t, json.Valid(b), "%s", b)
	require.NotContains(t, string(b), `\u0000`, "jsonb refuses NUL")
	var back RuleRecord
	require.NoError(t, json.Unmarshal(b, &back), "%s", b)
	return back
}

// exported is the record as one read back from the ledger: its fields and
// values, without what only the decision that made it holds.
func exported(r RuleRecord) RuleRecord {
	return NewRuleRecord(r.Engine, r.Policy, r.Matched, r.Rule, r.Tried, r.Values())
}

// readGolden reads testdata/rule_traces.golden: case name and claim index →
// the trace as the ledger stored it before decisions stopped writing traces.
func readGolden(t *testing.T) map[string]string {
	t.Helper()
	raw, err := os.ReadFile("testdata/rule_traces.golden")
	require.NoError(t, err)
	lines := strings.Split(strings.TrimSuffix(string(raw), "\n"), "\n")
	require.Zero(t, len(lines)%2)
	out := map[string]string{}
	for i := 0; i < len(lines); i += 2 {
		out[lines[i]] = lines[i+1]
	}
	return out
}

// A decision made now records its rules; its explanation, rendered from the
// record when read, must read exactly as the trace the ledger stored before,
// both as JSON and as the reasons an old row reads back as.
func TestRenderedTraceReadsAsBefore(t *testing.T) {
	t.Parallel()
	golden := readGolden(t)
	n := 0
	for _, gc := range goldenRuleCases() {
		p := compiled(gc.rules)
		for i, data := range gc.claims {
			name := fmt.Sprintf("%s #%d", gc.name, i)
			want, ok := golden[name]
			require.True(t, ok, "%s is not in the golden file", name)
			n++

			rule, rec := p.RecordRules(data)
			require.Same(t, MatchRules(gc.rules, data), rule, name)
			trace, drift := RenderTrace(p, roundTrip(t, rec))
			require.False(t, drift.Drifted, "%s: %s", name, drift.Why)
			require.Len(t, trace, rec.Tried, name)
			got, err := trace.MarshalJSON()
			require.NoError(t, err)
			require.Equal(t, want, string(got), name)
			js, drift := RenderTraceJSON(p, roundTrip(t, rec))
			require.False(t, drift.Drifted, "%s: %s", name, drift.Why)
			require.Equal(t, want, string(js), "%s: written in one pass", name)

			var old []RuleTrace
			require.NoError(t, json.Unmarshal([]byte(want), &old))
			require.Equal(t, old, Written(trace), "%s: reads back as an old row does", name)

			_, interpreted := EvaluateRules(gc.rules, data)
			again, err := Trace(interpreted).MarshalJSON()
			require.NoError(t, err)
			require.Equal(t, want, string(again), "%s: the interpretation writes what it always wrote", name)
		}
	}
	require.Len(t, golden, n, "every golden trace has its case")
}

func TestCompiledIndexKeepsFirstMatch(t *testing.T) {
	t.Parallel()
	rules := []Rule{
		{ID: "gold", When: []Condition{cond("customer_group", OpIn, "Gold")}},
		{ID: "urgent", When: []Condition{cond("email_subject", OpContains, "urgent")}}, // not indexed: no IN on the group
		{ID: "vip-acme", When: []Condition{cond("email_from_domain", OpContains, "acme"), cond("customer_group", OpIn, "VIP", "vip")}},
		{ID: "vip", When: []Condition{cond("customer_group", OpIn, "VIP")}},
		{ID: "vip-twice", When: []Condition{cond("customer_group", OpIn, "VIP", "Gold"), cond("customer_group", OpIn, "vip")}},
		{ID: "default"},
	}
	p := compiled(rules)
	ix := p.RuleSet().index
	require.NotNil(t, ix, "four rules test customer_group with IN")
	require.Equal(t, "customer_group", p.RuleSet().attrs[ix.slot])
	require.Equal(t, []int32{1, 5}, ix.rest, "rules without IN on the group stay in the walk")
	require.Equal(t, []int32{2, 3, 4}, ix.byKey["vip"], "ascending, once per rule")

	cases := []struct {
		data  map[string]string
		match string
	}{
		{map[string]string{"customer_group": "VIP", "email_subject": "URGENT: flood"}, "urgent"}, // an earlier rule outside the index wins
		{map[string]string{"customer_group": "VIP", "email_from_domain": "mail.ACME.com"}, "vip-acme"},
		{map[string]string{"customer_group": "vIp"}, "vip"},
		{map[string]string{"customer_group": "gold", "email_subject": "urgent"}, "gold"},
		{map[string]string{"customer_group": "Basic"}, "default"},
		{map[string]string{"customer_group": ""}, "default"},
		{map[string]string{}, "default"},
	}
	for _, tc := range cases {
		r := p.RuleSet().Match(tc.data)
		require.Equal(t, tc.match, r.ID, tc.data)
		require.Same(t, MatchRules(rules, tc.data), r, tc.data)
		rr, rec := p.RecordRules(tc.data)
		require.Same(t, r, rr)
		require.Equal(t, tc.match, rec.Rule)
		require.True(t, rec.Matched)
	}
}

// IN compares as strings.EqualFold does, Unicode folding included, on the
// indexed path (many rules test the attribute) and the walked one (one does).
func TestCompiledInFoldsUnicode(t *testing.T) {
	t.Parallel()
	values := []string{"\u212a", "\u017fmall", "ΣΟΦΟΣ", "straße", "\xff", "İstanbul", "ǅ"}
	claims := []string{"k", "K", "SMALL", "small", "σοφος", "σοφοσ", "ΣΟΦΟς", "STRASSE", "\xfe", "\ufffd", "istanbul", "i̇stanbul", "ǆ", "Ǆ", ""}
	for _, indexed := range []bool{true, false} {
		var rules []Rule
		for i, v := range values {
			rules = append(rules, Rule{ID: fmt.Sprintf("r%d", i), When: []Condition{cond("word", OpIn, v)}})
		}
		if !indexed {
			rules = []Rule{{ID: "all", When: []Condition{cond("word", OpIn, values...)}}}
		}
		p := compiled(rules)
		require.Equal(t, indexed, p.RuleSet().index != nil)
		for _, c := range claims {
			data := map[string]string{"word": c}
			want := -1
			for i, v := range values {
				if c != "" && strings.EqualFold(c, v) {
					want = i
					break
				}
			}
			got := p.RuleSet().Match(data)
			require.Same(t, MatchRules(rules, data), got, "%q", c)
			switch {
			case want < 0:
				require.Nil(t, got, "%q", c)
			case indexed:
				require.Equal(t, fmt.Sprintf("r%d", want), got.ID, "%q", c)
			default:
				require.NotNil(t, got, "%q", c)
			}
		}
	}
}

// A claim without the attribute and a claim with it empty both fail the
// condition, but the record keeps which, and the trace says which.
func TestRecordMissingIsNotEmpty(t *testing.T) {
	t.Parallel()
	p := compiled([]Rule{
		{ID: "vip", When: []Condition{cond("customer_group", OpIn, "VIP")}},
		{ID: "domain", When: []Condition{cond("email_from_domain", OpContains, "acme")}},
		{ID: "default"},
		{ID: "never read", When: []Condition{cond("email_subject", OpContains, "x")}},
	})
	_, rec := p.RecordRules(map[string]string{"customer_group": ""})
	require.Equal(t, []RecordedValue{{Attribute: "customer_group"}, {Attribute: "email_from_domain", Missing: true}}, rec.Values(),
		"only the attributes the rules tried read")
	b, err := json.Marshal(rec)
	require.NoError(t, err)
	require.Equal(t, `{"engine":1,"policy":{"name":"p","version":1},"matched":"default","tried":3,"values":{"customer_group":"","email_from_domain":null}}`, string(b))
	back := roundTrip(t, rec)
	require.Equal(t, exported(rec), back)
	trace, drift := RenderTrace(p, back)
	require.False(t, drift.Drifted)
	require.Equal(t, []RuleTrace{
		{RuleID: "vip", Why: `customer_group IN VIP: "" does not match`},
		{RuleID: "domain", Why: "email_from_domain CONTAINS acme: the claim has no email_from_domain"},
		{RuleID: "default", Matched: true, Why: "no conditions: the default rule"},
	}, Written(trace))
}

// Every text reads back byte for byte, whatever the claim held: the trace
// quotes its values exactly.
func TestRecordRoundTripsAnyText(t *testing.T) {
	t.Parallel()
	texts := []string{"", "plain", `quote " back \ slash`, "nul \x00 inside", "bad \xff\xfe utf8", "\x01starts with U+0001",
		"\x01", "line\u2028sep", "tab\tand\nnewline", "ümlaut ΣΟΦΟΣ", strings.Repeat("long ", 100)}
	for _, s := range texts {
		rec := NewRuleRecord(RuleEngine, StoredVersion{Name: s, Version: 7}, true, s, 3,
			[]RecordedValue{{Attribute: s, Value: s}, {Attribute: s + "2", Missing: true}})
		require.Equal(t, rec, roundTrip(t, rec), "%q", s)
	}
	none := RuleRecord{Engine: RuleEngine, Tried: 4}
	require.Equal(t, none, roundTrip(t, none))
}

// The record a rule set writes from its precompiled text is the record any
// writer would write.
func TestRecordJSONFromTheSetIsTheSame(t *testing.T) {
	t.Parallel()
	for _, gc := range goldenRuleCases() {
		p := compiled(gc.rules)
		for _, data := range gc.claims {
			_, rec := p.RecordRules(data)
			fast, err := json.Marshal(rec)
			require.NoError(t, err)
			slow, err := json.Marshal(exported(rec))
			require.NoError(t, err)
			require.Equal(t, string(slow), string(fast))
			rec.Tried++ // a record changed after the decision writes what it now holds
			changed, err := json.Marshal(rec)
			require.NoError(t, err)
			require.Contains(t, string(changed), fmt.Sprintf(`"tried":%d,`, rec.Tried))
		}
	}
}

func TestRecordRejectsBadJSON(t *testing.T) {
	t.Parallel()
	for doc, want := range map[string]string{
		`{}`:                                    "no engine",
		`{"engine":1,"tried":-1}`:               "tried -1",
		`{"engine":1,"values":[]}`:              "want an object",
		`{"engine":1,"values":{"a":1}}`:         "want a string or null",
		`{"engine":1,"values":{"a":{"b":"c"}}}`: "want a string or null",
		`{"engine":1,"values":{"a":"\u0001!"}}`: "not base64",
		`{"engine":1,"matched":"\u0001%"}`:      "matched",
		`{"engine":"one"}`:                      "rule record",
		`[`:                                     "unexpected end",
	} {
		var r RuleRecord
		require.ErrorContains(t, json.Unmarshal([]byte(doc), &r), want, doc)
	}
}

// Versions are pinned, so the same rules over the same values pick the same
// rule; a record that disagrees (an engine that evaluated differently, a
// damaged row) is shown with today's trace and said to disagree.
func TestRenderTraceSaysWhenItDrifts(t *testing.T) {
	t.Parallel()
	p := compiled([]Rule{
		{ID: "r1", When: []Condition{cond("customer_group", OpIn, "VIP")}},
		{ID: "r2", When: []Condition{cond("customer_group", OpIn, "Gold")}},
	})
	p.Version = "claims@v3"
	_, rec := p.RecordRules(map[string]string{"customer_group": "gold"})
	require.Equal(t, 2, rec.Tried)
	_, drift := RenderTrace(p, rec)
	require.Equal(t, RuleDrift{}, drift)

	cases := []struct {
		change func(*RuleRecord)
		why    string
	}{
		{func(r *RuleRecord) { r.Rule = "r12" },
			"re-evaluating the rules of policy claims@v3 with the recorded values now matches r2 (2 rules tried), but the decision recorded r12 (2 rules tried, engine 1)"},
		{func(r *RuleRecord) { r.Tried = 5 },
			"now matches r2 (2 rules tried), but the decision recorded r2 (5 rules tried, engine 1)"},
		{func(r *RuleRecord) { r.Matched, r.Rule = false, "" },
			"but the decision recorded no match (2 rules tried, engine 1)"},
		{func(r *RuleRecord) { r.values[0].Value = "nothing" },
			"now matches no rule (2 rules tried), but the decision recorded r2 (2 rules tried, engine 1)"},
		{func(r *RuleRecord) { r.Engine, r.Rule = 0, "r1" },
			"but the decision recorded r1 (2 rules tried, engine 0; this is engine 1)"},
	}
	for _, tc := range cases {
		r := exported(rec)
		tc.change(&r)
		trace, drift := RenderTrace(p, r)
		require.True(t, drift.Drifted, tc.why)
		require.Contains(t, drift.Why, tc.why)
		require.NotEmpty(t, trace, "today's trace is still shown")
		js, jsDrift := RenderTraceJSON(p, r)
		require.Equal(t, drift, jsDrift)
		want, err := trace.MarshalJSON()
		require.NoError(t, err)
		require.Equal(t, string(want), string(js))
	}
	require.Equal(t, RuleDrift{Drifted: true, Why: "the rules tried cannot be shown: policy claims@v3 is not stored; the decision recorded r2 (2 rules tried, engine 1)"},
		rec.Unrendered("policy claims@v3 is not stored"))
}

// A policy built in Go without Compile, or whose rules were replaced after it,
// still evaluates its current rules.
func TestRuleSetNeverStale(t *testing.T) {
	t.Parallel()
	p := &Policy{Rules: []Rule{{ID: "a", When: []Condition{cond("x", OpIn, "1")}}}}
	require.Equal(t, "a", p.RuleSet().Match(map[string]string{"x": "1"}).ID)
	p.Compile()
	p.Rules = []Rule{{ID: "b", When: []Condition{cond("x", OpIn, "1")}}}
	require.Equal(t, "b", p.RuleSet().Match(map[string]string{"x": "1"}).ID)
}

// FuzzFoldKey: two strings fold to the same key exactly when EqualFold says
// they are equal, which is what lets the IN index look a value up.
func FuzzFoldKey(f *testing.F) {
	f.Add("k", "\u212a")
	f.Add("σοφος", "ΣΟΦΟΣ")
	f.Add("\xff", "\ufffd")
	f.Add("straße", "STRASSE")
	f.Add("ǅ", "ǆ")
	f.Fuzz(func(t *testing.T, a, b string) {
		require.Equal(t, strings.EqualFold(a, b), string(appendFoldKey(nil, a)) == string(appendFoldKey(nil, b)), "%q %q", a, b)
	})
}

// FuzzCompiledRules is the differential test of the compiled engine: rule
// sets and claims built from the fuzzer's bytes must give, compiled, the rule
// the interpretation and the reference give, the same trace text, and a record
// that renders back to that text with no drift.
func FuzzCompiledRules(f *testing.F) {
	f.Add([]byte{3, 0, 1, 2, 0, 9, 4, 1, 1, 2}, "VIP", "gold", "\u212a", "vip", "Mason")
	f.Add([]byte{40, 7, 200, 13, 5, 66, 91, 3, 3, 3, 3, 0, 1, 2, 3}, "a", "B", "", "b", "ab")
	f.Add([]byte{255, 254, 1, 0, 17, 34, 51, 68, 85, 102}, "σοφος", "ΣΟΦΟΣ", "\xff", "\ufffd", "ſ")
	f.Fuzz(func(t *testing.T, shape []byte, v1, v2, v3, d1, d2 string) {
		rules, data := fuzzRuleSet(shape, []string{v1, v2, v3, strings.ToUpper(v1), "\u212a", ""}, []string{d1, d2, v1, strings.ToUpper(v2), ""})
		p := compiled(rules)
		rs := p.RuleSet()

		want := referenceMatch(rules, data)
		require.Same(t, want, MatchRules(rules, data))
		require.Same(t, want, rs.Match(data))

		r, trace := EvaluateRules(rules, data)
		require.Same(t, want, r)
		wantJSON, err := Trace(trace).MarshalJSON()
		require.NoError(t, err)
		cr, ctrace := rs.Evaluate(data)
		require.Same(t, want, cr)
		gotJSON, err := ctrace.MarshalJSON()
		require.NoError(t, err)
		require.Equal(t, string(wantJSON), string(gotJSON))
		require.Equal(t, Written(trace), Written(ctrace))

		rr, rec := p.RecordRules(data)
		require.Same(t, want, rr)
		require.Equal(t, len(trace), rec.Tried)
		rendered, drift := RenderTrace(p, roundTrip(t, rec))
		require.False(t, drift.Drifted, drift.Why)
		renderedJSON, err := rendered.MarshalJSON()
		require.NoError(t, err)
		require.Equal(t, string(wantJSON), string(renderedJSON))
		onePass, drift := RenderTraceJSON(p, rec)
		require.False(t, drift.Drifted, drift.Why)
		require.Equal(t, string(wantJSON), string(onePass))
	})
}

// fuzzRuleSet builds up to 16 rules of up to 3 conditions each over five
// attributes (two past the end of the IN index's favourite), and a claim,
// from shape's bytes: each byte picks what comes next.
func fuzzRuleSet(shape []byte, values, claimValues []string) ([]Rule, map[string]string) {
	attrs := []string{"customer_group", "email_from_domain", "customer_name", "x", "y"}
	ops := []Operator{OpIn, OpIn, OpContains, OpNameRangeStart, OpNameRangeEnd, "LIKE"}
	next := func() int {
		if len(shape) == 0 {
			return 0
		}
		b := shape[0]
		shape = shape[1:]
		return int(b)
	}
	var rules []Rule
	for n := next()%16 + 1; len(rules) < n; {
		r := Rule{ID: fmt.Sprintf("r%d", len(rules))}
		for range next() % 4 {
			c := Condition{Attribute: attrs[next()%len(attrs)], Operator: ops[next()%len(ops)]}
			for range next()%3 + 1 {
				c.Values = append(c.Values, values[next()%len(values)])
			}
			r.When = append(r.When, c)
		}
		rules = append(rules, r)
	}
	data := map[string]string{}
	for _, a := range attrs {
		if k := next() % (len(claimValues) + 1); k < len(claimValues) {
			data[a] = claimValues[k]
		}
	}
	return rules, data
}
