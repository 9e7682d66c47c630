package api

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/batonhq/baton/policy"
	"github.com/batonhq/baton/policy/yamlfile"
	"github.com/batonhq/baton/workflows"
)

// matrixDirectory: ann will be the assignee, bob another user eligible at every
// stage (and the reassignment group's only member), root an admin, and olga the
// claims' owner, who holds no permission at all.
const matrixDirectory = `
users:
  - {id: ann, name: Ann Lee, email: ann@example.com, role: Claims assessor, permissions: [MakeClaimDecisions, AcknowledgeClaimDecisions, AcknowledgeClaimApproval]}
  - {id: bob, name: Bob Ng, email: bob@example.com, role: Claims assessor, permissions: [MakeClaimDecisions, AcknowledgeClaimDecisions, AcknowledgeClaimApproval]}
  - {id: root, name: Root Admin, email: root@example.com, role: Admin, permissions: [Admin, ManageReassignmentGroups]}
  - {id: olga, name: Olga Okafor, email: olga@example.com, role: Customer liaison}
`

// Claim situations.
const (
	open        = "open"        // capture, assigned to ann
	reassigning = "reassigning" // ann sent it to group seniors; the offer to bob stands for a day
	finalised   = "finalised"   // every stage completed: the workflow has closed
)

// matrix is the expected status of every action × caller × situation, from the
// workflow's rules. Callers: the assignee (ann), another user eligible for the
// stage (bob), an admin (root), the claim's owner (olga), no token, and a revoked
// token of the assignee's.
const matrix = `
situation    action              assignee  other  admin  owner  none  revoked
open         read                200       200    200    200    401   401
open         assign              200       403    200    200    401   401
open         reassign            200       403    200    200    401   401
open         claim               409       409    409    409    401   401   # already assigned (to ann)
open         unassign            200       403    200    200    401   401
open         complete            200       403    403    403    401   401   # only the assignee completes
open         start-reassignment  200       403    200    200    401   401

reassigning  read                200       200    200    200    401   401
reassigning  assign              409       409    409    409    401   401   # the assignee cannot be edited
reassigning  reassign            409       409    409    409    401   401
reassigning  claim               403       200    403    403    401   401   # only the member offered it
reassigning  unassign            409       409    409    409    401   401
reassigning  complete            409       409    409    409    401   401   # nor the stage completed
reassigning  start-reassignment  409       409    409    409    401   401

finalised    read                200       403    200    200    401   401   # bob had no part in it, and no stage is open
finalised    assign              409       409    409    409    401   401   # the workflow has completed
finalised    reassign            409       409    409    409    401   401
finalised    claim               409       409    409    409    401   401
finalised    unassign            409       409    409    409    401   401
finalised    complete            409       409    409    409    401   401
finalised    start-reassignment  409       409    409    409    401   401
`

type cell struct {
	situation, action, caller string
	want                      int
}

// parseMatrix reads the matrix: one cell per caller column of each line.
func parseMatrix(t *testing.T) []cell {
	t.Helper()
	lines := strings.Split(strings.TrimSpace(matrix), "\n")
	header := strings.Fields(lines[0])[2:]
	var out []cell
	for _, line := range lines[1:] {
		line, _, _ = strings.Cut(line, "#")
		f := strings.Fields(line)
		if len(f) == 0 {
			continue
		}
		require.Len(t, f, 2+len(header), line)
		for i, who := range header {
			want, err := strconv.Atoi(f[2+i])
			require.NoError(t, err, line)
			out = append(out, cell{situation: f[0], action: f[1], caller: who, want: want})
		}
	}
	return out
}

