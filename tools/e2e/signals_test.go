package e2e

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	enumspb "go.temporal.io/api/enums/v1"

	"github.com/batonhq/baton/batonfx"
	"github.com/batonhq/baton/internal/batontest"
	"github.com/batonhq/baton/policy"
	"github.com/batonhq/baton/tools/testenv"
	"github.com/batonhq/baton/workflows"
)

// The redistribute signal is only a nudge. With the actor key set, a plain
// Temporal client (what `temporal workflow signal` is) sends it for a stage
// whose holder was neither deactivated nor went away, with a reason of its
// own, plain and as an absence: the claim's decision is refused against the
// store, the stage stays, and the sender's text is nowhere, not in a decision,
// the timeline, an inbox or an e-mail. (Issue 20: it moved ava's stage to ben
// with its text as the reason.) A deactivation still moves the stage, with the
// store's reason.
func TestAForgedRedistributeSignalMovesNothing(t *testing.T) {
	t.Parallel()
	b := testenv.Start(t, pol(policy.MethodRoundRobin, true), directory, testenv.WithActorKey("k1:"+strings.Repeat("s", 32)))
	ctx := context.Background()
	id := b.ClaimID(1)
	_, err := b.Claims.Start(ctx, workflows.ClaimInput{ClaimID: id})
	require.NoError(t, err)
	before := waitDecided(t, b, id, policy.StageCapture)
	holder := before.Assignee
	require.NotEmpty(t, holder)

	const evil = "URGENT re-verify at https://evil.example"
	wf := workflows.WorkflowID(id)
	// As an absence first (the claim's policy keeps work with the absent, so
	// the claim drops it at once), then plainly (judged against the store).
	for _, absence := range []bool{true, false} {
		require.NoError(t, b.Plain.SignalWorkflow(ctx, wf, "", workflows.SignalRedistribute,
			map[string]any{"user": holder, "reason": evil, "absence": absence}))
	}
	// Signals are taken in order: once the second is refused, both were judged.
	batontest.Eventually(t, 30*time.Second, func() (bool, string) {
		refused := 0
		it := b.Temporal.GetWorkflowHistory(ctx, wf, "", false, enumspb.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
		for it.HasNext() {
			ev, err := it.Next()
			require.NoError(t, err)
			if f := ev.GetActivityTaskFailedEventAttributes(); f != nil && strings.Contains(f.GetFailure().GetMessage(), "is not to be moved off") {
				refused++
			}
		}
		return refused == 1, "the forged signal was not judged yet"
	})
	after, err := b.Claims.State(ctx, id)
	require.NoError(t, err)
	require.Equal(t, holder, after.Assignee, "nothing moved")
	require.Equal(t, before.DecisionCount, after.DecisionCount)
	for _, table := range []string{"decisions", "timeline", "inbox", "outbox"} {
		var n int
		require.NoError(t, b.DB.Pool.QueryRow(ctx, fmt.Sprintf(`SELECT count(*) FROM %s t WHERE t::text LIKE '%%evil.example%%'`, table)).Scan(&n))
		require.Zero(t, n, "the sender's text is in %s", table)
	}

	// The real thing, through the store: the stage moves, with its reason.
	held, _, err := b.DB.Store.UserActiveSet(ctx, holder, false)
	require.NoError(t, err)
	require.NoError(t, b.Claims.Redistribute(ctx, held, holder, evil)) // the store's reason wins
	batontest.Eventually(t, 30*time.Second, func() (bool, string) {
		s, err := b.Claims.State(ctx, id)
		require.NoError(t, err)
		return s.Assignee != holder && s.Status == workflows.StatusAssigned, s.Assignee
	})
	s, err := b.Claims.State(ctx, id)
	require.NoError(t, err)
	require.True(t, strings.HasPrefix(s.Decisions[len(s.Decisions)-1].Reason, holder+" was deactivated; "), s.Decisions[len(s.Decisions)-1].Reason)
	require.NotContains(t, s.Decisions[len(s.Decisions)-1].Reason, "evil.example")
}

// A claim terminated by hand in Temporal stops counting as anyone's open work
// once the worker's sweeper has run (within its ten seconds), and reads as
// terminated, not finalised. (Issue 20: open_stages counted it against its
// holder's capacity for ever, and the API called it finalised.)
func TestATerminatedClaimReleasesItsWork(t *testing.T) {
	t.Parallel()
	b := testenv.Start(t, pol(policy.MethodRoundRobin, true), directory)
	ctx := context.Background()
	id := b.ClaimID(1)
	_, err := b.Claims.Start(ctx, workflows.ClaimInput{ClaimID: id})
	require.NoError(t, err)
	holder := waitDecided(t, b, id, policy.StageCapture).Assignee
	w, err := b.DB.Store.UserWorkload(ctx, holder)
	require.NoError(t, err)
	require.Equal(t, 1, w.Open)

	require.NoError(t, b.Temporal.TerminateWorkflow(ctx, workflows.WorkflowID(id), "", "by hand"))
	// The sweeper's pass, as the worker runs it every ten seconds: until
	// Temporal's visibility store has recorded the close, it finds nothing.
	batontest.Eventually(t, time.Minute, func() (bool, string) {
		_, err := batonfx.ReconcileClosed(ctx, b.Claims, b.DB.Store, slog.New(slog.DiscardHandler))
		require.NoError(t, err)
		w, err := b.DB.Store.UserWorkload(ctx, holder)
		require.NoError(t, err)
		return w.Open == 0, fmt.Sprintf("%s still holds %d open stages", holder, w.Open)
	})
	s, err := b.Claims.State(ctx, id)
	require.NoError(t, err)
	require.Equal(t, "terminated", s.Closed)
	require.Equal(t, policy.StageCapture, s.Stage, "as it was when it ended, not finalised")
	again, err := batonfx.ReconcileClosed(ctx, b.Claims, b.DB.Store, slog.New(slog.DiscardHandler))
	require.NoError(t, err)
	require.Zero(t, again, "released once")

	// A finalised claim is not closed in that sense.
	done := b.ClaimID(2)
	_, err = b.Claims.Start(ctx, workflows.ClaimInput{ClaimID: done})
	require.NoError(t, err)
	s = waitDecided(t, b, done, policy.StageCapture)
	require.Empty(t, s.Closed)
}
