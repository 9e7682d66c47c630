package e2e

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	enumspb "go.temporal.io/api/enums/v1"
	workflowpb "go.temporal.io/api/workflow/v1"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"

	"github.com/batonhq/baton/internal/batontest"
	"github.com/batonhq/baton/policy"
	"github.com/batonhq/baton/tools/testenv"
	"github.com/batonhq/baton/workflows"
)

// continuedPolicy gives capture a claim window, a due time that only
// notifies, and room for many changes of hands.
const continuedPolicy = `
claims:
  enableClaimAssignments: true
  claimAssignmentMethod: manual
  maxAssigneeChanges: 300
  stages:
    capture: {queue: intake, claimWindow: 5s, defaultAssignee: root, dueIn: 4s, escalateTo: root}
`

// A claim outlives any sequence of actions: where Temporal suggests it
// continue as new after testenv.ShortRunEvents events, a claim taken and
// returned 40 times runs on in several runs, each history small, and keeps
// everything: its state and counts, its budget, one seq for its ledger and
// timeline, its due time (escalated once, not once per run) and its claim
// window; then it finishes as ever and its result is the claim's.
func TestAClaimContinuesAsNewAndKeepsItsState(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b := testenv.Start(t, parsePolicy(t, continuedPolicy), directory, testenv.WithShortRuns())
	id := b.ClaimID(1)
	_, err := b.Claims.Start(ctx, workflows.ClaimInput{ClaimID: id, Owner: "root", Data: workflows.ClaimData{"amount": "900"}})
	require.NoError(t, err)
	waitDecided(t, b, id, policy.StageCapture)

	const rounds = 40
	for i := range rounds {
		_, err := b.Claims.Claim(ctx, id, workflows.ClaimStageInput{Actor: "ann"})
		require.NoError(t, err, "round %d", i)
		_, err = b.Claims.Unassign(ctx, id, workflows.UnassignInput{Actor: "ann", Comment: "back to the queue"})
		if err != nil {
			s, _ := b.Claims.State(ctx, id)
			t.Fatalf("round %d: %v; state %+v", i, err, s)
		}
	}
	// The last unassign left it queued: the window gives it to root.
	s := waitFor(t, b, id, "default assignee", func(s workflows.ClaimState) bool { return s.Assignee == "root" })
	require.GreaterOrEqual(t, s.Runs, 2, "the claim continued as new")
	require.Equal(t, 2*rounds+1, s.Changes, "changes of hands count across runs")
	require.Equal(t, 2*rounds+2, s.DecisionCount)
	require.Len(t, s.Decisions, workflows.MaxStateDecisions)
	require.Equal(t, workflows.ClaimData{"amount": "900"}, workflows.ClaimData(s.Data))
	require.Equal(t, "root", s.Owner)
	waitFor(t, b, id, "escalated", func(workflows.ClaimState) bool { return countEvents(t, b, id)[policy.EventEscalated] == 1 })

	// Every run's history stays small; all but the last continued as new.
	runs := claimRuns(t, b, id, s.Runs+1)
	for i, r := range runs {
		t.Logf("run %d: %d events, %d bytes, %s", i, r.GetHistoryLength(), r.GetHistorySizeBytes(), r.GetStatus())
		require.Less(t, r.GetHistoryLength(), int64(3*testenv.ShortRunEvents), "run %d", i)
		want := enumspb.WORKFLOW_EXECUTION_STATUS_CONTINUED_AS_NEW
		if i == len(runs)-1 {
			want = enumspb.WORKFLOW_EXECUTION_STATUS_RUNNING
		}
		require.Equal(t, want, r.GetStatus(), "run %d", i)
	}

	// One seq goes on across the runs: every timeline entry is there once.
	events, err := b.DB.Store.Timeline(ctx, id)
	require.NoError(t, err)
	seen := map[int]bool{}
	for _, e := range events {
		require.False(t, seen[e.Seq], "seq %d written twice", e.Seq)
		seen[e.Seq] = true
	}
	counts := countEvents(t, b, id)
	require.Equal(t, 1, counts[policy.EventWindowExpired], "the window ran out once, whatever the runs")
	require.Equal(t, 1, counts[policy.EventEscalated])

	// The budget is the stage's, not the run's.
	_, err = b.Claims.Unassign(ctx, id, workflows.UnassignInput{Actor: "root"})
	require.NoError(t, err)
	_, err = b.Claims.Assign(ctx, id, workflows.AssignInput{Actor: "root", UserID: "bob"})
	require.NoError(t, err)

	// It finishes as ever, and its result is the claim's, whichever run gives it.
	complete(t, b, id, "bob", policy.StageCapture)
	for _, stage := range []policy.Stage{policy.StageReview, policy.StageAcknowledge} {
		waitDecided(t, b, id, stage)
		_, err := b.Claims.Assign(ctx, id, workflows.AssignInput{Actor: "root", UserID: map[policy.Stage]string{
			policy.StageReview: "cat", policy.StageAcknowledge: "dan"}[stage]})
		require.NoError(t, err)
		complete(t, b, id, map[policy.Stage]string{policy.StageReview: "cat", policy.StageAcknowledge: "dan"}[stage], stage)
	}
	sum, err := b.Claims.Summary(ctx, id)
	require.NoError(t, err)
	require.Len(t, sum.Stages, 3)
	require.Equal(t, policy.StageCapture, sum.Stages[0].Stage)
	require.Equal(t, "bob", sum.Stages[0].CompletedBy)
	require.Equal(t, 2*rounds+2+2+2*2, sum.Decisions)
}

