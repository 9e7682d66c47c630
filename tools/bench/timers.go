package bench

import (
	"context"
	"fmt"
	"strings"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	historypb "go.temporal.io/api/history/v1"
	"go.temporal.io/sdk/client"

	"github.com/batonhq/baton/policy"
	"github.com/batonhq/baton/tools/bench/baseline"
	"github.com/batonhq/baton/workflows"
)

// TimerResult is figure 6: how late a claim window's fallback lands against a
// workflow that only sleeps for the same time, both measured from the server's
// own history timestamps.
type TimerResult struct {
	Claims int
	Window time.Duration
	// FireP50/P99: timer fired − (started + window), Baton's window timer.
	FireP50, FireP99 time.Duration
	// FallbackP50/P99: the default assignee recorded − (started + window).
	FallbackP50, FallbackP99 time.Duration
	// SleepP50/P99: the sleep-only workflow completed − (started + window).
	SleepP50, SleepP99 time.Duration
	// SpanP50/P99: from Baton's window timer firing to the fallback being
	// recorded; SleepSpanP50/P99: from the sleep-only workflow's timer firing
	// to it completing. The part of the lateness each side's own work adds.
	SpanP50, SpanP99           time.Duration
	SleepSpanP50, SleepSpanP99 time.Duration
}

// Timers starts n claims whose capture waits in a queue for window and then
// falls back to root, and n sleep-only workflows of the same length.
func (s *Stack) Timers(ctx context.Context, n int, window time.Duration) (TimerResult, error) {
	r := TimerResult{Claims: n, Window: window}
	w, err := s.startWorkers(fmt.Sprintf("timers-%d", n), mustPolicy("bench-window.yaml", windowPolicy(window)))
	if err != nil {
		return r, err
	}
	defer w.stop()

	// Each claim starts together with its sleep-only twin, so both see the same
	// load when their timers fire.
	var sleepIDs []string
	prefix := fmt.Sprintf("window%d", n)
	ids, _, err := runMany(ctx, prefix, n, 16, func(ctx context.Context, id string) error {
		if _, err := w.claims.Start(ctx, workflows.ClaimInput{ClaimID: id, Owner: "root"}); err != nil {
			return err
		}
		_, err := s.Client.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: "sleep-" + id, TaskQueue: w.noop}, baseline.SleepWorkflow, window)
		return err
	})
	if err != nil {
		return r, err
	}
	for _, id := range ids {
		sleepIDs = append(sleepIDs, "sleep-"+id)
		if err := s.Client.GetWorkflow(ctx, "sleep-"+id, "").Get(ctx, nil); err != nil {
			return r, fmt.Errorf("sleep workflow %s: %w", id, err)
		}
	}
	err = poll(ctx, "wait for every window to fall back", func() (bool, error) {
		var fell int
		err := s.Pool.QueryRow(ctx, `SELECT count(*) FROM decisions WHERE claim_id LIKE $1 || '-%' AND method = $2`,
			prefix, string(policy.MethodDefaultAssignee)).Scan(&fell)
		return fell == n, err
	})
	if err != nil {
		return r, err
	}

	var fire, fallback, sleep, span, sleepSpan []time.Duration
	for _, id := range ids {
		events, err := history(ctx, s.Client, workflows.WorkflowID(id))
		if err != nil {
			return r, err
		}
		started, fired, ok := firstFired(events, window)
		if !ok {
			return r, fmt.Errorf("claim %s: its claim window timer never fired", id)
		}
		fire = append(fire, fired.Sub(started)-window)
		recorded := lastCompleted(events, fired)
		if recorded.IsZero() {
			return r, fmt.Errorf("claim %s: the default assignee was never recorded after the window", id)
		}
		fallback = append(fallback, recorded.Sub(started)-window)
		span = append(span, recorded.Sub(fired))
	}
	for _, id := range sleepIDs {
		events, err := history(ctx, s.Client, id)
		if err != nil {
			return r, err
		}
		started, fired, ok := firstFired(events, window)
		if !ok {
			return r, fmt.Errorf("sleep workflow %s: timer never fired", id)
		}
		end := events[len(events)-1].GetEventTime().AsTime()
		sleep = append(sleep, end.Sub(started)-window)
		sleepSpan = append(sleepSpan, end.Sub(fired))
	}
	r.FireP50, r.FireP99 = percentile(fire, 50), percentile(fire, 99)
	r.FallbackP50, r.FallbackP99 = percentile(fallback, 50), percentile(fallback, 99)
	r.SleepP50, r.SleepP99 = percentile(sleep, 50), percentile(sleep, 99)
	r.SpanP50, r.SpanP99 = percentile(span, 50), percentile(span, 99)
	r.SleepSpanP50, r.SleepSpanP99 = percentile(sleepSpan, 50), percentile(sleepSpan, 99)
	return r, nil
}

// timerSpan is one timer in a history: when it started and, if it did, fired.
type timerSpan struct{ started, fired time.Time }

// timersOf lists a history's timers of length d in the order they started.
func timersOf(events []*historypb.HistoryEvent, d time.Duration) []timerSpan {
	var out []timerSpan
	index := map[int64]int{} // TimerStarted event id → position in out
	for _, ev := range events {
		switch ev.GetEventType() {
		case enumspb.EVENT_TYPE_TIMER_STARTED:
			if ev.GetTimerStartedEventAttributes().GetStartToFireTimeout().AsDuration() == d {
				index[ev.GetEventId()] = len(out)
				out = append(out, timerSpan{started: ev.GetEventTime().AsTime()})
			}
		case enumspb.EVENT_TYPE_TIMER_FIRED:
			if i, ok := index[ev.GetTimerFiredEventAttributes().GetStartedEventId()]; ok {
				out[i].fired = ev.GetEventTime().AsTime()
			}
		}
	}
	return out
}

// firstFired is the first timer of length d that fired.
func firstFired(events []*historypb.HistoryEvent, d time.Duration) (started, fired time.Time, ok bool) {
	for _, t := range timersOf(events, d) {
		if !t.fired.IsZero() {
			return t.started, t.fired, true
		}
	}
	return started, fired, false
}

// lastCompleted is when the fallback's assignment was recorded after the timer
// fired: the RecordAssignment local activity's marker (its workflow task's
// completion), or, for claims before changeLean, the activity's completion.
func lastCompleted(events []*historypb.HistoryEvent, after time.Time) time.Time {
	scheduled := map[int64]bool{}
	for _, ev := range events {
		if ev.GetEventTime().AsTime().Before(after) {
			continue
		}
		switch ev.GetEventType() {
		case enumspb.EVENT_TYPE_MARKER_RECORDED:
			data := ev.GetMarkerRecordedEventAttributes().GetDetails()["data"]
			for _, p := range data.GetPayloads() {
				if strings.Contains(string(p.GetData()), workflows.ActivityRecordAssignment) {
					return ev.GetEventTime().AsTime()
				}
			}
		case enumspb.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED:
			if ev.GetActivityTaskScheduledEventAttributes().GetActivityType().GetName() == workflows.ActivityRecordAssignment {
				scheduled[ev.GetEventId()] = true
			}
		case enumspb.EVENT_TYPE_ACTIVITY_TASK_COMPLETED:
			if scheduled[ev.GetActivityTaskCompletedEventAttributes().GetScheduledEventId()] {
				return ev.GetEventTime().AsTime()
			}
		}
	}
	return time.Time{}
}