// TestAuthorisationMatrix: every action × every caller × every claim situation,
// with the status the workflow's rules (workflows/validate.go and
// workflows/reassignment.go) give it. A cell expecting success runs on a claim
// of its own; the others share one claim per situation, which must come out of
// all of them unchanged, state and ledger.
func TestAuthorisationMatrix(t *testing.T) {
	t.Parallel()
	h := newHarness(t, parsePolicy(t, "claims:\n  enableClaimAssignments: true\n  claimAssignmentMethod: manual\n"), matrixDirectory)
	ctx := context.Background()
	groups, err := yamlfile.ParseGroups("groups.yaml", []byte(
		"groups:\n  - {name: seniors, members: [bob], defaultAssignee: ann, method: broadcast, offerTimeout: 24h}\n"))
	require.NoError(t, err)
	require.NoError(t, h.b.DB.Store.ApplyGroups(ctx, "groups.yaml", "root", groups))

	tokens := map[string]string{
		"assignee": h.token("ann"),
		"other":    h.token("bob"),
		"admin":    h.token("root"),
		"owner":    h.token("olga"),
		"none":     "",
		"revoked":  h.revokedToken("ann"),
	}
	users := map[string]string{"assignee": "ann", "other": "bob", "admin": "root", "owner": "olga"}

	type action struct {
		method, path string
		body         any
		// done reports the action's effect, for cells that succeed.
		done func(s workflows.ClaimState, actor string) bool
	}
	actions := map[string]action{
		"read": {"GET", "", nil, nil},
		"assign": {"POST", "/assign", map[string]string{"userId": "bob"},
			func(s workflows.ClaimState, _ string) bool { return s.Assignee == "bob" }},
		"reassign": {"POST", "/reassign", map[string]string{"userId": "bob", "comment": "bob knows the customer"},
			func(s workflows.ClaimState, _ string) bool { return s.Assignee == "bob" }},
		"claim": {"POST", "/claim", nil,
			func(s workflows.ClaimState, actor string) bool {
				return s.Assignee == actor && s.Status == workflows.StatusAssigned
			}},
		"unassign": {"POST", "/unassign", map[string]string{"comment": "back to the queue"},
			func(s workflows.ClaimState, _ string) bool { return s.Status == workflows.StatusUnassigned }},
		"complete": {"POST", "/complete", map[string]string{"note": "done"},
			func(s workflows.ClaimState, actor string) bool {
				return len(s.Completed) == 1 && s.Completed[0].CompletedBy == actor
			}},
		"start-reassignment": {"POST", "/start-reassignment", map[string]string{"group": "seniors", "comment": "needs a senior"},
			func(s workflows.ClaimState, actor string) bool {
				return s.Status == workflows.StatusReassigning && s.Reassignment.StartedBy == actor
			}},
	}

	// Claims in each situation.
	n := 0
	setup := func(situation string) string {
		t.Helper()
		n++
		id := h.b.ClaimID(n)
		h.start(id, "olga")
		if situation == finalised {
			for _, stage := range policy.AssignableStages {
				h.waitFor(id, "unassigned at "+string(stage), func(s workflows.ClaimState) bool {
					return s.Stage == stage && s.Status == workflows.StatusUnassigned
				})
				_, err := h.b.Claims.Claim(ctx, id, workflows.ClaimStageInput{Actor: "ann"})
				require.NoError(t, err)
				outcome := ""
				if stage == policy.StageReview {
					outcome = string(policy.OutcomeApproval)
				}
				_, err = h.b.Claims.Complete(ctx, id, workflows.CompleteInput{Actor: "ann", Outcome: outcome})
				require.NoError(t, err)
			}
			_, err := h.b.Claims.Summary(ctx, id)
			require.NoError(t, err, "the workflow has completed")
			return id
		}
		_, err := h.b.Claims.Claim(ctx, id, workflows.ClaimStageInput{Actor: "ann"})
		require.NoError(t, err)
		if situation == reassigning {
			r := h.post("/api/claims/"+id+"/start-reassignment", tokens["assignee"],
				map[string]string{"group": "seniors", "comment": "needs a senior"})
			require.Equal(t, http.StatusOK, r.code, r.raw)
			h.waitFor(id, "offered to bob", func(s workflows.ClaimState) bool {
				return s.Status == workflows.StatusReassigning && slices.Equal(s.Reassignment.Offered, []string{"bob"})
			})
		}
		return id
	}
	shared := map[string]string{}
	snapshot := map[string]workflows.ClaimState{}
	ledger := map[string][]policy.Decision{}
	for _, situation := range []string{open, reassigning, finalised} {
		shared[situation] = setup(situation)
		s, err := h.b.Claims.State(ctx, shared[situation])
		require.NoError(t, err)
		snapshot[situation] = s
		ledger[situation], err = h.b.DB.Store.DecisionsByClaim(ctx, shared[situation])
		require.NoError(t, err)
	}

	codes := map[int]string{401: "unauthenticated", 403: "forbidden", 409: "conflict"}
	verbs := map[string]string{"assign": "assignment", "reassign": "assignment", "claim": "claiming",
		"unassign": "unassigning", "complete": "completion", "start-reassignment": "reassignment"}
	cells := parseMatrix(t)
	require.Len(t, cells, 3*len(actions)*len(tokens), "every action × caller × situation")
	var failures []string
	for _, c := range cells {
		a, ok := actions[c.action]
		require.True(t, ok, c.action)
		id := shared[c.situation]
		if c.want == http.StatusOK && a.method == "POST" {
			id = setup(c.situation)
		}
		r := h.do(a.method, "/api/claims/"+id+a.path, tokens[c.caller], a.body)
		name := fmt.Sprintf("%s × %s × %s", c.situation, c.action, c.caller)
		if r.code != c.want {
			failures = append(failures, fmt.Sprintf("%s: got %d, want %d: %s", name, r.code, c.want, strings.TrimSpace(r.raw)))
			continue
		}
		switch {
		case c.want == http.StatusOK && a.done != nil:
			h.waitFor(id, name, func(s workflows.ClaimState) bool { return a.done(s, users[c.caller]) })
		case c.want == http.StatusOK:
			require.Equal(t, id, r.body["claimId"], name)
		default:
			require.Equal(t, codes[c.want], r.errCode(), name)
			require.NotEmpty(t, r.errMessage(), name)
			switch {
			case c.want == http.StatusUnauthorized:
				require.NotEmpty(t, r.header.Get("WWW-Authenticate"), name)
			case c.want == http.StatusForbidden:
				require.Contains(t, r.errMessage(), fmt.Sprintf("%q may not", users[c.caller]), "%s: the workflow's reason, naming the caller", name)
			case c.situation == finalised:
				require.Equal(t, fmt.Sprintf("claim %s is finalised: %s is not possible", id, verbs[c.action]), r.errMessage(), name)
			case c.situation == reassigning:
				require.Contains(t, r.errMessage(), "reassignment in progress", name)
			}
		}
	}
	require.Empty(t, failures, "cells that disagree with the matrix:\n%s", strings.Join(failures, "\n"))

	// Nothing that was refused changed anything.
	for situation, id := range shared {
		s, err := h.b.Claims.State(ctx, id)
		require.NoError(t, err)
		require.Equal(t, snapshot[situation], s, "%s: state unchanged", situation)
		d, err := h.b.DB.Store.DecisionsByClaim(ctx, id)
		require.NoError(t, err)
		require.Equal(t, ledger[situation], d, "%s: ledger unchanged", situation)
	}
}
