package bench

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"sort"
	"time"
)

// percentile returns the p-th percentile (0 < p ≤ 100) of ds by nearest rank.
func percentile(ds []time.Duration, p float64) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	return s[rank(len(s), p)]
}

// rank is the index, in n sorted values, of the p-th percentile by nearest
// rank: the smallest value with at least p% of the values at or below it.
func rank(n int, p float64) int {
	r := int(float64(n)*p/100+0.999999) - 1
	return min(max(r, 0), n-1)
}

// ms formats a duration in milliseconds with one decimal.
func ms(d time.Duration) string { return fmt.Sprintf("%.1f ms", float64(d)/float64(time.Millisecond)) }

// ratio is a/b, or 0 when b is 0.
func ratio(a, b float64) float64 {
	if b == 0 {
		return 0
	}
	return a / b
}

// spread is max − min of counts over keys; a key missing from counts counts 0.
func spread(counts map[string]int, keys []string) int {
	lo, hi := -1, 0
	for _, k := range keys {
		n := counts[k]
		if lo < 0 || n < lo {
			lo = n
		}
		hi = max(hi, n)
	}
	return hi - max(lo, 0)
}

// Every interval in the report is a 95% percentile-bootstrap interval from
// BootstrapResamples resamples drawn by a PCG seeded with BootstrapSeed: the
// same samples always give the same interval, on any machine.
const (
	BootstrapResamples = 2000
	BootstrapSeed      = 20261201
)

// Statistic reduces samples to one number: a percentile by nearest rank (as
// percentile does), or the mean.
type Statistic struct {
	Name string
	p    float64 // 0 < p ≤ 100; 0 is the mean
}

// The statistics figures use.
var (
	Median = Statistic{"median", 50}
	P99    = Statistic{"p99", 99}
	Mean   = Statistic{"mean", 0}
)

// Percentile is the p-th percentile by nearest rank, 0 < p ≤ 100.
func Percentile(p float64) Statistic { return Statistic{fmt.Sprintf("p%g", p), p} }

// Of is the statistic of xs; 0 when xs is empty.
func (s Statistic) Of(xs []float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	sorted := slices.Clone(xs)
	slices.Sort(sorted)
	ones := make([]int, len(sorted))
	for i := range ones {
		ones[i] = 1
	}
	return s.weighted(sorted, ones, len(sorted))
}

// weighted is the statistic of a resample of n values given as how many times
// (counts[i]) it holds each of the sorted values: a resample need not be
// sorted again, which keeps 2,000 resamples of 2,000 samples fast.
func (s Statistic) weighted(sorted []float64, counts []int, n int) float64 {
	if s.p == 0 {
		sum := 0.0
		for i, c := range counts {
			sum += float64(c) * sorted[i]
		}
		return sum / float64(n)
	}
	want, seen := rank(n, s.p)+1, 0
	for i, c := range counts {
		if seen += c; seen >= want {
			return sorted[i]
		}
	}
	return sorted[len(sorted)-1]
}

// Interval is a 95% interval; the zero value means none was computed.
type Interval struct{ Lo, Hi float64 }

// Valid reports whether the interval was computed.
func (iv Interval) Valid() bool { return iv.Hi > 0 || iv.Lo > 0 }

// Contains reports whether v lies in the interval.
func (iv Interval) Contains(v float64) bool { return iv.Valid() && iv.Lo <= v && v <= iv.Hi }

func (iv Interval) String() string {
	if !iv.Valid() {
		return "–"
	}
	return fmt.Sprintf("%.2f–%.2f", iv.Lo, iv.Hi)
}

// RatioInterval is the 95% percentile-bootstrap interval of
// stat(a) / stat(b), seeded with BootstrapSeed. Paired draws the same indices
// from both sides, for samples taken side by side (a timer and its twin with
// the same deadline, two sides of one round), and needs len(a) == len(b);
// otherwise each side is resampled on its own. Fewer than two samples on a
// side, or a baseline whose statistic is 0, gives no interval.
func RatioInterval(a, b []float64, stat Statistic, paired bool) Interval {
	return bootstrapRatio(a, b, stat, paired, BootstrapSeed, BootstrapResamples)
}

