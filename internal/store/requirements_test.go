package store_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/batonhq/baton/internal/batontest"
	"github.com/batonhq/baton/internal/store"
	"github.com/batonhq/baton/policy"
)

// orgDoc is a directory of n users u01…, the ones listed in holders holding P.
func orgDoc(n int, holders map[int]bool, extra string) string {
	var b strings.Builder
	b.WriteString("users:\n")
	for i := 1; i <= n; i++ {
		perms := "[]"
		if holders[i] {
			perms = "[P]"
		}
		fmt.Fprintf(&b, "  - {id: u%02d, name: U%d, email: u%d@x, permissions: %s}\n", i, i, i, perms)
	}
	b.WriteString(extra)
	return b.String()
}

// decideRR records one round-robin decision of scope under req, as
// ResolveAssignment does, and returns the pick.
func decideRR(t *testing.T, db *batontest.Schema, workflow string, req policy.Requirement) string {
	t.Helper()
	return decideIn(t, db, workflow, req, "claims/capture", policy.TurnOrder{Stage: policy.StageCapture})
}

// decideIn records a round-robin decision of capture in scope, by order.
func decideIn(t *testing.T, db *batontest.Schema, workflow string, req policy.Requirement, scope string, order policy.TurnOrder) string {
	t.Helper()
	ctx := context.Background()
	var pick string
	require.NoError(t, db.Store.InTx(ctx, func(qs *store.Queries) error {
		people := qs.People()
		set, err := people.Eligible(ctx, req, policy.SampleSize)
		if err != nil {
			return err
		}
		v, err := people.Turns(ctx, scope, req, order)
		if err != nil {
			return err
		}
		turn, ok := policy.NextTurn(scope, "round robin", v)
		require.True(t, ok, "somebody is eligible")
		pick = turn.User.ID
		ref := people.Ref(req)
		_, err = qs.DecisionRecord(ctx, store.DecisionWrite{
			Key: policy.DecisionKey{WorkflowID: workflow, Stage: policy.StageCapture, Seq: 1}, ClaimID: workflow,
			Decision: policy.Decision{Stage: policy.StageCapture, Method: policy.MethodRoundRobin, Assignee: pick, Reason: turn.Reason,
				Eligible: set.Count, Excluded: set.Excluded},
			Explanation: &policy.Explanation{Requirement: req, Turn: &turn, RequirementID: ref.ID, Generation: ref.Generation},
			Event: store.TimelineEvent{WorkflowID: workflow, ClaimID: workflow, Stage: policy.StageCapture, Seq: 1,
				Kind: policy.EventAssigned, Subject: pick},
		})
		return err
	}))
	return pick
}

// candidates lists a decision's candidates, a page of two at a time.
func candidates(t *testing.T, db *batontest.Schema, workflow string) []string {
	t.Helper()
	k := policy.DecisionKey{WorkflowID: workflow, Stage: policy.StageCapture, Seq: 1}
	var out []string
	for offset := 0; ; offset += 2 {
		page, err := db.Store.ExplanationCandidates(context.Background(), k, offset, 2)
		require.NoError(t, err)
		for _, u := range page {
			out = append(out, u.ID)
		}
		if len(page) < 2 {
			return out
		}
	}
}

func count(t *testing.T, db *batontest.Schema, sql string, args ...any) int {
	t.Helper()
	var n int
	require.NoError(t, db.Pool.QueryRow(context.Background(), sql, args...).Scan(&n))
	return n
}

