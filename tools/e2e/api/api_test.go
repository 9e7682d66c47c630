package api

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/batonhq/baton/internal/batontest"
	"github.com/batonhq/baton/internal/httpapi"
	"github.com/batonhq/baton/policy"
	"github.com/batonhq/baton/policy/yamlfile"
	"github.com/batonhq/baton/tools/testenv"
	"github.com/batonhq/baton/workflows"
)

const directory = `
users:
  - {id: ann, name: Ann Lee, email: ann@example.com, role: Claims assessor, permissions: [MakeClaimDecisions]}
  - {id: bob, name: Bob Ng, email: bob@example.com, role: Claims assessor, permissions: [MakeClaimDecisions]}
`

func TestAssignmentOptionsEndpoint(t *testing.T) {
	t.Parallel()
	h := newHarness(t, &policy.Policy{Version: "v1", AssignmentsEnabled: true, Method: policy.MethodRoundRobin}, directory)
	tok := h.token("bob")
	id := h.b.ClaimID(1)
	h.start(id, "")

	r := h.get("/claims/"+id+"/assignment-options/capture", tok)
	require.Equal(t, http.StatusOK, r.code, r.raw)
	// Exactly the source's shape: assignedTo and users, each {userId, name,
	// email, role, description}; only admins read others' addresses.
	require.Equal(t, map[string]any{
		"userId": "ann", "name": "Ann Lee", "email": "", "role": "Claims assessor",
		"description": "Available for capture (holds MakeClaimDecisions)",
	}, r.body["assignedTo"])
	users := r.body["users"].([]any)
	require.Len(t, users, 2)
	require.Len(t, r.body, 2, "no fields beyond assignedTo and users")
	require.Len(t, users[1].(map[string]any), 5)
	require.Equal(t, r.body, h.get("/api/claims/"+id+"/assignment-options/capture", tok).body, "the /api alias answers the same")

	r = h.get("/claims/"+id+"/assignment-options/reveiw", tok)
	requireError(t, r, http.StatusBadRequest, "unknown_stage")
	require.Contains(t, r.errMessage(), `did you mean "review"`)
	requireError(t, h.get("/claims/"+id+"/assignment-options/finalise", tok), http.StatusBadRequest, "unknown_stage")
	requireError(t, h.get("/claims/"+id+"/assignment-options/review", tok), http.StatusConflict, "stage_not_reached")

	r = h.get("/claims/no-such-claim/assignment-options/capture", tok)
	require.Equal(t, http.StatusNotFound, r.code)
	require.Equal(t, map[string]any{"error": map[string]any{"code": "claim_not_found", "message": "claim no-such-claim not found"}}, r.body)

	// State, timeline and explain: at their 001 paths and under /api, the same.
	for _, prefix := range []string{"/claims/", "/api/claims/"} {
		r = h.get(prefix+id, tok)
		require.Equal(t, http.StatusOK, r.code)
		require.Equal(t, "ann", r.body["assignee"])

		r = h.get(prefix+id+"/timeline", tok)
		require.Equal(t, http.StatusOK, r.code)
		events := r.body["events"].([]any)
		require.Equal(t, "assigned", events[0].(map[string]any)["kind"])
		require.Equal(t, "ann", events[0].(map[string]any)["subject"])
		requireError(t, h.get(prefix+"no-such-claim/timeline", tok), http.StatusNotFound, "claim_not_found")

		r = h.get(prefix+id+"/explain?stage=capture", tok)
		require.Equal(t, http.StatusOK, r.code)
		decisions := r.body["decisions"].([]any)
		require.Len(t, decisions, 1)
		require.Equal(t, "round_robin", decisions[0].(map[string]any)["method"])
		require.Equal(t, "ann", decisions[0].(map[string]any)["assignee"])
		requireError(t, h.get(prefix+id+"/explain?stage=nope", tok), http.StatusBadRequest, "unknown_stage")
	}
}

