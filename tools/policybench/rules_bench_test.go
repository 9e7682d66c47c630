package policybench_test

import (
	"context"
	"testing"

	"github.com/batonhq/baton/policy"
	"github.com/batonhq/baton/tools/policybench"
)

// BenchmarkRuleEvaluation: 200 rules, the match at the last, over a 10,000-user
// directory, against hand-written functions encoding the same rules. The
// fixture lives in policybench so that `make bench` measures the same thing.
func BenchmarkRuleEvaluation(b *testing.B) {
	rules := policybench.Rules(policybench.RuleCount)
	dir := policybench.Users(policybench.UserCount)
	data := policybench.MatchingData()
	p, teams := policybench.DecisionPolicy(rules)
	// The decision path: the compiled rules and the record, as the ledger
	// stores it.
	b.Run("decision_path", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			r, rec := p.RecordRules(data)
			if r == nil || r.ID != "r199" {
				b.Fatal("wrong rule")
			}
			if _, err := rec.MarshalJSON(); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("decision_path_hand_written", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if i, _ := policybench.HandWrittenDecision(data); i != 199 {
				b.Fatal("wrong rule")
			}
		}
	})
	b.Run("hand_written_indexed", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if policybench.HandWrittenIndexed(data) != 199 {
				b.Fatal("wrong rule")
			}
		}
	})
	// The explanation: the trace rendered from the record when read.
	_, rec := p.RecordRules(data)
	b.Run("render", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if trace, drift := policy.RenderTraceJSON(p, rec); drift.Drifted || len(trace) == 0 {
				b.Fatal(drift.Why)
			}
		}
	})
	b.Run("render_hand_written", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if len(policybench.HandWrittenTrace(data)) == 0 {
				b.Fatal("no trace")
			}
		}
	})
	// For context: the interpretation, without and with its trace written,
	// which decisions ran before they recorded their rules.
	b.Run("rules", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if r := policy.MatchRules(rules, data); r == nil || r.ID != "r199" {
				b.Fatal("wrong rule")
			}
		}
	})
	b.Run("rules_with_trace", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			r, trace := policy.EvaluateRules(rules, data)
			if r == nil || r.ID != "r199" || len(trace) != policybench.RuleCount {
				b.Fatal("wrong rule")
			}
			if _, err := policy.Trace(trace).MarshalJSON(); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("hand_written", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if policybench.HandWritten(data) != 199 {
				b.Fatal("wrong rule")
			}
		}
	})
	people := &policy.MemDirectory{Users: dir, Teams: teams}
	b.Run("decision_10k_users", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			d, _, _ := policy.Decide(context.Background(), policy.DecideInput{Policy: p, Stage: policy.StageCapture, People: people, Claim: policy.Claim{ID: "c", Data: data}})
			if d.MatchedRule != "r199" {
				b.Fatal("wrong rule")
			}
		}
	})
}
