package bench

import (
	"bufio"
	"context"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/client"

	"github.com/batonhq/baton/claimclient"
	"github.com/batonhq/baton/policy"
	"github.com/batonhq/baton/tools/bench/baseline"
	"github.com/batonhq/baton/workflows"
)

// MemoryResult is figure 7: the memory of a worker process holding open claims
// that wait on their assignees, sampled every step claims, for Baton's worker
// binary and the no-op worker binary (bin/noopworker, built the same way: no
// Temporal server linked in), both with the same sticky cache size. The run
// goes past the cache, so what a worker holds once it must evict is measured
// too.
type MemoryResult struct {
	Claims, Step, Cache int
	Baton, Noop         []MemSample
}

// MemSample is one sample: the open claims, the process's resident memory
// (VmRSS) and its Go heap in use (go_memstats_heap_inuse_bytes, from the
// process's own /metrics).
type MemSample struct {
	Open      int
	RSS, Heap int64
}

// Growth is, per 1,000 open claims, how much RSS and heap grew between the
// samples at from and to open claims (false when either is missing).
func Growth(samples []MemSample, from, to int) (rss, heap float64, ok bool) {
	var a, b *MemSample
	for i := range samples {
		switch samples[i].Open {
		case from:
			a = &samples[i]
		case to:
			b = &samples[i]
		}
	}
	if a == nil || b == nil || to <= from {
		return 0, 0, false
	}
	k := float64(to-from) / 1000
	return float64(b.RSS-a.RSS) / k, float64(b.Heap-a.Heap) / k, true
}

// Memory opens n claims on Baton's worker binary (each is assigned by round
// robin and waits for its assignee to complete capture), then as many minimal
// claims on the no-op worker process (each waits for its first Update), both
// with a sticky cache of cache claims, and samples each process every step.
func (s *Stack) Memory(ctx context.Context, workerBin, noopBin string, n, step, cache int) (MemoryResult, error) {
	r := MemoryResult{Claims: n, Step: step, Cache: cache}
	policyFile, err := s.WritePolicy("bench-rr.yaml", roundRobinPolicy)
	if err != nil {
		return r, err
	}
	port, err := freePort()
	if err != nil {
		return r, err
	}
	metricsAt := fmt.Sprintf("127.0.0.1:%d", port)
	baton, err := s.StartProc(ctx, "memory-baton-worker", "bench-memory", s.WorkerEnv("bench-memory", policyFile,
		"BATON_METRICS_ADDRESS="+metricsAt, fmt.Sprintf("BATON_WORKFLOW_CACHE_SIZE=%d", cache)), workerBin)
	if err != nil {
		return r, err
	}
	claims := claimclient.New(s.Client, "bench-memory")
	r.Baton, err = sample(ctx, baton, metricsAt, n, step, func(ctx context.Context, id string) error {
		_, err := claims.Start(ctx, workflows.ClaimInput{ClaimID: "mem-" + id, Owner: "root"})
		return err
	}, func(total int) (bool, error) {
		var decided int
		err := s.Pool.QueryRow(ctx, `SELECT count(*) FROM decisions WHERE claim_id LIKE 'mem-%' AND stage = $1`,
			string(policy.StageCapture)).Scan(&decided)
		return decided >= total, err
	})
	baton.Stop()
	if err != nil {
		return r, err
	}

	if port, err = freePort(); err != nil {
		return r, err
	}
	metricsAt = fmt.Sprintf("127.0.0.1:%d", port)
	noop, err := s.StartProc(ctx, "memory-noop-worker", "bench-memory-noop", nil, noopBin,
		"--address", s.Server.HostPort(), "--namespace", s.Server.Namespace(), "--queue", "bench-memory-noop",
		"--cache", strconv.Itoa(cache), "--metrics", metricsAt)
	if err != nil {
		return r, err
	}
	defer noop.Stop()
	var last string
	r.Noop, err = sample(ctx, noop, metricsAt, n, step, func(ctx context.Context, id string) error {
		last = "memnoop-" + id
		_, err := s.Client.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: last, TaskQueue: "bench-memory-noop"},
			baseline.ClaimWorkflow, baseline.Stages)
		return err
	}, func(int) (bool, error) {
		// The minimal claim writes nothing anywhere: it is waiting once the server
		// shows no task outstanding on its queue.
		for _, kind := range []enumspb.TaskQueueType{enumspb.TASK_QUEUE_TYPE_WORKFLOW, enumspb.TASK_QUEUE_TYPE_ACTIVITY} {
			resp, err := s.Client.DescribeTaskQueue(ctx, "bench-memory-noop", kind)
			if err != nil {
				return false, err
			}
			if resp.GetTaskQueueStatus().GetBacklogCountHint() > 0 {
				return false, nil
			}
		}
		v, err := s.Client.QueryWorkflow(ctx, last, "", baseline.Query)
		if err != nil {
			return false, nil
		}
		var st baseline.State
		return v.Get(&st) == nil && st.Assigned, nil
	})
	return r, err
}