// TestAuthentication: every route but /healthz needs a live token of an active
// user; anything else is 401 with a Bearer challenge and learns nothing more.
func TestAuthentication(t *testing.T) {
	t.Parallel()
	h := newHarness(t, &policy.Policy{Version: "v1", AssignmentsEnabled: true, Method: policy.MethodRoundRobin}, directory+
		"  - {id: old, name: Old Timer, email: old@example.com, permissions: [MakeClaimDecisions]}\n")
	ctx := context.Background()
	good := h.token("ann")
	revoked := h.revokedToken("ann")
	oldTok := h.token("old")
	id := h.b.ClaimID(1)
	h.start(id, "")

	// /healthz stays open.
	r := h.get("/healthz", "")
	require.Equal(t, http.StatusOK, r.code)
	require.Equal(t, "ok", r.body["status"])

	paths := []struct{ method, path string }{
		{"GET", "/claims/" + id + "/assignment-options/capture"},
		{"GET", "/claims/" + id},
		{"GET", "/claims/" + id + "/timeline"},
		{"GET", "/claims/" + id + "/explain"},
		{"GET", "/api/claims/" + id},
		{"GET", "/api/claims/" + id + "/timeline"},
		{"GET", "/api/claims/" + id + "/explain"},
		{"GET", "/api/claims/" + id + "/assignment-options/capture"},
		{"GET", "/api/me"},
		{"GET", "/api/queue"},
		{"GET", "/api/inbox"},
		{"POST", "/api/inbox/1/read"},
		{"POST", "/api/claims/" + id + "/assign"},
		{"POST", "/api/claims/" + id + "/reassign"},
		{"POST", "/api/claims/" + id + "/claim"},
		{"POST", "/api/claims/" + id + "/unassign"},
		{"POST", "/api/claims/" + id + "/complete"},
		{"POST", "/api/claims/" + id + "/start-reassignment"},
		{"GET", "/no/such/route"},
		{"DELETE", "/api/me"},
	}
	badHeaders := []struct {
		name, header string
		challenge    string
	}{
		{"missing", "", `Bearer realm="baton"`},
		{"basic scheme", "Basic YW5uOnB3", `Bearer realm="baton", error="invalid_request"`},
		{"no token", "Bearer", `Bearer realm="baton", error="invalid_request"`},
		{"empty token", "Bearer ", `Bearer realm="baton", error="invalid_request"`},
		{"two tokens", "Bearer " + good + " " + good, `Bearer realm="baton", error="invalid_request"`},
		{"unknown token", "Bearer bt_" + strings.Repeat("A", 43), `Bearer realm="baton", error="invalid_token"`},
		{"not a baton token", "Bearer hunter2", `Bearer realm="baton", error="invalid_token"`},
		{"revoked token", "Bearer " + revoked, `Bearer realm="baton", error="invalid_token"`},
	}
	for _, p := range paths {
		for _, bh := range badHeaders {
			req, err := http.NewRequest(p.method, h.srv.URL+p.path, strings.NewReader(`{"userId": "ann"}`))
			require.NoError(t, err)
			if bh.header != "" {
				req.Header.Set("Authorization", bh.header)
			}
			res, err := h.srv.Client().Do(req)
			require.NoError(t, err)
			res.Body.Close()
			require.Equal(t, http.StatusUnauthorized, res.StatusCode, "%s %s with %s", p.method, p.path, bh.name)
			require.Equal(t, bh.challenge, res.Header.Get("WWW-Authenticate"), "%s %s with %s", p.method, p.path, bh.name)
		}
	}
	r = h.get("/api/me", revoked)
	requireError(t, r, http.StatusUnauthorized, "unauthenticated")
	require.Equal(t, "the bearer token is unknown, expired or revoked", r.errMessage())
	require.NotContains(t, r.raw, revoked[3:], "the token is never echoed")
	r = h.do("GET", "/api/me", "", nil)
	requireError(t, r, http.StatusUnauthorized, "unauthenticated")
	require.Contains(t, r.errMessage(), "Authorization: Bearer <token>")
	// Nothing was acted on by any of those requests.
	s, err := h.b.Claims.State(ctx, id)
	require.NoError(t, err)
	require.Equal(t, "ann", s.Assignee)
	require.Len(t, s.Decisions, 1)

	// The scheme is case-insensitive (RFC 7235).
	req, err := http.NewRequest("GET", h.srv.URL+"/api/me", nil)
	require.NoError(t, err)
	req.Header.Set("Authorization", "bearer "+good)
	res, err := h.srv.Client().Do(req)
	require.NoError(t, err)
	res.Body.Close()
	require.Equal(t, http.StatusOK, res.StatusCode)

	// A good token: the route answers; an unknown route is 404 only once authenticated.
	require.Equal(t, http.StatusOK, h.get("/api/claims/"+id, good).code)
	requireError(t, h.get("/no/such/route", good), http.StatusNotFound, "not_found")
	r = h.do("DELETE", "/api/me", good, nil)
	requireError(t, r, http.StatusMethodNotAllowed, "method_not_allowed")
	require.Equal(t, "GET, HEAD", r.header.Get("Allow"))
	r = h.get("/api/claims/"+id+"/assign", good)
	requireError(t, r, http.StatusMethodNotAllowed, "method_not_allowed")
	require.Equal(t, "POST", r.header.Get("Allow"))

	// A deactivated user's token stops working at once, revoked, and stays so
	// when the user is reactivated: they need a new one.
	require.Equal(t, http.StatusOK, h.get("/api/me", oldTok).code)
	load := func(active bool) {
		d, err := yamlfile.ParseDirectory("d.yaml", []byte(fmt.Sprintf(
			"users:\n  - {id: old, name: Old Timer, email: old@example.com, active: %t, permissions: [MakeClaimDecisions]}\n", active)))
		require.NoError(t, err)
		_, err = h.b.DB.Store.LoadDirectory(ctx, d)
		require.NoError(t, err)
	}
	load(false)
	r = h.get("/api/me", oldTok)
	requireError(t, r, http.StatusUnauthorized, "unauthenticated")
	require.Equal(t, "the bearer token is unknown, expired or revoked", r.errMessage())
	require.Equal(t, `Bearer realm="baton", error="invalid_token"`, r.header.Get("WWW-Authenticate"))
	load(true)
	requireError(t, h.get("/api/me", oldTok), http.StatusUnauthorized, "unauthenticated")
	newTok := h.token("old")
	require.Equal(t, http.StatusOK, h.get("/api/me", newTok).code)

	// Revoking every token of a user.
	_, err = h.b.DB.Store.TokenRevokeUser(ctx, "old")
	require.NoError(t, err)
	requireError(t, h.get("/api/me", newTok), http.StatusUnauthorized, "unauthenticated")
}

