package e2e

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.temporal.io/api/workflowservice/v1"

	"github.com/batonhq/baton/claimclient"
	"github.com/batonhq/baton/internal/batontest"
	"github.com/batonhq/baton/policy"
	"github.com/batonhq/baton/tools/testenv"
	"github.com/batonhq/baton/workflows"
)

// directory: three assessors who can capture and review, two who can acknowledge
// approvals, an admin, and a deactivated assessor.
const directory = `
users:
  - {id: ann, name: Ann Lee, email: ann@example.com, role: Claims assessor, permissions: [MakeClaimDecisions]}
  - {id: bob, name: Bob Ng, email: bob@example.com, role: Claims assessor, permissions: [MakeClaimDecisions]}
  - {id: cat, name: Cat Roy, email: cat@example.com, role: Claims assessor, permissions: [MakeClaimDecisions]}
  - {id: dan, name: Dan Wu, email: dan@example.com, role: Claims supervisor, permissions: [AcknowledgeClaimDecisions, AcknowledgeClaimApproval, AcknowledgeClaimGoodwill]}
  - {id: eve, name: Eve Kim, email: eve@example.com, role: Call center agent, permissions: [AcknowledgeClaimDecisions, AcknowledgeClaimApproval]}
  - {id: root, name: Root Admin, email: root@example.com, role: Admin, permissions: [Admin]}
  - {id: old, name: Old Timer, email: old@example.com, role: Claims assessor, active: false, permissions: [MakeClaimDecisions]}
`

func pol(method policy.Method, enabled bool) *policy.Policy {
	return &policy.Policy{Version: "test-v1", AssignmentsEnabled: enabled, Method: method, Stages: map[policy.Stage]policy.StageConfig{}}
}

// waitDecided waits until the claim's current stage is decided and returns the state.
func waitDecided(t *testing.T, b *testenv.Baton, claimID string, stage policy.Stage) workflows.ClaimState {
	t.Helper()
	var s workflows.ClaimState
	batontest.Eventually(t, 30*time.Second, func() (bool, string) {
		var err error
		s, err = b.Claims.State(context.Background(), claimID)
		if err != nil {
			return false, err.Error()
		}
		return s.Stage == stage && s.Status != workflows.StatusDeciding, fmt.Sprintf("stage %s status %s", s.Stage, s.Status)
	})
	return s
}

func TestAllStagesUnderEachMethod(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name   string
		policy *policy.Policy
		module policy.ProductModule
		// drive completes the current stage, assigning first where needed, and
		// returns who completed it.
		drive func(t *testing.T, b *testenv.Baton, id string, s workflows.ClaimState) string
	}{
		{"round_robin", pol(policy.MethodRoundRobin, true), nil, func(t *testing.T, b *testenv.Baton, id string, s workflows.ClaimState) string {
			require.Equal(t, workflows.StatusAssigned, s.Status)
			return s.Assignee
		}},
		{"manual", pol(policy.MethodManual, true), nil, func(t *testing.T, b *testenv.Baton, id string, s workflows.ClaimState) string {
			require.Equal(t, workflows.StatusUnassigned, s.Status)
			require.Empty(t, s.Assignee)
			pick := s.Sample[len(s.Sample)-1]
			d, err := b.Claims.Assign(context.Background(), id, workflows.AssignInput{Actor: pick, UserID: pick})
			require.NoError(t, err)
			require.Equal(t, policy.MethodAssign, d.Method)
			return pick
		}},
		{"product_module", pol(policy.MethodProductModule, true), nil, func(t *testing.T, b *testenv.Baton, id string, s workflows.ClaimState) string {
			require.Equal(t, policy.MethodProductModule, s.Decisions[len(s.Decisions)-1].Method)
			require.NotEmpty(t, s.Assignee)
			return s.Assignee
		}},
		{"assignments_disabled", pol(policy.MethodRoundRobin, false), nil, func(t *testing.T, b *testenv.Baton, id string, s workflows.ClaimState) string {
			require.Equal(t, workflows.StatusOpen, s.Status)
			require.Empty(t, s.Assignee)
			return s.Sample[0]
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var opts []testenv.Option
			if tc.policy.Method == policy.MethodProductModule {
				opts = append(opts, func(b *testenv.Baton) {
					b.Acts.Module = policy.RolesByStage{Users: b.DB.Store, Roles: map[policy.Stage][]string{
						policy.StageCapture:     {"Claims assessor"},
						policy.StageReview:      {"Claims assessor"},
						policy.StageAcknowledge: {"Claims supervisor"},
					}}
				})
			}
			b := testenv.Start(t, tc.policy, directory, opts...)
			ctx := context.Background()
			id := b.ClaimID(1)
			_, err := b.Claims.Start(ctx, workflows.ClaimInput{ClaimID: id, Owner: "root"})
			require.NoError(t, err)
			var completers []string
			for _, stage := range policy.AssignableStages {
				s := waitDecided(t, b, id, stage)
				actor := tc.drive(t, b, id, s)
				outcome := ""
				if stage == policy.StageReview {
					outcome = "approval"
				}
				_, err := b.Claims.Complete(ctx, id, workflows.CompleteInput{Actor: actor, Outcome: outcome})
				require.NoError(t, err, "%s completes %s", actor, stage)
				completers = append(completers, actor)
			}
			sum, err := b.Claims.Summary(ctx, id)
			require.NoError(t, err)
			require.Equal(t, policy.OutcomeApproval, sum.ReviewOutcome)
			require.Len(t, sum.Stages, 3)
			for i, r := range sum.Stages {
				require.Equal(t, completers[i], r.CompletedBy)
			}
			s, err := b.Claims.State(ctx, id)
			require.NoError(t, err)
			require.Equal(t, policy.StageFinalise, s.Stage)
			require.Equal(t, workflows.StatusFinalised, s.Status)

			// Every decision is in the ledger with its method and policy version.
			ledger, err := b.DB.Store.DecisionsByClaim(ctx, id)
			require.NoError(t, err)
			require.Len(t, ledger, sum.Decisions)
			for _, d := range ledger {
				require.Equal(t, "test-v1", d.PolicyVersion)
				require.NotEmpty(t, d.Reason)
			}
		})
	}
}

