package bench

import (
	"bufio"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	commonpb "go.temporal.io/api/common/v1"
	enumspb "go.temporal.io/api/enums/v1"
	historypb "go.temporal.io/api/history/v1"
	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/batonhq/baton/workflows"
)

func msList(ns ...int) []time.Duration {
	out := make([]time.Duration, len(ns))
	for i, n := range ns {
		out[i] = time.Duration(n) * time.Millisecond
	}
	return out
}

// Nearest rank: the p-th percentile is the smallest value with at least p% of
// the values at or below it, whatever order they come in.
func TestPercentile(t *testing.T) {
	t.Parallel()
	hundred := make([]int, 100)
	for i := range hundred {
		hundred[i] = 100 - i // 100, 99, …, 1: unsorted on purpose
	}
	cases := []struct {
		name string
		in   []time.Duration
		p    float64
		want time.Duration
	}{
		{"empty", nil, 50, 0},
		{"one value", msList(7), 99, 7 * time.Millisecond},
		{"p50 of 1..100", msList(hundred...), 50, 50 * time.Millisecond},
		{"p99 of 1..100", msList(hundred...), 99, 99 * time.Millisecond},
		{"p100 is the largest", msList(hundred...), 100, 100 * time.Millisecond},
		{"p50 of four rounds up the rank", msList(4, 1, 3, 2), 50, 2 * time.Millisecond},
		{"p99 of ten is the largest", msList(1, 2, 3, 4, 5, 6, 7, 8, 9, 10), 99, 10 * time.Millisecond},
		{"a tiny p is the smallest", msList(5, 3, 9), 0.1, 3 * time.Millisecond},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			in := append([]time.Duration(nil), tc.in...)
			require.Equal(t, tc.want, percentile(tc.in, tc.p))
			require.Equal(t, in, tc.in, "percentile must not reorder its input")
		})
	}
}

func TestSpreadAndShareShortfall(t *testing.T) {
	t.Parallel()
	users := []string{"a", "b", "c"}
	require.Equal(t, 0, spread(map[string]int{"a": 2, "b": 2, "c": 2}, users))
	require.Equal(t, 1, spread(map[string]int{"a": 3, "b": 2, "c": 2}, users))
	require.Equal(t, 2, spread(map[string]int{"a": 2, "b": 2}, users), "a user with no turns counts 0")
	require.Equal(t, 0, spread(map[string]int{"a": 9, "z": 1}, []string{"a"}), "only the keys asked about count")

	// 7 turns among 3: everyone 2 or 3 is exact.
	require.Equal(t, 0, ShareShortfall(map[string]int{"a": 3, "b": 2, "c": 2}, 3, 7))
	// One skipped turn: a has 1 too many, c 1 too few; both are counted.
	require.Equal(t, 2, ShareShortfall(map[string]int{"a": 3, "b": 2, "c": 1}, 3, 6))
	require.Equal(t, 4, ShareShortfall(map[string]int{"a": 3, "b": 3, "c": 0}, 3, 6))
	// Someone eligible who never got a turn is short by a whole share.
	require.Equal(t, 2, ShareShortfall(map[string]int{"a": 2, "b": 2}, 3, 6))
}

func TestTurnCheckCountsEachFaultOnItsOwn(t *testing.T) {
	t.Parallel()
	require.True(t, TurnCheck{}.Clean())
	// A missing row and a mismatched retry must not cancel out.
	c := TurnCheck{Mismatched: 1}.add(TurnCheck{Missing: 1})
	require.False(t, c.Clean())
	require.Equal(t, "mismatched 1, missing 1, skipped 0", c.String())
}

var t0 = time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)

func event(id int64, at time.Duration, kind enumspb.EventType) *historypb.HistoryEvent {
	return &historypb.HistoryEvent{EventId: id, EventTime: timestamppb.New(t0.Add(at)), EventType: kind}
}

func scheduled(id int64, at time.Duration, name string) *historypb.HistoryEvent {
	ev := event(id, at, enumspb.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED)
	ev.Attributes = &historypb.HistoryEvent_ActivityTaskScheduledEventAttributes{ActivityTaskScheduledEventAttributes: &historypb.ActivityTaskScheduledEventAttributes{
		ActivityType: &commonpb.ActivityType{Name: name}}}
	return ev
}

