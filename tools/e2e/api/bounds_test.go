package api

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	enumspb "go.temporal.io/api/enums/v1"

	"github.com/batonhq/baton/internal/httpapi"
	"github.com/batonhq/baton/policy"
	"github.com/batonhq/baton/workflows"
)

// One eligible, ordinary user repeating unassign (with a 2,000-character
// comment) and claim 600 times through the API cannot destroy a claim: past
// the stage's budget of changes each is refused, the claim keeps running, its
// history stays far under Temporal's limits and its state still answers. A
// 60,000-character comment is refused, naming the field. (Issue 20: at
// e43ce66, 158 such rounds with 60,000-character comments got the claim
// terminated for its history's size, and 600 with 2,000 made its state
// unreadable.)
func TestOneUserCannotDestroyAClaim(t *testing.T) {
	t.Parallel()
	// The API's per-token rate limit would slow these 1,200 requests to 20 a
	// second (TestATokenPastItsLimitsIsAnswered429): lifted, the claim itself
	// is what is tried.
	unlimited := httpapi.WithLimits(httpapi.Limits{Rate: 1e6, Burst: 1e6, InFlight: 8})
	h := newHarnessWith(t, parsePolicy(t, "claims:\n  enableClaimAssignments: true\n  claimAssignmentMethod: manual\n"), directory,
		[]httpapi.Option{unlimited})
	ann := h.token("ann")
	id := h.b.ClaimID(1)
	h.start(id, "")
	path := "/api/claims/" + id

	r := h.post(path+"/claim", ann, nil)
	require.Equal(t, http.StatusOK, r.code, r.raw)
	r = h.post(path+"/unassign", ann, `{"comment": "`+strings.Repeat("x", 60000)+`"}`)
	requireError(t, r, http.StatusBadRequest, "invalid")
	require.Equal(t, `unassign: field "comment" has 60000 characters, at most 4000`, r.errMessage())

	comment := fmt.Sprintf(`{"comment": %q}`, strings.Repeat("why? ", 400))
	var refused int
	for range 600 {
		for _, step := range []struct{ action, body string }{{"unassign", comment}, {"claim", ""}} {
			var body any
			if step.body != "" {
				body = step.body
			}
			r := h.post(path+"/"+step.action, ann, body)
			switch r.code {
			case http.StatusOK:
			case http.StatusConflict:
				refused++
			default:
				t.Fatalf("%s answered %d: %s", step.action, r.code, r.raw)
			}
		}
	}
	require.Greater(t, refused, 1000, "past the budget, each round is refused")

	state := h.get(path, ann)
	require.Equal(t, http.StatusOK, state.code, "the state still answers")
	require.Equal(t, string(workflows.StatusAssigned), state.body["status"])
	require.Equal(t, "ann", state.body["assignee"])
	require.Equal(t, float64(policy.DefaultMaxAssigneeChanges-1), state.body["changes"])
	require.Len(t, state.body["decisions"], workflows.MaxStateDecisions)
	r = h.post(path+"/unassign", ann, comment)
	requireError(t, r, http.StatusConflict, "conflict")
	require.Contains(t, r.errMessage(), "claims.maxAssigneeChanges allows 100")

	desc, err := h.b.Temporal.DescribeWorkflowExecution(context.Background(), workflows.WorkflowID(id), "")
	require.NoError(t, err)
	info := desc.GetWorkflowExecutionInfo()
	require.Equal(t, enumspb.WORKFLOW_EXECUTION_STATUS_RUNNING, info.GetStatus(), "the claim is still running")
	t.Logf("after 600 rounds (%d refused): %d events, %d bytes of history; state answer %d bytes", refused,
		info.GetHistoryLength(), info.GetHistorySizeBytes(), len(state.raw))
	require.Less(t, info.GetHistoryLength(), int64(20000), "events")
	require.Less(t, info.GetHistorySizeBytes(), int64(10<<20), "bytes")

	// And its assignee completes it as ever.
	r = h.post(path+"/complete", ann, nil)
	require.Equal(t, http.StatusOK, r.code, r.raw)
}
