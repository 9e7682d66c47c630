package e2e

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/interceptor"
	"go.temporal.io/sdk/temporal"

	"github.com/batonhq/baton/internal/actorauth"
	"github.com/batonhq/baton/policy"
	"github.com/batonhq/baton/tools/testenv"
	"github.com/batonhq/baton/workflows"
)

// Claims driven by a plain Temporal client, with JSON as a person types it
// into `temporal workflow start --input` or `temporal workflow update execute
// --input`: json.RawMessage arguments are sent as those bytes, in a json/plain
// payload, exactly what the CLI sends.

// rawStartSeq numbers the claims the start rows start, after the fixture's.
var rawStartSeq = 100

// startRow starts a claim by name with the raw input (its {X} a fresh claim
// id) as workflow id (its {X} the same id); the caller sees how the claim
// ended. A start the workflow cannot use must end FAILED at once with a typed
// error naming the field, and record nothing (the table's snapshot).
func startRow(name, input, workflowID, want string) badInput {
	return badInput{class: "Temporal", name: name, input: fmt.Sprintf("start %s %s", workflowID, input), want: want,
		run: func(t *testing.T, f *badInputFixture) string {
			rawStartSeq++
			id := f.b.ClaimID(rawStartSeq)
			got := startRaw(t, f.b, strings.ReplaceAll(workflowID, "{X}", id), strings.ReplaceAll(input, "{X}", id))
			return strings.ReplaceAll(got, id, "{X}")
		}}
}

// startRaw starts a claim with a plain client and waits for it to close; it
// answers its status and its error's type and message.
func startRaw(t *testing.T, b *testenv.Baton, workflowID, input string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var args []any
	if input != "" {
		args = []any{json.RawMessage(input)}
	}
	run, err := b.Plain.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: workflowID, TaskQueue: b.TaskQueue},
		workflows.ClaimWorkflowName, args...)
	require.NoError(t, err)
	err = run.Get(ctx, nil)
	d, derr := b.Plain.DescribeWorkflowExecution(ctx, workflowID, run.GetRunID())
	require.NoError(t, derr)
	status := d.GetWorkflowExecutionInfo().GetStatus()
	var app *temporal.ApplicationError
	if !errors.As(err, &app) {
		return fmt.Sprintf("%s: %v", status, err)
	}
	return fmt.Sprintf("%s %s (retryable %t): %s", status, app.Type(), !app.NonRetryable(), app.Message())
}

// rawUpdateRow sends an update by name with a raw JSON argument from a plain
// client, on the fixture's claim ({A}…); the caller sees the rejection's type
// and message.
func rawUpdateRow(name, claim, update, arg, want string) badInput {
	return badInput{class: "Temporal", name: name, input: fmt.Sprintf("update %s of {%s} %s", update, claim, arg), want: want,
		run: func(t *testing.T, f *badInputFixture) string {
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			return f.collapse(updateError(ctx, f.b.Plain, f.ids[claim], update, json.RawMessage(arg)))
		}}
}

// updateError sends an update and answers its rejection as "type: message".
func updateError(ctx context.Context, c client.Client, claimID, update string, arg any) string {
	h, err := c.UpdateWorkflow(ctx, client.UpdateWorkflowOptions{WorkflowID: workflows.WorkflowID(claimID), UpdateName: update,
		Args: []any{arg}, WaitForStage: client.WorkflowUpdateStageCompleted})
	if err == nil {
		err = h.Get(ctx, nil)
	}
	var app *temporal.ApplicationError
	switch {
	case err == nil:
		return "accepted"
	case errors.As(err, &app):
		return app.Type() + ": " + app.Message()
	}
	return err.Error()
}

