package e2e

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/batonhq/baton/internal/batontest"
	"github.com/batonhq/baton/policy"
	"github.com/batonhq/baton/policy/yamlfile"
	"github.com/batonhq/baton/tools/testenv"
	"github.com/batonhq/baton/workflows"
)

func parsePolicy(t *testing.T, doc string) *policy.Policy {
	t.Helper()
	p, err := yamlfile.ParsePolicy("policy.yaml", []byte(doc))
	require.NoError(t, err)
	return p
}

func waitFor(t *testing.T, b *testenv.Baton, id, what string, cond func(workflows.ClaimState) bool) workflows.ClaimState {
	t.Helper()
	var s workflows.ClaimState
	batontest.Eventually(t, time.Minute, func() (bool, string) {
		var err error
		if s, err = b.Claims.State(context.Background(), id); err != nil {
			return false, err.Error()
		}
		return cond(s), fmt.Sprintf("%s: stage %s status %s assignee %q", what, s.Stage, s.Status, s.Assignee)
	})
	return s
}

func countEvents(t *testing.T, b *testenv.Baton, id string) map[string]int {
	t.Helper()
	events, err := b.DB.Store.Timeline(context.Background(), id)
	require.NoError(t, err)
	out := map[string]int{}
	for _, e := range events {
		out[e.Kind]++
	}
	return out
}

func TestClaimWindowFallsBackOnRealServer(t *testing.T) {
	t.Parallel()
	b := testenv.Start(t, parsePolicy(t, `
claims:
  enableClaimAssignments: true
  claimAssignmentMethod: manual
  stages:
    capture: {queue: intake, claimWindow: 2s, defaultAssignee: root}
`), directory)
	id := b.ClaimID(1)
	_, err := b.Claims.Start(context.Background(), workflows.ClaimInput{ClaimID: id})
	require.NoError(t, err)
	s := waitFor(t, b, id, "default assignee", func(s workflows.ClaimState) bool { return s.Assignee == "root" })
	require.Equal(t, policy.MethodDefaultAssignee, s.Decisions[len(s.Decisions)-1].Method)
	require.Equal(t, map[string]int{policy.EventQueued: 1, policy.EventWindowExpired: 1, policy.EventDefaultAssigned: 1},
		countEvents(t, b, id))
}

const groupDirectory = directory + `
  - {id: dee, name: Dee Fox, email: dee@example.com, role: Claims assessor, permissions: [MakeClaimDecisions, ManageReassignmentGroups]}
`

func applyGroups(t *testing.T, b *testenv.Baton, doc string) {
	t.Helper()
	gs, err := yamlfile.ParseGroups("groups.yaml", []byte(doc))
	require.NoError(t, err)
	require.NoError(t, b.DB.Store.ApplyGroups(context.Background(), "groups.yaml", "dee", gs))
}

func TestReassignmentRoundNobodyClaimsOnRealServer(t *testing.T) {
	t.Parallel()
	b := testenv.Start(t, pol(policy.MethodRoundRobin, true), groupDirectory)
	applyGroups(t, b, "groups:\n  - {name: seniors, members: [bob, dan, cat, ann], defaultAssignee: root, offerTimeout: 1s}\n")
	ctx := context.Background()
	id := b.ClaimID(1)
	_, err := b.Claims.Start(ctx, workflows.ClaimInput{ClaimID: id})
	require.NoError(t, err)
	waitDecided(t, b, id, policy.StageCapture)
	r, err := b.Claims.StartReassignment(ctx, id, workflows.StartReassignmentInput{Actor: "ann", Group: "seniors", Comment: "needs a senior"})
	require.NoError(t, err)
	require.Equal(t, "root", r.DefaultAssignee)

	s := waitFor(t, b, id, "default assignee", func(s workflows.ClaimState) bool { return s.Assignee == "root" })
	require.Equal(t, workflows.StatusAssigned, s.Status)
	require.Equal(t, []string{"bob", "cat", "ann"}, s.Reassignment.OfferedSoFar, "dan is not eligible at capture")
	require.Equal(t, "nobody in reassignment group seniors claimed it; the default assignee root got it", s.Reassignment.Result)
	batontest.Eventually(t, 30*time.Second, func() (bool, string) {
		n := countEvents(t, b, id)
		return n[policy.EventReassignmentEnded] == 1, fmt.Sprint(n)
	})
	n := countEvents(t, b, id)
	require.Equal(t, 3, n[policy.EventOffered])
	require.Equal(t, 3, n[policy.EventOfferExpired])
	require.Equal(t, 1, n[policy.EventReassignmentStarted])
	require.Equal(t, 1, n[policy.EventDefaultAssigned])
	items, err := b.DB.Store.Inbox(ctx, "cat", false, 10)
	require.NoError(t, err)
	require.Contains(t, items[0].Message, "offered to you by reassignment group seniors")
}

// A member added mid-round gets their turn in that round; nobody gets two.
func TestReassignmentMemberAddedMidRound(t *testing.T) {
	t.Parallel()
	b := testenv.Start(t, pol(policy.MethodManual, true), groupDirectory)
	applyGroups(t, b, "groups:\n  - {name: seniors, members: [bob, cat], defaultAssignee: root, offerTimeout: 1m}\n")
	ctx := context.Background()
	var offered []string
	route := func(n int) {
		id := b.ClaimID(n)
		_, err := b.Claims.Start(ctx, workflows.ClaimInput{ClaimID: id, Owner: "root"})
		require.NoError(t, err)
		waitDecided(t, b, id, policy.StageCapture)
		_, err = b.Claims.StartReassignment(ctx, id, workflows.StartReassignmentInput{Actor: "root", Group: "seniors"})
		require.NoError(t, err)
		s := waitFor(t, b, id, "an offer", func(s workflows.ClaimState) bool {
			return s.Reassignment != nil && len(s.Reassignment.Offered) == 1
		})
		member := s.Reassignment.Offered[0]
		offered = append(offered, member)
		_, err = b.Claims.Claim(ctx, id, workflows.ClaimStageInput{Actor: member})
		require.NoError(t, err)
		waitFor(t, b, id, "claimed", func(s workflows.ClaimState) bool { return s.Assignee == member })
	}
	route(1) // bob
	applyGroups(t, b, "groups:\n  - {name: seniors, members: [bob, cat, dee], defaultAssignee: root, offerTimeout: 1m}\n")
	route(2) // cat
	route(3) // dee: added mid-round, still gets a turn in it
	route(4) // a new round
	require.Equal(t, []string{"bob", "cat", "dee", "bob"}, offered)
	require.False(t, slices.Contains(offered[:3], "ann"), "not a member")
}
