package api

import (
	"context"
	"fmt"
	"net/http"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/client"

	"github.com/batonhq/baton/internal/batontest"
	"github.com/batonhq/baton/policy"
	"github.com/batonhq/baton/tools/testenv"
	"github.com/batonhq/baton/workflows"
)

// TestHTTPClaimRaceReassignComplete drives a claim through the HTTP API alone, on
// a real Temporal server and PostgreSQL: two users race to claim it from the
// queue, the loser may not take it over, an admin reassigns it to them with a
// comment the timeline keeps, and the new assignee completes the stage. It runs
// twice: as deployed by default, and with BATON_ACTOR_KEY, where the API signs
// each Update's actor (the token's user) and the worker refuses unsigned ones.
func TestHTTPClaimRaceReassignComplete(t *testing.T) {
	t.Parallel()
	t.Run("no actor key", func(t *testing.T) { t.Parallel(); httpClaimRaceReassignComplete(t) })
	t.Run("actor key", func(t *testing.T) {
		t.Parallel()
		httpClaimRaceReassignComplete(t, testenv.WithActorKey(strings.Repeat("api-test-key-", 4)))
	})
}

func httpClaimRaceReassignComplete(t *testing.T, opts ...testenv.Option) {
	queue := uniqueQueue(t)
	h := newHarness(t, parsePolicy(t, fmt.Sprintf(`
claims:
  enableClaimAssignments: true
  claimAssignmentMethod: manual
  stages:
    capture: {queue: %s}
`, queue)), directory+"  - {id: root, name: Root Admin, email: root@example.com, role: Admin, permissions: [Admin]}\n", opts...)
	ctx := context.Background()
	tokens := map[string]string{"ann": h.token("ann"), "bob": h.token("bob")}
	root := h.token("root")
	id := h.b.ClaimID(1)
	path := "/api/claims/" + id
	h.start(id, "")

	// It waits, unassigned, in its queue.
	r := h.get(path, tokens["ann"])
	require.Equal(t, http.StatusOK, r.code, r.raw)
	require.Equal(t, workflows.StatusUnassigned, r.body["status"])
	require.Equal(t, queue, r.body["queue"])
	batontest.Eventually(t, testTimeout, func() (bool, string) {
		r := h.get("/api/queue?queue="+queue+"&status=unassigned", tokens["bob"])
		items, _ := r.body["items"].([]any)
		return len(items) == 1 && items[0].(map[string]any)["claimId"] == id, r.raw
	})

	// The race: both claim at once; exactly one wins, the other is told no.
	results := map[string]resp{}
	var mu sync.Mutex
	var wg sync.WaitGroup
	ready := make(chan struct{})
	errs := make(chan error, 2)
	for user, tok := range tokens {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-ready
			r, err := h.send("POST", path+"/claim", tok, nil)
			if err != nil {
				errs <- err
				return
			}
			mu.Lock()
			results[user] = r
			mu.Unlock()
		}()
	}
	close(ready)
	wg.Wait()
	close(errs)
	for err := range errs {
		require.NoError(t, err)
	}
	codes := []int{results["ann"].code, results["bob"].code}
	sort.Ints(codes)
	require.Equal(t, []int{http.StatusOK, http.StatusConflict}, codes, "ann: %s\nbob: %s", results["ann"].raw, results["bob"].raw)
	winner, loser := "ann", "bob"
	if results["bob"].code == http.StatusOK {
		winner, loser = "bob", "ann"
	}
	require.Equal(t, winner, results[winner].body["assignee"])
	require.Equal(t, string(policy.MethodClaim), results[winner].body["method"])
	requireError(t, results[loser], http.StatusConflict, "conflict")

	before := h.waitFor(id, "claimed", func(s workflows.ClaimState) bool { return s.Assignee == winner })
	ledgerBefore, err := h.b.DB.Store.DecisionsByClaim(ctx, id)
	require.NoError(t, err)
	timelineBefore, err := h.b.DB.Store.Timeline(ctx, id)
	require.NoError(t, err)

	// The loser may not take it over: 403 with the workflow's reason, and nothing
	// changes anywhere.
	r = h.post(path+"/reassign", tokens[loser], map[string]string{"userId": loser, "comment": "mine now"})
	requireError(t, r, http.StatusForbidden, "forbidden")
	require.Equal(t, fmt.Sprintf("%q may not reassign capture of claim %s: only the assignee (%s), admins and the owner may", loser, id, winner),
		r.errMessage())
	r = h.post(path+"/unassign", tokens[loser], map[string]string{"comment": "back you go"})
	requireError(t, r, http.StatusForbidden, "forbidden")
	r = h.post(path+"/complete", tokens[loser], nil)
	requireError(t, r, http.StatusForbidden, "forbidden")
	after, err := h.b.Claims.State(ctx, id)
	require.NoError(t, err)
	require.Equal(t, before, after, "a rejected action leaves the state as it was")
	ledgerAfter, err := h.b.DB.Store.DecisionsByClaim(ctx, id)
	require.NoError(t, err)
	require.Equal(t, ledgerBefore, ledgerAfter, "and the ledger")
	timelineAfter, err := h.b.DB.Store.Timeline(ctx, id)
	require.NoError(t, err)
	require.Equal(t, timelineBefore, timelineAfter, "and the timeline")

	// An admin reassigns it to the loser, saying why.
	comment := loser + " knows this customer"
	r = h.post(path+"/reassign", root, map[string]string{"userId": loser, "comment": comment})
	require.Equal(t, http.StatusOK, r.code, r.raw)
	require.Equal(t, loser, r.body["assignee"])
	require.Equal(t, "root", r.body["actor"], "the actor is the token's user")
	require.Equal(t, comment, r.body["comment"])
	r = h.get(path+"/timeline", tokens[winner])
	require.Equal(t, http.StatusOK, r.code, r.raw)
	events := r.body["events"].([]any)
	last := events[len(events)-1].(map[string]any)
	require.Equal(t, "reassigned", last["kind"])
	require.Equal(t, "root", last["actor"])
	require.Equal(t, loser, last["subject"])
	require.Equal(t, comment, last["comment"])

	if h.b.ActorKeys != nil {
		// The key is in force: the same completion from a client that does not
		// sign is refused, and changes nothing.
		hu, err := h.b.Plain.UpdateWorkflow(ctx, client.UpdateWorkflowOptions{WorkflowID: workflows.WorkflowID(id),
			UpdateName: workflows.UpdateCompleteStage, Args: []any{workflows.CompleteInput{Actor: loser}},
			WaitForStage: client.WorkflowUpdateStageCompleted})
		if err == nil {
			err = hu.Get(ctx, nil)
		}
		require.ErrorContains(t, err, "no actor assertion")
		s, err := h.b.Claims.State(ctx, id)
		require.NoError(t, err)
		require.Equal(t, policy.StageCapture, s.Stage, "nothing was completed")
		require.Empty(t, s.Completed)
	}

	// The previous assignee can no longer complete it; the new one does.
	requireError(t, h.post(path+"/complete", tokens[winner], nil), http.StatusForbidden, "forbidden")
	r = h.post(path+"/complete", tokens[loser], map[string]string{"note": "checked the photos"})
	require.Equal(t, http.StatusOK, r.code, r.raw)
	require.Equal(t, map[string]any{"stage": "capture", "assignee": loser, "completedBy": loser, "note": "checked the photos"}, r.body)
	h.waitFor(id, "at review", func(s workflows.ClaimState) bool { return s.Stage == policy.StageReview })

	// The new assignee was told, in their inbox.
	r = h.get("/api/inbox?all=true", tokens[loser])
	require.Equal(t, http.StatusOK, r.code)
	var messages []string
	for _, it := range r.body["items"].([]any) {
		messages = append(messages, it.(map[string]any)["message"].(string))
	}
	require.Contains(t, strings.Join(messages, "\n"), id)
}