// TestNoDatabaseNoAccess: without a store there are no tokens, so nothing but
// /healthz is served.
func TestNoDatabaseNoAccess(t *testing.T) {
	t.Parallel()
	b := testenv.Start(t, &policy.Policy{Version: "v1"}, directory)
	srv := httptest.NewServer(httpapi.New(b.Claims, nil, nil).Handler())
	t.Cleanup(srv.Close)
	h := &harness{t: t, b: b, srv: srv}
	require.Equal(t, http.StatusOK, h.get("/healthz", "").code)
	requireError(t, h.get("/api/me", ""), http.StatusUnauthorized, "unauthenticated")
	requireError(t, h.get("/api/me", "bt_"+strings.Repeat("A", 43)), http.StatusServiceUnavailable, "auth_unavailable")
}

func TestMe(t *testing.T) {
	t.Parallel()
	h := newHarness(t, &policy.Policy{Version: "v1"}, directory+
		"  - {id: root, name: Root Admin, email: root@example.com, role: Admin, permissions: [Admin]}\n")
	r := h.get("/api/me", h.token("root"))
	require.Equal(t, http.StatusOK, r.code)
	require.Equal(t, map[string]any{"userId": "root", "name": "Root Admin", "email": "root@example.com", "admin": true}, r.body)
	r = h.get("/api/me", h.token("ann"))
	require.Equal(t, map[string]any{"userId": "ann", "name": "Ann Lee", "email": "ann@example.com", "admin": false}, r.body)
	require.Equal(t, "no-store", r.header.Get("Cache-Control"))
}

