package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
	enumspb "go.temporal.io/api/enums/v1"
	historypb "go.temporal.io/api/history/v1"
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"

	"github.com/batonhq/baton/policy"
	"github.com/batonhq/baton/tools/testenv"
	"github.com/batonhq/baton/workflows"
)

// historyDir is where `make histories` writes (BATON_UPDATE_HISTORIES=1).
const historyDir = "../../workflows/testdata"

// TestHistories runs the scenarios whose histories the replay tests keep, and
// replays each fresh history against the current code. With
// BATON_UPDATE_HISTORIES=1 it also rewrites workflows/testdata, including one
// deliberately incompatible history (the first activity renamed, as if recorded by
// a workflow that scheduled something else) that must fail to replay. Histories
// named v0_*, v1_*, … were recorded by earlier workflow code and are never
// regenerated: they prove claims started before a change still replay.
func TestHistories(t *testing.T) {
	t.Parallel()
	scenarios := []struct {
		name   string
		policy *policy.Policy
		drive  func(t *testing.T, b *testenv.Baton, id string)
	}{
		{"round_robin_finalised", pol(policy.MethodRoundRobin, true), func(t *testing.T, b *testenv.Baton, id string) {
			for _, stage := range policy.AssignableStages {
				s := waitDecided(t, b, id, stage)
				complete(t, b, id, s.Assignee, stage)
			}
			_, err := b.Claims.Summary(context.Background(), id)
			require.NoError(t, err)
		}},
		{"manual_reassigned_open_at_review", pol(policy.MethodManual, true), func(t *testing.T, b *testenv.Baton, id string) {
			ctx := context.Background()
			waitDecided(t, b, id, policy.StageCapture)
			_, err := b.Claims.Assign(ctx, id, workflows.AssignInput{Actor: "bob", UserID: "bob"})
			require.NoError(t, err)
			_, err = b.Claims.Complete(ctx, id, workflows.CompleteInput{Actor: "ann"}) // rejected: leaves no event
			require.Error(t, err)
			_, err = b.Claims.Assign(ctx, id, workflows.AssignInput{Actor: "root", UserID: "cat", Comment: "bob is away"})
			require.NoError(t, err)
			complete(t, b, id, "cat", policy.StageCapture)
			waitDecided(t, b, id, policy.StageReview)
		}},
		{"assignments_disabled_finalised", pol(policy.MethodManual, false), func(t *testing.T, b *testenv.Baton, id string) {
			for _, stage := range policy.AssignableStages {
				s := waitDecided(t, b, id, stage)
				complete(t, b, id, s.Sample[0], stage)
			}
			_, err := b.Claims.Summary(context.Background(), id)
			require.NoError(t, err)
		}},
	}
	scenarios = append(scenarios, timerScenarios(t)...)
	update := os.Getenv("BATON_UPDATE_HISTORIES") == "1"
	for _, sc := range scenarios {
		t.Run(sc.name, func(t *testing.T) {
			b := testenv.Start(t, sc.policy, groupDirectory)
			applyGroups(t, b, "groups:\n  - {name: seniors, members: [bob, cat], defaultAssignee: root, offerTimeout: 1s}\n")
			id := b.ClaimID(1)
			_, err := b.Claims.Start(context.Background(), workflows.ClaimInput{ClaimID: id, Owner: "root"})
			require.NoError(t, err)
			sc.drive(t, b, id)

			hist := fetchHistory(t, b, id)
			data, err := protojson.MarshalOptions{Indent: "  "}.Marshal(hist)
			require.NoError(t, err)
			file := filepath.Join(t.TempDir(), sc.name+".json")
			if update {
				file = filepath.Join(historyDir, sc.name+".json")
			}
			require.NoError(t, os.WriteFile(file, data, 0o644))
			require.NoError(t, replay(file), "a fresh history replays against the code that made it")

			if update && sc.name == "round_robin_finalised" {
				badFile := filepath.Join(historyDir, "incompatible_activity_renamed.json")
				require.NoError(t, writeIncompatible(hist, badFile))
				require.Error(t, replay(badFile))
			}
		})
	}
}

// writeIncompatible saves the history with its first activity renamed, as if it had
// been recorded by a workflow that scheduled something else. protojson's output
// is deliberately unstable, so the change is made to the proto, not the text.
func writeIncompatible(h *historypb.History, file string) error {
	bad := proto.Clone(h).(*historypb.History)
	for _, ev := range bad.Events {
		if a := ev.GetActivityTaskScheduledEventAttributes(); a != nil {
			a.ActivityType.Name = "ResolveAssignmentV0"
			data, err := protojson.MarshalOptions{Indent: "  "}.Marshal(bad)
			if err != nil {
				return err
			}
			return os.WriteFile(file, data, 0o644)
		}
	}
	return fmt.Errorf("history has no activity to rename")
}

