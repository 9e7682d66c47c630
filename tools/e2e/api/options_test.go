package api

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/batonhq/baton/internal/httpapi"
	"github.com/batonhq/baton/policy"
	"github.com/batonhq/baton/tools/testenv"
)

// rolesDirectory: capture takes Admin, Claims assessor or Call center agent
// (policy.DefaultRolesByStage); cat, a supervisor, may not take it.
const rolesDirectory = `
users:
  - {id: ann, name: Ann Lee, email: ann@example.com, role: Claims assessor}
  - {id: bob, name: Bob Ng, email: bob@example.com, role: Claims assessor}
  - {id: cat, name: Cat Ruiz, email: cat@example.com, role: Claims supervisor}
  - {id: dan, name: Dan Oyelaran, email: dan@example.com, role: Call center agent}
`

const modulePolicy = `
version: product-module-1
claims:
  enableClaimAssignments: true
  claimAssignmentMethod: product_module
`

// The source's example of currentUser: with roles_by_stage, a caller eligible for
// the stage is its own default assignee; a system decision (currentUser null)
// takes the first available user. Asking changes nothing on the claim.
func TestAssignmentOptionsAnswerForTheCaller(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	p := parsePolicy(t, modulePolicy)
	b := testenv.Start(t, p, rolesDirectory)
	module := policy.RolesByStage{Users: b.DB.Store}
	b.Acts.Module = module
	// The worker stores its policy on start; claims then run on that version.
	_, err := b.DB.Store.PolicyApply(ctx, "policy.yaml", []byte(modulePolicy), p, "test")
	require.NoError(t, err)
	srv := httptest.NewServer(httpapi.New(b.Claims, b.DB.Store, nil, httpapi.WithProductModule(module)).Handler())
	t.Cleanup(srv.Close)
	h := &harness{t: t, b: b, srv: srv}

	id := h.b.ClaimID(1)
	before := h.start(id, "")
	require.Equal(t, "ann", before.Assignee, "the stage's own decision passes no current user: the first available")
	require.False(t, before.Policy.IsZero(), "the claim runs on the stored policy")

	assignedTo := func(user, stage string) (string, []string) {
		t.Helper()
		r := h.get("/claims/"+id+"/assignment-options/"+stage, h.token(user))
		require.Equal(t, http.StatusOK, r.code, r.raw)
		var users []string
		for _, u := range r.body["users"].([]any) {
			users = append(users, u.(map[string]any)["userId"].(string))
		}
		return r.body["assignedTo"].(map[string]any)["userId"].(string), users
	}
	got, users := assignedTo("bob", "capture")
	require.Equal(t, "bob", got, "an eligible caller is their own default assignee")
	require.Equal(t, []string{"ann", "bob", "dan"}, users)
	got, _ = assignedTo("dan", "capture")
	require.Equal(t, "dan", got)
	got, _ = assignedTo("cat", "capture")
	require.Equal(t, "ann", got, "a caller who may not take capture gets the first available user")
	got, users = assignedTo("cat", "review")
	require.Equal(t, "cat", got, "review takes supervisors, and a stage not yet reached can be asked about")
	require.Equal(t, []string{"ann", "bob", "cat"}, users)

	after, err := h.b.Claims.State(ctx, id)
	require.NoError(t, err)
	require.Equal(t, before.Assignee, after.Assignee, "asking changed the claim")
	require.Equal(t, before.Decisions, after.Decisions, "asking recorded a decision")

	// Without the module, the endpoint answers the recorded decision whoever asks.
	plain := httptest.NewServer(httpapi.New(b.Claims, b.DB.Store, nil).Handler())
	t.Cleanup(plain.Close)
	h.srv = plain
	got, _ = assignedTo("bob", "capture")
	require.Equal(t, "ann", got)
}