// TestActionBodies: bodies are strict JSON objects of at most 64 KiB, and the
// actor is never one of their fields.
func TestActionBodies(t *testing.T) {
	t.Parallel()
	h := newHarness(t, parsePolicy(t, "claims:\n  enableClaimAssignments: true\n  claimAssignmentMethod: manual\n"), directory)
	ann, bob := h.token("ann"), h.token("bob")
	id := h.b.ClaimID(1)
	before := h.start(id, "")
	require.Equal(t, workflows.StatusUnassigned, before.Status)
	path := "/api/claims/" + id

	r := h.post(path+"/assign", ann, `{"userId": "bob", "actor": "root"}`)
	requireError(t, r, http.StatusBadRequest, "invalid_body")
	require.Contains(t, r.errMessage(), `unknown field "actor": the actor is always the caller`)
	r = h.post(path+"/complete", ann, `{"outcome": "approval", "notes": "x"}`)
	requireError(t, r, http.StatusBadRequest, "invalid_body")
	require.Equal(t, `unknown field "notes": want {"outcome", "note", "stage"}`, r.errMessage())
	r = h.post(path+"/claim", ann, `{"comment": "mine"}`)
	requireError(t, r, http.StatusBadRequest, "invalid_body")
	require.Contains(t, r.errMessage(), `unknown field "comment"`)
	r = h.post(path+"/assign", ann, `{"userId": 7}`)
	requireError(t, r, http.StatusBadRequest, "invalid_body")
	require.Equal(t, `field "userId" must be a JSON string, not number`, r.errMessage())
	requireError(t, h.post(path+"/assign", ann, `{"userId": "bob"`), http.StatusBadRequest, "invalid_body")
	requireError(t, h.post(path+"/assign", ann, `{"userId": "bob"} {}`), http.StatusBadRequest, "invalid_body")
	requireError(t, h.post(path+"/assign", ann, `["bob"]`), http.StatusBadRequest, "invalid_body")
	requireError(t, h.post(path+"/assign", ann, `{"userId": "bob"}x`), http.StatusBadRequest, "invalid_body")
	// Bodies with a required field may not be empty; the others may.
	r = h.post(path+"/assign", ann, nil)
	requireError(t, r, http.StatusBadRequest, "invalid_body")
	require.Equal(t, `a JSON body is required: {"userId", "comment", "override", "stage"}`, r.errMessage())
	requireError(t, h.post(path+"/start-reassignment", ann, nil), http.StatusBadRequest, "invalid_body")
	// Too large: 413, whatever the JSON.
	big := `{"userId": "bob", "comment": "` + strings.Repeat("x", httpapi.MaxBodyBytes) + `"}`
	requireError(t, h.post(path+"/assign", ann, big), http.StatusRequestEntityTooLarge, "too_large")
	// Just under the body's limit, the comment is past its own, refused naming it.
	fits := `{"userId": "bob", "comment": "` + strings.Repeat("x", httpapi.MaxBodyBytes-40) + `"}`
	r = h.post(path+"/assign", ann, fits)
	requireError(t, r, http.StatusBadRequest, "invalid")
	require.Equal(t, fmt.Sprintf(`assign: field "comment" has %d characters, at most %d`, httpapi.MaxBodyBytes-40, policy.MaxCommentChars), r.errMessage())
	// Within it, the workflow rules: bob is not assignable by ann.
	requireError(t, h.post(path+"/assign", ann, `{"userId": "bob", "comment": "`+strings.Repeat("x", policy.MaxCommentChars)+`"}`),
		http.StatusForbidden, "forbidden")
	// A field left out is the workflow's to reject.
	r = h.post(path+"/assign", ann, `{}`)
	requireError(t, r, http.StatusBadRequest, "invalid")
	require.Equal(t, "assign: userId is required", r.errMessage())
	// An action meant for another stage than the claim's is refused.
	r = h.post(path+"/claim", bob, `{"stage": "review"}`)
	requireError(t, r, http.StatusConflict, "conflict")
	require.Contains(t, r.errMessage(), "is at capture, not review: claiming refused")
	requireError(t, h.post("/api/claims/bad%20id/claim", ann, nil), http.StatusBadRequest, "invalid_claim_id")
	requireError(t, h.post("/api/claims/no-such-claim/claim", ann, nil), http.StatusNotFound, "claim_not_found")

	after, err := h.b.Claims.State(context.Background(), id)
	require.NoError(t, err)
	require.Equal(t, before, after, "no rejected request changed the claim")

	// The empty body of claim is fine, and so is the stage it is at: bob takes it.
	r = h.post(path+"/claim", bob, `{"stage": "capture"}`)
	require.Equal(t, http.StatusOK, r.code, r.raw)
	require.Equal(t, "bob", r.body["assignee"])
	require.Equal(t, "bob", r.body["actor"])
	require.Equal(t, "claim", r.body["method"])
}