func TestNonAssigneeRejectedStateUnchanged(t *testing.T) {
	t.Parallel()
	b := testenv.Start(t, pol(policy.MethodRoundRobin, true), directory)
	ctx := context.Background()
	id := b.ClaimID(1)
	_, err := b.Claims.Start(ctx, workflows.ClaimInput{ClaimID: id})
	require.NoError(t, err)
	before := waitDecided(t, b, id, policy.StageCapture)
	require.Equal(t, "ann", before.Assignee)
	ledgerBefore, err := b.DB.Store.DecisionsByClaim(ctx, id)
	require.NoError(t, err)

	_, err = b.Claims.Complete(ctx, id, workflows.CompleteInput{Actor: "bob"})
	require.Error(t, err)
	require.Equal(t, workflows.ErrTypeForbidden, claimclient.ErrorType(err))
	require.Equal(t, `"bob" may not complete capture of claim `+id+`: only the assignee (ann) may`, claimclient.Message(err))
	var typed *claimclient.Error
	require.True(t, errors.As(err, &typed), "rejections are *claimclient.Error")
	require.Equal(t, workflows.UpdateCompleteStage, typed.Op)
	require.Equal(t, id, typed.ClaimID)
	require.True(t, claimclient.IsForbidden(err))
	require.False(t, claimclient.IsConflict(err))
	_, err = b.Claims.Assign(ctx, id, workflows.AssignInput{Actor: "bob", UserID: "bob"})
	require.Equal(t, workflows.ErrTypeForbidden, claimclient.ErrorType(err))
	_, err = b.Claims.Assign(ctx, id, workflows.AssignInput{Actor: "root", UserID: "old"})
	require.Equal(t, workflows.ErrTypeInvalid, claimclient.ErrorType(err))

	after, err := b.Claims.State(ctx, id)
	require.NoError(t, err)
	require.Equal(t, before, after)
	ledgerAfter, err := b.DB.Store.DecisionsByClaim(ctx, id)
	require.NoError(t, err)
	require.Equal(t, ledgerBefore, ledgerAfter)

	_, err = b.Claims.Complete(ctx, "no-such-claim", workflows.CompleteInput{Actor: "ann"})
	require.True(t, errors.Is(err, claimclient.ErrClaimNotFound), "%v", err)
	_, err = b.Claims.Start(ctx, workflows.ClaimInput{ClaimID: id})
	require.True(t, errors.Is(err, claimclient.ErrClaimExists), "%v", err)
}

