package bench

import (
	"math"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// The statistics agree with percentile, the nearest-rank rule every figure
// has always used, and the mean is the mean.
func TestStatisticMatchesPercentile(t *testing.T) {
	t.Parallel()
	xs := []float64{9, 1, 7, 3, 5, 2, 8, 4, 6, 10}
	ds := make([]time.Duration, len(xs))
	for i, x := range xs {
		ds[i] = time.Duration(x) * time.Millisecond
	}
	for _, p := range []float64{1, 25, 50, 75, 99, 100} {
		require.Equal(t, Durations([]time.Duration{percentile(ds, p)})[0], Percentile(p).Of(xs), "p%g", p)
	}
	require.Equal(t, 5.0, Median.Of(xs))
	require.Equal(t, 5.5, Mean.Of(xs))
	require.Equal(t, 10.0, P99.Of(xs))
	require.Zero(t, Median.Of(nil))
	require.Equal(t, []float64{9, 1, 7, 3, 5, 2, 8, 4, 6, 10}, xs, "a statistic must not reorder its input")
}

// The same samples give the same interval, whatever order they come in when
// unpaired, and on every run: the report can be reproduced from its samples.
func TestBootstrapIsDeterministicWithItsSeed(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewPCG(1, 2))
	a, b := make([]float64, 500), make([]float64, 500)
	for i := range a {
		a[i], b[i] = rng.ExpFloat64()*12, rng.ExpFloat64()*10
	}
	first := RatioInterval(a, b, Median, false)
	require.True(t, first.Valid())
	require.Equal(t, first, RatioInterval(a, b, Median, false), "same samples, same seed")
	reversed := append([]float64(nil), a...)
	for i, j := 0, len(reversed)-1; i < j; i, j = i+1, j-1 {
		reversed[i], reversed[j] = reversed[j], reversed[i]
	}
	require.Equal(t, first, RatioInterval(reversed, b, Median, false), "an unpaired side's order does not matter")
	other := bootstrapRatio(a, b, Median, false, BootstrapSeed+1, BootstrapResamples)
	require.NotEqual(t, first, other, "the seed is what makes it repeatable")
	require.InDelta(t, first.Lo, other.Lo, 0.1, "another seed moves the bounds only a little")
	require.True(t, first.Contains(Median.Of(a)/Median.Of(b)), "the point estimate lies inside")
}

// On a known distribution the interval covers the true ratio about 95% of the
// time: 300 experiments, each 400 samples of Exp(1.5) against Exp(1), whose
// medians' ratio is exactly 1.5; and the paired form on pairs that share
// their noise.
func TestBootstrapIntervalCoversTheTrueRatio(t *testing.T) {
	t.Parallel()
	const experiments, n = 300, 400
	for _, paired := range []bool{false, true} {
		covered, width := 0, 0.0
		rng := rand.New(rand.NewPCG(7, 11))
		for e := range experiments {
			a, b := make([]float64, n), make([]float64, n)
			for i := range a {
				common := rng.ExpFloat64() // the load both sides of a pair saw
				if paired {
					a[i], b[i] = 1.5*(common+rng.ExpFloat64()), common+rng.ExpFloat64()
				} else {
					a[i], b[i] = 1.5*rng.ExpFloat64(), rng.ExpFloat64()
				}
			}
			iv := bootstrapRatio(a, b, Median, paired, uint64(e), 1000)
			if iv.Contains(1.5) {
				covered++
			}
			width += iv.Hi - iv.Lo
		}
		rate := float64(covered) / experiments
		t.Logf("paired %t: coverage %.3f, mean width %.3f", paired, rate, width/experiments)
		require.GreaterOrEqual(t, rate, 0.90, "paired %t: coverage %.3f", paired, rate)
		require.LessOrEqual(t, rate, 0.99, "paired %t: coverage %.3f: too wide to mean 95%%", paired, rate)
		// The medians' standard error alone makes it about 0.6 wide unpaired
		// at n = 400; much wider would say nothing.
		require.Less(t, width/experiments, 0.8, "paired %t: an interval that wide says nothing", paired)
	}
}

// Too little to resample, mismatched pairs or a zero baseline give no
// interval, and no interval meets any target.
func TestBootstrapRefusesWhatItCannotJudge(t *testing.T) {
	t.Parallel()
	require.False(t, RatioInterval([]float64{1}, []float64{1, 2}, Median, false).Valid())
	require.False(t, RatioInterval([]float64{1, 2, 3}, []float64{1, 2}, Median, true).Valid())
	require.False(t, RatioInterval([]float64{1, 2, 3}, []float64{0, 0, 0}, Median, false).Valid())
	require.False(t, AtMost(100).Met(Interval{}))
	require.False(t, AtLeast(0).Met(Interval{}))
}

// A target is judged on the interval's unfavourable bound, not on the point
// estimate: a ratio of 1.15 whose upper bound is 1.25 misses "≤ 1.2".
func TestLimitIsJudgedOnTheUnfavourableBound(t *testing.T) {
	t.Parallel()
	cases := []struct {
		limit Limit
		iv    Interval
		met   bool
	}{
		{AtMost(1.2), Interval{1.05, 1.25}, false},
		{AtMost(1.2), Interval{0.9, 1.2}, true},
		{AtMost(1.2), Interval{1.21, 1.3}, false},
		{AtLeast(0.5), Interval{0.45, 0.7}, false},
		{AtLeast(0.5), Interval{0.5, 0.6}, true},
		{AtLeast(1.0), Interval{1.1, 1.4}, true},
	}
	for _, tc := range cases {
		require.Equal(t, tc.met, tc.limit.Met(tc.iv), "%s on %s", tc.limit, tc.iv)
	}
	require.Equal(t, "≤ 1.2 (upper bound)", AtMost(1.2).String())
	require.Equal(t, "≥ 0.5 (lower bound)", AtLeast(0.5).String())
}

// Spread is the statistic's range over repetitions, or the IQR of one.
func TestSpreadOverRepetitionsOrIQR(t *testing.T) {
	t.Parallel()
	rates := Sample{{8.4}, {8.9}, {8.6}}
	require.Equal(t, Spread{8.4, 8.9, "range of 3 repetitions"}, SpreadOf(rates, Mean))
	waves := Sample{{1, 2, 3}, {10, 20, 30}}
	require.Equal(t, Spread{2, 20, "range of 2 repetitions"}, SpreadOf(waves, Median))
	one := Sample{{1, 2, 3, 4, 5, 6, 7, 8}}
	require.Equal(t, Spread{2, 6, "IQR"}, SpreadOf(one, Median))
	require.Equal(t, Spread{}, SpreadOf(Sample{{3}}, Median), "one value has no spread")
}

// Compare puts the pieces together: statistics, ratio, interval, counts.
func TestCompareRatesOverRounds(t *testing.T) {
	t.Parallel()
	baton, base := Sample{{9}, {8}, {10}}, Sample{{10}, {10}, {10}}
	c := Compare(baton, base, Mean, true)
	require.Equal(t, 9.0, c.Baton)
	require.Equal(t, 10.0, c.Base)
	require.InDelta(t, 0.9, c.Ratio, 1e-9)
	require.Equal(t, 3, c.Reps)
	require.Equal(t, 3, c.BatonN)
	require.True(t, c.Interval.Contains(0.9))
	require.GreaterOrEqual(t, c.Interval.Lo, 0.8-1e-9, "no resample of these rounds is below 0.8")
	require.LessOrEqual(t, c.Interval.Hi, 1.0+1e-9)
	require.False(t, math.IsNaN(c.Interval.Lo))
}
