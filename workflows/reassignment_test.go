package workflows_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/batonhq/baton/policy"
	"github.com/batonhq/baton/workflows"
)

func groupHarness(t *testing.T, method policy.GroupMethod) *harness {
	h := newHarness(t, &policy.Policy{Version: "v1", AssignmentsEnabled: true, Method: policy.MethodRoundRobin})
	h.acts.groups["seniors"] = policy.ReassignmentGroup{Name: "seniors", Members: []string{"bob", "old", "cat", "ann"},
		DefaultAssignee: "root", Method: method, OfferTimeout: 10 * time.Minute}
	return h
}

func startReassignment(h *harness, actor, group string, check func(error)) {
	h.send(workflows.UpdateStartReassignment, workflows.StartReassignmentInput{Actor: actor, Group: group, Comment: "needs a senior"}, check)
}

func TestReassignmentRoundNobodyClaimsEndsWithDefault(t *testing.T) {
	t.Parallel()
	h := groupHarness(t, policy.GroupRoundRobin)
	h.then(func() {
		startReassignment(h, "bob", "seniors", rejected(t, workflows.ErrTypeForbidden, "only the assignee (ann), admins and the owner may"))
		startReassignment(h, "ann", "juniors", rejected(t, workflows.ErrTypeInvalid, `unknown reassignment group "juniors"`))
	})
	h.at(10*time.Minute, func() { startReassignment(h, "ann", "seniors", ok(t)) })
	h.at(11*time.Minute, func() {
		s := h.state()
		require.Equal(t, workflows.StatusReassigning, s.Status)
		require.Equal(t, "ann", s.Assignee, "the assignee stays until the round ends")
		require.Equal(t, []string{"bob"}, s.Reassignment.Offered, "old is not eligible; bob's turn comes first")
		// While the round runs the assignee cannot be edited, nor the stage completed.
		h.send(workflows.UpdateAssign, workflows.AssignInput{Actor: "root", UserID: "cat"},
			rejected(t, workflows.ErrTypeConflict, "reassignment in progress at capture; the assignee cannot be edited"))
		h.send(workflows.UpdateCompleteStage, workflows.CompleteInput{Actor: "ann"},
			rejected(t, workflows.ErrTypeConflict, "reassignment in progress"))
		h.send(workflows.UpdateUnassign, workflows.UnassignInput{Actor: "ann"},
			rejected(t, workflows.ErrTypeConflict, "reassignment in progress"))
		claimAs(h, "cat", rejected(t, workflows.ErrTypeForbidden, "reassignment group seniors is offering it to bob"))
	})
	h.at(25*time.Minute, func() { require.Equal(t, []string{"cat"}, h.state().Reassignment.Offered) })
	h.at(41*time.Minute, func() {
		s := h.state()
		require.Equal(t, []string{"bob", "cat", "ann"}, h.acts.offers, "each eligible member once")
		require.Equal(t, "root", s.Assignee)
		require.Equal(t, workflows.StatusAssigned, s.Status)
		require.Equal(t, policy.MethodDefaultAssignee, lastDecision(s).Method)
		require.Equal(t, "nobody in reassignment group seniors claimed it; the default assignee root got it", s.Reassignment.Result)
		require.Equal(t, []string{policy.EventOfferExpired, policy.EventOfferExpired, policy.EventOfferExpired,
			policy.EventReassignmentEnded}, h.acts.kinds())
	})
	h.start("")
}

func TestReassignmentOfferedMemberClaims(t *testing.T) {
	t.Parallel()
	h := groupHarness(t, policy.GroupRoundRobin)
	h.then(func() { startReassignment(h, "root", "seniors", ok(t)) }) // an admin may
	h.at(15*time.Minute, func() { claimAs(h, "cat", ok(t)) })         // cat's offer runs 11m-21m
	h.at(16*time.Minute, func() {
		s := h.state()
		require.Equal(t, "cat", s.Assignee)
		require.Equal(t, workflows.StatusAssigned, s.Status)
		require.Equal(t, policy.MethodReassignmentGroup, lastDecision(s).Method)
		require.Equal(t, "cat claimed it", s.Reassignment.Result)
	})
	h.at(time.Hour, func() { require.Equal(t, []string{"bob", "cat"}, h.acts.offers, "no more offers after the claim") })
	h.complete("cat", "", ok(t))
	h.start("")
	require.Equal(t, policy.StageReview, h.state().Stage)
}

func TestBroadcastFirstToClaimWins(t *testing.T) {
	t.Parallel()
	h := groupHarness(t, policy.GroupBroadcast)
	var results []error
	h.then(func() { startReassignment(h, "ann", "seniors", ok(t)) })
	h.then(func() {
		s := h.state()
		require.Equal(t, []string{"bob", "cat", "ann"}, s.Reassignment.Offered)
		require.Equal(t, []string{"bob", "cat", "ann"}, h.acts.events[0].Notify, "every eligible member is told")
		claimAs(h, "cat", func(err error) { results = append(results, err) })
		claimAs(h, "bob", func(err error) { results = append(results, err) })
	})
	h.then(func() {
		require.Len(t, results, 2)
		require.NoError(t, results[0])
		requireType(t, results[1], workflows.ErrTypeConflict)
		require.Equal(t, "cat", h.state().Assignee)
	})
	h.start("")
}

func TestBroadcastNobodyClaimsEndsWithDefault(t *testing.T) {
	t.Parallel()
	h := groupHarness(t, policy.GroupBroadcast)
	h.then(func() { startReassignment(h, "ann", "seniors", ok(t)) })
	h.at(10*time.Minute, func() {
		require.Equal(t, workflows.StatusReassigning, h.state().Status, "the offer still stands at 9m")
	})
	h.at(12*time.Minute, func() {
		s := h.state()
		require.Equal(t, "root", s.Assignee)
		require.Equal(t, workflows.StatusAssigned, s.Status)
		require.Equal(t, []string{policy.EventOffered, policy.EventOfferExpired, policy.EventReassignmentEnded}, h.acts.kinds())
		require.Equal(t, "bob,cat,ann", h.acts.events[1].Subject, "everyone's offer expired together")
	})
	h.start("")
}