func completed(id int64, at time.Duration, scheduledID int64) *historypb.HistoryEvent {
	ev := event(id, at, enumspb.EVENT_TYPE_ACTIVITY_TASK_COMPLETED)
	ev.Attributes = &historypb.HistoryEvent_ActivityTaskCompletedEventAttributes{ActivityTaskCompletedEventAttributes: &historypb.ActivityTaskCompletedEventAttributes{
		ScheduledEventId: scheduledID}}
	return ev
}

func timerStarted(id int64, at, d time.Duration) *historypb.HistoryEvent {
	ev := event(id, at, enumspb.EVENT_TYPE_TIMER_STARTED)
	ev.Attributes = &historypb.HistoryEvent_TimerStartedEventAttributes{TimerStartedEventAttributes: &historypb.TimerStartedEventAttributes{
		StartToFireTimeout: durationpb.New(d)}}
	return ev
}

func timerFired(id int64, at time.Duration, startedID int64) *historypb.HistoryEvent {
	ev := event(id, at, enumspb.EVENT_TYPE_TIMER_FIRED)
	ev.Attributes = &historypb.HistoryEvent_TimerFiredEventAttributes{TimerFiredEventAttributes: &historypb.TimerFiredEventAttributes{
		StartedEventId: startedID}}
	return ev
}

func marker(id int64, at time.Duration, activity string) *historypb.HistoryEvent {
	ev := event(id, at, enumspb.EVENT_TYPE_MARKER_RECORDED)
	ev.Attributes = &historypb.HistoryEvent_MarkerRecordedEventAttributes{MarkerRecordedEventAttributes: &historypb.MarkerRecordedEventAttributes{
		MarkerName: "LocalActivity",
		Details:    map[string]*commonpb.Payloads{"data": {Payloads: []*commonpb.Payload{{Data: []byte(`{"ActivityType":"` + activity + `"}`)}}}}}}
	return ev
}

func TestActivitySpansPairsEachRunWithItsOwnCompletion(t *testing.T) {
	t.Parallel()
	ms := time.Millisecond
	events := []*historypb.HistoryEvent{
		scheduled(5, 0, workflows.ActivityResolveAssignment),
		scheduled(6, 1*ms, "Other"),
		completed(7, 4*ms, 6), // the other activity: not counted
		completed(8, 10*ms, 5),
		scheduled(20, 100*ms, workflows.ActivityResolveAssignment),
		completed(21, 103*ms, 20),
		scheduled(30, 200*ms, workflows.ActivityResolveAssignment), // never completed: no span
	}
	require.Equal(t, []time.Duration{10 * ms, 3 * ms}, activitySpans(events, workflows.ActivityResolveAssignment))
	require.Empty(t, activitySpans(events, "Missing"))
}

func TestTimersOfMatchesFiringsToTheirTimersByLength(t *testing.T) {
	t.Parallel()
	ms, window := time.Millisecond, time.Second
	events := []*historypb.HistoryEvent{
		timerStarted(5, 0, window),
		timerStarted(6, 0, 5*time.Minute), // a reminder: another length, not counted
		timerFired(9, window+30*ms, 5),
		timerStarted(12, 2*window, window), // started, cancelled before it fired
		timerFired(14, 6*time.Minute, 6),
	}
	got := timersOf(events, window)
	require.Len(t, got, 2)
	require.Equal(t, t0.Add(window+30*ms), got[0].fired)
	require.True(t, got[1].fired.IsZero())

	first, ok := firstFired(events, window)
	require.True(t, ok)
	require.Equal(t, t0, first.started)
	require.Equal(t, t0.Add(window), first.deadline(), "due at its start plus its length")
	require.Equal(t, 30*ms, first.fired.Sub(first.deadline()), "fired 30 ms late")
	_, ok = firstFired(events[:1], window)
	require.False(t, ok, "a timer that never fired")

	anyLength := timersOf(events, 0)
	require.Len(t, anyLength, 3, "0 takes timers of every length, as a twin's computed one")
	require.Equal(t, 5*time.Minute, anyLength[1].length)
	require.Equal(t, t0.Add(6*time.Minute), anyLength[1].fired)
}