func bootstrapRatio(a, b []float64, stat Statistic, paired bool, seed uint64, resamples int) Interval {
	if len(a) < 2 || len(b) < 2 || (paired && len(a) != len(b)) {
		return Interval{}
	}
	sa, posA := sortedWithRanks(a)
	sb, posB := sortedWithRanks(b)
	ca, cb := make([]int, len(a)), make([]int, len(b))
	rng := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	ratios := make([]float64, 0, resamples)
	for range resamples {
		clear(ca)
		clear(cb)
		if paired {
			for range len(a) {
				i := rng.IntN(len(a))
				ca[posA[i]]++
				cb[posB[i]]++
			}
		} else {
			// Drawn by sorted position: the same samples in any order give
			// the same interval.
			for range len(a) {
				ca[rng.IntN(len(a))]++
			}
			for range len(b) {
				cb[rng.IntN(len(b))]++
			}
		}
		den := stat.weighted(sb, cb, len(b))
		if den == 0 {
			continue
		}
		ratios = append(ratios, stat.weighted(sa, ca, len(a))/den)
	}
	if len(ratios) < resamples/2 {
		return Interval{}
	}
	sort.Float64s(ratios)
	lo := int(math.Floor(0.025 * float64(len(ratios))))
	hi := int(math.Ceil(0.975*float64(len(ratios)))) - 1
	return Interval{ratios[lo], ratios[min(hi, len(ratios)-1)]}
}

// sortedWithRanks returns xs sorted and, for each xs[i], its index in that
// order (ties broken by position, so every index is used once).
func sortedWithRanks(xs []float64) ([]float64, []int) {
	order := make([]int, len(xs))
	for i := range order {
		order[i] = i
	}
	sort.SliceStable(order, func(i, j int) bool { return xs[order[i]] < xs[order[j]] })
	sorted, pos := make([]float64, len(xs)), make([]int, len(xs))
	for r, i := range order {
		sorted[r], pos[i] = xs[i], r
	}
	return sorted, pos
}

// Limit is a target on a ratio, judged on the unfavourable bound of its 95%
// interval: an at-most limit on the upper bound, an at-least limit on the
// lower. A ratio with no interval does not meet it: the run did not measure
// enough to tell.
type Limit struct {
	AtMost bool
	Value  float64
}

// AtMost is a limit the ratio's upper bound must not exceed.
func AtMost(v float64) Limit { return Limit{AtMost: true, Value: v} }

// AtLeast is a limit the ratio's lower bound must reach.
func AtLeast(v float64) Limit { return Limit{Value: v} }

// Met judges the limit on the interval's unfavourable bound.
func (l Limit) Met(iv Interval) bool {
	if !iv.Valid() {
		return false
	}
	if l.AtMost {
		return iv.Hi <= l.Value
	}
	return iv.Lo >= l.Value
}

func (l Limit) String() string {
	if l.AtMost {
		return fmt.Sprintf("≤ %g (upper bound)", l.Value)
	}
	return fmt.Sprintf("≥ %g (lower bound)", l.Value)
}

// Sample is one side of a comparison: its values, grouped by repetition (a
// round, a wave, a run). A rate is one value a repetition.
type Sample [][]float64

// All is every value, repetitions in order.
func (s Sample) All() []float64 { return slices.Concat(s...) }

// N is how many values there are.
func (s Sample) N() int { return len(s.All()) }

// Spread is how far a figure moved: its statistic's smallest and largest over
// repetitions, or, measured in one repetition, the samples' interquartile
// range.
type Spread struct {
	Lo, Hi float64
	Of     string // what the spread is over: "range of 3 rounds", "IQR"
}

// SpreadOf is stat's spread over s's repetitions, or the IQR of its only one.
func SpreadOf(s Sample, stat Statistic) Spread {
	var reps []float64
	for _, r := range s {
		if len(r) > 0 {
			reps = append(reps, stat.Of(r))
		}
	}
	switch {
	case len(reps) >= 2:
		return Spread{slices.Min(reps), slices.Max(reps), fmt.Sprintf("range of %d repetitions", len(reps))}
	case len(reps) == 1 && len(s.All()) >= 4:
		all := s.All()
		return Spread{Percentile(25).Of(all), Percentile(75).Of(all), "IQR"}
	}
	return Spread{}
}

// Comparison is Baton's figure against a baseline's from the same run: each
// side's statistic, their ratio with its 95% interval, and how far each side
// moved between repetitions.
type Comparison struct {
	Stat                    Statistic
	Baton, Base, Ratio      float64
	Interval                Interval
	BatonN, BaseN, Reps     int
	BatonSpread, BaseSpread Spread
}

// Compare reduces both sides with stat and bootstraps their ratio's interval
// over every sample (paired: see RatioInterval).
func Compare(baton, base Sample, stat Statistic, paired bool) Comparison {
	a, b := baton.All(), base.All()
	c := Comparison{Stat: stat, Baton: stat.Of(a), Base: stat.Of(b), BatonN: len(a), BaseN: len(b), Reps: max(len(baton), len(base))}
	c.Ratio = ratio(c.Baton, c.Base)
	c.Interval = RatioInterval(a, b, stat, paired)
	c.BatonSpread, c.BaseSpread = SpreadOf(baton, stat), SpreadOf(base, stat)
	return c
}

// Durations turns durations into milliseconds, the unit Samples of time use.
func Durations(ds []time.Duration) []float64 {
	out := make([]float64, len(ds))
	for i, d := range ds {
		out[i] = float64(d) / float64(time.Millisecond)
	}
	return out
}