// temporalClientRows are the bad-input table's rows for starts and updates
// from a plain Temporal client.
func temporalClientRows() []badInput {
	failed := enumspb.WORKFLOW_EXECUTION_STATUS_FAILED.String() + " BatonInvalidRequest (retryable false): "
	return []badInput{
		startRow("no claim id", `{"owner": "eve"}`, "claim/{X}", failed+`start input: field "claimId": claim id is required`),
		startRow("no input at all", "", "claim/{X}", failed+`start input: field "claimId": claim id is required`),
		startRow("claim id the API rejects", `{"claimId": "{X} 2"}`, "claim/{X} 2",
			failed+`start input: field "claimId": claim id "{X} 2": no spaces, slashes, '?' or '#'`),
		startRow("workflow id of another claim", `{"claimId": "{X}-other"}`, "claim/{X}",
			failed+`start input: field "claimId": claim {X}-other must run as workflow id claim/{X}-other, not claim/{X}`),
		startRow("unknown owner", `{"claimId": "{X}", "owner": "ghost"}`, "claim/{X}",
			failed+`start input: field "owner": user "ghost" is not in the directory`),
		startRow("unknown start field", `{"claimId": "{X}", "ownr": "eve"}`, "claim/{X}",
			failed+`start input: unknown field "ownr": want {"claimId", "owner", "data"}`),
		startRow("nested data", `{"claimId": "{X}", "data": {"address": {"city": "Leeds"}}}`, "claim/{X}",
			failed+`start input: field "data.address": an attribute is a string, number or boolean, not an object or array (address)`),
		startRow("claim id of the wrong type", `{"claimId": 1001}`, "claim/1001",
			failed+`start input: field "claimId" must be a JSON string, not number`),
		rawUpdateRow("unknown update field", "D", workflows.UpdateCompleteStage, `{"actor": "ann", "outcme": "approval"}`,
			`BatonInvalidRequest: complete_stage: unknown field "outcme": want {"actor", "outcome", "note", "stage"}`),
		rawUpdateRow("update field of the wrong type", "A", workflows.UpdateAssign, `{"actor": "root", "userId": "bob", "override": "yes"}`,
			`BatonInvalidRequest: assign: field "override" must be a JSON boolean, not string`),
		rawUpdateRow("update argument not an object", "A", workflows.UpdateUnassign, `"ann"`,
			`BatonInvalidRequest: unassign: the input must be a JSON object {"actor", "comment", "stage"}, not string`),
	}
}

// TestTemporalClientDataNumbersKeptAsText starts a claim the way the temporal
// CLI does, with a number and a boolean in its data: the claim runs, its state
// shows them as their JSON text, and a rule matching that text routes it.
func TestTemporalClientDataNumbersKeptAsText(t *testing.T) {
	t.Parallel()
	p := parsePolicy(t, `
claims:
  enableClaimAssignments: true
  claimAssignmentMethod: distribution
  distribution:
    rules:
      - {id: big, when: [{attribute: amount, operator: IN, values: ["1200"]}, {attribute: vip, operator: IN, values: ["true"]}],
         then: [{action: assign_user, user: bob}]}
      - {id: rest, then: [{action: assign_user, user: cat}]}
`)
	b := testenv.Start(t, p, directory)
	id := b.ClaimID(1)
	ctx := context.Background()
	_, err := b.Plain.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: workflows.WorkflowID(id), TaskQueue: b.TaskQueue},
		workflows.ClaimWorkflowName, json.RawMessage(`{"claimId": "`+id+`", "owner": "root", "data": {"amount": 1200, "vip": true, "note": null}}`))
	require.NoError(t, err)
	s := waitDecided(t, b, id, policy.StageCapture)
	require.Equal(t, map[string]string{"amount": "1200", "vip": "true"}, s.Data)
	require.Equal(t, "bob", s.Assignee, "the rule matched the number and the boolean as text")
	ds, err := b.DB.Store.DecisionsByClaim(ctx, id)
	require.NoError(t, err)
	require.Len(t, ds, 1)
	require.Equal(t, "bob", ds[0].Assignee)
}

// forging is a client interceptor that sends, on each update, the assertion
// the context carries (forgeKey), as a client holding a key (or not) might.
type forging struct {
	interceptor.ClientInterceptorBase
}

type forgeKey struct{}

func (*forging) InterceptClient(next interceptor.ClientOutboundInterceptor) interceptor.ClientOutboundInterceptor {
	return &forgingOutbound{interceptor.ClientOutboundInterceptorBase{Next: next}}
}

type forgingOutbound struct {
	interceptor.ClientOutboundInterceptorBase
}

