package activities_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/batonhq/baton/activities"
	"github.com/batonhq/baton/internal/batontest"
	"github.com/batonhq/baton/internal/store"
	"github.com/batonhq/baton/policy"
	"github.com/batonhq/baton/policy/yamlfile"
	"github.com/batonhq/baton/workflows"
)

// The sweeper's nudge, the safety net for a nudge lost between a lease and its
// signal: it leases a stage that has waited and that someone could take now,
// never one nobody could take (everyone eligible away), and not again while
// its lease lasts.
func TestTheSweepNudgesAWaitingStageSomeoneCouldTake(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	a, _ := setupWithMetrics(t, &policy.Policy{Version: "v1", AssignmentsEnabled: true, Method: policy.MethodRoundRobin})
	everyoneAway(t, a)
	waiting(t, a, "w1") // everyone eligible is away: nobody could take it

	// Ben is back: his status change leased the stage to nudge it; the nudge
	// was lost and the lease ran out.
	_, drain, err := a.Store.UserStatusSet(ctx, "ben", policy.Available)
	require.NoError(t, err)
	require.Equal(t, []string{workflows.WorkflowID("w1")}, drain)
	_, err = a.Store.Pool().Exec(ctx, `UPDATE backlog SET lease_until = now() - interval '1 second'`)
	require.NoError(t, err)
	require.Equal(t, []string{workflows.WorkflowID("w1")}, swept(t, a), "ben could take it: the sweep nudges it")
	require.Empty(t, swept(t, a), "leased: not nudged twice")
}

// waiting decides claim id's capture with everyone eligible passed over, so it
// waits in the backlog, and ages it past the sweeper's ten seconds.
func waiting(t *testing.T, a *activities.Activities, id string) {
	t.Helper()
	ctx := context.Background()
	d, err := a.ResolveAssignment(ctx, workflows.ResolveAssignmentInput{WorkflowID: workflows.WorkflowID(id),
		Claim: policy.Claim{ID: id}, Stage: policy.StageCapture, Seq: 1})
	require.NoError(t, err)
	require.True(t, d.Backlog)
	_, err = a.Store.Pool().Exec(ctx, `UPDATE backlog SET queued_at = now() - interval '1 minute'`)
	require.NoError(t, err)
	require.Empty(t, swept(t, a), "nobody could take it yet")
}

// An absence that has ended makes its person able to take a waiting stage,
// though no decision has run since to bring their turns back.
func TestTheSweepSeesAnAbsenceThatEnded(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	a, _ := setupWithMetrics(t, &policy.Policy{Version: "v1", AssignmentsEnabled: true, Method: policy.MethodRoundRobin})
	now := time.Now()
	for _, id := range []string{"ann", "ben", "gus"} {
		require.NoError(t, a.Store.AbsenceAdd(ctx, "gus", id, store.Absence{From: now.Add(-time.Minute), Until: now.Add(time.Hour)}))
	}
	_, err := a.Store.StartAbsences(ctx, func(context.Context, []string, string, string) error { return nil })
	require.NoError(t, err)
	waiting(t, a, "w1")

	// Ben's absence is over, as an hour passing would leave it.
	_, err = a.Store.Pool().Exec(ctx, `UPDATE absences SET ends_at = now() - interval '1 second' WHERE user_id = 'ben'`)
	require.NoError(t, err)
	_, err = a.Store.Pool().Exec(ctx, `UPDATE rr_turns SET away_until = now() - interval '1 second' WHERE user_id = 'ben'`)
	require.NoError(t, err)
	require.Equal(t, []string{workflows.WorkflowID("w1")}, swept(t, a))
}

// Someone who joins the directory able to take a waiting stage gets it nudged,
// though the turn order has not entered them yet.
func TestTheSweepSeesANewcomer(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	a, _ := setupWithMetrics(t, &policy.Policy{Version: "v1", AssignmentsEnabled: true, Method: policy.MethodRoundRobin})
	everyoneAway(t, a)
	waiting(t, a, "w1")

	d, err := yamlfile.ParseDirectory("directory.yaml", []byte(metricsDirectory+
		"  - {id: dee, name: Dee, email: dee@example.com, role: Claims assessor, permissions: [MakeClaimDecisions]}\n"))
	require.NoError(t, err)
	_, err = a.Store.LoadDirectory(ctx, d)
	require.NoError(t, err)
	require.Equal(t, []string{workflows.WorkflowID("w1")}, swept(t, a))
}

// A slot freed without its nudge (a completion whose nudge was lost) makes a
// waiting stage able to go; while everyone is at their limit it is not
// nudged.
func TestTheSweepSeesASlotFreed(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := batontest.New(t)
	d, err := yamlfile.ParseDirectory("directory.yaml", []byte(strings.ReplaceAll(metricsDirectory,
		"permissions: [MakeClaimDecisions]}", "permissions: [MakeClaimDecisions], capacity: {total: 1}}")))
	require.NoError(t, err)
	_, err = db.Store.LoadDirectory(ctx, d)
	require.NoError(t, err)
	a := activities.New(db.Store, &policy.Policy{Version: "v1", AssignmentsEnabled: true, Method: policy.MethodRoundRobin}, nil, "", nil)
	for _, id := range []string{"w1", "w2", "w3"} {
		d, err := a.ResolveAssignment(ctx, workflows.ResolveAssignmentInput{WorkflowID: workflows.WorkflowID(id),
			Claim: policy.Claim{ID: id}, Stage: policy.StageCapture, Seq: 1})
		require.NoError(t, err)
		require.NotEmpty(t, d.Assignee)
	}
	waiting(t, a, "w4")

	require.NoError(t, db.Store.OpenStageClose(ctx, workflows.WorkflowID("w1"), policy.StageCapture))
	require.Equal(t, []string{workflows.WorkflowID("w4")}, swept(t, a))
}

// everyoneAway sets everyone in metricsDirectory away.
func everyoneAway(t *testing.T, a *activities.Activities) {
	t.Helper()
	for _, id := range []string{"ann", "ben", "gus"} {
		_, _, err := a.Store.UserStatusSet(context.Background(), id, policy.Away)
		require.NoError(t, err)
	}
}

// swept is what one sweep leases: the workflows it nudges.
func swept(t *testing.T, a *activities.Activities) []string {
	t.Helper()
	stale, err := a.Store.BacklogStale(context.Background(), 10)
	require.NoError(t, err)
	return stale
}
