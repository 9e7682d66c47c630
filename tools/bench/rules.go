package bench

import (
	"context"
	"fmt"
	"testing"

	"github.com/batonhq/baton/policy"
	"github.com/batonhq/baton/tools/policybench"
)

// RulesResult is figure 5: a rule-routed decision over 200 rules (the match at
// the last) and its explanation, each against a hand-written function doing
// the same work, and the bytes a decision writes to the ledger.
//
//   - The decision path: the policy's compiled rules (Policy.RecordRules) and
//     their record written as the ledger stores it, against
//     policybench.HandWrittenDecision: the same index by hand (the group names
//     the one rule that can match) and the same record bytes. For context, the
//     hand-written matcher alone, with and without the index.
//   - The explanation: the trace rendered from the record when read
//     (policy.RenderTraceJSON), against policybench.HandWrittenTrace, a
//     straightforward function writing the same JSON bytes.
//   - The ledger bytes: the record, against the trace decisions wrote before.
type RulesResult struct {
	Rules, Users int
	// Rounds is how many times each function was measured; the figures are
	// the best, with the worst for spread.
	Rounds                    int
	Decision, DecisionHand    Timing
	Matcher, MatcherUnindexed Timing
	Render, RenderHand        Timing
	// RecordBytes is the record as the ledger stores it; TraceBytes the trace
	// a decision over the same rules wrote before decisions recorded their
	// rules.
	RecordBytes, TraceBytes int
	MatchNs                 float64 // policy.MatchRules: the interpretation, without a trace
	DecisionNs              float64 // a whole decision (policy.Decide)
	DecisionAllocs          int64
	DecisionBytesPerRun     int64
}

// Timing is one function's ns per operation over a figure's rounds: each
// round's, for the interval, and the best and worst.
type Timing struct {
	Rounds      []float64
	Best, Worst float64
	N           int   // operations in the best round
	Allocs      int64 // per operation, in the best round
}

func (t *Timing) add(res testing.BenchmarkResult) {
	ns := float64(res.T.Nanoseconds()) / float64(res.N)
	t.Rounds = append(t.Rounds, ns)
	if t.N == 0 || ns < t.Best {
		t.Best, t.N, t.Allocs = ns, res.N, res.AllocsPerOp()
	}
	t.Worst = max(t.Worst, ns)
}

// String is "282 ns (best of 5, range 282–310 ns, n 4,500,000)".
func (t Timing) String(rounds int) string {
	unit, div, f := "ns", 1.0, "%.0f"
	if t.Best >= 10_000 {
		unit, div, f = "µs", 1000, "%.1f"
	}
	return fmt.Sprintf(f+" %s (best of %d, range "+f+"–"+f+" %s, n %s)", t.Best/div, unit, rounds, t.Best/div, t.Worst/div, unit, thousands(t.N))
}

func nsString(ns float64) string {
	if ns >= 10_000 {
		return fmt.Sprintf("%.1f µs", ns/1000)
	}
	return fmt.Sprintf("%.0f ns", ns)
}

func thousands(n int) string {
	s := fmt.Sprint(n)
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}

// Rules runs the same fixtures as go test -bench BenchmarkRuleEvaluation. Each
// round measures every function once, the engine and its hand-written
// baseline one after the other, so a noisy neighbour slows both rather than
// deciding a ratio; the rounds are paired for the ratio's interval.
func Rules(rounds int) (RulesResult, error) {
	r := RulesResult{Rules: policybench.RuleCount, Users: policybench.UserCount, Rounds: rounds}
	rules := policybench.Rules(policybench.RuleCount)
	data := policybench.MatchingData()
	p, teams := policybench.DecisionPolicy(rules)
	want := policybench.HandWritten(data)
	match, rec := p.RecordRules(data)
	if match == nil || match.ID != rules[want].ID || policybench.HandWrittenIndexed(data) != want {
		return r, fmt.Errorf("rules engine and hand-written functions disagree on the fixture")
	}
	record, err := rec.MarshalJSON()
	if err != nil {
		return r, err
	}
	if _, hand := policybench.HandWrittenDecision(data); string(hand) != string(record) {
		return r, fmt.Errorf("the hand-written record differs from the engine's:\n%s\n%s", hand, record)
	}
	trace, drift := policy.RenderTraceJSON(p, rec)
	if drift.Drifted || string(trace) != string(policybench.HandWrittenTrace(data)) {
		return r, fmt.Errorf("the hand-written trace differs from the rendered one (%s)", drift.Why)
	}
	_, old := policy.EvaluateRules(rules, data)
	oldTrace, err := policy.Trace(old).MarshalJSON()
	if err != nil {
		return r, err
	}
	r.RecordBytes, r.TraceBytes = len(record), len(oldTrace)

	var failed error
	fail := func(format string, args ...any) { failed = fmt.Errorf(format, args...) }
	people := &policy.MemDirectory{Users: policybench.Users(policybench.UserCount), Teams: teams}
	var match0, decision testing.BenchmarkResult
	for range rounds {
		r.Decision.add(testing.Benchmark(func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				m, rec := p.RecordRules(data)
				if m == nil {
					fail("no rule matched")
				}
				if _, err := rec.MarshalJSON(); err != nil { // as the ledger stores it
					failed = err
				}
			}
		}))
		r.DecisionHand.add(testing.Benchmark(func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if i, _ := policybench.HandWrittenDecision(data); i != want {
					fail("hand-written decision changed its answer")
				}
			}
		}))
		r.Matcher.add(testing.Benchmark(func(b *testing.B) {
			for b.Loop() {
				if policybench.HandWrittenIndexed(data) != want {
					fail("hand-written matcher changed its answer")
				}
			}
		}))
		r.MatcherUnindexed.add(testing.Benchmark(func(b *testing.B) {
			for b.Loop() {
				if policybench.HandWritten(data) != want {
					fail("hand-written matcher changed its answer")
				}
			}
		}))
		r.Render.add(testing.Benchmark(func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if t, d := policy.RenderTraceJSON(p, rec); d.Drifted || len(t) == 0 {
					fail("rendering drifted: %s", d.Why)
				}
			}
		}))
		r.RenderHand.add(testing.Benchmark(func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if len(policybench.HandWrittenTrace(data)) == 0 {
					fail("hand-written trace is empty")
				}
			}
		}))
		m := testing.Benchmark(func(b *testing.B) {
			for b.Loop() {
				if policy.MatchRules(rules, data) == nil {
					fail("no rule matched")
				}
			}
		})
		if match0.N == 0 || m.NsPerOp() < match0.NsPerOp() {
			match0 = m
		}
		d := testing.Benchmark(func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, _, err := policy.Decide(context.Background(), policy.DecideInput{Policy: p, Stage: policy.StageCapture, People: people,
					Claim: policy.Claim{ID: "c", Data: data}}); err != nil {
					failed = err
				}
			}
		})
		if decision.N == 0 || d.NsPerOp() < decision.NsPerOp() {
			decision = d
		}
	}
	r.MatchNs = float64(match0.T.Nanoseconds()) / float64(match0.N)
	r.DecisionNs = float64(decision.T.Nanoseconds()) / float64(decision.N)
	r.DecisionAllocs, r.DecisionBytesPerRun = decision.AllocsPerOp(), decision.AllocedBytesPerOp()
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
