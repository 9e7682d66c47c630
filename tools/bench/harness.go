package bench

import (
	"cmp"
	"context"
	"fmt"
	"sync"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	historypb "go.temporal.io/api/history/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/worker"

	"github.com/batonhq/baton/activities"
	"github.com/batonhq/baton/batonfx"
	"github.com/batonhq/baton/claimclient"
	"github.com/batonhq/baton/policy"
	"github.com/batonhq/baton/tools/bench/baseline"
)

// workers runs Baton's worker (with policy p), Baton's claim workflow with
// stubbed activities, and the baselines' worker in this process, each on its
// own task queue, against the stack.
type workers struct {
	baton, stub, noop string // task queues
	claims, stubbed   *claimclient.Client
	stop              func()
}

func (s *Stack) startWorkers(name string, p *policy.Policy) (*workers, error) {
	w := &workers{baton: "bench-baton-" + name, stub: "bench-stub-" + name, noop: "bench-noop-" + name}
	acts := activities.New(s.Store, p, nil, "", s.Log)
	bw := worker.New(s.Client, w.baton, worker.Options{})
	batonfx.Register(bw, acts)
	sw := worker.New(s.Client, w.stub, worker.Options{})
	registerStubbed(sw, p)
	nw := worker.New(s.Client, w.noop, worker.Options{})
	baseline.Register(nw)
	var started []worker.Worker
	w.stop = func() {
		for _, x := range started {
			x.Stop()
		}
	}
	for _, x := range []worker.Worker{bw, sw, nw} {
		if err := x.Start(); err != nil {
			w.stop()
			return nil, err
		}
		started = append(started, x)
	}
	w.claims = claimclient.New(s.Client, w.baton)
	w.stubbed = claimclient.New(s.Client, w.stub)
	return w, nil
}

// runMany calls drive for ids 1..n with at most parallel at once and returns the
// wall time from the first start to the last finish.
func runMany(ctx context.Context, prefix string, n, parallel int, drive func(ctx context.Context, id string) error) ([]string, time.Duration, error) {
	ids := make([]string, n)
	errs := make([]error, n)
	sem := make(chan struct{}, parallel)
	var wg sync.WaitGroup
	start := time.Now()
	for i := range n {
		ids[i] = fmt.Sprintf("%s-%05d", prefix, i)
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			errs[i] = drive(ctx, ids[i])
		}()
	}
	wg.Wait()
	wall := time.Since(start)
	for i, err := range errs {
		if err != nil {
			return ids, wall, fmt.Errorf("%s: %w", ids[i], err)
		}
	}
	return ids, wall, nil
}

// poll calls check until it reports done, backing off from 2 ms to 25 ms, for at
// most two minutes.
func poll(ctx context.Context, what string, check func() (bool, error)) error {
	return pollEvery(ctx, what, 0, check)
}

// pollEvery is poll asking every every, without backing off; 0 backs off.
func pollEvery(ctx context.Context, what string, every time.Duration, check func() (bool, error)) error {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	wait := cmp.Or(every, 2*time.Millisecond)
	var last error
	for {
		done, err := check()
		if done && err == nil {
			return nil
		}
		last = err
		select {
		case <-ctx.Done():
			return fmt.Errorf("%s: gave up after two minutes (last error: %v)", what, last)
		case <-time.After(wait):
		}
		if every == 0 {
			wait = min(wait*2, 25*time.Millisecond)
		}
	}
}

// claimsOnly adapts a driver to runMany, dropping its latencies.
func claimsOnly(d driver) func(ctx context.Context, id string) error {
	return func(ctx context.Context, id string) error { _, err := d(ctx, id); return err }
}

// history returns a workflow's events.
func history(ctx context.Context, c client.Client, id string) ([]*historypb.HistoryEvent, error) {
	var out []*historypb.HistoryEvent
	it := c.GetWorkflowHistory(ctx, id, "", false, enumspb.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
	for it.HasNext() {
		ev, err := it.Next()
		if err != nil {
			return nil, fmt.Errorf("history of %s: %w", id, err)
		}
		out = append(out, ev)
	}
	return out, nil
}

// activitySpans are, for each run of the named activity in a history, the time
// from its scheduling to its completion as the server recorded them.
func activitySpans(events []*historypb.HistoryEvent, name string) []time.Duration {
	scheduled := map[int64]time.Time{}
	var out []time.Duration
	for _, ev := range events {
		switch ev.GetEventType() {
		case enumspb.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED:
			if ev.GetActivityTaskScheduledEventAttributes().GetActivityType().GetName() == name {
				scheduled[ev.GetEventId()] = ev.GetEventTime().AsTime()
			}
		case enumspb.EVENT_TYPE_ACTIVITY_TASK_COMPLETED:
			if at, ok := scheduled[ev.GetActivityTaskCompletedEventAttributes().GetScheduledEventId()]; ok {
				out = append(out, ev.GetEventTime().AsTime().Sub(at))
			}
		}
	}
	return out
}

// spansOf collects activitySpans over many workflows.
func spansOf(ctx context.Context, c client.Client, ids []string, name string) ([]time.Duration, error) {
	var all []time.Duration
	for _, id := range ids {
		events, err := history(ctx, c, id)
		if err != nil {
			return nil, err
		}
		all = append(all, activitySpans(events, name)...)
	}
	return all, nil
}