func TestLastCompletedFindsTheFallbackAfterTheTimer(t *testing.T) {
	t.Parallel()
	ms := time.Millisecond
	after := t0.Add(time.Second)
	events := []*historypb.HistoryEvent{
		marker(3, 0, workflows.ActivityRecordAssignment), // before the timer: not the fallback
		marker(10, time.Second+2*ms, workflows.ActivityRecordEvent),
		marker(11, time.Second+5*ms, workflows.ActivityRecordAssignment),
	}
	require.Equal(t, t0.Add(time.Second+5*ms), lastCompleted(events, after))
	// Histories from before local activities: the activity's completion.
	old := []*historypb.HistoryEvent{
		scheduled(10, time.Second+ms, workflows.ActivityRecordAssignment),
		completed(12, time.Second+9*ms, 10),
	}
	require.Equal(t, t0.Add(time.Second+9*ms), lastCompleted(old, after))
	require.True(t, lastCompleted(events[:2], after).IsZero(), "no fallback recorded")
}

func TestMetricValueReadsOneUnlabelledSeries(t *testing.T) {
	t.Parallel()
	text := "# HELP go_memstats_heap_inuse_bytes x\n# TYPE go_memstats_heap_inuse_bytes gauge\ngo_memstats_heap_inuse_bytes_total 1\ngo_memstats_heap_inuse_bytes 1.2345e+07\n"
	v, err := metricValue(bufio.NewScanner(strings.NewReader(text)), "go_memstats_heap_inuse_bytes")
	require.NoError(t, err)
	require.Equal(t, int64(12345000), v)
	_, err = metricValue(bufio.NewScanner(strings.NewReader("other 1\n")), "go_memstats_heap_inuse_bytes")
	require.EqualError(t, err, "no go_memstats_heap_inuse_bytes in /metrics")
	_, err = metricValue(bufio.NewScanner(strings.NewReader("go_memstats_heap_inuse_bytes NaNx\n")), "go_memstats_heap_inuse_bytes")
	require.ErrorContains(t, err, `"NaNx" is not a number`)
}

func TestGrowthPerThousand(t *testing.T) {
	t.Parallel()
	s := []MemSample{{0, 100 * mb, 10 * mb}, {1000, 150 * mb, 30 * mb}, {2000, 160 * mb, 31 * mb}}
	rss, heap, ok := Growth(s, 0, 1000)
	require.True(t, ok)
	require.Equal(t, float64(50*mb), rss)
	require.Equal(t, float64(20*mb), heap)
	rss, _, ok = Growth(s, 1000, 2000)
	require.True(t, ok)
	require.Equal(t, float64(10*mb), rss)
	_, _, ok = Growth(s, 0, 5000)
	require.False(t, ok, "a sample that was never taken")
}

// A row without a target says so; a missed one is named, and only it.
func TestReportNamesMissedTargets(t *testing.T) {
	t.Parallel()
	rows := []Row{
		{Figure: "a", Target: "", Met: false},
		{Figure: "b", Target: "≥ 0.85", Met: true},
		{Figure: "c", Target: "≤ 1.3", Met: false},
	}
	require.Equal(t, "no target", targetText(rows[0]))
	require.Equal(t, "≥ 0.85 ✓", targetText(rows[1]))
	require.Equal(t, "≤ 1.3 ✗ MISSED", targetText(rows[2]))
	require.Equal(t, []string{"c (target ≤ 1.3)"}, Misses(rows))
	var out strings.Builder
	PrintTable(&out, rows)
	require.Contains(t, out.String(), "MISSED 1 target(s):\n  c (target ≤ 1.3)\n")
}

// The method section is written from the parameters used, not fixed prose.
func TestMethodFollowsTheParameters(t *testing.T) {
	t.Parallel()
	cfg := Config{Rounds: 2, FlowWindow: 7 * time.Second, Parallel: 3, Timers: 400, TimerWave: 100, Cache: 1234, Memory: 4321}
	cfg.Defaults()
	r := &Results{Config: cfg}
	m := r.Method()
	require.Contains(t, m, "3 claims of each in flight, for 2 windows of 7s")
	require.Contains(t, m, "6. **Timers**: 400 pairs, in waves of 100 pairs")
	require.Contains(t, m, "a PCG seeded with 20261201")
	require.Contains(t, m, "a sticky cache of 1234 claims")
	require.Contains(t, m, "--flow-window 7s --rounds 2 --parallel 3")
	cfg.Commit = "abc123"
	r.Config = cfg
	require.Contains(t, r.Markdown(), "at commit `abc123`")
}

