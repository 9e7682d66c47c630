package bench

import (
	"context"
	"fmt"
	"time"

	"github.com/batonhq/baton/activities"
	"github.com/batonhq/baton/internal/store"
	"github.com/batonhq/baton/policy"
	"github.com/batonhq/baton/tools/policybench"
	"github.com/batonhq/baton/workflows"
)

// WorkloadRow is figure 9 for one method: decisions per second with
// OrgCallers callers over a 1,000-person directory (100 eligible), and how
// many people ended over their limit (must be 0).
type WorkloadRow struct {
	Name     string
	Limit    int // each eligible person's total limit; 0 for none
	Rate     float64
	Assigned int // decisions that gave the stage to someone
	Backlog  int // decisions that left it waiting because everyone was full
	Breaches int // people holding more open stages than their limit
}

// workloadUsers and workloadEvery size figure 9's directory.
const workloadUsers, workloadEvery = 1000, 10

// Workload measures figure 9: plain round robin (the baseline), then round
// robin and least loaded with every eligible person limited to limit open
// stages, decisions of them each, none completed, so the limits bind. Each runs
// in a fresh schema.
func (s *Stack) Workload(ctx context.Context, decisions, limit int) ([]WorkloadRow, error) {
	runs := []struct {
		name, policy string
		limit        int
	}{
		{"round robin, no limits", roundRobinPolicy, 0},
		{"round robin, limits", roundRobinPolicy, limit},
		{"least loaded, limits", "version: bench-ll\nclaims:\n  enableClaimAssignments: true\n  claimAssignmentMethod: least_loaded\n", limit},
	}
	var rows []WorkloadRow
	for i, r := range runs {
		row, err := s.workload(ctx, fmt.Sprintf("baton_workload_%d", i), r.policy, decisions, r.limit)
		if err != nil {
			return rows, fmt.Errorf("%s: %w", r.name, err)
		}
		row.Name, row.Limit = r.name, r.limit
		rows = append(rows, row)
	}
	return rows, nil
}

func (s *Stack) workload(ctx context.Context, schema, policyDoc string, decisions, limit int) (WorkloadRow, error) {
	var row WorkloadRow
	if err := resetSchema(ctx, s.pg.URL, schema); err != nil {
		return row, err
	}
	pool, err := store.NewPool(ctx, withPoolSize(store.WithSearchPath(s.pg.URL, schema), OrgCallers+8))
	if err != nil {
		return row, err
	}
	defer pool.Close()
	st := store.New(pool)
	if _, err := store.Migrate(ctx, pool, nil); err != nil {
		return row, err
	}
	dir := policybench.Organisation(workloadUsers, workloadEvery)
	for i := range dir.Users {
		if limit > 0 {
			dir.Users[i].Capacity = policy.Capacity{Total: limit}
		}
	}
	if _, err := st.LoadDirectory(ctx, dir); err != nil {
		return row, err
	}
	acts := activities.New(st, mustPolicy("bench-workload.yaml", policyDoc), nil, "", s.Log)
	start := time.Now()
	if err := decideConcurrently(ctx, decisions, OrgCallers, func(i int) error {
		id := fmt.Sprintf("wl-%06d", i)
		d, err := acts.ResolveAssignment(ctx, workflows.ResolveAssignmentInput{WorkflowID: id, Stage: policy.StageCapture, Seq: 1,
			At: time.Now(), Claim: policy.Claim{ID: id}})
		if err == nil && d.Assignee == "" && !d.Backlog {
			err = fmt.Errorf("claim %s left unassigned and not in the backlog: %s", id, d.Reason)
		}
		return err
	}); err != nil {
		return row, err
	}
	row.Rate = float64(decisions) / time.Since(start).Seconds()
	err = pool.QueryRow(ctx, `SELECT
		(SELECT count(*) FROM open_stages),
		(SELECT count(*) FROM backlog),
		(SELECT count(*) FROM (SELECT o.user_id FROM open_stages o JOIN users u ON u.id = o.user_id
		                       WHERE u.cap_total > 0 GROUP BY o.user_id, u.cap_total HAVING count(*) > u.cap_total) over)`).
		Scan(&row.Assigned, &row.Backlog, &row.Breaches)
	return row, err
}