// TestQueue: open claims, unassigned first, paged and filtered.
func TestQueue(t *testing.T) {
	t.Parallel()
	// Tests share the Temporal namespace: a queue name of this test's own keeps
	// other tests' claims out of the listing.
	queue := uniqueQueue(t)
	doc := fmt.Sprintf("claims:\n  enableClaimAssignments: true\n  claimAssignmentMethod: manual\n  stages:\n    capture: {queue: %s}\n", queue)
	p := parsePolicy(t, doc)
	h := newHarness(t, p, directory)
	ann := h.token("ann")
	ctx := context.Background()

	// Claim 1 runs under the worker's own policy; claims 2 to 4 under the stored
	// "default" version 1.
	ids := []string{h.b.ClaimID(1), h.b.ClaimID(2), h.b.ClaimID(3), h.b.ClaimID(4)}
	h.start(ids[0], "")
	_, err := h.b.DB.Store.PolicyApply(ctx, "policy.yaml", []byte(doc), p, "ann")
	require.NoError(t, err)
	for _, id := range ids[1:] {
		s := h.start(id, "")
		require.Equal(t, workflows.PolicyRef{Name: "default", Version: 1}, s.Policy)
	}
	// ann takes claim 2: it sorts after the unassigned ones.
	r := h.post("/api/claims/"+ids[1]+"/claim", ann, nil)
	require.Equal(t, http.StatusOK, r.code, r.raw)

	list := func(query string) (ids []string, more bool, page resp) {
		t.Helper()
		page = h.get("/api/queue?"+query, ann)
		require.Equal(t, http.StatusOK, page.code, page.raw)
		for _, it := range page.body["items"].([]any) {
			ids = append(ids, it.(map[string]any)["claimId"].(string))
		}
		return ids, page.body["more"].(bool), page
	}
	// Visibility is eventually consistent: wait until the queue holds the three
	// unassigned claims (an assigned stage waits in no queue).
	q := "queue=" + queue
	// Wait for exactly them: claim 2's claim and claim 4's decision reach
	// visibility in either order.
	batontest.Eventually(t, testTimeout, func() (bool, string) {
		got, _, page := list(q)
		return slices.Equal(got, []string{ids[0], ids[2], ids[3]}), page.raw
	})
	got, more, page := list(q)
	require.Equal(t, []string{ids[0], ids[2], ids[3]}, got, "oldest first")
	require.False(t, more)
	require.Equal(t, float64(1), page.body["page"])
	require.Equal(t, float64(httpapi.DefaultPageSize), page.body["pageSize"])
	first := page.body["items"].([]any)[0].(map[string]any)
	require.Equal(t, "unassigned", first["status"])
	require.Equal(t, queue, first["queue"])
	require.Equal(t, "capture", first["stage"])

	got, more, _ = list(q + "&page_size=2")
	require.Equal(t, []string{ids[0], ids[2]}, got)
	require.True(t, more)
	got, more, _ = list(q + "&page_size=2&page=2")
	require.Equal(t, []string{ids[3]}, got)
	require.False(t, more)
	got, more, page = list(q + "&page_size=2&page=3")
	require.Empty(t, got)
	require.False(t, more)
	require.Equal(t, []any{}, page.body["items"], "an empty page is [], not null")
	got, _, _ = list(q + "&status=unassigned&stage=capture&since=2000-01-01")
	require.Len(t, got, 3)
	got, _, _ = list(q + "&since=2999-01-01")
	require.Empty(t, got)
	got, _, _ = list(q + "&stage=review")
	require.Empty(t, got)

	// Unfiltered, the assigned claim comes after every unassigned one. Other
	// tests' claims share the namespace: page through everything, keep ours.
	mine := map[string]bool{}
	for _, id := range ids {
		mine[id] = true
	}
	batontest.Eventually(t, testTimeout, func() (bool, string) {
		var ours []string
		for n := 1; ; n++ {
			got, more, _ := list(fmt.Sprintf("page_size=%d&page=%d", httpapi.MaxPageSize, n))
			for _, id := range got {
				if mine[id] {
					ours = append(ours, id)
				}
			}
			if !more {
				break
			}
		}
		want := []string{ids[0], ids[2], ids[3], ids[1]}
		return slices.Equal(ours, want), fmt.Sprintf("ours %v, want %v", ours, want)
	})

	// By stored policy: read from each claim's state, still in queue order and
	// paged. (Combined with the queue filter: other tests' claims may have no
	// worker left to answer a state query.)
	got, more, _ = list(q + "&policy=default")
	require.Equal(t, []string{ids[2], ids[3]}, got)
	require.False(t, more)
	got, more, _ = list(q + "&policy=default&page_size=1")
	require.Equal(t, []string{ids[2]}, got)
	require.True(t, more)
	got, more, _ = list(q + "&policy=default&page_size=1&page=2")
	require.Equal(t, []string{ids[3]}, got)
	require.False(t, more)
	got, _, _ = list(q + "&policy=nope")
	require.Empty(t, got)

	for _, bad := range []struct{ query, want string }{
		{"page=0", `page "0": want a whole number from 1`},
		{"page=x", `page "x": want a whole number`},
		{"page_size=201", `page_size "201": want a whole number from 1 to 200`},
		{"page_size=0", `page_size "0"`},
		{"stage=reveiw", `did you mean "review"`},
		{"status=finalised", `status "finalised": want one of`},
		{"since=yesterday", `since "yesterday": want YYYY-MM-DD`},
		{"stauts=unassigned", `unknown query parameter "stauts"`},
	} {
		r := h.get("/api/queue?"+bad.query, ann)
		requireError(t, r, http.StatusBadRequest, "invalid_query")
		require.Contains(t, r.errMessage(), bad.want, bad.query)
	}
}

