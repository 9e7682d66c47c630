package bench

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"go.temporal.io/sdk/client"

	"github.com/batonhq/baton/claimclient"
	"github.com/batonhq/baton/policy"
	"github.com/batonhq/baton/tools/bench/baseline"
	"github.com/batonhq/baton/workflows"
)

// FlowResult is figures 1 and 2: claims through every stage, and the time from
// a stage's start to its assignee being visible to a caller, for Baton and its
// two baselines run side by side.
type FlowResult struct {
	Parallel int           // claims of each side in flight at once
	Window   time.Duration // measured time, all rounds
	Rounds   int
	Poll     time.Duration // how often a driver asks the state query
	Store    string        // the Temporal server's persistence, for the report
	// Baton is the real worker; Stubbed is Baton's own claim workflow with every
	// activity stubbed (Temporal's cost for the same orchestration); Minimal is a
	// workflow of three activities and three Updates and nothing else.
	Baton, Stubbed, Minimal FlowSide
}

// FlowSide is one side's figures.
type FlowSide struct {
	Claims int     // finished inside the windows
	Rate   float64 // claims per second
	// Latency is, over every stage of the counted claims, the time from the
	// stage's start as a caller sees it (the claim started, or the previous
	// stage's complete Update returned) to the first state query that shows
	// the stage's assignee.
	P50, P99 time.Duration
	Stages   int // latencies measured
	// RoundRates are the claims per second of each round; Latency the stage
	// latencies in milliseconds, by round: the samples the report's
	// intervals and spreads are drawn from.
	RoundRates []float64
	Latency    Sample
}

// flowPoll is how often the throughput drivers ask the state query: the
// resolution of figure 2, the same for every side.
const flowPoll = 5 * time.Millisecond

// Flow runs Baton's claims, the stubbed claims and the minimal claims at the
// same time, parallel of each in flight, for rounds windows of window each,
// and counts the claims each side finished inside the windows. Running all
// three at once, rather than one after the other, gives them the same server,
// the same load and the same stalls (a checkpoint, a garbage collection),
// which otherwise decide the ratio.
func (s *Stack) Flow(ctx context.Context, window time.Duration, parallel, rounds int) (FlowResult, error) {
	r := FlowResult{Parallel: parallel, Window: window * time.Duration(rounds), Rounds: rounds, Poll: flowPoll}
	w, err := s.startWorkers("flow", mustPolicy("bench-rr.yaml", roundRobinPolicy))
	if err != nil {
		return r, err
	}
	defer w.stop()
	sides := []struct {
		name  string
		out   *FlowSide
		drive driver
	}{
		{"baton", &r.Baton, driveBaton(w.claims, flowPoll)},
		{"stubbed", &r.Stubbed, driveBaton(w.stubbed, flowPoll)},
		{"minimal", &r.Minimal, driveMinimal(s.Client, w.noop, flowPoll)},
	}
	// A short warm-up of each, so connection set-up and first-task caches are
	// not charged to any side.
	for _, sd := range sides {
		if _, _, err := runMany(ctx, "warm-"+sd.name, parallel, parallel, func(ctx context.Context, id string) error {
			_, err := sd.drive(ctx, id)
			return err
		}); err != nil {
			return r, err
		}
	}
	lat := make([][]time.Duration, len(sides))
	for round := range rounds {
		deadline := time.Now().Add(window)
		errs := make([]error, len(sides))
		var wg sync.WaitGroup
		for i, sd := range sides {
			wg.Add(1)
			go func() {
				defer wg.Done()
				n, l, err := runUntil(ctx, fmt.Sprintf("%s-%d", sd.name, round), deadline, parallel, sd.drive)
				sd.out.Claims += n
				sd.out.RoundRates = append(sd.out.RoundRates, float64(n)/window.Seconds())
				sd.out.Latency = append(sd.out.Latency, Durations(l))
				lat[i] = append(lat[i], l...)
				errs[i] = err
			}()
		}
		wg.Wait()
		if err := errors.Join(errs...); err != nil {
			return r, err
		}
	}
	for i, sd := range sides {
		sd.out.Rate = float64(sd.out.Claims) / r.Window.Seconds()
		sd.out.P50, sd.out.P99, sd.out.Stages = percentile(lat[i], 50), percentile(lat[i], 99), len(lat[i])
	}
	return r, nil
}