// A directory change costs what it changes: one person gaining a permission
// adds one membership row and enters one person in the turn pool; the same
// file again writes nothing; and an earlier decision's explanation still reads
// the candidates it had.
func TestADirectoryChangeMovesOnlyWhatChanged(t *testing.T) {
	t.Parallel()
	db := batontest.New(t)
	ctx := context.Background()
	req := policy.Requirement{Stage: policy.StageCapture, Required: []string{"P"}}
	_, err := loadDir(t, db.Store, orgDoc(8, map[int]bool{1: true, 3: true, 5: true}, ""))
	require.NoError(t, err)

	require.Equal(t, "u01", decideRR(t, db, "claim/a", req))
	gen := count(t, db, "SELECT generation FROM directory_stats")
	rows := count(t, db, "SELECT count(*) FROM requirement_members")
	require.Equal(t, 3, rows, "one row per member")

	// u08 gains P: one row more, one newcomer pending, one generation on.
	sum, err := loadDir(t, db.Store, orgDoc(8, map[int]bool{1: true, 3: true, 5: true, 8: true}, ""))
	require.NoError(t, err)
	require.Equal(t, 1, sum.Changed)
	require.Equal(t, rows+1, count(t, db, "SELECT count(*) FROM requirement_members"))
	require.Equal(t, gen+1, count(t, db, "SELECT generation FROM directory_stats"))
	require.Equal(t, 4, count(t, db, "SELECT size FROM requirements"))
	require.Equal(t, []string{"u08"}, pending(t, db))

	// The same file again: nothing written, not even a generation.
	sum, err = loadDir(t, db.Store, orgDoc(8, map[int]bool{1: true, 3: true, 5: true, 8: true}, ""))
	require.NoError(t, err)
	require.Zero(t, sum.Changed+sum.Added+sum.TeamsChanged)
	require.Equal(t, gen+1, count(t, db, "SELECT generation FROM directory_stats"))

	// The round goes on with the newcomer in it: nobody gets two before u08
	// has had one.
	var picks []string
	for i := range 3 {
		picks = append(picks, decideRR(t, db, fmt.Sprintf("claim/b%d", i), req))
	}
	require.Equal(t, []string{"u03", "u05", "u08"}, picks)
	require.Empty(t, pending(t, db))

	// u03 loses P: their row closes; the first decision still lists them.
	_, err = loadDir(t, db.Store, orgDoc(8, map[int]bool{1: true, 5: true, 8: true}, ""))
	require.NoError(t, err)
	require.Equal(t, []string{"u01", "u03", "u05"}, candidates(t, db, "claim/a"), "as it was decided")
	require.Equal(t, []string{"u01", "u03", "u05", "u08"}, candidates(t, db, "claim/b0"))
	require.Equal(t, "u01", decideRR(t, db, "claim/c", req))
	require.Equal(t, []string{"u01", "u05", "u08"}, candidates(t, db, "claim/c"))
	ok, err := db.Store.ExplanationIsCandidate(ctx, policy.DecisionKey{WorkflowID: "claim/a", Stage: policy.StageCapture, Seq: 1}, "u03")
	require.NoError(t, err)
	require.True(t, ok)
	ok, err = db.Store.ExplanationIsCandidate(ctx, policy.DecisionKey{WorkflowID: "claim/c", Stage: policy.StageCapture, Seq: 1}, "u03")
	require.NoError(t, err)
	require.False(t, ok)

	// Deactivating someone closes their row too, at once.
	_, err = loadDir(t, db.Store, orgDoc(8, map[int]bool{1: true, 5: true, 8: true},
		"  - {id: admin, name: Admin, email: admin@x, permissions: [Admin]}\n"))
	require.NoError(t, err)
	_, _, err = db.Store.UserActiveSet(ctx, "u05", false)
	require.NoError(t, err)
	require.Equal(t, 2, count(t, db, "SELECT size FROM requirements"))
	require.Equal(t, 1, count(t, db, "SELECT count(*) FROM requirements"), "one requirement, however many changes")

	// The file still says u05 is active: loading it again reactivates them,
	// though their entry in the file did not change (the deactivation cleared
	// the fingerprint the load skips unchanged entries by); the rest are not
	// copied, let alone rewritten.
	sum, err = loadDir(t, db.Store, orgDoc(8, map[int]bool{1: true, 5: true, 8: true},
		"  - {id: admin, name: Admin, email: admin@x, permissions: [Admin]}\n"))
	require.NoError(t, err)
	require.Equal(t, store.LoadSummary{Users: 9, Changed: 1}, sum)
	require.Equal(t, 3, count(t, db, "SELECT size FROM requirements"), "u05 meets it again")
}

func pending(t *testing.T, db *batontest.Schema) []string {
	t.Helper()
	rows, err := db.Pool.Query(context.Background(), "SELECT user_id FROM turn_pending ORDER BY user_id")
	require.NoError(t, err)
	defer rows.Close()
	var out []string
	for rows.Next() {
		var id string
		require.NoError(t, rows.Scan(&id))
		out = append(out, id)
	}
	return out
}

