package bench

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/batonhq/baton/internal/batontest"
)

// Figure 10 at a small size: every method decides, the loads change what they
// say, the aged paths answer, an old decision's explanation reads the same, and
// its rows carry every target the issue sets.
func TestScaleFigureMeasuresEveryPath(t *testing.T) {
	t.Parallel()
	cfg := ScaleConfig{Users: 2000, Open: 400, Decisions: 12, Changes: 9, FirstDecisions: 3, History: 3000, Generations: 12,
		Waiting: 20, Reads: 4, Schema: "baton_scaletest"}
	res, err := Scale(context.Background(), batontest.URL(t), cfg, quietLog())
	require.NoError(t, err)
	require.Len(t, res.Methods, 7)
	for _, m := range res.Methods {
		require.Len(t, m.Latency, cfg.Decisions, m.Name)
	}
	require.Len(t, res.First, 3)
	require.Len(t, res.OneChange, 9)
	require.Len(t, res.FullLoads, 3)
	require.Len(t, res.Paths, 5)
	require.True(t, res.Same, "the day-one decision's candidates read the same after a year")
	require.Positive(t, res.Live)
	require.LessOrEqual(t, res.Requirements, 2*res.Live, "requirements are kept, not made per generation")

	rows := (&Results{Scale: res}).scaleRows()
	targets := 0
	for _, r := range rows {
		if r.Target != "" {
			targets++
		}
	}
	require.Equal(t, 2*7+2+2+5+1, targets, "each method twice, the change, the loads, each aged path, the page")
}
