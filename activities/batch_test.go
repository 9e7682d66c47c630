package activities_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"

	"github.com/batonhq/baton/activities"
	"github.com/batonhq/baton/internal/batontest"
	"github.com/batonhq/baton/internal/store"
	"github.com/batonhq/baton/policy"
	"github.com/batonhq/baton/workflows"
)

// Decisions waiting on one turn scope are recorded together: while one
// transaction holds the scope, the others queue, and the next transaction,
// once it has the scope, takes and records them all. Round robin stays exactly
// even, a retried decision is answered from the ledger and takes no turn, and
// every decision has its own ledger row.
func TestDecisionsWaitingOnAScopeAreRecordedTogether(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := batontest.New(t)
	db.Load(t, people(5))
	a := activities.New(db.Store, &policy.Policy{Version: "v1", AssignmentsEnabled: true, Method: policy.MethodRoundRobin}, nil, "", nil)
	scope := policy.StageScope(policy.StageCapture)
	in := captureOf
	// A first decision makes the requirement and the pool.
	first, err := a.ResolveAssignment(ctx, in(0))
	require.NoError(t, err)

	// Hold the scope, as a decision of another worker would.
	release := holdScope(t, db, scope)

	const n = 15
	got := make([]policy.Decision, n+2)
	errs := make([]error, n+2)
	var wg sync.WaitGroup
	call := func(slot, claim int) {
		defer wg.Done()
		got[slot], errs[slot] = a.ResolveAssignment(ctx, in(claim))
	}
	// The leader first: it waits on the held scope, and takes its batch once
	// the scope is its own.
	wg.Add(1)
	go call(1, 1)
	batontest.Eventually(t, 20*time.Second, func() (bool, string) {
		var waiting int
		require.NoError(t, db.Pool.QueryRow(ctx, `SELECT count(*) FROM pg_stat_activity
			WHERE datname = current_database() AND wait_event_type = 'Lock'`).Scan(&waiting))
		return waiting > 0, "the leader never waited on the scope"
	})
	for i := 2; i <= n; i++ {
		wg.Add(1)
		go call(i, i)
	}
	// A retry of the first decision queues too, and so does a second copy
	// of a decision already queued (an activity retried while its first
	// attempt still waits): the batch decides it once.
	wg.Add(2)
	go call(0, 0)
	go call(n+1, 5)
	batontest.Eventually(t, 20*time.Second, func() (bool, string) {
		return a.Waiting(scope) == n+2, fmt.Sprintf("%d of %d decisions queued, the leader's among them", a.Waiting(scope), n+2)
	})
	release()
	wg.Wait()
	for i, err := range errs {
		require.NoError(t, err, "decision %d", i)
	}
	require.Equal(t, first, got[0], "the retry is answered from the ledger")
	require.Equal(t, got[5], got[n+1], "both copies get the one decision")

	counts := map[string]int{}
	for i := 1; i <= n; i++ {
		counts[got[i].Assignee]++
	}
	counts[first.Assignee]++
	require.Equal(t, map[string]int{"u0": 4, "u1": 3, "u2": 3, "u3": 3, "u4": 3}, counts, "16 turns over 5 people, exactly even")

	var rows, txs int
	require.NoError(t, db.Pool.QueryRow(ctx, `SELECT count(*), count(DISTINCT xmin::text) FROM decisions`).Scan(&rows, &txs))
	require.Equal(t, n+1, rows, "one ledger row per decision")
	require.Equal(t, 2, txs, "the first decision, then the leader and the 14 that queued while it waited, the copy with them")
}

// A batch takes its later turns from the order its first decision read, as
// the turns before moved it, not from a read of its own (store.knownOrder):
// the sequence must be the one the same decisions get one at a time, for plain
// and weighted round robin, with fewer people than the batch and with more
// than its first read holds.
func TestABatchDecidesTheSequenceDecisionsOneAtATimeGet(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name   string
		method policy.Method
		people int
	}{
		{"round robin, 5 people", policy.MethodRoundRobin, 5},
		{"weighted, 7 people", policy.MethodWeightedRoundRobin, 7},
		{"round robin, 40 people", policy.MethodRoundRobin, 40},
		{"weighted, 40 people", policy.MethodWeightedRoundRobin, 40},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			const n = 30
			alone := sequence(t, tc.method, tc.people, n, false)
			together := sequence(t, tc.method, tc.people, n, true)
			require.Len(t, alone, n)
			require.Equal(t, alone, together, "a batch gives the turns one-at-a-time decisions give")
		})
	}
}