// A requirement nobody has used for a while is retired: directory changes stop
// keeping it. A decision that needs it again makes it live from the directory
// as it is then, and old decisions still read their candidates.
func TestARetiredRequirementComesBackAsTheDirectoryIsThen(t *testing.T) {
	t.Parallel()
	db := batontest.New(t)
	ctx := context.Background()
	req := policy.Requirement{Stage: policy.StageCapture, Required: []string{"P"}}
	_, err := loadDir(t, db.Store, orgDoc(4, map[int]bool{1: true, 2: true}, ""))
	require.NoError(t, err)
	require.Equal(t, "u01", decideRR(t, db, "claim/a", req))

	n, err := db.Store.RequirementsRetire(ctx, time.Now().Add(time.Hour))
	require.NoError(t, err)
	require.Equal(t, 1, n)
	require.Zero(t, count(t, db, "SELECT count(*) FROM requirement_members WHERE to_gen IS NULL"))
	// A change while it is retired costs nothing there.
	_, err = loadDir(t, db.Store, orgDoc(4, map[int]bool{1: true, 2: true, 4: true}, ""))
	require.NoError(t, err)
	require.Equal(t, 2, count(t, db, "SELECT count(*) FROM requirement_members"))

	require.Equal(t, "u02", decideRR(t, db, "claim/b", req), "turns were kept")
	require.Equal(t, []string{"u01", "u02"}, candidates(t, db, "claim/a"))
	require.Equal(t, []string{"u01", "u02", "u04"}, candidates(t, db, "claim/b"))
	require.Equal(t, "u04", decideRR(t, db, "claim/c", req), "the newcomer joins the round")
}

// The team view pages by key, most loaded first, then in directory order, and
// covers everyone active exactly once.
func TestTheTeamViewPagesByKey(t *testing.T) {
	t.Parallel()
	db := batontest.New(t)
	ctx := context.Background()
	_, err := loadDir(t, db.Store, orgDoc(7, map[int]bool{1: true, 2: true, 3: true}, ""))
	require.NoError(t, err)
	_, err = db.Pool.Exec(ctx, `UPDATE user_load SET open_total = CASE user_id WHEN 'u03' THEN 2 WHEN 'u06' THEN 1 ELSE 0 END`)
	require.NoError(t, err)
	_, err = db.Pool.Exec(ctx, `UPDATE users SET active = false WHERE id = 'u02'`)
	require.NoError(t, err)
	var got []string
	var after store.TeamCursor
	for {
		page, next, err := db.Store.TeamPage(ctx, after, 2)
		require.NoError(t, err)
		for _, m := range page {
			got = append(got, fmt.Sprintf("%s=%d", m.ID, m.Open))
		}
		if next == (store.TeamCursor{}) {
			break
		}
		again, err := store.ParseTeamCursor(next.String())
		require.NoError(t, err)
		after = again
	}
	require.Equal(t, []string{"u03=2", "u06=1", "u01=0", "u04=0", "u05=0", "u07=0"}, got)
	_, err = store.ParseTeamCursor("x.1")
	require.ErrorIs(t, err, store.ErrInvalid)
}

// loadsMatch checks user_load and every turn row's copy against a count of
// open_stages: the counts are moved, never recounted, so they must never drift.
func loadsMatch(t *testing.T, db *batontest.Schema) {
	t.Helper()
	require.Zero(t, count(t, db, `SELECT count(*) FROM user_load l
		CROSS JOIN LATERAL (SELECT count(*)::int AS n, (count(*) FILTER (WHERE o.stage = 'capture'))::int AS c,
		    (count(*) FILTER (WHERE o.stage = 'review'))::int AS r, (count(*) FILTER (WHERE o.stage = 'acknowledge'))::int AS a
		    FROM open_stages o WHERE o.user_id = l.user_id) x
		WHERE (l.open_total, l.open_capture, l.open_review, l.open_acknowledge) IS DISTINCT FROM (x.n, x.c, x.r, x.a)`),
		"user_load matches open_stages")
	require.Zero(t, count(t, db, `SELECT count(*) FROM rr_turns t JOIN user_load l ON l.user_id = t.user_id
		WHERE (t.loads OR t.cap_total > 0 OR t.cap_stage > 0)
		  AND (t.open_total <> l.open_total OR t.open_stage <> CASE t.stage WHEN 'capture' THEN l.open_capture
		      WHEN 'review' THEN l.open_review WHEN 'acknowledge' THEN l.open_acknowledge ELSE 0 END)`),
		"turn rows that keep counts carry user_load's")
}