// A driver pushes one claim through every stage and returns, per stage, the
// time from the stage's start to its assignee being visible.
type driver func(ctx context.Context, id string) ([]time.Duration, error)

// runUntil keeps parallel claims in flight until deadline and returns how many
// finished by it, with their stage latencies. Claims still running at the
// deadline finish but are not counted.
func runUntil(ctx context.Context, prefix string, deadline time.Time, parallel int, drive driver) (int, []time.Duration, error) {
	var (
		mu   sync.Mutex
		done int
		lat  []time.Duration
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
				l, err := drive(ctx, id)
				mu.Lock()
				if err != nil {
					errs = append(errs, fmt.Errorf("%s: %w", id, err))
				} else if !time.Now().After(deadline) {
					done++
					lat = append(lat, l...)
				}
				mu.Unlock()
				if err != nil {
					return
				}
			}
		}()
	}
	wg.Wait()
	return done, lat, errors.Join(errs...)
}

// driveBaton pushes one claim through every stage, completing each as its
// round-robin assignee as soon as the state query shows the assignee, asking
// every every.
func driveBaton(claims *claimclient.Client, every time.Duration) driver {
	return func(ctx context.Context, id string) ([]time.Duration, error) {
		run, err := claims.Start(ctx, workflows.ClaimInput{ClaimID: id, Owner: "root"})
		if err != nil {
			return nil, err
		}
		var lat []time.Duration
		for _, stage := range policy.AssignableStages {
			var st workflows.ClaimState
			began := time.Now()
			err := pollEvery(ctx, "wait for "+string(stage)+" assignee", every, func() (bool, error) {
				st, err = claims.State(ctx, id)
				return err == nil && st.Stage == stage && st.Assignee != "", err
			})
			if err != nil {
				return nil, err
			}
			lat = append(lat, time.Since(began))
			in := workflows.CompleteInput{Actor: st.Assignee}
			if stage == policy.StageReview {
				in.Outcome = string(policy.OutcomeApproval)
			}
			if _, err := claims.Complete(ctx, id, in); err != nil {
				return nil, err
			}
		}
		return lat, run.Get(ctx, nil)
	}
}

// driveMinimal does the same to the minimal claim.
func driveMinimal(c client.Client, queue string, every time.Duration) driver {
	return func(ctx context.Context, id string) ([]time.Duration, error) {
		run, err := c.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: id, TaskQueue: queue}, baseline.ClaimWorkflow, baseline.Stages)
		if err != nil {
			return nil, err
		}
		var lat []time.Duration
		for stage := range baseline.Stages {
			began := time.Now()
			err := pollEvery(ctx, fmt.Sprintf("wait for stage %d", stage), every, func() (bool, error) {
				v, err := c.QueryWorkflow(ctx, id, "", baseline.Query)
				if err != nil {
					return false, err
				}
				var st baseline.State
				if err := v.Get(&st); err != nil {
					return false, err
				}
				return st.Stage == stage && st.Assigned, nil
			})
			if err != nil {
				return nil, err
			}
			lat = append(lat, time.Since(began))
			h, err := c.UpdateWorkflow(ctx, client.UpdateWorkflowOptions{WorkflowID: id, UpdateName: baseline.Update,
				Args: []any{stage}, WaitForStage: client.WorkflowUpdateStageCompleted})
			if err != nil {
				return nil, err
			}
			if err := h.Get(ctx, nil); err != nil {
				return nil, err
			}
		}
		return lat, run.Get(ctx, nil)
	}
}

// flowOnPostgres runs figures 1 and 2 again on a stack whose Temporal server is
// persisted to PostgreSQL (persistence and visibility) with cfg.Shards history
// shards: the topology docker-compose.yml ships.
func flowOnPostgres(ctx context.Context, cfg Config, res *Results) error {
	s, err := StartStackWith(ctx, StackConfig{DataDir: filepath.Join(cfg.DataDir, "pg-temporal"), Log: cfg.Log, TemporalStore: "postgres", Shards: cfg.Shards})
	if err != nil {
		return err
	}
	defer s.Close()
	res.FlowPG, err = s.Flow(ctx, cfg.FlowWindow, cfg.Parallel, cfg.Rounds)
	return err
}
