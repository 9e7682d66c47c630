package activities_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/batonhq/baton/policy"
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
	for _, id := range []string{"ann", "ben", "gus"} {
		_, _, err := a.Store.UserStatusSet(ctx, id, policy.Away)
		require.NoError(t, err)
	}
	d, err := a.ResolveAssignment(ctx, workflows.ResolveAssignmentInput{WorkflowID: workflows.WorkflowID("w1"),
		Claim: policy.Claim{ID: "w1"}, Stage: policy.StageCapture, Seq: 1})
	require.NoError(t, err)
	require.True(t, d.Backlog)
	// It has waited past the sweeper's ten seconds.
	_, err = a.Store.Pool().Exec(ctx, `UPDATE backlog SET queued_at = now() - interval '1 minute'`)
	require.NoError(t, err)
	stale, err := a.Store.BacklogStale(ctx, 10)
	require.NoError(t, err)
	require.Empty(t, stale, "everyone eligible is away: nobody could take it")

	// Ben is back: his status change leased the stage to nudge it; the nudge
	// was lost and the lease ran out.
	_, drain, err := a.Store.UserStatusSet(ctx, "ben", policy.Available)
	require.NoError(t, err)
	require.Equal(t, []string{workflows.WorkflowID("w1")}, drain)
	_, err = a.Store.Pool().Exec(ctx, `UPDATE backlog SET lease_until = now() - interval '1 second'`)
	require.NoError(t, err)
	stale, err = a.Store.BacklogStale(ctx, 10)
	require.NoError(t, err)
	require.Equal(t, []string{workflows.WorkflowID("w1")}, stale, "ben could take it: the sweep nudges it")
	stale, err = a.Store.BacklogStale(ctx, 10)
	require.NoError(t, err)
	require.Empty(t, stale, "leased: not nudged twice")
}