// A round robin's rows of people without limits keep no copy of their counts
// (an assignment does not rewrite a row in every team its assignee is on);
// least_loaded, reading the same scope later, copies them first and weighs
// everyone by their counts as they are.
func TestLeastLoadedReadsAScopeARoundRobinEntered(t *testing.T) {
	t.Parallel()
	db := batontest.New(t)
	ctx := context.Background()
	req := policy.Requirement{Stage: policy.StageCapture, Required: []string{"P"}}
	_, err := loadDir(t, db.Store, orgDoc(3, map[int]bool{1: true, 2: true, 3: true}, ""))
	require.NoError(t, err)
	var picks []string
	for i := range 4 {
		picks = append(picks, decideRR(t, db, fmt.Sprintf("claim/a%d", i), req))
	}
	require.Equal(t, []string{"u01", "u02", "u03", "u01"}, picks)
	require.Equal(t, 3, count(t, db, "SELECT count(*) FROM rr_turns WHERE NOT loads AND open_total = 0"),
		"the round robin's rows were not rewritten as counts moved")
	require.NoError(t, db.Store.InTx(ctx, func(qs *store.Queries) error {
		return qs.OpenStageClose(ctx, "claim/a1", policy.StageCapture) // u02's
	}))
	// Open now: u01 2, u02 0, u03 1.
	var pick string
	require.NoError(t, db.Store.InTx(ctx, func(qs *store.Queries) error {
		v, err := qs.People().LeastLoaded(ctx, "claims/capture", req, policy.TurnOrder{Stage: policy.StageCapture})
		if err == nil && v.Next != nil {
			pick = v.Next.User.ID
		}
		return err
	}))
	require.Equal(t, "u02", pick, "the fewest open stages")
	require.Zero(t, count(t, db, "SELECT count(*) FROM rr_turns WHERE NOT loads"))
	loadsMatch(t, db)
}

// Assigning, reassigning, unassigning and completing move the holders' counts
// (and their turn rows' copies) in the transaction that records them.
func TestLoadCountsFollowEveryChangeOfHolder(t *testing.T) {
	t.Parallel()
	db := batontest.New(t)
	ctx := context.Background()
	req := policy.Requirement{Stage: policy.StageCapture, Required: []string{"P"}}
	_, err := loadDir(t, db.Store, orgDoc(3, map[int]bool{1: true, 2: true, 3: true}, ""))
	require.NoError(t, err)
	pick := decideRR(t, db, "claim/a", req) // enters everyone in the pool
	require.Equal(t, "u01", pick)
	loadsMatch(t, db)
	record := func(seq int, assignee string) {
		t.Helper()
		require.NoError(t, db.Store.InTx(ctx, func(qs *store.Queries) error {
			_, err := qs.DecisionRecord(ctx, store.DecisionWrite{
				Key: policy.DecisionKey{WorkflowID: "claim/a", Stage: policy.StageCapture, Seq: seq}, ClaimID: "claim/a",
				Decision: policy.Decision{Stage: policy.StageCapture, Method: policy.MethodAssign, Assignee: assignee, Reason: "test"},
				Event: store.TimelineEvent{WorkflowID: "claim/a", ClaimID: "claim/a", Stage: policy.StageCapture, Seq: seq,
					Kind: policy.EventAssigned, Subject: assignee},
			})
			return err
		}))
		loadsMatch(t, db)
	}
	record(2, "u02") // reassigned
	require.Equal(t, 1, count(t, db, "SELECT open_total FROM user_load WHERE user_id = 'u02'"))
	require.Equal(t, 0, count(t, db, "SELECT open_total FROM user_load WHERE user_id = 'u01'"))
	record(3, "u02") // to the same person: no change
	record(4, "")    // unassigned
	require.Equal(t, 0, count(t, db, "SELECT sum(open_total) FROM user_load"))
	record(5, "u03")
	record(4, "u01") // an older seq loses: nothing moves
	require.Equal(t, 1, count(t, db, "SELECT open_total FROM user_load WHERE user_id = 'u03'"))
	require.NoError(t, db.Store.InTx(ctx, func(qs *store.Queries) error {
		return qs.OpenStageClose(ctx, "claim/a", policy.StageCapture)
	}))
	loadsMatch(t, db)
	require.Equal(t, 0, count(t, db, "SELECT sum(open_total) FROM user_load"))
}

