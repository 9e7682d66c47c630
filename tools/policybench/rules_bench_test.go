package policybench_test

import (
	"context"
	"testing"

	"github.com/batonhq/baton/policy"
	"github.com/batonhq/baton/tools/policybench"
)

// BenchmarkRuleEvaluation: 200 rules, the match at the last, over a 10,000-user
// directory, against a hand-written function encoding the same rules. The
// fixture lives in policybench so that `make bench` measures the same thing.
func BenchmarkRuleEvaluation(b *testing.B) {
	rules := policybench.Rules(policybench.RuleCount)
	dir := policybench.Users(policybench.UserCount)
	data := policybench.MatchingData()
	b.Run("rules", func(b *testing.B) {
		b.ReportAllocs()
		for i := 0; i < b.N; i++ {
			if r := policy.MatchRules(rules, data); r == nil || r.ID != "r199" {
				b.Fatal("wrong rule")
			}
		}
	})
	b.Run("rules_with_trace", func(b *testing.B) {
		b.ReportAllocs()
		for i := 0; i < b.N; i++ {
			r, trace := policy.EvaluateRules(rules, data)
			if r == nil || r.ID != "r199" || len(trace) != policybench.RuleCount {
				b.Fatal("wrong rule")
			}
			if _, err := policy.Trace(trace).MarshalJSON(); err != nil { // as the ledger stores it
				b.Fatal(err)
			}
		}
	})
	b.Run("hand_written", func(b *testing.B) {
		b.ReportAllocs()
		for i := 0; i < b.N; i++ {
			if policybench.HandWritten(data) != 199 {
				b.Fatal("wrong rule")
			}
		}
	})
	p, teams := policybench.DecisionPolicy(rules)
	people := &policy.MemDirectory{Users: dir, Teams: teams}
	b.Run("decision_10k_users", func(b *testing.B) {
		b.ReportAllocs()
		for i := 0; i < b.N; i++ {
			d, _, _ := policy.Decide(context.Background(), policy.DecideInput{Policy: p, Stage: policy.StageCapture, People: people, Claim: policy.Claim{ID: "c", Data: data}})
			if d.MatchedRule != "r199" {
				b.Fatal("wrong rule")
			}
		}
	})
}
