package api

import (
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/batonhq/baton/internal/batontest"
	"github.com/batonhq/baton/internal/httpapi"
	"github.com/batonhq/baton/workflows"
)

// scopeDirectory adds to directory a supervisor eligible for acknowledge only,
// a customer with no permission and an admin.
const scopeDirectory = directory +
	"  - {id: dee, name: Dee Ray, email: dee@example.com, role: Supervisor, permissions: [AcknowledgeClaimDecisions]}\n" +
	"  - {id: olga, name: Olga Ng, email: olga@example.com, role: Customer}\n" +
	"  - {id: root, name: Root, email: root@example.com, role: Admin, permissions: [Admin]}\n"

// The queue lists what its caller may read, and nothing else: an admin every
// claim; anyone else the claims they own or hold and those waiting that they
// are eligible for or took part in (issue 20: any user listed every claim).
func TestTheQueueListsWhatTheCallerMayRead(t *testing.T) {
	t.Parallel()
	queue := uniqueQueue(t)
	h := newHarness(t, parsePolicy(t, fmt.Sprintf(
		"claims:\n  enableClaimAssignments: true\n  claimAssignmentMethod: manual\n  stages:\n    capture: {queue: %s}\n", queue)), scopeDirectory)
	owned, other := h.b.ClaimID(1), h.b.ClaimID(2)
	h.start(owned, "olga")
	h.start(other, "root")
	ann, bob := h.token("ann"), h.token("bob")
	require.Equal(t, http.StatusOK, h.post("/api/claims/"+other+"/claim", ann, nil).code)

	listed := func(tok string) []string {
		r := h.get("/api/queue?page_size=200", tok)
		require.Equal(t, http.StatusOK, r.code, r.raw)
		var ids []string
		for _, it := range r.body["items"].([]any) {
			if id := it.(map[string]any)["claimId"].(string); id == owned || id == other {
				ids = append(ids, id)
			}
		}
		slices.Sort(ids)
		return ids
	}
	both := []string{owned, other}
	for _, c := range []struct {
		user string
		want []string
		why  string
	}{
		{"root", both, "an admin reads every claim"},
		{"olga", []string{owned}, "the owner, with no permission, reads her own claim"},
		{"ann", both, "eligible for the waiting one, holding the other"},
		{"bob", both, "eligible for capture, the open stage of both, though ann holds one"},
		{"dee", nil, "eligible for neither stage"},
	} {
		tok := h.token(c.user)
		batontest.Eventually(t, testTimeout, func() (bool, string) {
			got := listed(tok)
			return slices.Equal(got, c.want), fmt.Sprintf("%s lists %v, want %v: %s", c.user, got, c.want, c.why)
		})
	}
	// dee lists neither, and reads neither by id: the queue and the claim
	// answer alike.
	for _, id := range both {
		requireError(t, h.get("/api/claims/"+id, h.token("dee")), http.StatusForbidden, "forbidden")
		require.Equal(t, http.StatusOK, h.get("/api/claims/"+id, bob).code)
	}
}

// Candidates' e-mail addresses are read by admins only; everyone else sees
// the source's shape with each address but their own blank.
func TestCandidateEmailsAreForAdmins(t *testing.T) {
	t.Parallel()
	h := newHarness(t, parsePolicy(t, "claims:\n  enableClaimAssignments: true\n  claimAssignmentMethod: manual\n"), scopeDirectory)
	id := h.b.ClaimID(1)
	h.start(id, "")
	emails := func(user string) map[string]string {
		r := h.get("/claims/"+id+"/assignment-options/capture", h.token(user))
		require.Equal(t, http.StatusOK, r.code, r.raw)
		out := map[string]string{}
		for _, u := range r.body["users"].([]any) {
			m := u.(map[string]any)
			out[m["userId"].(string)] = m["email"].(string)
		}
		return out
	}
	require.Equal(t, map[string]string{"ann": "ann@example.com", "bob": "bob@example.com"}, emails("root"))
	require.Equal(t, map[string]string{"ann": "ann@example.com", "bob": ""}, emails("ann"))
}

// A token past its rate is answered 429 rate_limited with Retry-After, and
// nothing is done; another token is not held up by it.
func TestATokenPastItsLimitsIsAnswered429(t *testing.T) {
	t.Parallel()
	h := newHarnessWith(t, parsePolicy(t, "claims:\n  enableClaimAssignments: true\n  claimAssignmentMethod: manual\n"), scopeDirectory,
		[]httpapi.Option{httpapi.WithLimits(httpapi.Limits{Rate: 0.5, Burst: 3, InFlight: 8})})
	id := h.b.ClaimID(1)
	h.start(id, "")
	ann, bob := h.token("ann"), h.token("bob")
	for range 3 {
		require.Equal(t, http.StatusOK, h.get("/api/me", ann).code)
	}
	r := h.post("/api/claims/"+id+"/claim", ann, nil)
	requireError(t, r, http.StatusTooManyRequests, "rate_limited")
	retry, err := strconv.Atoi(r.header.Get("Retry-After"))
	require.NoError(t, err)
	require.GreaterOrEqual(t, retry, 1)
	require.Contains(t, r.errMessage(), `"ann": too many requests with this token`)
	require.Equal(t, "", h.waitFor(id, "unchanged", func(workflows.ClaimState) bool { return true }).Assignee, "refused: nothing done")
	require.Equal(t, http.StatusOK, h.post("/api/claims/"+id+"/claim", bob, nil).code, "another token goes on")
}

// Deactivating someone twice says the second time that it was already done;
// so does reactivating. Only an admin may do either.
func TestARepeatedDeactivationSaysSo(t *testing.T) {
	t.Parallel()
	h := newHarness(t, parsePolicy(t, "claims:\n  enableClaimAssignments: true\n  claimAssignmentMethod: manual\n"), scopeDirectory)
	root := h.token("root")
	requireError(t, h.post("/api/users/bob/deactivate", h.token("ann"), nil), http.StatusForbidden, "forbidden")
	for _, step := range []struct {
		action  string
		already bool
	}{{"deactivate", false}, {"deactivate", true}, {"activate", false}, {"activate", true}} {
		r := h.post("/api/users/bob/"+step.action, root, nil)
		require.Equal(t, http.StatusOK, r.code, r.raw)
		require.Equal(t, step.action == "activate", r.body["active"], step)
		already, _ := r.body["already"].(bool)
		require.Equal(t, step.already, already, "%s: %s", step.action, r.raw)
	}
}
