package bench

import (
	"context"
	"fmt"
	"os"
	"strings"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/client"

	"github.com/batonhq/baton/claimclient"
	"github.com/batonhq/baton/policy"
	"github.com/batonhq/baton/workflows"
)

// MemoryResult is figure 7: resident memory of a worker process holding open
// claims that wait on their assignees, sampled every step claims.
type MemoryResult struct {
	Claims, Step int
	Baton, Noop  []int64 // RSS in bytes after 0, step, 2·step, … open claims
}

// PerStep is the growth per step claims, from the first sample to the last.
func (m MemoryResult) PerStep(rss []int64) float64 {
	if len(rss) < 2 {
		return 0
	}
	return float64(rss[len(rss)-1]-rss[0]) / float64(len(rss)-1)
}

// Memory opens n claims on Baton's worker binary (each is assigned by round
// robin and waits for its assignee to complete capture), then as many no-op
// claims on the baseline worker process (each waits for its first Update), and
// samples each process's RSS every step claims.
func (s *Stack) Memory(ctx context.Context, workerBin string, n, step int) (MemoryResult, error) {
	r := MemoryResult{Claims: n, Step: step}
	policyFile, err := s.WritePolicy("bench-rr.yaml", roundRobinPolicy)
	if err != nil {
		return r, err
	}
	self, err := os.Executable()
	if err != nil {
		return r, err
	}

	baton, err := s.StartProc(ctx, "memory-baton-worker", "bench-memory", s.WorkerEnv("bench-memory", policyFile), workerBin)
	if err != nil {
		return r, err
	}
	claims := claimclient.New(s.Client, "bench-memory")
	r.Baton, err = sampleRSS(ctx, baton, n, step, func(ctx context.Context, id string) error {
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

	noop, err := s.StartProc(ctx, "memory-noop-worker", "bench-memory-noop", os.Environ(), self,
		"noop-worker", "--address", s.Server.HostPort(), "--namespace", s.Server.Namespace(), "--queue", "bench-memory-noop")
	if err != nil {
		return r, err
	}
	defer noop.Stop()
	var last string
	r.Noop, err = sampleRSS(ctx, noop, n, step, func(ctx context.Context, id string) error {
		last = "memnoop-" + id
		_, err := s.Client.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: last, TaskQueue: "bench-memory-noop"}, noopWorkflowName, noopStages)
		return err
	}, func(int) (bool, error) {
		// The no-op claim writes nothing anywhere: it is waiting once the server
		// shows no workflow task outstanding on its queue.
		resp, err := s.Client.DescribeTaskQueue(ctx, "bench-memory-noop", enumspb.TASK_QUEUE_TYPE_WORKFLOW)
		if err != nil {
			return false, err
		}
		backlog := resp.GetTaskQueueStatus().GetBacklogCountHint()
		act, err := s.Client.DescribeTaskQueue(ctx, "bench-memory-noop", enumspb.TASK_QUEUE_TYPE_ACTIVITY)
		if err != nil {
			return false, err
		}
		if backlog > 0 || act.GetTaskQueueStatus().GetBacklogCountHint() > 0 {
			return false, nil
		}
		v, err := s.Client.QueryWorkflow(ctx, last, "", noopQuery)
		if err != nil {
			return false, nil
		}
		var st noopState
		return v.Get(&st) == nil && st.Assigned, nil
	})
	return r, err
}

// sampleRSS opens claims in steps of step, waits after each step until settled
// says the step's claims are all waiting, and samples p's RSS.
func sampleRSS(ctx context.Context, p *Proc, n, step int, open func(context.Context, string) error,
	settled func(total int) (bool, error)) ([]int64, error) {
	rss, err := p.RSS()
	if err != nil {
		return nil, err
	}
	out := []int64{rss}
	for total := step; total <= n; total += step {
		_, _, err := runMany(ctx, fmt.Sprintf("%06d", total), step, 32, open)
		if err != nil {
			return out, err
		}
		if err := poll(ctx, fmt.Sprintf("%d open claims settled", total), func() (bool, error) { return settled(total) }); err != nil {
			return out, err
		}
		if rss, err = p.RSS(); err != nil {
			return out, err
		}
		out = append(out, rss)
	}
	return out, nil
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
	ids, _, err := runMany(ctx, "two", n, 16, driveBaton(claims))
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
