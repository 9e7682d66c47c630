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
	Rules, Users     int
	EngineNs, HandNs float64 // medians over the rounds
	EngineAllocs     int64
	MatchNs          float64 // policy.MatchRules: the same evaluation without a trace
	Rounds           int
	// EngineRounds, MatchRounds and HandRounds are each round's ns per
	// evaluation, the rounds interleaved so a round's three saw the same
	// machine.
	EngineRounds, MatchRounds, HandRounds []float64
	DecisionNs                            float64
	DecisionAllocs                        int64
	DecisionBytesPerRun                   int64
}

// Rules runs the same fixtures as go test -bench BenchmarkRuleEvaluation,
// rounds times each, interleaved, and reports the median round, so a noisy
// neighbour neither decides the ratio nor hides in it.
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
	engine := func(b *testing.B) {
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
	}
	match := func(b *testing.B) {
		for b.Loop() {
			if policy.MatchRules(rules, data) == nil {
				failed = fmt.Errorf("no rule matched")
			}
		}
	}
	hand := func(b *testing.B) {
		for b.Loop() {
			if policybench.HandWritten(data) != want {
				failed = fmt.Errorf("hand-written function changed its answer")
			}
		}
	}
	people := &policy.MemDirectory{Users: users, Teams: teams}
	decision := func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, _, err := policy.Decide(context.Background(), policy.DecideInput{Policy: p, Stage: policy.StageCapture, People: people,
				Claim: policy.Claim{ID: "c", Data: data}}); err != nil {
				failed = err
			}
		}
	}
	nsPerOp := func(res testing.BenchmarkResult) float64 { return float64(res.T.Nanoseconds()) / float64(res.N) }
	var decisions []float64
	for range rounds {
		e := testing.Benchmark(engine)
		r.EngineRounds = append(r.EngineRounds, nsPerOp(e))
		r.EngineAllocs = e.AllocsPerOp()
		r.MatchRounds = append(r.MatchRounds, nsPerOp(testing.Benchmark(match)))
		r.HandRounds = append(r.HandRounds, nsPerOp(testing.Benchmark(hand)))
		d := testing.Benchmark(decision)
		decisions = append(decisions, nsPerOp(d))
		r.DecisionAllocs, r.DecisionBytesPerRun = d.AllocsPerOp(), d.AllocedBytesPerOp()
	}
	r.EngineNs, r.MatchNs, r.HandNs = Median.Of(r.EngineRounds), Median.Of(r.MatchRounds), Median.Of(r.HandRounds)
	r.DecisionNs = Median.Of(decisions)
	return r, failed
}

// rounds is one value a repetition, as a Sample.
func rounds(vs []float64) Sample {
	s := make(Sample, len(vs))
	for i, v := range vs {
		s[i] = []float64{v}
	}
	return s
}
