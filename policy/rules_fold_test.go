package policy

import (
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// referenceHolds is the evaluator before the ASCII fast paths and the per-claim
// memo: one map lookup per condition and strings.EqualFold for every comparison.
// The fast paths must agree with it on every input.
func referenceHolds(c *Condition, v string) bool {
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
			if referenceContainsFold(v, want) {
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

func referenceContainsFold(s, sub string) bool {
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

func referenceMatch(rules []Rule, data map[string]string) *Rule {
	for i := range rules {
		ok := true
		for j := range rules[i].When {
			c := &rules[i].When[j]
			if !referenceHolds(c, data[c.Attribute]) {
				ok = false
				break
			}
		}
		if ok {
			return &rules[i]
		}
	}
	return nil
}

func TestFoldFastPaths(t *testing.T) {
	t.Parallel()
	cases := []struct {
		v, want string
		in      bool
	}{
		{"acme", "ACME", true},
		{"acme", "acm", false},   // shorter: settled by length
		{"acme", "acmes", false}, // longer: falls back to EqualFold
		{"k", "\u212a", true},    // Kelvin sign: longer, still equal
		{"ks", "\u212a\u017f", true},
		{"s", "\u017f", true},  // long s
		{"ab", "a\xff", false}, // same length, not ASCII
		{"a@", "a`", false},    // '@' and '`' are not a case pair
		{"[", "{", false},
	}
	for _, tc := range cases {
		require.Equal(t, tc.in, strings.EqualFold(tc.v, tc.want), "the case itself: %q %q", tc.v, tc.want)
		require.Equal(t, tc.in, inFold(tc.v, isASCII(tc.v), []string{tc.want}), "%q IN %q", tc.v, tc.want)
	}
	require.True(t, containsFoldFor("RE: URGENT", true, "urgent"))
	require.False(t, containsFoldFor("s", true, "\u017f"), "windows are bytes: a longer rune never fits")
}

// TestMatchRulesPastTheMemo covers claims naming more attributes than claimValues
// keeps, in an order that makes later rules look them up again.
func TestMatchRulesPastTheMemo(t *testing.T) {
	t.Parallel()
	const attrs = maxMemoized + 4
	data := map[string]string{}
	var rules []Rule
	for i := range attrs {
		a := fmt.Sprintf("a%d_name", i)
		data[a] = fmt.Sprintf("Value-%d", i)
		rules = append(rules, Rule{ID: fmt.Sprintf("miss%d", i), When: []Condition{
			cond(a, OpIn, fmt.Sprintf("value-%d", i)), cond(fmt.Sprintf("a%d_name", attrs-1-i), OpIn, "nope"),
		}})
	}
	rules = append(rules, Rule{ID: "hit", When: []Condition{
		cond("a11_name", OpContains, "UE-1"), cond("a0_name", OpIn, "VALUE-0"), cond("a10_name", OpNameRangeStart, "u"),
		cond("a10_name", OpNameRangeEnd, "w"), cond("missing", OpIn, "x"),
	}}, Rule{ID: "default"})
	r, _ := EvaluateRules(rules, data)
	require.Equal(t, "default", r.ID, "a missing attribute fails its condition")
	require.Same(t, r, MatchRules(rules, data))
	data["missing"] = "X"
	r, _ = EvaluateRules(rules, data)
	require.Equal(t, "hit", r.ID)
	require.Same(t, r, MatchRules(rules, data))
	require.Same(t, referenceMatch(rules, data), r)
}

// FuzzFoldFastPaths checks the fast paths against the reference evaluator on
// every operator, for ASCII and non-ASCII claim values alike.
func FuzzFoldFastPaths(f *testing.F) {
	f.Add("GROUP-199", "group-199", "alt-199")
	f.Add("k", "\u212a", "K")
	f.Add("mail.\u017fite", "SITE", "\u017fITE")
	f.Add("a\xffb", "A\xffB", "\xff")
	f.Add("Mason", "m", "r")
	f.Fuzz(func(t *testing.T, v, want1, want2 string) {
		for _, op := range []Operator{OpIn, OpContains, OpNameRangeStart, OpNameRangeEnd} {
			c := Condition{Attribute: "x", Operator: op, Values: []string{want1, want2}}
			want := referenceHolds(&c, v)
			require.Equal(t, want, holds(&c, v), "%s %q %q %q", op, v, want1, want2)
			rules := []Rule{{ID: "r", When: []Condition{c, c}}}
			require.Equal(t, want, MatchRules(rules, map[string]string{"x": v}) != nil, "%s %q %q %q", op, v, want1, want2)
		}
	})
}
