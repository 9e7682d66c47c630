package bench

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// Figure 5 judges the decision path and the explanation against their
// hand-written baselines and the record against 1 KB: a miss in any is named,
// so dev bench exits non-zero.
func TestRulesFigureJudgesItsTargets(t *testing.T) {
	t.Parallel()
	met := RulesResult{Rules: 200, Users: 10_000, Rounds: 5,
		Decision: Timing{Best: 140, Worst: 160, N: 8_000_000}, DecisionHand: Timing{Best: 100, Worst: 130, N: 10_000_000},
		Matcher: Timing{Best: 60, Worst: 70, N: 20_000_000}, MatcherUnindexed: Timing{Best: 600, Worst: 650, N: 2_000_000},
		Render: Timing{Best: 12_000, Worst: 14_000, N: 90_000}, RenderHand: Timing{Best: 10_000, Worst: 11_000, N: 100_000},
		RecordBytes: 164, TraceBytes: 21_000}
	r := &Results{Rules: met}
	rows := r.rulesRows()
	require.Len(t, rows, 6)
	require.Empty(t, Misses(rows))
	require.Equal(t, "140 ns (best of 5, range 140–160 ns, n 8,000,000), 0 alloc", rows[0].Baton)
	require.Equal(t, "12.0 µs (best of 5, range 12.0–14.0 µs, n 90,000), 0 allocs", rows[2].Baton)

	missed := met
	missed.Decision.Best, missed.Render.Best, missed.RecordBytes = 160, 16_000, 1025
	r.Rules = missed
	miss := Misses(r.rulesRows())
	require.Len(t, miss, 3)
	require.True(t, strings.HasPrefix(miss[0], "5 decision path: compiled rules"), miss[0])
	require.True(t, strings.HasPrefix(miss[1], "5 explanation"), miss[1])
	require.True(t, strings.HasPrefix(miss[2], "5 ledger bytes"), miss[2])

	require.Contains(t, r.Method(), "5. **Rules**: `testing.Benchmark` over the fixtures in tools/policybench: 200 rules")
}
