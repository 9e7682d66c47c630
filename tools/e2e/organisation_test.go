package e2e

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/require"
	"google.golang.org/protobuf/encoding/protojson"

	"github.com/batonhq/baton/policy"
	"github.com/batonhq/baton/tools/policybench"
	"github.com/batonhq/baton/tools/testenv"
	"github.com/batonhq/baton/workflows"
)

// claimSize drives one round-robin claim through every stage in a directory of
// users (one in every eligible), and returns the bytes of its history (as the
// server counts them) and of its largest state query answer.
func claimSize(t *testing.T, users, every int) (history, state int) {
	t.Helper()
	b := testenv.Start(t, pol(policy.MethodRoundRobin, true), "")
	ctx := context.Background()
	_, err := b.DB.Store.LoadDirectory(ctx, policybench.Organisation(users, every))
	require.NoError(t, err)
	id := b.ClaimID(1)
	_, err = b.Claims.Start(ctx, workflows.ClaimInput{ClaimID: id, Owner: "o000000"})
	require.NoError(t, err)
	for _, stage := range policy.AssignableStages {
		s := waitDecided(t, b, id, stage)
		require.Equal(t, (users+every-1)/every, s.Eligible, "%s: every %dth of %d users is eligible", stage, every, users)
		require.LessOrEqual(t, len(s.Sample), policy.SampleSize)
		data, err := json.Marshal(s)
		require.NoError(t, err)
		state = max(state, len(data))
		complete(t, b, id, s.Assignee, stage)
	}
	_, err = b.Claims.Summary(ctx, id)
	require.NoError(t, err)
	// The server's own figure, as `temporal workflow describe` shows it (History
	// Size); the indented JSON of `temporal workflow show --output json` is logged.
	desc, err := b.Temporal.DescribeWorkflowExecution(ctx, workflows.WorkflowID(id), "")
	require.NoError(t, err)
	data, err := protojson.MarshalOptions{Indent: "  "}.Marshal(fetchHistory(t, b, id))
	require.NoError(t, err)
	t.Logf("%d users: %d events, %d bytes of history, %d bytes as indented JSON, state %d bytes",
		users, desc.WorkflowExecutionInfo.HistoryLength, desc.WorkflowExecutionInfo.HistorySizeBytes, len(data), state)
	return int(desc.WorkflowExecutionInfo.HistorySizeBytes), state
}

// A claim's history and state do not grow with the organisation: at 100,000
// users with 10,000 eligible a three-stage round-robin claim's history is at most
// 32 KB and its state answer at most 64 KB, each within 1.5x of the same claim in
// an 8-person directory.
func TestClaimSizeDoesNotGrowWithTheOrganisation(t *testing.T) {
	t.Parallel()
	smallHistory, smallState := claimSize(t, 8, 1)
	history, state := claimSize(t, 100_000, 10)
	t.Logf("history %d bytes (8 users: %d), state %d bytes (8 users: %d)", history, smallHistory, state, smallState)
	require.LessOrEqual(t, history, 32<<10)
	require.LessOrEqual(t, state, 64<<10)
	require.LessOrEqual(t, float64(history), 1.5*float64(smallHistory))
	require.LessOrEqual(t, float64(state), 1.5*float64(smallState))
}