// A start that carries a continued state is refused: claimclient refuses
// to send it, and a claim started with it by a plain Temporal client fails,
// typed, before anything is recorded. Only a claim continuing as new hands its
// state on.
func TestAStartCannotCarryAContinuedState(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b := testenv.Start(t, pol(policy.MethodManual, true), directory)
	id := b.ClaimID(1)
	forged := workflows.ClaimInput{ClaimID: id, Continued: &workflows.Continued{
		State: workflows.ClaimState{ClaimID: id, Stage: policy.StageAcknowledge, Status: workflows.StatusAssigned, Assignee: "ann"}}}
	_, err := b.Claims.Start(ctx, forged)
	require.ErrorContains(t, err, `field "continued" is set only by a claim continuing as new`)

	_, err = b.Plain.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: workflows.WorkflowID(id), TaskQueue: b.TaskQueue},
		workflows.ClaimWorkflowName, forged)
	require.NoError(t, err)
	_, err = b.Claims.Summary(ctx, id)
	require.ErrorContains(t, err, `start input: field "continued" is set only by a claim continuing as new`)
	events, err := b.DB.Store.Timeline(ctx, id)
	require.NoError(t, err)
	require.Empty(t, events, "nothing recorded")
}

// claimRuns lists a claim's runs, oldest first, once visibility has all of
// them closed but the last.
func claimRuns(t *testing.T, b *testenv.Baton, id string, want int) []*workflowpb.WorkflowExecutionInfo {
	t.Helper()
	var runs []*workflowpb.WorkflowExecutionInfo
	batontest.Eventually(t, time.Minute, func() (bool, string) {
		resp, err := b.Temporal.ListWorkflow(context.Background(), &workflowservice.ListWorkflowExecutionsRequest{
			Namespace: b.Namespace, Query: "WorkflowId = '" + workflows.WorkflowID(id) + "'"})
		if err != nil {
			return false, err.Error()
		}
		runs = resp.GetExecutions()
		slices.SortFunc(runs, func(a, b *workflowpb.WorkflowExecutionInfo) int {
			return a.GetStartTime().AsTime().Compare(b.GetStartTime().AsTime())
		})
		running := 0
		for _, r := range runs {
			if r.GetStatus() == enumspb.WORKFLOW_EXECUTION_STATUS_RUNNING {
				running++
			}
		}
		return len(runs) == want && running == 1, fmt.Sprintf("%d runs listed, %d running", len(runs), running)
	})
	return runs
}