// TestInbox: each caller sees and marks only their own notifications.
func TestInbox(t *testing.T) {
	t.Parallel()
	h := newHarness(t, &policy.Policy{Version: "v1", AssignmentsEnabled: true, Method: policy.MethodRoundRobin}, directory)
	ann, bob := h.token("ann"), h.token("bob")
	id := h.b.ClaimID(1)
	h.start(id, "") // round robin: ann, who is notified

	var item map[string]any
	batontest.Eventually(t, testTimeout, func() (bool, string) {
		r := h.get("/api/inbox", ann)
		items, _ := r.body["items"].([]any)
		if r.code != http.StatusOK || len(items) != 1 {
			return false, r.raw
		}
		item = items[0].(map[string]any)
		return true, ""
	})
	require.Equal(t, id, item["claimId"])
	require.Equal(t, "ann", item["userId"])
	require.Equal(t, "Claim "+id+" is yours at capture (round robin)", item["message"], "the method in words, as reasons spell it")
	require.Nil(t, item["readAt"])
	itemID := strconv.FormatInt(int64(item["id"].(float64)), 10)

	r := h.get("/api/inbox", bob)
	require.Equal(t, http.StatusOK, r.code)
	require.Equal(t, []any{}, r.body["items"], "bob sees none of ann's")
	// bob cannot mark ann's item read: to him it does not exist.
	r = h.post("/api/inbox/"+itemID+"/read", bob, nil)
	requireError(t, r, http.StatusNotFound, "inbox_item_not_found")
	require.Len(t, h.get("/api/inbox", ann).body["items"], 1, "still unread")

	r = h.post("/api/inbox/"+itemID+"/read", ann, nil)
	require.Equal(t, http.StatusNoContent, r.code, r.raw)
	require.Empty(t, r.raw)
	r = h.post("/api/inbox/"+itemID+"/read", ann, nil)
	require.Equal(t, http.StatusNoContent, r.code, "marking a read item read again is fine")
	require.Equal(t, []any{}, h.get("/api/inbox", ann).body["items"], "unread only by default")
	r = h.get("/api/inbox?all=true", ann)
	require.Len(t, r.body["items"], 1)
	require.NotNil(t, r.body["items"].([]any)[0].(map[string]any)["readAt"])
	require.Equal(t, []any{}, h.get("/api/inbox?all=false", ann).body["items"])

	requireError(t, h.post("/api/inbox/999999/read", ann, nil), http.StatusNotFound, "inbox_item_not_found")
	requireError(t, h.post("/api/inbox/abc/read", ann, nil), http.StatusBadRequest, "invalid_item_id")
	requireError(t, h.get("/api/inbox?all=maybe", ann), http.StatusBadRequest, "invalid_query")
	requireError(t, h.get("/api/inbox?limit=501", ann), http.StatusBadRequest, "invalid_query")
	requireError(t, h.get("/api/inbox?unread=1", ann), http.StatusBadRequest, "invalid_query")
}