func (o *forgingOutbound) UpdateWorkflow(ctx context.Context, in *interceptor.ClientUpdateWorkflowInput) (client.WorkflowUpdateHandle, error) {
	if forge, ok := ctx.Value(forgeKey{}).(func(*interceptor.ClientUpdateWorkflowInput) actorauth.Assertion); ok {
		p, err := converter.GetDefaultDataConverter().ToPayload(forge(in))
		if err != nil {
			return nil, err
		}
		interceptor.Header(ctx)[actorauth.HeaderKey] = p
	}
	return o.Next.UpdateWorkflow(ctx, in)
}

// TestActorAssertions runs Baton with BATON_ACTOR_KEY. An Update from a plain
// client (as `temporal workflow update` sends it) is refused, and so is one
// whose assertion is expired, signed with another key, or for another claim,
// update or actor; each leaves the claim's state, history and ledger as they
// were. The same Update through claimclient, which signs, is accepted.
func TestActorAssertions(t *testing.T) {
	t.Parallel()
	key := strings.Repeat("actor-test-key-", 3)
	b := testenv.Start(t, pol(policy.MethodManual, true), directory, testenv.WithActorKey(key))
	srv, _ := testenv.Temporal(t)
	forger := srv.NewClientWithOptions(client.Options{Interceptors: []interceptor.ClientInterceptor{&forging{}}})
	t.Cleanup(forger.Close)
	ctx := context.Background()
	id, other := b.ClaimID(1), b.ClaimID(2)
	for _, c := range []string{id, other} {
		_, err := b.Claims.Start(ctx, workflows.ClaimInput{ClaimID: c, Owner: "root"})
		require.NoError(t, err)
		waitDecided(t, b, c, policy.StageCapture)
	}
	keys, err := actorauth.ParseKeys(key)
	require.NoError(t, err)
	wrongKey, err := actorauth.ParseKeys(strings.Repeat("not-the-key-", 3))
	require.NoError(t, err)
	// signed asserts what the update says, signed with keys, then edit changes it.
	signed := func(keys actorauth.Keys, edit func(*actorauth.Assertion)) func(*interceptor.ClientUpdateWorkflowInput) actorauth.Assertion {
		return func(in *interceptor.ClientUpdateWorkflowInput) actorauth.Assertion {
			actor, _ := workflows.ActorOf(in.Args[0])
			digest, err := workflows.ArgsDigest(in.UpdateName, in.Args[0])
			require.NoError(t, err)
			a := actorauth.Assertion{Actor: actor, WorkflowID: in.WorkflowID, Update: in.UpdateName, UpdateID: in.UpdateID,
				Args: digest, Expires: time.Now().Add(actorauth.Lifetime).Unix()}
			edit(&a)
			return keys.Sign(a)
		}
	}
	assign := workflows.AssignInput{Actor: "root", UserID: "ann"}
	prefix := "BatonForbidden: assign on " + workflows.WorkflowID(id) + " refused: "
	rows := []struct {
		name  string
		forge func(*interceptor.ClientUpdateWorkflowInput) actorauth.Assertion // nil: no header
		want  string
	}{
		{"no assertion (a plain client)", nil, prefix + "no actor assertion (header baton-actor); this worker takes only " +
			"updates signed with BATON_ACTOR_KEY, as claimclient, the starter and the HTTP API send them"},
		{"another key", signed(wrongKey, func(*actorauth.Assertion) {}), prefix + "the actor assertion is not signed with this worker's key"},
		{"expired", signed(keys, func(a *actorauth.Assertion) { a.Expires = time.Now().Add(-time.Minute).Unix() }),
			prefix + "the actor assertion expired at "},
		{"for another claim", signed(keys, func(a *actorauth.Assertion) { a.WorkflowID = workflows.WorkflowID(other) }),
			prefix + "the actor assertion is for workflow " + workflows.WorkflowID(other) + ", not " + workflows.WorkflowID(id)},
		{"for another update", signed(keys, func(a *actorauth.Assertion) { a.Update = workflows.UpdateUnassign }),
			prefix + "the actor assertion is for update unassign, not assign"},
		{"for another actor", signed(keys, func(a *actorauth.Assertion) { a.Actor = "ann" }),
			prefix + `the actor assertion is for "ann", not "root" (the update's actor)`},
		{"for other arguments (signed to assign bob)", signed(keys, func(a *actorauth.Assertion) {
			a.Args, _ = workflows.ArgsDigest(workflows.UpdateAssign, workflows.AssignInput{Actor: "root", UserID: "bob"})
		}), prefix + "the actor assertion is for other arguments than this update's: one was changed after it was signed"},
	}
	before := claimRecord(t, b, id)
	for _, row := range rows {
		t.Run(row.name, func(t *testing.T) {
			c := b.Plain
			rctx := ctx
			if row.forge != nil {
				c, rctx = forger, context.WithValue(ctx, forgeKey{}, row.forge)
			}
			got := updateError(rctx, c, id, workflows.UpdateAssign, assign)
			require.True(t, strings.HasPrefix(got, row.want), "got  %s\nwant %s…", got, row.want)
			require.Equal(t, before, claimRecord(t, b, id), "a refused update changes nothing")
		})
	}

	// Signed by claimclient, the same update is accepted.
	d, err := b.Claims.Assign(ctx, id, assign)
	require.NoError(t, err)
	require.Equal(t, "ann", d.Assignee)
	require.NotEqual(t, before, claimRecord(t, b, id))

	// A claim started by a plain client, naming an owner (who may reassign),
	// fails at once, typed, and records nothing.
	unsigned := b.ClaimID(3)
	run, err := b.Plain.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: workflows.WorkflowID(unsigned), TaskQueue: b.TaskQueue},
		workflows.ClaimWorkflowName, workflows.ClaimInput{ClaimID: unsigned, Owner: "root"})
	require.NoError(t, err)
	err = run.Get(ctx, nil)
	require.ErrorContains(t, err, "start of claim "+unsigned+" refused: no actor assertion")
	var app *temporal.ApplicationError
	require.ErrorAs(t, err, &app)
	require.Equal(t, workflows.ErrTypeForbidden, app.Type())
	var recorded int
	require.NoError(t, b.DB.Pool.QueryRow(ctx, `SELECT count(*) FROM decisions WHERE claim_id = $1`, unsigned).Scan(&recorded))
	require.Zero(t, recorded)

	// Update-with-start from a plain client is refused whole: the update, not
	// signed, before it runs; the start, not signed, at once; nothing recorded.
	uws := b.ClaimID(4)
	op := b.Plain.NewWithStartWorkflowOperation(client.StartWorkflowOptions{ID: workflows.WorkflowID(uws), TaskQueue: b.TaskQueue,
		WorkflowIDConflictPolicy: enumspb.WORKFLOW_ID_CONFLICT_POLICY_FAIL},
		workflows.ClaimWorkflowName, workflows.ClaimInput{ClaimID: uws, Owner: "root"})
	handle, err := b.Plain.UpdateWithStartWorkflow(ctx, client.UpdateWithStartWorkflowOptions{StartWorkflowOperation: op,
		UpdateOptions: client.UpdateWorkflowOptions{UpdateName: workflows.UpdateAssign, Args: []any{assign},
			WaitForStage: client.WorkflowUpdateStageCompleted}})
	if err == nil {
		err = handle.Get(ctx, nil)
	}
	require.ErrorContains(t, err, "no actor assertion")
	uwsRun, err := op.Get(ctx)
	require.NoError(t, err)
	err = uwsRun.Get(ctx, nil)
	require.ErrorContains(t, err, "start of claim "+uws+" refused: no actor assertion")
	require.NoError(t, b.DB.Pool.QueryRow(ctx, `SELECT count(*) FROM decisions WHERE claim_id = $1`, uws).Scan(&recorded))
	require.Zero(t, recorded)
}

// claimRecord is what is recorded of a claim: its state, history length and
// ledger.
func claimRecord(t *testing.T, b *testenv.Baton, id string) string {
	t.Helper()
	ctx := context.Background()
	s, err := b.Claims.State(ctx, id)
	require.NoError(t, err)
	d, err := b.Plain.DescribeWorkflowExecution(ctx, workflows.WorkflowID(id), "")
	require.NoError(t, err)
	ds, err := b.DB.Store.DecisionsByClaim(ctx, id)
	require.NoError(t, err)
	js, err := json.Marshal(map[string]any{"state": s, "history": d.GetWorkflowExecutionInfo().GetHistoryLength(), "ledger": ds})
	require.NoError(t, err)
	return string(js)
}
