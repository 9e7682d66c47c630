package bench

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/batonhq/baton/workflows"
)

// FlowResult is figures 1 and 2: claims through every stage against the no-op
// claim, and the time from a stage's start to its assignee being recorded
// against a no-op activity at the same load.
type FlowResult struct {
	Claims, NoopClaims int           // finished inside the windows
	Parallel           int           // of each, in flight at once
	Window             time.Duration // measured time, all rounds
	BatonRate          float64       // claims per second
	NoopRate           float64
	BatonP50           time.Duration // ResolveAssignment, scheduled → completed
	BatonP99           time.Duration
	NoopP50            time.Duration // the no-op activity, scheduled → completed
	NoopP99            time.Duration
}

// Flow runs Baton's claims and no-op claims at the same time, parallel of each
// in flight, for rounds windows of window each, and counts the claims each side
// finished inside the windows. Running both at once, rather than one after the
// other, gives both the same server, the same load and the same stalls (a SQLite
// checkpoint, a garbage collection), which otherwise decide the ratio.
func (s *Stack) Flow(ctx context.Context, window time.Duration, parallel, rounds int) (FlowResult, error) {
	r := FlowResult{Parallel: parallel, Window: window * time.Duration(rounds)}
	w, err := s.startWorkers("flow", mustPolicy("bench-rr.yaml", roundRobinPolicy))
	if err != nil {
		return r, err
	}
	defer w.stop()
	// A short warm-up of each, so connection set-up and first-task caches are
	// not charged to either side.
	if _, _, err := runMany(ctx, "warm-baton", parallel, parallel, driveBaton(w.claims)); err != nil {
		return r, err
	}
	if _, _, err := runMany(ctx, "warm-noop", parallel, parallel, driveNoop(s.Client, w.noop)); err != nil {
		return r, err
	}
	var batonIDs, noopIDs []string
	for round := range rounds {
		var batonDone, noopDone []string
		var batonErr, noopErr error
		var wg sync.WaitGroup
		deadline := time.Now().Add(window)
		wg.Add(2)
		go func() {
			defer wg.Done()
			batonDone, batonErr = runUntil(ctx, fmt.Sprintf("flow-%d", round), deadline, parallel, driveBaton(w.claims))
		}()
		go func() {
			defer wg.Done()
			noopDone, noopErr = runUntil(ctx, fmt.Sprintf("noop-%d", round), deadline, parallel, driveNoop(s.Client, w.noop))
		}()
		wg.Wait()
		if err := errors.Join(batonErr, noopErr); err != nil {
			return r, err
		}
		for _, id := range batonDone {
			batonIDs = append(batonIDs, workflows.WorkflowID(id))
		}
		noopIDs = append(noopIDs, noopDone...)
	}
	r.Claims, r.NoopClaims = len(batonIDs), len(noopIDs)
	r.BatonRate = float64(len(batonIDs)) / r.Window.Seconds()
	r.NoopRate = float64(len(noopIDs)) / r.Window.Seconds()
	bs, err := spansOf(ctx, s.Client, batonIDs, workflows.ActivityResolveAssignment)
	if err != nil {
		return r, err
	}
	ns, err := spansOf(ctx, s.Client, noopIDs, noopActivityName)
	if err != nil {
		return r, err
	}
	r.BatonP50, r.BatonP99 = percentile(bs, 50), percentile(bs, 99)
	r.NoopP50, r.NoopP99 = percentile(ns, 50), percentile(ns, 99)
	return r, nil
}

// runUntil keeps parallel claims in flight until deadline and returns the ids
// of those that finished by it. Claims still running at the deadline finish but
// are not counted.
func runUntil(ctx context.Context, prefix string, deadline time.Time, parallel int, drive func(ctx context.Context, id string) error) ([]string, error) {
	var (
		mu   sync.Mutex
		done []string
		errs []error
		wg   sync.WaitGroup
		next atomic.Int64
	)
	for range parallel {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for time.Now().Before(deadline) {
				id := fmt.Sprintf("%s-%05d", prefix, next.Add(1))
				err := drive(ctx, id)
				mu.Lock()
				if err != nil {
					errs = append(errs, fmt.Errorf("%s: %w", id, err))
				} else if !time.Now().After(deadline) {
					done = append(done, id)
				}
				mu.Unlock()
				if err != nil {
					return
				}
			}
		}()
	}
	wg.Wait()
	return done, errors.Join(errs...)
}
