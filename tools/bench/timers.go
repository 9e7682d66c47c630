package bench

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	historypb "go.temporal.io/api/history/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"

	"github.com/batonhq/baton/policy"
	"github.com/batonhq/baton/tools/bench/baseline"
	"github.com/batonhq/baton/workflows"
)

// TimerResult is figure 6: from the server's own history timestamps, the span
// Baton adds between a claim window's timer firing and the fallback being
// recorded, against a sleep-only workflow's timer firing and it completing,
// the two timers of each pair sharing one deadline; and each population's
// firing lateness, the server's part.
type TimerResult struct {
	Pairs, Wave int
	Window      time.Duration
	// Span is, per pair, Baton's claim window fired → default assignee
	// recorded; SleepSpan the twin's timer fired → workflow completed. In
	// milliseconds, by wave; pair i of a wave is at index i on both sides.
	Span, SleepSpan Sample
	// LateFire and SleepLateFire are each timer's firing lateness: fired −
	// deadline (its TimerStarted event's time + its length), milliseconds,
	// by wave.
	LateFire, SleepLateFire Sample
	// DeadlineGap is, per pair, the twin's deadline − the claim's, in
	// milliseconds: how nearly the two deadlines agree.
	DeadlineGap []float64
	// TooLate are pairs left out because the twin could only start after the
	// claim's deadline had passed (a loaded machine; a longer window helps).
	// Waves go on until Pairs pairs are measured, or twice as many tried.
	TooLate int
}

// timerStarters is how many pairs are being started at once in a wave.
const timerStarters = 32

// Timers measures pairs claims whose capture waits in a queue for window and
// then falls back to root, each paired with a sleep-only twin started, once
// the claim's window timer exists, to sleep until the same deadline. They run
// in waves of wave pairs, each wave drained before the next, so the server
// is never asked to hold more than wave of each at once.
func (s *Stack) Timers(ctx context.Context, pairs, wave int, window time.Duration) (TimerResult, error) {
	r := TimerResult{Pairs: pairs, Wave: wave, Window: window}
	w, err := s.startWorkers("timers", mustPolicy("bench-window.yaml", windowPolicy(window)))
	if err != nil {
		return r, err
	}
	defer w.stop()
	for k, done, tried := 0, 0, 0; done < pairs; k++ {
		if tried >= 2*pairs {
			return r, fmt.Errorf("%d of %d pairs measured: %d twins started after their claim's deadline (try a longer --window)", done, pairs, r.TooLate)
		}
		n := min(wave, pairs-done)
		ws, err := s.timerWave(ctx, w, fmt.Sprintf("window%02d", k), n, window)
		if err != nil {
			return r, fmt.Errorf("wave %d: %w", k+1, err)
		}
		r.Span, r.SleepSpan = append(r.Span, ws.span), append(r.SleepSpan, ws.sleepSpan)
		r.LateFire, r.SleepLateFire = append(r.LateFire, ws.late), append(r.SleepLateFire, ws.sleepLate)
		r.DeadlineGap = append(r.DeadlineGap, ws.gap...)
		r.TooLate += ws.dropped
		done, tried = done+len(ws.span), tried+n
	}
	return r, nil
}

// waveTimes are one wave's measurements, pair by pair, and the pairs left
// out because their twin started too late.
type waveTimes struct {
	span, sleepSpan, late, sleepLate, gap []float64
	dropped                               int
}

func (s *Stack) timerWave(ctx context.Context, w *workers, prefix string, n int, window time.Duration) (waveTimes, error) {
	var wt waveTimes
	ids, _, err := runMany(ctx, prefix, n, timerStarters, func(ctx context.Context, id string) error {
		if _, err := w.claims.Start(ctx, workflows.ClaimInput{ClaimID: id, Owner: "root"}); err != nil {
			return err
		}
		deadline, err := s.awaitTimer(ctx, workflows.WorkflowID(id), window)
		if err != nil {
			return err
		}
		_, err = s.Client.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: "sleep-" + id, TaskQueue: w.noop}, baseline.SleepWorkflow, deadline)
		return err
	})
	if err != nil {
		return wt, err
	}
	late := map[string]bool{}
	for _, id := range ids {
		err := s.Client.GetWorkflow(ctx, "sleep-"+id, "").Get(ctx, nil)
		var app *temporal.ApplicationError
		if errors.As(err, &app) && app.Type() == baseline.DeadlinePassed {
			late[id] = true
			continue
		}
		if err != nil {
			return wt, fmt.Errorf("sleep-only twin of %s: %w", id, err)
		}
	}
	err = poll(ctx, "wait for every window to fall back", func() (bool, error) {
		var fell int
		err := s.Pool.QueryRow(ctx, `SELECT count(*) FROM decisions WHERE claim_id LIKE $1 || '-%' AND method = $2`,
			prefix, string(policy.MethodDefaultAssignee)).Scan(&fell)
		return fell == n, err
	})
	if err != nil {
		return wt, err
	}
	// Histories are read once the wave is over, so reading them loads
	// nothing the next wave measures.
	for _, id := range ids {
		if late[id] {
			wt.dropped++
			continue
		}
		claim, err := s.claimTimes(ctx, id, window)
		if err != nil {
			return wt, err
		}
		twin, err := s.twinTimes(ctx, "sleep-"+id)
		if err != nil {
			return wt, err
		}
		wt.span, wt.sleepSpan = append(wt.span, claim.span), append(wt.sleepSpan, twin.span)
		wt.late, wt.sleepLate = append(wt.late, claim.late), append(wt.sleepLate, twin.late)
		wt.gap = append(wt.gap, millis(twin.deadline.Sub(claim.deadline)))
	}
	return wt, nil
}