func complete(t *testing.T, b *testenv.Baton, id, actor string, stage policy.Stage) {
	t.Helper()
	in := workflows.CompleteInput{Actor: actor}
	if stage == policy.StageReview {
		in.Outcome = string(policy.OutcomeApproval)
	}
	_, err := b.Claims.Complete(context.Background(), id, in)
	require.NoError(t, err)
}

// fetchHistory is the history of the claim's current run.
func fetchHistory(t *testing.T, b *testenv.Baton, id string) *historypb.History {
	t.Helper()
	return fetchRun(t, b, id, "")
}

func replay(file string) error {
	r := worker.NewWorkflowReplayer()
	r.RegisterWorkflowWithOptions(workflows.ClaimWorkflow, workflow.RegisterOptions{Name: workflows.ClaimWorkflowName})
	return r.ReplayWorkflowHistoryFromJSONFile(nil, file)
}

// timerScenarios exercise the stage timers and reassignment groups, with short
// durations so real timers fire quickly.
func timerScenarios(t *testing.T) []struct {
	name   string
	policy *policy.Policy
	drive  func(t *testing.T, b *testenv.Baton, id string)
} {
	finish := func(t *testing.T, b *testenv.Baton, id string, from policy.Stage) {
		for _, stage := range policy.AssignableStages {
			if stage == from || (from == policy.StageReview && stage == policy.StageCapture) {
				continue
			}
			s := waitDecided(t, b, id, stage)
			complete(t, b, id, s.Assignee, stage)
		}
		_, err := b.Claims.Summary(context.Background(), id)
		require.NoError(t, err)
	}
	return []struct {
		name   string
		policy *policy.Policy
		drive  func(t *testing.T, b *testenv.Baton, id string)
	}{
		{"claim_window_unassign_default", parsePolicy(t, `
claims:
  enableClaimAssignments: true
  claimAssignmentMethod: round_robin
  stages:
    capture: {claimWindow: 1s, defaultAssignee: root, queue: intake, dueIn: 1h, escalateTo: root}
`), func(t *testing.T, b *testenv.Baton, id string) {
			ctx := context.Background()
			s := waitDecided(t, b, id, policy.StageCapture)
			_, err := b.Claims.Unassign(ctx, id, workflows.UnassignInput{Actor: s.Assignee, Comment: "on leave"})
			require.NoError(t, err)
			waitFor(t, b, id, "default", func(s workflows.ClaimState) bool { return s.Assignee == "root" })
			complete(t, b, id, "root", policy.StageCapture)
			finish(t, b, id, policy.StageCapture)
		}},
		{"escalation_reassigned", parsePolicy(t, `
claims:
  enableClaimAssignments: true
  claimAssignmentMethod: round_robin
  stages:
    capture: {dueIn: 1s, escalateTo: root, escalationReassign: true}
`), func(t *testing.T, b *testenv.Baton, id string) {
			waitFor(t, b, id, "escalated", func(s workflows.ClaimState) bool { return s.Assignee == "root" })
			complete(t, b, id, "root", policy.StageCapture)
			finish(t, b, id, policy.StageCapture)
		}},
		{"distribution_migrated_open_at_review", pol(policy.MethodManual, true), func(t *testing.T, b *testenv.Baton, id string) {
			// The claim started before any policy was stored, under the worker's own
			// (manual). Store v1 and v2, and an admin migrates it to v2.
			ctx := context.Background()
			waitDecided(t, b, id, policy.StageCapture)
			applyPolicy(t, b, rrPolicy)
			applyPolicy(t, b, "claims:\n  enableClaimAssignments: true\n  claimAssignmentMethod: distribution\n  distribution:\n    rules:\n      - {id: all, then: [{action: assign_user, user: bob}, {action: set_priority, priority: High}]}\n")
			ref, err := b.Claims.MigratePolicy(ctx, id, workflows.MigratePolicyInput{Actor: "root", Version: 2})
			require.NoError(t, err)
			require.Equal(t, 2, ref.Version)
			_, err = b.Claims.Claim(ctx, id, workflows.ClaimStageInput{Actor: "cat"})
			require.NoError(t, err)
			complete(t, b, id, "cat", policy.StageCapture)
			s := waitDecided(t, b, id, policy.StageReview)
			require.Equal(t, "bob", s.Assignee)
			require.Equal(t, "High", s.Priority)
		}},
		{"reassignment_claimed_then_default", pol(policy.MethodRoundRobin, true), func(t *testing.T, b *testenv.Baton, id string) {
			ctx := context.Background()
			waitDecided(t, b, id, policy.StageCapture)
			_, err := b.Claims.StartReassignment(ctx, id, workflows.StartReassignmentInput{Actor: "ann", Group: "seniors"})
			require.NoError(t, err)
			s := waitFor(t, b, id, "offer", func(s workflows.ClaimState) bool { return s.Reassignment != nil && len(s.Reassignment.Offered) == 1 })
			_, err = b.Claims.Claim(ctx, id, workflows.ClaimStageInput{Actor: s.Reassignment.Offered[0]})
			require.NoError(t, err)
			s = waitFor(t, b, id, "claimed", func(s workflows.ClaimState) bool { return s.Status == workflows.StatusAssigned })
			complete(t, b, id, s.Assignee, policy.StageCapture)
			waitDecided(t, b, id, policy.StageReview)
			_, err = b.Claims.StartReassignment(ctx, id, workflows.StartReassignmentInput{Actor: "ann", Group: "seniors"})
			require.NoError(t, err)
			waitFor(t, b, id, "default", func(s workflows.ClaimState) bool {
				return s.Reassignment != nil && s.Reassignment.Result != ""
			})
		}},
	}
}