// Someone who leaves a team leaves its turn orders: no decision reads past
// their row, and should they join again they enter as a newcomer, never with
// the turns they missed to catch up on.
func TestLeavingATeamLeavesItsTurnOrder(t *testing.T) {
	t.Parallel()
	db := batontest.New(t)
	req := policy.Requirement{Stage: policy.StageCapture, Required: []string{"P"}}
	all := map[int]bool{1: true, 2: true, 3: true, 4: true}
	_, err := loadDir(t, db.Store, orgDoc(4, all, "teams:\n  - {id: t, name: T, members: [u01, u02, u03, u04]}\n"))
	require.NoError(t, err)
	order := policy.TurnOrder{Stage: policy.StageCapture, Team: "t"}
	scope := "team/claims/t"
	var picks []string
	for i := range 4 {
		picks = append(picks, decideIn(t, db, fmt.Sprintf("claim/a%d", i), req, scope, order))
	}
	require.Equal(t, []string{"u01", "u02", "u03", "u04"}, picks)
	rowsOf := func() int { return count(t, db, "SELECT count(*) FROM rr_turns WHERE scope = 'team/claims/t'") }
	require.Equal(t, 4, rowsOf())
	for i := range 4 {
		decideRR(t, db, fmt.Sprintf("claim/s%d", i), req) // the stage's own turn order
	}

	_, err = loadDir(t, db.Store, orgDoc(4, all, "teams:\n  - {id: t, name: T, members: [u01, u02, u03]}\n"))
	require.NoError(t, err)
	require.Equal(t, 3, rowsOf(), "u04's row left with them")
	require.Equal(t, 1, count(t, db, "SELECT count(*) FROM rr_turns WHERE user_id = 'u04' AND scope = 'claims/capture'"),
		"their other turn orders are not touched")

	// Two rounds on, u04 comes back: one turn in the round, like a newcomer.
	picks = nil
	for i := range 6 {
		picks = append(picks, decideIn(t, db, fmt.Sprintf("claim/b%d", i), req, scope, order))
	}
	require.Equal(t, []string{"u01", "u02", "u03", "u01", "u02", "u03"}, picks)
	_, err = loadDir(t, db.Store, orgDoc(4, all, "teams:\n  - {id: t, name: T, members: [u01, u02, u03, u04]}\n"))
	require.NoError(t, err)
	picks = nil
	for i := range 4 {
		picks = append(picks, decideIn(t, db, fmt.Sprintf("claim/c%d", i), req, scope, order))
	}
	require.Equal(t, []string{"u04", "u01", "u02", "u03"}, picks, "u04 gets one turn, not the three they missed")
}

// A stage's method that picked someone as they were being deactivated records
// nothing: while the deactivation holds their row, or once it committed, the
// decision is refused (ErrAssigneeLeft, retried by its activity), so nobody is
// given work after the deactivation listed the stages to move. (Found by
// make chaos: a claim stayed with a leaver whose deactivation committed
// between its decision's turn read and its write.)
func TestAPickDeactivatedMeanwhileIsRefused(t *testing.T) {
	t.Parallel()
	db := batontest.New(t)
	ctx := context.Background()
	_, err := loadDir(t, db.Store, orgDoc(3, map[int]bool{1: true, 2: true, 3: true}, ""))
	require.NoError(t, err)
	req := policy.Requirement{Stage: policy.StageCapture, Required: []string{"P"}}
	// Without the check, the write would wait for the deactivation and
	// then record the pick: a deadline makes that a failure, not a hang.
	write := func(workflow, pick string) error {
		ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		defer cancel()
		return db.Store.InTx(ctx, func(qs *store.Queries) error {
			_, err := qs.DecisionRecord(ctx, store.DecisionWrite{
				Key: policy.DecisionKey{WorkflowID: workflow, Stage: policy.StageCapture, Seq: 1}, ClaimID: workflow,
				Decision:    policy.Decision{Stage: policy.StageCapture, Method: policy.MethodRoundRobin, Assignee: pick, Reason: "r"},
				Explanation: &policy.Explanation{Requirement: req},
				Event: store.TimelineEvent{WorkflowID: workflow, ClaimID: workflow, Stage: policy.StageCapture, Seq: 1,
					Kind: policy.EventAssigned, Subject: pick},
			})
			return err
		})
	}
	// The deactivation holds u01's row, not yet committed.
	tx, err := db.Pool.Begin(ctx)
	require.NoError(t, err)
	_, err = tx.Exec(ctx, `UPDATE users SET active = false WHERE id = 'u01'`)
	require.NoError(t, err)
	require.ErrorIs(t, write("claim/a", "u01"), store.ErrAssigneeLeft)
	require.NoError(t, tx.Commit(ctx))
	require.ErrorIs(t, write("claim/a", "u01"), store.ErrAssigneeLeft, "committed: refused too")
	require.NoError(t, write("claim/a", "u02"), "someone active is recorded")
	ds, err := db.Store.DecisionsByClaim(ctx, "claim/a")
	require.NoError(t, err)
	require.Len(t, ds, 1)
	require.Equal(t, "u02", ds[0].Assignee)
}