// awaitTimer follows a workflow's history as it grows until a timer of length
// d starts, and returns that timer's deadline as the server keeps it: its
// TimerStarted event's time plus d. (The workflow's own clock, the start of
// the task that started the timer, is no better a deadline to give a twin: on
// a loaded machine a claim's task can take a second between the two, and a
// twin's lag is the few milliseconds of a task that only starts a timer.)
func (s *Stack) awaitTimer(ctx context.Context, workflowID string, d time.Duration) (time.Time, error) {
	ctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	it := s.Client.GetWorkflowHistory(ctx, workflowID, "", true, enumspb.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
	for it.HasNext() {
		ev, err := it.Next()
		if err != nil {
			return time.Time{}, fmt.Errorf("follow the history of %s: %w", workflowID, err)
		}
		if ev.GetEventType() == enumspb.EVENT_TYPE_TIMER_STARTED && ev.GetTimerStartedEventAttributes().GetStartToFireTimeout().AsDuration() == d {
			return ev.GetEventTime().AsTime().Add(d), nil
		}
	}
	return time.Time{}, fmt.Errorf("%s ended without starting a timer of %s", workflowID, d)
}

// timerTimes are one timer's figures: its deadline, how late it fired and
// the span from its firing to the work it released being recorded.
type timerTimes struct {
	deadline   time.Time
	late, span float64 // milliseconds
}

// claimTimes reads a claim's window timer and its fallback from its history.
func (s *Stack) claimTimes(ctx context.Context, id string, window time.Duration) (timerTimes, error) {
	events, err := history(ctx, s.Client, workflows.WorkflowID(id))
	if err != nil {
		return timerTimes{}, err
	}
	t, ok := firstFired(events, window)
	if !ok {
		return timerTimes{}, fmt.Errorf("claim %s: its claim window timer never fired", id)
	}
	recorded := lastCompleted(events, t.fired)
	if recorded.IsZero() {
		return timerTimes{}, fmt.Errorf("claim %s: the default assignee was never recorded after the window", id)
	}
	return timerTimes{deadline: t.deadline(), late: millis(t.fired.Sub(t.deadline())), span: millis(recorded.Sub(t.fired))}, nil
}

// twinTimes reads a sleep-only twin's one timer and its completion.
func (s *Stack) twinTimes(ctx context.Context, id string) (timerTimes, error) {
	events, err := history(ctx, s.Client, id)
	if err != nil {
		return timerTimes{}, err
	}
	t, ok := firstFired(events, 0)
	if !ok || events[len(events)-1].GetEventType() != enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED {
		return timerTimes{}, fmt.Errorf("sleep-only workflow %s: its timer never fired, or it did not complete", id)
	}
	end := events[len(events)-1].GetEventTime().AsTime()
	return timerTimes{deadline: t.deadline(), late: millis(t.fired.Sub(t.deadline())), span: millis(end.Sub(t.fired))}, nil
}

func millis(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// timerSpan is one timer in a history: when it started, for how long and,
// if it did, when it fired.
type timerSpan struct {
	started, fired time.Time
	length         time.Duration
}

// deadline is when the server is due to fire the timer: its TimerStarted
// event's time plus its length.
func (t timerSpan) deadline() time.Time { return t.started.Add(t.length) }

// timersOf lists a history's timers of length d (0: of any length) in the
// order they started.
func timersOf(events []*historypb.HistoryEvent, d time.Duration) []timerSpan {
	var out []timerSpan
	index := map[int64]int{} // TimerStarted event id → position in out
	for _, ev := range events {
		switch ev.GetEventType() {
		case enumspb.EVENT_TYPE_TIMER_STARTED:
			length := ev.GetTimerStartedEventAttributes().GetStartToFireTimeout().AsDuration()
			if d == 0 || length == d {
				index[ev.GetEventId()] = len(out)
				out = append(out, timerSpan{started: ev.GetEventTime().AsTime(), length: length})
			}
		case enumspb.EVENT_TYPE_TIMER_FIRED:
			if i, ok := index[ev.GetTimerFiredEventAttributes().GetStartedEventId()]; ok {
				out[i].fired = ev.GetEventTime().AsTime()
			}
		}
	}
	return out
}

// firstFired is the first timer of length d (0: any) that fired.
func firstFired(events []*historypb.HistoryEvent, d time.Duration) (timerSpan, bool) {
	for _, t := range timersOf(events, d) {
		if !t.fired.IsZero() {
			return t, true
		}
	}
	return timerSpan{}, false
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