// TestRoundRobinConcurrentStartersExactlyEven: 30 claims started by 4 concurrent
// starters, decided by two workers, give exactly 10/10/10 at capture and, after
// every capture is completed concurrently, at review.
func TestRoundRobinConcurrentStartersExactlyEven(t *testing.T) {
	t.Parallel()
	b := testenv.Start(t, pol(policy.MethodRoundRobin, true), directory)
	b.AddWorker()
	ctx := context.Background()
	const claims, starters = 30, 4
	var next atomic.Int64
	var wg sync.WaitGroup
	for s := 0; s < starters; s++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				n := int(next.Add(1))
				if n > claims {
					return
				}
				id := b.ClaimID(n)
				if _, err := b.Claims.Start(ctx, workflows.ClaimInput{ClaimID: id}); err != nil {
					t.Error(err)
					return
				}
				s := waitDecided(t, b, id, policy.StageCapture)
				if _, err := b.Claims.Complete(ctx, id, workflows.CompleteInput{Actor: s.Assignee}); err != nil {
					t.Error(err)
				}
			}
		}()
	}
	wg.Wait()
	counts, err := b.DB.Store.AssignmentCounts(ctx, policy.StageCapture, policy.MethodRoundRobin)
	require.NoError(t, err)
	require.Equal(t, map[string]int{"ann": 10, "bob": 10, "cat": 10}, counts)
	batontest.Eventually(t, time.Minute, func() (bool, string) {
		counts, err = b.DB.Store.AssignmentCounts(ctx, policy.StageReview, policy.MethodRoundRobin)
		require.NoError(t, err)
		return counts["ann"]+counts["bob"]+counts["cat"] == claims, fmt.Sprint(counts)
	})
	require.Equal(t, map[string]int{"ann": 10, "bob": 10, "cat": 10}, counts)
}

// TestActivityFailingAfterCommitDoesNotAdvanceTwice: the decision commits, then the
// activity fails (as a crash between commit and reply would); Temporal retries it,
// the retry returns the recorded decision, and the cursor moved once.
func TestActivityFailingAfterCommitDoesNotAdvanceTwice(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	failed := map[string]int{}
	b := testenv.Start(t, pol(policy.MethodRoundRobin, true), directory,
		testenv.WithAfterCommit(func(_ context.Context, k policy.DecisionKey) error {
			mu.Lock()
			defer mu.Unlock()
			failed[k.String()]++
			if failed[k.String()] == 1 {
				return errors.New("injected: worker lost after commit")
			}
			return nil
		}))
	ctx := context.Background()
	var got []string
	for n := 1; n <= 4; n++ {
		id := b.ClaimID(n)
		_, err := b.Claims.Start(ctx, workflows.ClaimInput{ClaimID: id})
		require.NoError(t, err)
		got = append(got, waitDecided(t, b, id, policy.StageCapture).Assignee)
	}
	require.Equal(t, []string{"ann", "bob", "cat", "ann"}, got, "no turn skipped or doubled")
	served, err := b.DB.Store.TurnCounts(ctx, policy.StageScope(policy.StageCapture))
	require.NoError(t, err)
	require.Equal(t, map[string]int64{"ann": 2, "bob": 1, "cat": 1}, served, "one turn taken per decision")
	mu.Lock()
	defer mu.Unlock()
	// The hook ran once per decision: each retry found the recorded decision and
	// returned it without deciding (or committing) again.
	require.Len(t, failed, 4)
	for k, n := range failed {
		require.Equal(t, 1, n, k)
	}
}

func TestInboxAndSearchAttributes(t *testing.T) {
	t.Parallel()
	b := testenv.Start(t, pol(policy.MethodRoundRobin, true), directory)
	ctx := context.Background()
	id := b.ClaimID(1)
	_, err := b.Claims.Start(ctx, workflows.ClaimInput{ClaimID: id, Owner: "root"})
	require.NoError(t, err)
	waitDecided(t, b, id, policy.StageCapture)
	_, err = b.Claims.Assign(ctx, id, workflows.AssignInput{Actor: "root", UserID: "cat", Comment: "ann is on leave"})
	require.NoError(t, err)

	items, err := b.DB.Store.Inbox(ctx, "cat", false, 10)
	require.NoError(t, err)
	require.Len(t, items, 1)
	require.Equal(t, "https://baton.example/claims/"+id+"?stage=capture", items[0].Link)
	require.Contains(t, items[0].Message, "reassigned from ann by root: ann is on leave")
	annItems, err := b.DB.Store.Inbox(ctx, "ann", false, 10)
	require.NoError(t, err)
	require.Len(t, annItems, 1, "ann was notified of the first assignment")

	query := fmt.Sprintf("WorkflowId = '%s' AND BatonAssignee = 'cat' AND BatonStage = 'capture' AND BatonStatus = 'assigned'",
		workflows.WorkflowID(id))
	batontest.Eventually(t, 30*time.Second, func() (bool, string) {
		resp, err := b.Temporal.ListWorkflow(ctx, listRequest(b, query))
		if err != nil {
			return false, err.Error()
		}
		return len(resp.Executions) == 1, fmt.Sprintf("%d executions match %s", len(resp.Executions), query)
	})
}

func listRequest(b *testenv.Baton, query string) *workflowservice.ListWorkflowExecutionsRequest {
	return &workflowservice.ListWorkflowExecutionsRequest{Namespace: b.Namespace, Query: query}
}
