package bench

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"go.temporal.io/sdk/worker"

	"github.com/batonhq/baton/activities"
	"github.com/batonhq/baton/batonfx"
	"github.com/batonhq/baton/claimclient"
	"github.com/batonhq/baton/internal/store"
	"github.com/batonhq/baton/policy"
	"github.com/batonhq/baton/tools/policybench"
	"github.com/batonhq/baton/workflows"
)

// OrgRow is figure 8 at one organisation size: what a claim costs when the
// directory has Users people, Eligible of whom may take every stage.
type OrgRow struct {
	Users, Eligible int
	// HistoryBytes and HistoryEvents are one three-stage round-robin claim's
	// history as the server counts it (temporal workflow describe); StateBytes its
	// largest state query answer.
	HistoryBytes, HistoryEvents int64
	StateBytes                  int
	// DecisionP50 and DecisionP99 time ResolveAssignment, the real activity on
	// real PostgreSQL, one decision at a time.
	DecisionP50, DecisionP99 time.Duration
	// Latency is every decision's time in milliseconds, for the intervals.
	Latency []float64
	// RSSPerThousand is the worker binary's resident-memory growth per 1,000 open
	// claims, over OpenClaims (0: not measured).
	RSSPerThousand float64
	OpenClaims     int
	// Rate is round-robin decisions per second with OrgCallers callers, each
	// holding its own connection; every count of the TurnCheck must be 0.
	Rate float64
	TurnCheck
}

// OrgCallers is how many callers decide at once in figure 8.
const OrgCallers = 64

// orgEvery is the organisation's eligible fraction: one in ten at every size but
// the smallest, where all ten are eligible (a round robin of one would measure
// nothing).
func orgEvery(users int) int {
	if users <= 10 {
		return 1
	}
	return 10
}

// Organisation measures figure 8 at each size, each in a schema of its own with a
// generated directory (policybench.Organisation). decisions is how many
// decisions the latency and the contention measurements each make; open is how
// many claims the worker binary holds for the memory figure (0: not measured).
func (s *Stack) Organisation(ctx context.Context, workerBin string, sizes []int, decisions, open int) ([]OrgRow, error) {
	var rows []OrgRow
	for _, n := range sizes {
		row, err := s.organisation(ctx, workerBin, n, decisions, open)
		if err != nil {
			return rows, fmt.Errorf("%d users: %w", n, err)
		}
		rows = append(rows, row)
	}
	return rows, nil
}

func (s *Stack) organisation(ctx context.Context, workerBin string, n, decisions, open int) (OrgRow, error) {
	row := OrgRow{Users: n}
	schema := fmt.Sprintf("baton_org_%d", n)
	if err := resetSchema(ctx, s.pg.URL, schema); err != nil {
		return row, err
	}
	// As many connections as callers, and a few to spare: the figure measures
	// the turn order, not a queue for connections.
	url := withPoolSize(store.WithSearchPath(s.pg.URL, schema), OrgCallers+8)
	pool, err := store.NewPool(ctx, url)
	if err != nil {
		return row, err
	}
	defer pool.Close()
	st := store.New(pool)
	if _, err := store.Migrate(ctx, pool, nil); err != nil {
		return row, err
	}
	dir := policybench.Organisation(n, orgEvery(n))
	if _, err := st.LoadDirectory(ctx, dir); err != nil {
		return row, err
	}
	row.Eligible = (n + orgEvery(n) - 1) / orgEvery(n)
	acts := activities.New(st, mustPolicy("bench-rr.yaml", roundRobinPolicy), nil, "", s.Log)

	lat, err := timedDecisions(ctx, acts, fmt.Sprintf("org%d-lat", n), decisions, nil)
	if err != nil {
		return row, err
	}
	row.DecisionP50, row.DecisionP99 = percentile(lat, 50), percentile(lat, 99)
	row.Latency = Durations(lat)

	var mismatched atomic.Int64
	start := time.Now()
	prefix := fmt.Sprintf("org%d-rr", n)
	if err := decideConcurrently(ctx, decisions, OrgCallers, func(i int) error {
		id := fmt.Sprintf("%s-%06d", prefix, i)
		_, err := resolveMaybeTwice(ctx, acts, workflows.ResolveAssignmentInput{WorkflowID: id, Stage: policy.StageCapture, Seq: 1,
			At: time.Now(), Claim: policy.Claim{ID: id}}, i%8 == 0, &mismatched)
		return err
	}); err != nil {
		return row, err
	}
	row.Rate = float64(decisions) / time.Since(start).Seconds()
	if row.TurnCheck, err = turnAudit(ctx, st, pool, row.Eligible, 2*decisions, int(mismatched.Load())); err != nil {
		return row, err
	}

	if row.HistoryBytes, row.HistoryEvents, row.StateBytes, err = s.claimCost(ctx, acts, n); err != nil {
		return row, err
	}
	if open > 0 {
		if row.RSSPerThousand, err = s.openClaimsRSS(ctx, workerBin, url, n, open); err != nil {
			return row, err
		}
		row.OpenClaims = open
	}
	return row, nil
}

