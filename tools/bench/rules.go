package bench

import (
	"context"
	"fmt"
	"testing"

	"github.com/batonhq/baton/policy"
	"github.com/batonhq/baton/tools/policybench"
)

// RulesResult is figure 5: first-match rule evaluation over 200 rules (the match
// at the last) through the path decisions take (policy.EvaluateRules, with the
// trace of every rule tried, written as JSON as the ledger stores it) against a hand-written
// function encoding the same rules as fast as a careful engineer would, and,
// for context, the engine without its trace and a whole decision over a
// 10,000-user directory.
type RulesResult struct {
	Rules, Users        int
	EngineNs, HandNs    float64
	EngineAllocs        int64
	MatchNs             float64 // policy.MatchRules: the same evaluation without a trace
	Rounds              int
	DecisionNs          float64
	DecisionAllocs      int64
	DecisionBytesPerRun int64
}

// Rules runs the same fixtures as go test -bench BenchmarkRuleEvaluation, taking
// the best of rounds runs of each so a noisy neighbour does not decide the ratio.
func Rules(rounds int) (RulesResult, error) {
	r := RulesResult{Rules: policybench.RuleCount, Users: policybench.UserCount, Rounds: rounds}
	rules := policybench.Rules(policybench.RuleCount)
	data := policybench.MatchingData()
	want := policybench.HandWritten(data)
	if m, _ := policy.EvaluateRules(rules, data); m == nil || m.ID != rules[want].ID {
		return r, fmt.Errorf("rules engine and hand-written function disagree on the fixture")
	}
	p, teams := policybench.DecisionPolicy(rules)
	users := policybench.Users(policybench.UserCount)
	var failed error
	best := func(f func(b *testing.B)) testing.BenchmarkResult {
		var out testing.BenchmarkResult
		for range rounds {
			res := testing.Benchmark(f)
			if out.N == 0 || res.NsPerOp() < out.NsPerOp() {
				out = res
			}
		}
		return out
	}
	engine := best(func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			m, trace := policy.EvaluateRules(rules, data)
			if m == nil || len(trace) != len(rules) {
				failed = fmt.Errorf("no rule matched, or the trace is short")
			}
			if _, err := policy.Trace(trace).MarshalJSON(); err != nil { // as the ledger stores it
				failed = err
			}
		}
	})
	match := best(func(b *testing.B) {
		for b.Loop() {
			if policy.MatchRules(rules, data) == nil {
				failed = fmt.Errorf("no rule matched")
			}
		}
	})
	hand := best(func(b *testing.B) {
		for b.Loop() {
			if policybench.HandWritten(data) != want {
				failed = fmt.Errorf("hand-written function changed its answer")
			}
		}
	})
	people := &policy.MemDirectory{Users: users, Teams: teams}
	decision := best(func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, _, err := policy.Decide(context.Background(), policy.DecideInput{Policy: p, Stage: policy.StageCapture, People: people,
				Claim: policy.Claim{ID: "c", Data: data}}); err != nil {
				failed = err
			}
		}
	})
	r.EngineNs, r.HandNs = float64(engine.T.Nanoseconds())/float64(engine.N), float64(hand.T.Nanoseconds())/float64(hand.N)
	r.EngineAllocs = engine.AllocsPerOp()
	r.MatchNs = float64(match.T.Nanoseconds()) / float64(match.N)
	r.DecisionNs = float64(decision.T.Nanoseconds()) / float64(decision.N)
	r.DecisionAllocs, r.DecisionBytesPerRun = decision.AllocsPerOp(), decision.AllocedBytesPerOp()
	return r, failed
}
