package bench

import (
	"context"
	"fmt"
	"time"

	"github.com/batonhq/baton/workflows"
)

// FlowResult is figures 1 and 2: claims through every stage against the no-op
// claim, and the time from a stage's start to its assignee being recorded
// against a no-op activity at the same load.
type FlowResult struct {
	Claims, Parallel int
	BatonRate        float64 // claims per second
	NoopRate         float64
	BatonP50         time.Duration // ResolveAssignment, scheduled → completed
	BatonP99         time.Duration
	NoopP50          time.Duration // the no-op activity, scheduled → completed
	NoopP99          time.Duration
}

// Flow runs n claims, parallel at a time, through Baton and through the no-op
// claim, in alternating rounds so neither side gets the warmer server.
func (s *Stack) Flow(ctx context.Context, n, parallel, rounds int) (FlowResult, error) {
	r := FlowResult{Claims: n * rounds, Parallel: parallel}
	w, err := s.startWorkers("flow", mustPolicy("bench-rr.yaml", roundRobinPolicy))
	if err != nil {
		return r, err
	}
	defer w.stop()
	// A short warm-up of each, so connection set-up and first-task caches are
	// not charged to whichever side runs first.
	if _, _, err := runMany(ctx, "warm-baton", parallel, parallel, driveBaton(w.claims)); err != nil {
		return r, err
	}
	if _, _, err := runMany(ctx, "warm-noop", parallel, parallel, driveNoop(s.Client, w.noop)); err != nil {
		return r, err
	}
	var batonWall, noopWall time.Duration
	var batonIDs, noopIDs []string
	for round := range rounds {
		ids, wall, err := runMany(ctx, fmt.Sprintf("noop-%d", round), n, parallel, driveNoop(s.Client, w.noop))
		if err != nil {
			return r, fmt.Errorf("no-op claims: %w", err)
		}
		noopWall += wall
		noopIDs = append(noopIDs, ids...)
		ids, wall, err = runMany(ctx, fmt.Sprintf("flow-%d", round), n, parallel, driveBaton(w.claims))
		if err != nil {
			return r, fmt.Errorf("baton claims: %w", err)
		}
		batonWall += wall
		for _, id := range ids {
			batonIDs = append(batonIDs, workflows.WorkflowID(id))
		}
	}
	r.BatonRate = float64(len(batonIDs)) / batonWall.Seconds()
	r.NoopRate = float64(len(noopIDs)) / noopWall.Seconds()
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
