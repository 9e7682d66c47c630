package api

import (
	"context"
	"net/http"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/batonhq/baton/policy"
)

// Editing reassignment groups needs ManageReassignmentGroups; an edit is all or
// nothing.
func TestGroupsNeedTheirPermission(t *testing.T) {
	t.Parallel()
	h := newHarness(t, policy.DefaultPolicy(), `
users:
  - {id: ann, name: Ann Lee, email: ann@example.com, permissions: [MakeClaimDecisions]}
  - {id: gus, name: Gus L, email: gus@example.com, permissions: [ManageReassignmentGroups]}
`)
	doc := "groups:\n  - {name: seniors, members: [ann], defaultAssignee: gus, method: broadcast, offerTimeout: 10m}\n"

	r := h.do("PUT", "/api/groups", h.token("ann"), doc)
	require.Equal(t, http.StatusForbidden, r.code, r.raw)
	require.Contains(t, r.errMessage(), "ann may not edit reassignment groups: it needs the ManageReassignmentGroups permission")
	require.Equal(t, http.StatusUnauthorized, h.do("PUT", "/api/groups", "", doc).code)

	r = h.do("PUT", "/api/groups", h.token("gus"), doc)
	require.Equal(t, http.StatusOK, r.code, r.raw)
	require.EqualValues(t, 1, r.body["applied"])

	r = h.do("PUT", "/api/groups", h.token("gus"), "groups:\n  - {name: seniors, members: [ghost], defaultAssignee: gus}\n")
	require.Equal(t, http.StatusBadRequest, r.code)
	require.Contains(t, r.errMessage(), `unknown user "ghost"`)
	r = h.do("PUT", "/api/groups", h.token("gus"), "groups:\n  - {name: x}\n")
	require.Equal(t, http.StatusBadRequest, r.code)
	require.Contains(t, r.errMessage(), "request body:2: groups[0].members: required")

	gs, err := h.b.DB.Store.Groups(context.Background())
	require.NoError(t, err)
	require.Len(t, gs, 1)
	require.Equal(t, []string{"ann"}, gs[0].Members, "the rejected edits changed nothing")
	r = h.get("/api/groups", h.token("ann"))
	require.Equal(t, http.StatusOK, r.code)
	require.Len(t, r.body["groups"], 1)
}
