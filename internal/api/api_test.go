package api_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/batonhq/baton/internal/api"
	"github.com/batonhq/baton/internal/testenv"
	"github.com/batonhq/baton/policy"
	"github.com/batonhq/baton/workflows"
)

const testTimeout = 30 * time.Second

const directory = `
users:
  - {id: ann, name: Ann Lee, email: ann@example.com, role: Claims assessor, permissions: [MakeClaimDecisions]}
  - {id: bob, name: Bob Ng, email: bob@example.com, role: Claims assessor, permissions: [MakeClaimDecisions]}
`

func get(t *testing.T, srv *httptest.Server, path string) (int, map[string]any) {
	t.Helper()
	resp, err := http.Get(srv.URL + path)
	require.NoError(t, err)
	defer resp.Body.Close()
	require.Equal(t, "application/json", resp.Header.Get("Content-Type"))
	body, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	var out map[string]any
	require.NoError(t, json.Unmarshal(body, &out), string(body))
	return resp.StatusCode, out
}

func TestAssignmentOptionsEndpoint(t *testing.T) {
	t.Parallel()
	b := testenv.Start(t, &policy.Policy{Version: "v1", AssignmentsEnabled: true, Method: policy.MethodRoundRobin}, directory)
	srv := httptest.NewServer(api.New(b.Claims, b.DB.Store, nil).Handler())
	t.Cleanup(srv.Close)
	id := b.ClaimID(1)
	_, err := b.Claims.Start(context.Background(), workflows.ClaimInput{ClaimID: id})
	require.NoError(t, err)
	testenv.Eventually(t, testTimeout, func() (bool, string) {
		code, _ := get(t, srv, "/claims/"+id+"/assignment-options/capture")
		return code == http.StatusOK, http.StatusText(code)
	})

	code, body := get(t, srv, "/claims/"+id+"/assignment-options/capture")
	require.Equal(t, http.StatusOK, code)
	// Exactly the source's shape: assignedTo and users, each {userId, name, email, role, description}.
	require.Equal(t, map[string]any{
		"userId": "ann", "name": "Ann Lee", "email": "ann@example.com", "role": "Claims assessor",
		"description": "Available for capture (holds MakeClaimDecisions)",
	}, body["assignedTo"])
	users := body["users"].([]any)
	require.Len(t, users, 2)
	require.Len(t, body, 2, "no fields beyond assignedTo and users")
	require.Len(t, users[1].(map[string]any), 5)

	code, body = get(t, srv, "/claims/"+id+"/assignment-options/reveiw")
	require.Equal(t, http.StatusBadRequest, code)
	require.Equal(t, "unknown_stage", body["error"].(map[string]any)["code"])
	require.Contains(t, body["error"].(map[string]any)["message"], `did you mean "review"`)

	code, body = get(t, srv, "/claims/"+id+"/assignment-options/finalise")
	require.Equal(t, http.StatusBadRequest, code)

	code, body = get(t, srv, "/claims/"+id+"/assignment-options/review")
	require.Equal(t, http.StatusConflict, code)
	require.Equal(t, "stage_not_reached", body["error"].(map[string]any)["code"])

	code, body = get(t, srv, "/claims/no-such-claim/assignment-options/capture")
	require.Equal(t, http.StatusNotFound, code)
	require.Equal(t, map[string]any{"error": map[string]any{"code": "claim_not_found", "message": "claim no-such-claim not found"}}, body)

	code, body = get(t, srv, "/claims/"+id)
	require.Equal(t, http.StatusOK, code)
	require.Equal(t, "ann", body["assignee"])

	code, body = get(t, srv, "/claims/"+id+"/timeline")
	require.Equal(t, http.StatusOK, code)
	events := body["events"].([]any)
	require.Equal(t, "assigned", events[0].(map[string]any)["kind"])
	require.Equal(t, "ann", events[0].(map[string]any)["subject"])
	code, _ = get(t, srv, "/claims/no-such-claim/timeline")
	require.Equal(t, http.StatusNotFound, code)

	code, body = get(t, srv, "/claims/"+id+"/explain?stage=capture")
	require.Equal(t, http.StatusOK, code)
	decisions := body["decisions"].([]any)
	require.Len(t, decisions, 1)
	require.Equal(t, "round_robin", decisions[0].(map[string]any)["method"])
	require.Equal(t, "ann", decisions[0].(map[string]any)["assignee"])
	code, body = get(t, srv, "/claims/"+id+"/explain?stage=nope")
	require.Equal(t, http.StatusBadRequest, code)
}
