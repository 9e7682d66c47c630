package bench

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/batonhq/baton/internal/batontest"
	"github.com/batonhq/baton/policy"
	"github.com/batonhq/baton/policy/yamlfile"
)

// Figure 3's policy has 200 rules, and a claim of the busy team is matched by
// the last of them, so every decision evaluates them all; every other team's
// claim reaches its own rule, which names the team the claim's data names.
func TestContentionPolicyRoutesEachTeamByItsRule(t *testing.T) {
	t.Parallel()
	p, err := yamlfile.ParsePolicy("bench-contention.yaml", []byte(contentionPolicy()))
	require.NoError(t, err)
	require.Len(t, p.Rules, contentionRules)
	for _, team := range []int{Teams - 1, 0, 17} {
		m := policy.MatchRules(p.Rules, contentionClaimData(teamID(team)))
		require.NotNil(t, m, "team %d", team)
		require.Equal(t, contentionRule(team), m.ID)
		require.Equal(t, teamID(team), m.Then[0].Team)
	}
	require.Equal(t, p.Rules[len(p.Rules)-1].ID, contentionRule(Teams-1), "the busy team's rule is the last")
}

// The ratio targets are the issue's, at 64 callers, judged on the lower
// bound; the turn audit and the bare loop's count hold at every number.
func TestContentionRowsJudgeTheIssuesTargets(t *testing.T) {
	t.Parallel()
	row := func(callers int, busy float64, check TurnCheck) ContentionRow {
		return ContentionRow{Callers: callers, Procs: 2, Rules: 200, Window: 5 * time.Second,
			Busy: rounds([]float64{busy, busy * 1.02, busy * 0.98}), Spread: rounds([]float64{100, 100, 100}),
			Bare: rounds([]float64{60, 61, 59}), BusyCheck: check}
	}
	rows := (&Results{Contention: []ContentionRow{row(16, 70, TurnCheck{}), row(64, 70, TurnCheck{}), row(64, 70, TurnCheck{Skips: 2})}}).Rows()
	require.Len(t, rows, 6)
	require.Equal(t, "0 mismatched/missing/skipped", rows[0].Target, "16 callers: the audit only")
	require.True(t, rows[0].Met)
	require.Empty(t, rows[1].Target)
	require.NotEqual(t, rows[2].Figure, rows[3].Figure, "a missed row is named unambiguously")
	require.Equal(t, "≥ 0.5 (lower bound), 0 mismatched/missing/skipped", rows[2].Target)
	require.True(t, rows[2].Met, "0.70 with an interval above 0.5: %s", rows[2].Interval)
	require.Equal(t, "≥ 1 (lower bound), 0 lost", rows[3].Target)
	require.True(t, rows[3].Met, "70 decisions/s against 60 commits/s: %s", rows[3].Interval)
	require.False(t, rows[4].Met, "a skipped turn misses however fast")

	slow := (&Results{Contention: []ContentionRow{row(64, 49, TurnCheck{})}}).Rows()
	require.False(t, slow[0].Met)
	require.False(t, slow[1].Met)
}

// One decide-load process against real PostgreSQL: every decision asked has
// its ledger row, the busy team's turns are exactly even, each decision
// queued its e-mail; the bare loop's counter holds every commit reported.
func TestDecideLoadKeepsTurnsExactAndQueuesAnEmailEach(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := batontest.New(t)
	dir, err := yamlfile.ParseDirectory("bench-directory.yaml", []byte(directoryYAML()))
	require.NoError(t, err)
	_, err = db.Store.LoadDirectory(ctx, dir)
	require.NoError(t, err)
	policyFile := filepath.Join(t.TempDir(), "bench-contention.yaml")
	require.NoError(t, os.WriteFile(policyFile, []byte(contentionPolicy()), 0o644))

	res, err := DecideLoad(ctx, DecideLoadConfig{DatabaseURL: db.URL, PolicyFile: policyFile, Callers: 4, Prefix: "busy",
		Teams: 1, Duration: time.Second, Email: true}, nil)
	require.NoError(t, err)
	require.Positive(t, res.Asked)
	require.Equal(t, 4, res.Warmup)
	s := &Stack{Pool: db.Pool}
	check, decided, outbox, err := s.contentionAudit(ctx, "busy", 1, res.Asked, res.Mismatched)
	require.NoError(t, err)
	require.True(t, check.Clean(), check.String())
	require.Equal(t, res.Asked, decided)
	require.Equal(t, decided, outbox, "e-mail is configured: one outbox row a decision")

	// Over eight teams that share their seven members, each process deciding
	// several teams' stages in batches that take the same people in different
	// orders: no batch waits for a person while holding another, so none
	// deadlocks, and every team's turns stay exact.
	spread, err := DecideLoad(ctx, DecideLoadConfig{DatabaseURL: db.URL, PolicyFile: policyFile, Callers: 16, Prefix: "spread",
		Teams: 8, Duration: time.Second, Email: true}, nil)
	require.NoError(t, err)
	check, decided, _, err = s.contentionAudit(ctx, "spread", 8, spread.Asked, spread.Mismatched)
	require.NoError(t, err)
	require.True(t, check.Clean(), check.String())
	require.Equal(t, spread.Asked, decided)

	_, err = db.Pool.Exec(ctx, "CREATE TABLE "+BareTable+" (id int PRIMARY KEY, n bigint NOT NULL); INSERT INTO "+BareTable+" VALUES (1, 0)")
	require.NoError(t, err)
	bare, err := DecideLoad(ctx, DecideLoadConfig{DatabaseURL: db.URL, Callers: 4, Prefix: "bare", Duration: 200 * time.Millisecond, Bare: true}, nil)
	require.NoError(t, err)
	var n int
	require.NoError(t, db.Pool.QueryRow(ctx, "SELECT n FROM "+BareTable+" WHERE id = 1").Scan(&n))
	require.Equal(t, bare.Asked+bare.Warmup, n)
}