// A throughput row carries its claims, rounds, spread and interval, and its
// target is judged on the interval's lower bound: a mean of 0.92 whose worst
// rounds reach down to 0.80 misses "≥ 0.85".
func TestReportJudgesThroughputOnItsInterval(t *testing.T) {
	t.Parallel()
	r := &Results{Flow: FlowResult{Parallel: 8, Rounds: 3, Window: 60 * time.Second,
		Baton:   FlowSide{Claims: 550, RoundRates: []float64{8, 9.5, 10}},
		Stubbed: FlowSide{Claims: 600, RoundRates: []float64{10, 10, 10}},
		Minimal: FlowSide{Claims: 600, RoundRates: []float64{10, 10, 10}}}}
	rows := r.Rows()
	got := rows[0]
	require.Equal(t, "9.17", got.Baton)
	require.InDelta(t, 0.917, got.Ratio, 0.001)
	require.Equal(t, "550 / 600 claims", got.N)
	require.Equal(t, 3, got.Reps)
	require.Equal(t, "8.00–10.00 / 10.00–10.00 (range of 3 repetitions)", got.Spread)
	require.InDelta(t, 0.8, got.Interval.Lo, 0.001, "the worst resample is every round the slowest")
	require.Equal(t, "≥ 0.85 (lower bound)", got.Target)
	require.False(t, got.Met, "the point estimate meets the target; the interval does not")
	miss := Misses(rows)
	require.Len(t, miss, 2)
	require.Contains(t, miss[0], "(target ≥ 0.85 (lower bound); ratio 0.92, 95% interval 0.80–")
	require.Equal(t, "2 stage start → assignee visible in the state query, p99 (target ≤ 1.3 (upper bound))", miss[1],
		"no latencies, no interval: a target cannot be met on nothing")

	var out strings.Builder
	PrintTable(&out, rows)
	require.Contains(t, out.String(), "95% interval")
	require.Contains(t, out.String(), "550 / 600 claims")
	require.Contains(t, r.Markdown(), "| figure | Baton | baseline | ratio | 95% interval | n | reps | spread | target |")
}

// Figure 6's target is the median span's upper bound, and only over at least
// MinTimerPairs pairs; lateness is printed with no ratio and no target.
func TestTimerRowsJudgeTheMedianSpanOverEnoughPairs(t *testing.T) {
	t.Parallel()
	timers := func(waves, per int, slower float64) TimerResult {
		rng := rand.New(rand.NewPCG(3, 4))
		r := TimerResult{Pairs: waves * per, Wave: per, Window: 2 * time.Second}
		for range waves {
			var span, sleep, late, sleepLate []float64
			for range per {
				base := 5 + rng.ExpFloat64()*5
				span, sleep = append(span, base*slower+rng.Float64()), append(sleep, base+rng.Float64())
				late, sleepLate = append(late, rng.Float64()), append(sleepLate, rng.Float64())
				r.DeadlineGap = append(r.DeadlineGap, -rng.Float64())
			}
			r.Span, r.SleepSpan = append(r.Span, span), append(r.SleepSpan, sleep)
			r.LateFire, r.SleepLateFire = append(r.LateFire, late), append(r.SleepLateFire, sleepLate)
		}
		return r
	}
	rows := (&Results{Timers: timers(8, 250, 1.05)}).Rows()
	require.Len(t, rows, 5)
	require.Equal(t, "≤ 1.2 (upper bound), n ≥ 2000", rows[0].Target)
	require.True(t, rows[0].Met, "1.05× with an interval well inside: %s", rows[0].Interval)
	require.Equal(t, "2000 / 2000", rows[0].N)
	require.Equal(t, 8, rows[0].Reps)
	require.Empty(t, rows[1].Target, "p99 is context")
	require.Zero(t, rows[2].Ratio, "lateness has no ratio")
	require.Empty(t, rows[2].Target)

	require.False(t, (&Results{Timers: timers(8, 250, 1.3)}).Rows()[0].Met, "1.3× misses")
	few := (&Results{Timers: timers(2, 250, 1.05)}).Rows()[0]
	require.True(t, AtMost(1.2).Met(few.Interval))
	require.False(t, few.Met, "500 pairs are not the 2,000 the target is about")
}