// A claim is read by those with a part in it and admins: its owner, who it
// was given to and who acted on it, who was eligible for its open stage, and
// no one else (issue 20: ava, with no part in a claim, read its data,
// timeline and explanation).
func TestOnlyThoseWithAPartReadAClaim(t *testing.T) {
	t.Parallel()
	h := newHarness(t, parsePolicy(t, "claims:\n  enableClaimAssignments: true\n  claimAssignmentMethod: manual\n"), directory+
		"  - {id: dee, name: Dee Ray, email: dee@example.com, role: Supervisor, permissions: [AcknowledgeClaimDecisions]}\n"+
		"  - {id: olga, name: Olga Ng, email: olga@example.com, role: Customer}\n"+
		"  - {id: root, name: Root, email: root@example.com, role: Admin, permissions: [Admin]}\n")
	id := h.b.ClaimID(1)
	h.start(id, "olga")
	path := "/api/claims/" + id
	reads := func(user string) int {
		tok := h.token(user)
		code := h.get(path, tok).code
		for _, p := range []string{path + "/timeline", path + "/explain"} {
			require.Equal(t, code, h.get(p, tok).code, "%s reads %s as they read the claim", user, p)
		}
		return code
	}
	require.Equal(t, http.StatusOK, reads("olga"), "the owner")
	require.Equal(t, http.StatusOK, reads("root"), "an admin")
	require.Equal(t, http.StatusOK, reads("ann"), "eligible for capture, its open stage")
	r := h.get(path, h.token("dee"))
	requireError(t, r, http.StatusForbidden, "forbidden")
	require.Equal(t, `"dee" may not read claim `+id+`: only its owner, those it was assigned to or who acted on it, `+
		"those eligible for its open stage and admins may", r.errMessage())
	require.Equal(t, http.StatusForbidden, reads("dee"))

	// ann takes capture and completes it: she keeps reading it at review
	// (she acted on it); dee, eligible for neither stage, still may not.
	ann := h.token("ann")
	require.Equal(t, http.StatusOK, h.post(path+"/claim", ann, nil).code)
	require.Equal(t, http.StatusOK, h.post(path+"/complete", ann, nil).code)
	require.Equal(t, http.StatusOK, reads("ann"), "she acted on it")
	require.Equal(t, http.StatusForbidden, reads("dee"))
}
