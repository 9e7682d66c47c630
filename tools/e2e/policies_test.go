package e2e

import (
	"context"
	"fmt"
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

func applyPolicy(t *testing.T, b *testenv.Baton, doc string) int {
	t.Helper()
	p := parsePolicy(t, doc)
	res, err := b.DB.Store.PolicyApply(context.Background(), "policy.yaml", []byte(doc), p, "root")
	require.NoError(t, err)
	require.True(t, res.Changed)
	return res.Version
}

const rrPolicy = "version: rr\nclaims:\n  enableClaimAssignments: true\n  claimAssignmentMethod: round_robin\n"
const manualPolicy = "version: manual\nclaims:\n  enableClaimAssignments: true\n  claimAssignmentMethod: manual\n"

// A claim keeps the policy version it started under; an admin may migrate it.
func TestClaimKeepsItsPolicyVersionUntilMigrated(t *testing.T) {
	t.Parallel()
	b := testenv.Start(t, pol(policy.MethodManual, true), directory)
	ctx := context.Background()
	require.Equal(t, 1, applyPolicy(t, b, rrPolicy))

	old := b.ClaimID(1)
	_, err := b.Claims.Start(ctx, workflows.ClaimInput{ClaimID: old})
	require.NoError(t, err)
	s := waitDecided(t, b, old, policy.StageCapture)
	require.Equal(t, workflows.PolicyRef{Name: "default", Version: 1}, s.Policy)
	require.Equal(t, "default@v1 (rr)", s.Decisions[0].PolicyVersion)

	require.Equal(t, 2, applyPolicy(t, b, manualPolicy))
	complete(t, b, old, s.Assignee, policy.StageCapture)
	s = waitDecided(t, b, old, policy.StageReview)
	require.Equal(t, workflows.StatusAssigned, s.Status, "still round robin: v1")
	require.Equal(t, "default@v1 (rr)", s.Decisions[len(s.Decisions)-1].PolicyVersion)

	fresh := b.ClaimID(2)
	_, err = b.Claims.Start(ctx, workflows.ClaimInput{ClaimID: fresh})
	require.NoError(t, err)
	s = waitDecided(t, b, fresh, policy.StageCapture)
	require.Equal(t, workflows.StatusUnassigned, s.Status, "a new claim starts under v2: manual")

	_, err = b.Claims.MigratePolicy(ctx, old, workflows.MigratePolicyInput{Actor: "ann", Version: 2})
	require.Equal(t, workflows.ErrTypeForbidden, claimclient.ErrorType(err))
	_, err = b.Claims.MigratePolicy(ctx, old, workflows.MigratePolicyInput{Actor: "root", Version: 9})
	require.Equal(t, workflows.ErrTypeInvalid, claimclient.ErrorType(err))
	require.Contains(t, claimclient.Message(err), "policy default has no version 9")
	ref, err := b.Claims.MigratePolicy(ctx, old, workflows.MigratePolicyInput{Actor: "root", Version: 2, Comment: "new rules"})
	require.NoError(t, err)
	require.Equal(t, "default@v2", ref.String())

	s, err = b.Claims.State(ctx, old)
	require.NoError(t, err)
	complete(t, b, old, s.Assignee, policy.StageReview)
	s = waitDecided(t, b, old, policy.StageAcknowledge)
	require.Equal(t, workflows.StatusUnassigned, s.Status, "migrated: acknowledge is decided under v2 (manual)")
	require.Equal(t, "default@v2 (manual)", s.Decisions[len(s.Decisions)-1].PolicyVersion)
	require.Equal(t, 1, countEvents(t, b, old)[policy.EventPolicyMigrated])
}

func TestDistributionPriorityIsSearchable(t *testing.T) {
	t.Parallel()
	b := testenv.Start(t, pol(policy.MethodManual, true), directory+`
teams:
  - {id: seniors, name: Seniors, members: [cat, bob]}
`)
	applyPolicy(t, b, `
claims:
  enableClaimAssignments: true
  claimAssignmentMethod: distribution
  distribution:
    rules:
      - id: vip
        when: [{attribute: customer_group, operator: IN, values: [VIP]}]
        then: [{action: assign_team, team: seniors}, {action: set_priority, priority: High}]
      - id: rest
        then: [{action: set_priority, priority: Low}]
`)
	ctx := context.Background()
	id := b.ClaimID(1)
	_, err := b.Claims.Start(ctx, workflows.ClaimInput{ClaimID: id, Data: map[string]string{"customer_group": "vip"}})
	require.NoError(t, err)
	s := waitDecided(t, b, id, policy.StageCapture)
	require.Equal(t, "cat", s.Assignee, "first in the team's order")
	require.Equal(t, "High", s.Priority)
	d := s.Decisions[0]
	require.Equal(t, "vip", d.MatchedRule)
	require.Equal(t, 1, d.RulesTried)
	e, err := b.DB.Store.ExplanationGet(ctx, policy.DecisionKey{WorkflowID: workflows.WorkflowID(id), Stage: d.Stage, Seq: d.Seq})
	require.NoError(t, err)
	require.Equal(t, []policy.RuleTrace{{RuleID: "vip", Matched: true, Why: "all conditions hold"}}, e.RuleTrace, "the trace is in the ledger")

	query := fmt.Sprintf("WorkflowId = '%s' AND BatonPriority = 'High'", workflows.WorkflowID(id))
	batontest.Eventually(t, 30*time.Second, func() (bool, string) {
		resp, err := b.Temporal.ListWorkflow(ctx, &workflowservice.ListWorkflowExecutionsRequest{Namespace: b.Namespace, Query: query})
		if err != nil {
			return false, err.Error()
		}
		return len(resp.Executions) == 1, query
	})
}