// TestContinuedHistories keeps the histories of a claim that continued as new:
// its first run, which ends by continuing, and the run that took it up, which
// must replay as a continuation. The must-fail copy of the second has its
// carried state dropped from its input, as if replayed by code that started
// the claim afresh: it fails with TMPRL1100.
func TestContinuedHistories(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b := testenv.Start(t, parsePolicy(t, continuedPolicy), directory, testenv.WithShortRuns())
	id := b.ClaimID(1)
	_, err := b.Claims.Start(ctx, workflows.ClaimInput{ClaimID: id, Owner: "root"})
	require.NoError(t, err)
	waitDecided(t, b, id, policy.StageCapture)
	for i := 0; ; i++ {
		_, err := b.Claims.Claim(ctx, id, workflows.ClaimStageInput{Actor: "ann"})
		require.NoError(t, err)
		s, err := b.Claims.State(ctx, id)
		require.NoError(t, err)
		if s.Runs > 0 {
			break
		}
		require.Less(t, i, 100, "the claim never continued as new")
		_, err = b.Claims.Unassign(ctx, id, workflows.UnassignInput{Actor: "ann"})
		require.NoError(t, err)
	}
	complete(t, b, id, "ann", policy.StageCapture)
	waitDecided(t, b, id, policy.StageReview)
	runs := claimRuns(t, b, id, 2)

	update := os.Getenv("BATON_UPDATE_HISTORIES") == "1"
	dir := t.TempDir()
	if update {
		dir = historyDir
	}
	for i, name := range []string{"continued_first_run", "continued_next_run"} {
		hist := fetchRun(t, b, id, runs[i].GetExecution().GetRunId())
		file := filepath.Join(dir, name+".json")
		data, err := protojson.MarshalOptions{Indent: "  "}.Marshal(hist)
		require.NoError(t, err)
		require.NoError(t, os.WriteFile(file, data, 0o644))
		require.NoError(t, replay(file), "%s replays", name)
		if i == 1 {
			bad := filepath.Join(dir, "incompatible_continued_dropped.json")
			require.NoError(t, writeContinuedDropped(hist, bad))
			err := replay(bad)
			require.Error(t, err)
			require.Contains(t, err.Error(), "[TMPRL1100]")
		}
	}
}

// fetchRun is the history of one run of the claim ("": the current one).
func fetchRun(t *testing.T, b *testenv.Baton, id, runID string) *historypb.History {
	t.Helper()
	it := b.Temporal.GetWorkflowHistory(context.Background(), workflows.WorkflowID(id), runID, false, enumspb.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
	var h historypb.History
	for it.HasNext() {
		ev, err := it.Next()
		require.NoError(t, err)
		h.Events = append(h.Events, ev)
	}
	return &h
}

// writeContinuedDropped saves a continued run's history with the carried
// state taken out of its input.
func writeContinuedDropped(h *historypb.History, file string) error {
	bad := proto.Clone(h).(*historypb.History)
	started := bad.Events[0].GetWorkflowExecutionStartedEventAttributes()
	p := started.GetInput().GetPayloads()[0]
	var in map[string]any
	if err := json.Unmarshal(p.Data, &in); err != nil {
		return err
	}
	if _, ok := in["continued"]; !ok {
		return fmt.Errorf("the run's input carries no continued state")
	}
	delete(in, "continued")
	data, err := json.Marshal(in)
	if err != nil {
		return err
	}
	p.Data = data
	out, err := protojson.MarshalOptions{Indent: "  "}.Marshal(bad)
	if err != nil {
		return err
	}
	return os.WriteFile(file, out, 0o644)
}