// decideConcurrently runs decide(0..n-1) on callers goroutines.
func decideConcurrently(ctx context.Context, n, callers int, decide func(i int) error) error {
	var next atomic.Int64
	var wg sync.WaitGroup
	errs := make(chan error, callers)
	for range callers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for ctx.Err() == nil {
				i := int(next.Add(1)) - 1
				if i >= n {
					return
				}
				if err := decide(i); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	return <-errs
}

// turnAudit checks the capture stage's turns after total decisions among
// eligible people: decisions with no ledger row, retries answered differently,
// and turns short of, or beyond, an exactly even share (everyone gets
// total/eligible, rounded down or up).
func turnAudit(ctx context.Context, st *store.Store, pool *pgxpool.Pool, eligible, total, mismatched int) (TurnCheck, error) {
	var rows int
	if err := pool.QueryRow(ctx, `SELECT count(*) FROM decisions WHERE stage = 'capture'`).Scan(&rows); err != nil {
		return TurnCheck{}, err
	}
	counts, err := st.AssignmentCounts(ctx, policy.StageCapture, policy.MethodRoundRobin)
	if err != nil {
		return TurnCheck{}, err
	}
	return TurnCheck{Mismatched: mismatched, Missing: max(0, total-rows), Skips: ShareShortfall(counts, eligible, total)}, nil
}

// ShareShortfall is how far counts (assignments per person, absent meaning 0)
// are from an exactly even share of total among eligible people: turns short of
// total/eligible rounded down, plus turns beyond it rounded up.
func ShareShortfall(counts map[string]int, eligible, total int) int {
	if eligible == 0 {
		return 0
	}
	lo, hi := total/eligible, (total+eligible-1)/eligible
	short := lo * max(eligible-len(counts), 0)
	for _, c := range counts {
		short += max(0, lo-c) + max(0, c-hi)
	}
	return short
}

// claimCost drives one round-robin claim through every stage on an in-process
// worker over the organisation's schema and measures its history and state.
func (s *Stack) claimCost(ctx context.Context, acts *activities.Activities, n int) (bytes, events int64, state int, err error) {
	queue := fmt.Sprintf("bench-org-%d", n)
	w := worker.New(s.Client, queue, worker.Options{})
	batonfx.Register(w, acts)
	if err := w.Start(); err != nil {
		return 0, 0, 0, err
	}
	defer w.Stop()
	claims := claimclient.New(s.Client, queue)
	id := fmt.Sprintf("org%d-claim", n)
	run, err := claims.Start(ctx, workflows.ClaimInput{ClaimID: id})
	if err != nil {
		return 0, 0, 0, err
	}
	for _, stage := range policy.AssignableStages {
		var st workflows.ClaimState
		if err := poll(ctx, "wait for "+string(stage), func() (bool, error) {
			st, err = claims.State(ctx, id)
			return err == nil && st.Stage == stage && st.Assignee != "", err
		}); err != nil {
			return 0, 0, 0, err
		}
		data, err := json.Marshal(st)
		if err != nil {
			return 0, 0, 0, err
		}
		state = max(state, len(data))
		in := workflows.CompleteInput{Actor: st.Assignee}
		if stage == policy.StageReview {
			in.Outcome = string(policy.OutcomeApproval)
		}
		if _, err := claims.Complete(ctx, id, in); err != nil {
			return 0, 0, 0, err
		}
	}
	if err := run.Get(ctx, nil); err != nil {
		return 0, 0, 0, err
	}
	desc, err := s.Client.DescribeWorkflowExecution(ctx, workflows.WorkflowID(id), "")
	if err != nil {
		return 0, 0, 0, err
	}
	info := desc.GetWorkflowExecutionInfo()
	return info.GetHistorySizeBytes(), info.GetHistoryLength(), state, nil
}

// openClaimsRSS opens claims on the worker binary over the organisation's schema
// (each waits at capture for its assignee) and returns its RSS growth per 1,000.
func (s *Stack) openClaimsRSS(ctx context.Context, workerBin, url string, n, open int) (float64, error) {
	policyFile, err := s.WritePolicy("bench-rr.yaml", roundRobinPolicy)
	if err != nil {
		return 0, err
	}
	queue := fmt.Sprintf("bench-org-mem-%d", n)
	env := slices.Clone(s.WorkerEnv(queue, policyFile))
	env = append(env, "DATABASE_URL="+url) // the last value wins
	p, err := s.StartProc(ctx, fmt.Sprintf("org-%d-worker", n), queue, env, workerBin)
	if err != nil {
		return 0, err
	}
	defer p.Stop()
	claims := claimclient.New(s.Client, queue)
	prefix := fmt.Sprintf("orgmem%d", n)
	mem, err := sample(ctx, p, "", open, open, func(ctx context.Context, id string) error {
		_, err := claims.Start(ctx, workflows.ClaimInput{ClaimID: prefix + "-" + id})
		return err
	}, func(total int) (bool, error) {
		var decided int
		err := s.Pool.QueryRow(ctx, `SELECT count(*) FROM `+fmt.Sprintf("baton_org_%d", n)+`.decisions WHERE claim_id LIKE $1`,
			prefix+"-%").Scan(&decided)
		return decided >= total, err
	})
	if err != nil {
		return 0, err
	}
	rss, _, _ := Growth(mem, 0, open)
	return rss, nil
}