// sample opens claims in steps of step, waits after each step until settled
// says the step's claims are all waiting, and samples p: its RSS, and its heap
// from metricsAt unless that is empty.
func sample(ctx context.Context, p *Proc, metricsAt string, n, step int, open func(context.Context, string) error,
	settled func(total int) (bool, error)) ([]MemSample, error) {
	var out []MemSample
	take := func(total int) error {
		rss, err := p.RSS()
		if err != nil {
			return err
		}
		var heap int64
		if metricsAt != "" {
			if heap, err = heapInUse(ctx, metricsAt); err != nil {
				return fmt.Errorf("%s: %w", p.Name, err)
			}
		}
		out = append(out, MemSample{Open: total, RSS: rss, Heap: heap})
		return nil
	}
	if err := take(0); err != nil {
		return nil, err
	}
	for total := step; total <= n; total += step {
		if _, _, err := runMany(ctx, fmt.Sprintf("%06d", total), step, 32, open); err != nil {
			return out, err
		}
		if err := poll(ctx, fmt.Sprintf("%d open claims settled", total), func() (bool, error) { return settled(total) }); err != nil {
			return out, err
		}
		if err := take(total); err != nil {
			return out, err
		}
	}
	return out, nil
}

// heapInUse reads go_memstats_heap_inuse_bytes from a process's /metrics.
func heapInUse(ctx context.Context, addr string) (int64, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+addr+"/metrics", nil)
	if err != nil {
		return 0, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	return metricValue(bufio.NewScanner(resp.Body), "go_memstats_heap_inuse_bytes")
}

// metricValue finds an unlabelled metric's value in Prometheus text format.
func metricValue(sc *bufio.Scanner, name string) (int64, error) {
	for sc.Scan() {
		rest, ok := strings.CutPrefix(sc.Text(), name+" ")
		if !ok {
			continue
		}
		v, err := strconv.ParseFloat(strings.TrimSpace(rest), 64)
		if err != nil {
			return 0, fmt.Errorf("%s: %q is not a number", name, rest)
		}
		return int64(v), nil
	}
	if err := sc.Err(); err != nil {
		return 0, err
	}
	return 0, fmt.Errorf("no %s in /metrics", name)
}

// TwoWorkersResult shows round robin staying exactly even when two worker
// processes share one server and database.
type TwoWorkersResult struct {
	Claims int
	// PerStage is, per stage, the assignments per user.
	PerStage map[policy.Stage]map[string]int
	// PerWorker is how many ResolveAssignment runs each process did.
	PerWorker map[string]int
	MaxSpread int
}

// TwoWorkers runs n claims through every stage on two worker processes.
func (s *Stack) TwoWorkers(ctx context.Context, workerBin string, n int) (TwoWorkersResult, error) {
	r := TwoWorkersResult{Claims: n, PerStage: map[policy.Stage]map[string]int{}, PerWorker: map[string]int{}}
	policyFile, err := s.WritePolicy("bench-rr.yaml", roundRobinPolicy)
	if err != nil {
		return r, err
	}
	const queue = "bench-two"
	for _, name := range []string{"worker-a", "worker-b"} {
		p, err := s.StartProc(ctx, name, queue, s.WorkerEnv(queue, policyFile), workerBin)
		if err != nil {
			return r, err
		}
		defer p.Stop()
	}
	claims := claimclient.New(s.Client, queue)
	ids, _, err := runMany(ctx, "two", n, 16, claimsOnly(driveBaton(claims, 0)))
	if err != nil {
		return r, err
	}
	if r.PerStage, err = s.roundRobinCounts(ctx, "two-"); err != nil {
		return r, err
	}
	for _, counts := range r.PerStage {
		r.MaxSpread = max(r.MaxSpread, spread(counts, Users))
	}
	for _, id := range ids {
		events, err := history(ctx, s.Client, workflows.WorkflowID(id))
		if err != nil {
			return r, err
		}
		for _, ev := range events {
			if ev.GetEventType() == enumspb.EVENT_TYPE_ACTIVITY_TASK_STARTED {
				identity := ev.GetActivityTaskStartedEventAttributes().GetIdentity()
				pid, _, _ := strings.Cut(identity, "@")
				r.PerWorker["pid "+pid]++
			}
		}
	}
	return r, nil
}

// roundRobinCounts is, per stage, how many round-robin decisions each user got
// on the claims whose ids start with prefix.
func (s *Stack) roundRobinCounts(ctx context.Context, prefix string) (map[policy.Stage]map[string]int, error) {
	rows, err := s.Pool.Query(ctx, `SELECT stage, assignee FROM decisions WHERE claim_id LIKE $1 || '%' AND method = $2`,
		prefix, string(policy.MethodRoundRobin))
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	counts := map[policy.Stage]map[string]int{}
	for rows.Next() {
		var stage, who string
		if err := rows.Scan(&stage, &who); err != nil {
			return nil, err
		}
		st := policy.Stage(stage)
		if counts[st] == nil {
			counts[st] = map[string]int{}
		}
		counts[st][who]++
	}
	return counts, rows.Err()
}
