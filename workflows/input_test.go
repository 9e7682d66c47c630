package workflows_test

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/client"

	"github.com/batonhq/baton/policy"
	"github.com/batonhq/baton/workflows"
)

// TestStartInput decodes start inputs as the worker does, from any client's
// JSON, and judges them as the claim's first activity does (the directory's
// part, the owner, is tested against the store in tools/e2e).
func TestStartInput(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, raw, workflowID string
		want                  string // "": accepted, with data
		data                  map[string]string
	}{
		{"strings", `{"claimId": "C-1", "owner": "gus", "data": {"amount": "1200"}}`, "claim/C-1", "", map[string]string{"amount": "1200"}},
		{"numbers and booleans as their JSON text", `{"claimId": "C-1", "data": {"amount": 1200, "rate": 0.5, "big": 1e3, "vip": true, "x": false}}`,
			"claim/C-1", "", map[string]string{"amount": "1200", "rate": "0.5", "big": "1e3", "vip": "true", "x": "false"}},
		{"null attribute unset", `{"claimId": "C-1", "data": {"amount": null, "line": "motor"}}`, "claim/C-1", "", map[string]string{"line": "motor"}},
		{"null data", `{"claimId": "C-1", "data": null}`, "claim/C-1", "", nil},
		{"nested object", `{"claimId": "C-1", "data": {"b": [1], "a": {"x": 1}}}`, "claim/C-1",
			`start input: field "data.a": an attribute is a string, number or boolean, not an object or array (a, b)`, nil},
		{"data not an object", `{"claimId": "C-1", "data": "amount=1200"}`, "claim/C-1",
			`start input: field "data" must be a JSON object of strings, not string`, nil},
		{"unknown field", `{"claimId": "C-1", "ownr": "gus"}`, "claim/C-1",
			`start input: unknown field "ownr": want {"claimId", "owner", "data"}`, nil},
		{"wrong type", `{"claimId": 7}`, "claim/7", `start input: field "claimId" must be a JSON string, not number`, nil},
		{"not an object", `["C-1"]`, "claim/C-1", `start input: the input must be a JSON object {"claimId", "owner", "data"}, not array`, nil},
		{"no claim id", `{"owner": "gus"}`, "claim/", `start input: field "claimId": claim id is required`, nil},
		{"null input", `null`, "claim/x", `start input: field "claimId": claim id is required`, nil},
		{"malformed claim id", `{"claimId": "C 1"}`, "claim/C 1", `start input: field "claimId": claim id "C 1": no spaces, slashes, '?' or '#'`, nil},
		{"workflow id of another claim", `{"claimId": "p-other"}`, "claim/p-2",
			`start input: field "claimId": claim p-other must run as workflow id claim/p-other, not claim/p-2`, nil},
		{"workflow id without the prefix", `{"claimId": "p-2"}`, "p-2",
			`start input: field "claimId": claim p-2 must run as workflow id claim/p-2, not p-2`, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var in workflows.ClaimInput
			require.NoError(t, json.Unmarshal([]byte(tc.raw), &in), "decoding never fails: the claim does, typed")
			err := in.StartCheck(tc.workflowID).Check()
			if tc.want != "" {
				require.EqualError(t, err, tc.want)
				return
			}
			require.NoError(t, err)
			require.Equal(t, workflows.ClaimData(tc.data), in.Data)
		})
	}
}

// TestBadStartFailsTheClaimTyped starts claims with raw JSON, as the temporal
// CLI does: each fails at once with a BatonInvalidRequest naming the field,
// before any decision.
func TestBadStartFailsTheClaimTyped(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ name, raw, workflowID, want string }{
		{"no claim id", `{"owner": "own"}`, "claim/", `start input: field "claimId": claim id is required`},
		{"mismatched workflow id", `{"claimId": "p-other"}`, "claim/p-2", `claim p-other must run as workflow id claim/p-other, not claim/p-2`},
		{"nested data", `{"claimId": "c1", "data": {"address": {"city": "Leeds"}}}`, "claim/c1", `field "data.address"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			h := newHarness(t, &policy.Policy{Version: "v1", AssignmentsEnabled: true, Method: policy.MethodManual})
			h.env.SetStartWorkflowOptions(client.StartWorkflowOptions{ID: tc.workflowID})
			h.env.ExecuteWorkflow(workflows.ClaimWorkflowName, json.RawMessage(tc.raw))
			require.True(t, h.env.IsWorkflowCompleted())
			err := h.env.GetWorkflowError()
			requireType(t, err, workflows.ErrTypeInvalid)
			require.Contains(t, err.Error(), tc.want)
			require.Empty(t, h.acts.seen, "no stage was decided")
		})
	}
}

// TestUpdateInputsDecodedStrictly sends update arguments as raw JSON: an
// unknown field or a wrong type is rejected in the validator, typed and named,
// and nothing is recorded.
func TestUpdateInputsDecodedStrictly(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ name, update, raw, want string }{
		{"outcome typo", workflows.UpdateCompleteStage, `{"actor": "ann", "outcme": "approval"}`,
			`complete_stage: unknown field "outcme": want {"actor", "outcome", "note", "stage"}`},
		{"override as a string", workflows.UpdateAssign, `{"actor": "root", "userId": "bob", "override": "yes"}`,
			`assign: field "override" must be a JSON boolean, not string`},
		{"version as a string", workflows.UpdateMigratePolicy, `{"actor": "root", "version": "2"}`,
			`migrate_policy: field "version" must be a JSON number, not string`},
		{"claim typo", workflows.UpdateClaim, `{"actr": "ann"}`, `claim: unknown field "actr": want {"actor", "override", "stage"}`},
		{"unassign typo", workflows.UpdateUnassign, `{"actor": "ann", "coment": "x"}`, `unassign: unknown field "coment": want {"actor", "comment", "stage"}`},
		{"group typo", workflows.UpdateStartReassignment, `{"actor": "ann", "grp": "x"}`,
			`start_reassignment: unknown field "grp": want {"actor", "group", "comment"}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			h := newHarness(t, &policy.Policy{Version: "v1", AssignmentsEnabled: true, Method: policy.MethodManual})
			var before workflows.ClaimState
			h.then(func() {
				before = h.state()
				h.send(tc.update, json.RawMessage(tc.raw), rejected(t, workflows.ErrTypeInvalid, tc.want))
			})
			h.then(func() { require.Equal(t, before, h.state(), "a rejected update changes nothing") })
			h.start("own")
			require.Empty(t, h.acts.record, "a rejected update records nothing")
			require.Empty(t, h.acts.events)
		})
	}
}

// FuzzStartInput decodes any bytes as a start input: decoding never fails or
// panics, and what it accepts the check either refuses with a start-input
// message or passes with a valid claim id.
func FuzzStartInput(f *testing.F) {
	for _, seed := range []string{`{"claimId": "C-1", "data": {"amount": 1200, "vip": true, "x": null}}`, `{"data": {"a": {}}}`,
		`{"claimId": 7}`, `[]`, `null`, `{"claimId": "C 1", "ownr": "x"}`, `{"data": "x"}`} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		var in workflows.ClaimInput
		if err := json.Unmarshal(raw, &in); err != nil {
			return // not JSON at all: the SDK's payload converter never hands that over
		}
		err := in.StartCheck(workflows.WorkflowID(in.ClaimID)).Check()
		if err != nil {
			require.Contains(t, err.Error(), "start input: ")
			return
		}
		require.NoError(t, workflows.ValidateClaimID(in.ClaimID))
	})
}