// A batch's later decision never waits for a stage row another transaction
// holds while the batch holds the rows of the decisions before it: a
// deactivation marking the stages a batch moves (it locks them as it finds
// them, then waits for the rest) would wait for the batch in turn, and one of
// the two would die of a deadlock. The batch commits what it decided and
// decides the held stage again on its own.
func TestABatchNeverWaitsForAStageAnotherTransactionHolds(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := batontest.New(t)
	db.Load(t, people(3))
	pol := &policy.Policy{Version: "v1", AssignmentsEnabled: true, Method: policy.MethodRoundRobin}
	a := activities.New(db.Store, pol, nil, "", nil)
	for i := 1; i <= 2; i++ {
		_, err := a.ResolveAssignment(ctx, captureOf(i))
		require.NoError(t, err)
	}
	again := func(i int) workflows.ResolveAssignmentInput {
		in := captureOf(i)
		in.Seq = 2
		return in
	}
	// c02's stage row held, as a deactivation marking its holder's stages
	// holds it.
	marking, err := db.Pool.Begin(ctx)
	require.NoError(t, err)
	defer marking.Rollback(ctx) //nolint:errcheck // committed below
	_, err = marking.Exec(ctx, `SELECT 1 FROM open_stages WHERE workflow_id = $1 FOR UPDATE`, again(2).WorkflowID)
	require.NoError(t, err)

	scope := pol.TurnScopeFor(policy.StageCapture, policy.Claim{})
	release := holdScope(t, db, scope)
	var wg sync.WaitGroup
	errs := make([]error, 3)
	for i := 1; i <= 2; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, errs[i] = a.ResolveAssignment(ctx, again(i))
		}()
		batontest.Eventually(t, 20*time.Second, func() (bool, string) {
			return a.Waiting(scope) == i, fmt.Sprintf("%d of %d decisions queued", a.Waiting(scope), i)
		})
	}
	release()
	batontest.Eventually(t, 20*time.Second, func() (bool, string) {
		var n int
		require.NoError(t, db.Pool.QueryRow(ctx, `SELECT count(*) FROM decisions WHERE workflow_id = $1 AND seq = 2`,
			again(1).WorkflowID).Scan(&n))
		return n == 1, "c01's decision waits on c02's held stage"
	})
	// The deactivation goes on to c01's stage, and finishes.
	_, err = marking.Exec(ctx, `UPDATE open_stages SET move_reason = 'u9 was deactivated' WHERE workflow_id = $1`,
		again(1).WorkflowID)
	require.NoError(t, err)
	require.NoError(t, marking.Commit(ctx))
	wg.Wait()
	for i, err := range errs {
		require.NoError(t, err, "decision %d", i)
	}
	var n int
	require.NoError(t, db.Pool.QueryRow(ctx, `SELECT count(*) FROM decisions WHERE seq = 2`).Scan(&n))
	require.Equal(t, 2, n, "both stages decided again")
}

// sequence decides claims c01..cN on a fresh directory of people (ticket
// priorities 1 to 3) under method and returns the assignees in the order the
// ledger recorded them: one at a time, or, together, c01 first and the rest
// as one batch behind a held scope.
func sequence(t *testing.T, method policy.Method, count, n int, together bool) []string {
	ctx := context.Background()
	db := batontest.New(t)
	db.Load(t, people(count))
	pol := &policy.Policy{Version: "v1", AssignmentsEnabled: true, Method: method}
	a := activities.New(db.Store, pol, nil, "", nil)
	in := captureOf
	_, err := a.ResolveAssignment(ctx, in(1))
	require.NoError(t, err)
	if !together {
		for i := 2; i <= n; i++ {
			_, err := a.ResolveAssignment(ctx, in(i))
			require.NoError(t, err)
		}
	} else {
		scope := pol.TurnScopeFor(policy.StageCapture, policy.Claim{})
		release := holdScope(t, db, scope)
		var wg sync.WaitGroup
		errs := make([]error, n+1)
		// In order: each joins the queue before the next is asked.
		for i := 2; i <= n; i++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				_, errs[i] = a.ResolveAssignment(ctx, in(i))
			}()
			batontest.Eventually(t, 20*time.Second, func() (bool, string) {
				return a.Waiting(scope) == i-1, fmt.Sprintf("%d of %d decisions queued", a.Waiting(scope), i-1)
			})
		}
		release()
		wg.Wait()
		for i, err := range errs {
			require.NoError(t, err, "decision %d", i)
		}
		var txs int
		require.NoError(t, db.Pool.QueryRow(ctx, `SELECT count(DISTINCT xmin::text) FROM decisions`).Scan(&txs))
		require.Equal(t, 2, txs, "the first decision, then the rest in one batch")
	}
	rows, err := db.Pool.Query(ctx, `SELECT d.assignee FROM decisions d JOIN timeline e USING (workflow_id, seq) ORDER BY e.id`)
	require.NoError(t, err)
	out, err := pgx.CollectRows(rows, pgx.RowTo[string])
	require.NoError(t, err)
	return out
}

// people are count people who may decide claims, u0, u1, ..., with ticket
// priorities 1, 2, 3, 1, ... (weighted round robin's weights).
func people(count int) []policy.User {
	out := make([]policy.User, count)
	for i := range out {
		out[i] = batontest.User(fmt.Sprintf("u%d", i), "MakeClaimDecisions")
		out[i].TicketPriority = 1 + i%3
	}
	return out
}

// captureOf is the capture decision of claim c<i>.
func captureOf(i int) workflows.ResolveAssignmentInput {
	id := fmt.Sprintf("c%02d", i)
	return workflows.ResolveAssignmentInput{WorkflowID: workflows.WorkflowID(id), Claim: policy.Claim{ID: id},
		Stage: policy.StageCapture, Seq: 1}
}

// holdScope holds scope's lock in a transaction of its own, as a decision of
// another worker would, until release is called (or the test ends).
func holdScope(t *testing.T, db *batontest.Schema, scope string) (release func()) {
	ctx := context.Background()
	held, free := make(chan struct{}), make(chan struct{})
	var once sync.Once
	var holder sync.WaitGroup
	holder.Add(1)
	go func() {
		defer holder.Done()
		_ = db.Store.InTx(ctx, func(qs *store.Queries) error {
			if err := qs.TurnsLock(ctx, scope); err != nil {
				return err
			}
			close(held)
			<-free
			return nil
		})
	}()
	<-held
	release = func() {
		once.Do(func() { close(free) })
		holder.Wait()
	}
	t.Cleanup(release) // should the test stop early
	return release
}
