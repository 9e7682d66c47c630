// Package policybench holds the fixtures that both `go test -bench` and `make
// bench` measure, so the two report on the same rules, directory and claim: a
// distribution policy of Rules(RuleCount) rules whose match is the last one, a
// directory of Users(UserCount) users, and HandWritten, the same rules written
// directly in Go, as the yardstick for the rules engine's overhead.
//
// Everything here is pure Go and does no I/O.
package policybench

import (
	"bytes"
	"fmt"
	"strings"

	"github.com/batonhq/baton/policy"
)

// Sizes the benchmarks use.
const (
	RuleCount = 200    // rules in the policy; HandWritten encodes this many
	UserCount = 10_000 // users in the directory
	// MaxRecordBytes bounds the rule record a decision over Rules(RuleCount)
	// writes to the ledger (figure 5).
	MaxRecordBytes = 1024
)

// Each rule i tests two attributes: customer_group IN group-i, alt-i, and
// email_from_domain CONTAINS domaini.example. Rules and HandWritten both build
// their values with these, so the two cannot drift apart.
func groupValue(i int) string  { return fmt.Sprintf("group-%d", i) }
func altValue(i int) string    { return fmt.Sprintf("alt-%d", i) }
func domainValue(i int) string { return fmt.Sprintf("domain%d.example", i) }

// Rules returns n rules, r0 to r(n-1), each assigning team "t". A claim matches
// rule i only through its own values, so MatchingData tries every rule before the
// last one matches.
func Rules(n int) []policy.Rule {
	rules := make([]policy.Rule, n)
	for i := range rules {
		rules[i] = policy.Rule{
			ID: fmt.Sprintf("r%d", i),
			When: []policy.Condition{
				{Attribute: "customer_group", Operator: policy.OpIn, Values: []string{groupValue(i), altValue(i)}},
				{Attribute: "email_from_domain", Operator: policy.OpContains, Values: []string{domainValue(i)}},
			},
			Then: []policy.Action{{Kind: policy.ActionAssignTeam, Team: "t"}},
		}
	}
	return rules
}

// Users returns a directory of n active users, u0 to u(n-1), each allowed to make
// claim decisions.
func Users(n int) []policy.User {
	dir := make([]policy.User, n)
	for i := range dir {
		dir[i] = policy.User{ID: fmt.Sprintf("u%d", i), Active: true, Permissions: []string{policy.PermMakeClaimDecisions}}
	}
	return dir
}

// MatchingData returns claim data that matches the last of Rules(RuleCount),
// r199, and no rule before it. Its group is in upper case, so every comparison
// has to fold case. Each call returns a new map.
func MatchingData() map[string]string {
	return map[string]string{"customer_group": "GROUP-199", "email_from_domain": "mail.domain199.example"}
}

// DecisionPolicy returns the distribution policy over rules, compiled and
// named as a stored version (bench@v1) as the worker reads one, and the one
// team, "t", that the rules assign to; its two members are far down a
// Users(UserCount) directory, so a decision has to search it.
func DecisionPolicy(rules []policy.Rule) (*policy.Policy, []policy.Team) {
	p := &policy.Policy{
		Name: "bench", Version: "bench@v1", AssignmentsEnabled: true, Method: policy.MethodDistribution,
		Rules: rules, Stages: map[policy.Stage]policy.StageConfig{}, Stored: policy.StoredVersion{Name: "bench", Version: 1},
	}
	p.Compile()
	return p, []policy.Team{{ID: "t", Members: []string{"u9000", "u9999"}}}
}

// handWrittenValues are the rules' values, as constants would be in a
// hand-written function; handWrittenLower the same, lowered once, with the
// domains as bytes for bytes.Contains.
var handWrittenValues, handWrittenLower, handWrittenDomains = func() (v, low [RuleCount][3]string, dom [RuleCount][]byte) {
	for i := range v {
		v[i] = [3]string{groupValue(i), altValue(i), domainValue(i)}
		low[i] = [3]string{strings.ToLower(v[i][0]), strings.ToLower(v[i][1]), strings.ToLower(v[i][2])}
		dom[i] = []byte(low[i][2])
	}
	return v, low, dom
}()

// HandWritten is Rules(RuleCount) written directly in Go, as fast as a careful
// engineer would make it while keeping the rules' meaning (first match, in
// order, values compared ignoring case): each attribute is looked up once and,
// when ASCII, lowered once into a buffer on the stack, then compared with the
// rules' values lowered in advance, so each comparison is a plain == or
// bytes.Contains. Other input takes the Unicode-folding path. It returns the
// index of the first matching rule, or -1. It does not index the rules by
// value: that would be a different algorithm, not the same rules by hand.
func HandWritten(data map[string]string) int {
	g, dom := data["customer_group"], data["email_from_domain"]
	var gb, db [64]byte
	lg, okG := lowerASCII(gb[:0], g)
	ld, okD := lowerASCII(db[:0], dom)
	if !okG || !okD {
		return handWrittenFold(g, dom)
	}
	for i := range handWrittenLower {
		v := &handWrittenLower[i]
		if (string(lg) == v[0] || string(lg) == v[1]) && bytes.Contains(ld, handWrittenDomains[i]) {
			return i
		}
	}
	return -1
}

// lowerASCII appends s lowered to buf; false when s is not ASCII or does not
// fit, so the caller must fold Unicode instead.
func lowerASCII(buf []byte, s string) ([]byte, bool) {
	if len(s) > cap(buf) {
		return nil, false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 0x80 {
			return nil, false
		}
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		buf = append(buf, c)
	}
	return buf, true
}

// handWrittenFold is HandWritten for input that is not short ASCII.
func handWrittenFold(g, dom string) int {
	for i := range handWrittenValues {
		v := &handWrittenValues[i]
		if (strings.EqualFold(g, v[0]) || strings.EqualFold(g, v[1])) && containsFold(dom, v[2]) {
			return i
		}
	}
	return -1
}

// containsFold is strings.Contains ignoring case, without allocating: the same
// window-by-window comparison the baseline has always used.
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
