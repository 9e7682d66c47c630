package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/client"

	"github.com/batonhq/baton/internal/batontest"
	"github.com/batonhq/baton/internal/httpapi"
	"github.com/batonhq/baton/policy"
	"github.com/batonhq/baton/policy/yamlfile"
	"github.com/batonhq/baton/tools/testenv"
	"github.com/batonhq/baton/workflows"
)

// badInputDirectory is the e2e directory plus gus, who may edit reassignment
// groups.
const badInputDirectory = directory + `  - {id: gus, name: Gus Lam, email: gus@example.com, role: Team lead, permissions: [ManageReassignmentGroups]}
`

const badInputPolicy = "name: default\nversion: manual-1\nclaims:\n  enableClaimAssignments: true\n  claimAssignmentMethod: manual\n"

const badInputGroups = "groups:\n  - {name: seniors, members: [ann, bob], defaultAssignee: cat, method: broadcast, offerTimeout: 1h}\n"

// badInputFixture is the live Baton the rows run against: claims in each state
// an action can meet, tokens, a stored policy and a group.
type badInputFixture struct {
	b      *testenv.Baton
	api    *httptest.Server
	tokens map[string]string // user: bearer token ("revoked": a revoked token of ann's)
	ids    map[string]string // A: assigned to ann at capture; B: unassigned at capture;
	// C: finalised; D: assigned to ann at review
	starter string   // the starter binary
	env     []string // its environment: this Baton's database, Temporal and task queue
	dir     string   // where file rows write their files
}

func (f *badInputFixture) expand(s string) string {
	for k, v := range f.ids {
		s = strings.ReplaceAll(s, "{"+k+"}", v)
	}
	return s
}

// badInput is one row of the table.
type badInput struct {
	class string // file, CLI, API, Update or Temporal
	name  string
	input string
	want  string
	run   func(t *testing.T, f *badInputFixture) string
	// afterAcceptance: see the function of that name.
	afterAcceptance bool
}

// fileRow writes the input to a file and runs the starter command that loads
// it ({file} in args); the user sees the exit code and stderr.
func fileRow(name, input string, args []string, want string) badInput {
	return badInput{class: "file", name: name, input: input, want: want, run: func(t *testing.T, f *badInputFixture) string {
		path := filepath.Join(f.dir, strings.ReplaceAll(name, " ", "-")+".yaml")
		require.NoError(t, os.WriteFile(path, []byte(input), 0o600))
		expanded := make([]string, len(args))
		for i, a := range args {
			expanded[i] = strings.ReplaceAll(a, "{file}", path)
		}
		return strings.ReplaceAll(f.starterRun(t, expanded...), path, "{file}")
	}}
}

// cliRow runs the starter with args; the user sees the exit code and stderr.
func cliRow(name string, args []string, want string) badInput {
	return badInput{class: "CLI", name: name, input: "starter " + strings.Join(args, " "), want: want,
		run: func(t *testing.T, f *badInputFixture) string {
			expanded := make([]string, len(args))
			for i, a := range args {
				expanded[i] = f.expand(a)
			}
			return f.starterRun(t, expanded...)
		}}
}

func (f *badInputFixture) starterRun(t *testing.T, args ...string) string {
	t.Helper()
	cmd := exec.Command(f.starter, args...)
	cmd.Env = f.env
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	err := cmd.Run()
	var exit *exec.ExitError
	require.True(t, errors.As(err, &exit), "starter %v: want a failure, got %v", args, err)
	return fmt.Sprintf("exit %d: %s", exit.ExitCode(), f.collapse(stderr.String()))
}

// collapse puts the fixture's claim ids back as placeholders.
func (f *badInputFixture) collapse(s string) string {
	for k, v := range f.ids {
		s = strings.ReplaceAll(s, v, "{"+k+"}")
	}
	return s
}

// apiRow sends a request as user (the bearer token's owner; "" for none); the
// user sees the status, the error code and the message.
func apiRow(name, method, path, user, body, want string) badInput {
	input := method + " " + path
	if body != "" {
		input += " " + body
	}
	if user != "" {
		input += " (as " + user + ")"
	}
	return badInput{class: "API", name: name, input: input, want: want, run: func(t *testing.T, f *badInputFixture) string {
		var rd io.Reader
		if body != "" {
			rd = strings.NewReader(body)
		}
		req, err := http.NewRequest(method, f.api.URL+f.expand(path), rd)
		require.NoError(t, err)
		if user != "" {
			req.Header.Set("Authorization", "Bearer "+f.tokens[user])
		}
		resp, err := f.api.Client().Do(req)
		require.NoError(t, err)
		defer resp.Body.Close()
		require.Equal(t, "application/json", resp.Header.Get("Content-Type"))
		var e struct {
			Error struct{ Code, Message string }
		}
		require.NoError(t, json.NewDecoder(resp.Body).Decode(&e))
		return f.collapse(fmt.Sprintf("%d %s: %s", resp.StatusCode, e.Error.Code, e.Error.Message))
	}}
}

// updateRow sends an update the way a Go service does (claimclient); the caller
// sees the error.
func updateRow(name, input string, send func(ctx context.Context, f *badInputFixture) error, want string) badInput {
	return badInput{class: "Update", name: name, input: input, want: want, run: func(t *testing.T, f *badInputFixture) string {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		err := send(ctx, f)
		require.Error(t, err)
		return f.collapse(err.Error())
	}}
}

func badInputs() []badInput {
	return []badInput{
		// Files, loaded the way operators load them: through the starter.
		fileRow("malformed policy YAML",
			"claims:\n  enableClaimAssignments: true\n   claimAssignmentMethod: manual\n",
			[]string{"policy", "apply", "{file}", "--as", "root"},
			"exit 1: starter policy apply: nothing applied:\n"+
				"{file}: not valid YAML or JSON: line 3: mapping values are not allowed in this context\n"),
		fileRow("policy key typo",
			"claims:\n  enableClaimAssignments: true\n  claimAssignmentMetod: round_robin\n",
			[]string{"policy", "apply", "{file}", "--as", "root"},
			"exit 1: starter policy apply: nothing applied:\n"+
				`{file}:3: claims.claimAssignmentMetod: unknown field: want one of claimAssignmentMethod, distribution, `+
				`enableClaimAssignments, maxAssigneeChanges, requireReassignComment, stages (did you mean "claimAssignmentMethod"?)`+"\n"),
		fileRow("unknown stage name",
			"claims:\n  stages:\n    reveiw: {method: round_robin}\n",
			[]string{"policy", "apply", "{file}", "--as", "root"},
			"exit 1: starter policy apply: nothing applied:\n"+
				`{file}:3: claims.stages.reveiw: unknown stage "reveiw": want one of capture, review, acknowledge, finalise (did you mean "review"?)`+"\n"),
		fileRow("bad method name",
			"claims:\n  enableClaimAssignments: true\n  claimAssignmentMethod: round-robbin\n",
			[]string{"policy", "apply", "{file}", "--as", "root"},
			"exit 1: starter policy apply: nothing applied:\n"+
				`{file}:3: claims.claimAssignmentMethod: unknown assignment method "round-robbin": want one of manual, round_robin, `+
				`product_module, queue, distribution, weighted_round_robin, care_team_random, care_team_primary, form_submitter, `+
				`recent_host, least_loaded (did you mean "round_robin"?)`+"\n"),
		fileRow("policy naming an unknown user",
			"claims:\n  stages:\n    capture: {assignee: ghost}\n",
			[]string{"policy", "apply", "{file}", "--as", "root"},
			"exit 1: starter policy apply: nothing applied:\n"+
				`{file}:3: claims.stages.capture.assignee: unknown user "ghost"`+"\n"),
		fileRow("directory duplicate user",
			"users:\n  - {id: zed, name: Zed, email: zed@example.com}\n  - {id: zed, name: Zed Two, email: zed2@example.com}\n",
			[]string{"directory", "load", "{file}"},
			"exit 1: starter directory load: nothing loaded:\n"+
				`{file}:3: users[1].id: user "zed" already defined at line 2`+"\n"),
		fileRow("directory bad permission",
			"users:\n  - {id: zed, name: Zed, email: zed@example.com, permissions: [Make Claim Decisions]}\n",
			[]string{"directory", "load", "{file}"},
			"exit 1: starter directory load: nothing loaded:\n"+
				`{file}:2: users[0].permissions[0]: invalid permission "Make Claim Decisions": want letters, digits and underscores, e.g. MakeClaimDecisions`+"\n"),
		fileRow("directory empty id",
			"users:\n  - {id: \"\", name: Zed, email: zed@example.com}\n",
			[]string{"directory", "load", "{file}"},
			"exit 1: starter directory load: nothing loaded:\n"+
				"{file}:2: users[0].id: may not be empty\n"),
		fileRow("directory team of an unknown user",
			"teams:\n  - {id: night, name: Night shift, members: [ann, ghost]}\n",
			[]string{"directory", "load", "{file}"},
			`exit 1: starter directory load: nothing loaded: {file}:2: teams[0].members[1]: unknown user "ghost": not in this file or the directory`+"\n"),
		fileRow("groups unknown member",
			"groups:\n  - name: seniors\n    members: [ann, ghost]\n    defaultAssignee: cat\n",
			[]string{"group", "apply", "{file}", "--as", "gus"},
			`exit 1: starter group apply: nothing applied: {file}:3: groups[0].members[1]: unknown user "ghost"`+"\n"),
		fileRow("groups bad offer timeout",
			"groups:\n  - {name: seniors, members: [ann], defaultAssignee: cat, offerTimeout: soon}\n",
			[]string{"group", "apply", "{file}", "--as", "gus"},
			"exit 1: starter group apply: nothing applied:\n"+
				`{file}:2: groups[0].offerTimeout: invalid duration "soon": want e.g. 90s, 30m, 4h or 2d`+"\n"),

		// The starter's command line.
		cliRow("bad flag", []string{"assign", "{A}", "bob", "--as", "root", "--bogus"},
			"exit 2: starter assign: flag provided but not defined: -bogus\n"),
		cliRow("missing --as", []string{"complete", "{A}"},
			"exit 2: starter complete: --as ACTOR is required: who is completing\n"),
		afterAcceptance(cliRow("assign an unknown user", []string{"assign", "{A}", "ghost", "--as", "root"},
			`exit 1: starter assign: "ghost" is not eligible for capture of claim {A}: eligible are ann, bob, cat`+"\n")),
		cliRow("token for an unknown user", []string{"token", "create", "ghost"},
			`exit 1: starter token create: create API token: unknown user "ghost"`+"\n"),
		cliRow("unknown claim", []string{"show", "no-such-claim"},
			"exit 1: starter show: state: claim no-such-claim: claim not found\n"),
		cliRow("complete an unknown claim", []string{"complete", "no-such-claim", "--as", "ann"},
			"exit 1: starter complete: complete_stage: claim no-such-claim: claim not found\n"),
		cliRow("stage typo", []string{"options", "{A}", "reveiw"},
			`exit 2: starter options: unknown stage "reveiw": want one of capture, review, acknowledge, finalise (did you mean "review"?)`+"\n"),
		cliRow("bad claim id", []string{"start", "bad id"},
			`exit 2: starter start: claim id "bad id": no spaces, slashes, '?' or '#'`+"\n"),
		cliRow("claim id taken", []string{"start", "{C}"},
			"exit 1: starter start: start claim {C}: claim already exists\n"),
		cliRow("groups without permission", []string{"group", "apply", "../../examples/groups.yaml", "--as", "ann"},
			"exit 1: starter group apply: nothing applied: ann may not edit reassignment groups: it needs the ManageReassignmentGroups permission\n"),
		cliRow("reassign a finalised claim", []string{"reassign", "{C}", "bob", "--as", "root"},
			"exit 1: starter reassign: claim {C} is finalised: assignment is not possible\n"),
		cliRow("a comment past its limit", []string{"unassign", "{A}", "--as", "ann", "--comment", strings.Repeat("x", policy.MaxCommentChars+1)},
			`exit 1: starter unassign: unassign: field "comment" has 4001 characters, at most 4000`+"\n"),
		cliRow("a hidden character in an actor", []string{"claim", "{B}", "--as", "ann\u200b"},
			`exit 1: starter claim: claim: field "actor" holds the control or format character U+200B at character 4`+"\n"),

		// The HTTP API.
		apiRow("malformed JSON body", "POST", "/api/claims/{A}/assign", "root", `{"userId": "bob"`,
			`400 invalid_body: malformed JSON: the body ends too soon`),
		apiRow("unknown field", "POST", "/api/claims/{A}/assign", "root", `{"user": "bob"}`,
			`400 invalid_body: unknown field "user": want {"userId", "comment", "override", "stage"}`),
		apiRow("actor in the body", "POST", "/api/claims/{A}/assign", "bob", `{"userId": "bob", "actor": "root"}`,
			`400 invalid_body: unknown field "actor": the actor is always the caller (the bearer token's user); want {"userId", "comment", "override", "stage"}`),
		apiRow("a comment past its limit", "POST", "/api/claims/{A}/unassign", "ann", `{"comment": "`+strings.Repeat("x", 60000)+`"}`,
			`400 invalid: unassign: field "comment" has 60000 characters, at most 4000`),
		apiRow("a terminal escape in a note", "POST", "/api/claims/{A}/complete", "ann", `{"note": "\u001b[2J"}`,
			`400 invalid: complete_stage: field "note" holds the control or format character U+001B at character 1`),
		apiRow("wrong type", "POST", "/api/claims/{A}/assign", "root", `{"userId": 7}`,
			`400 invalid_body: field "userId" must be a JSON string, not number`),
		apiRow("body required", "POST", "/api/claims/{A}/assign", "root", "",
			`400 invalid_body: a JSON body is required: {"userId", "comment", "override", "stage"}`),
		apiRow("missing auth token", "POST", "/api/claims/{A}/complete", "", `{}`,
			`401 unauthenticated: no Authorization header: send Authorization: Bearer <token>`),
		apiRow("revoked token", "POST", "/api/claims/{A}/complete", "revoked", `{}`,
			`401 unauthenticated: the bearer token is unknown, expired or revoked`),
		apiRow("forbidden actor", "POST", "/api/claims/{A}/complete", "bob", `{}`,
			`403 forbidden: "bob" may not complete capture of claim {A}: only the assignee (ann) may`),
		apiRow("unknown claim", "POST", "/api/claims/no-such-claim/complete", "ann", `{}`,
			`404 claim_not_found: claim no-such-claim not found`),
		apiRow("bad claim id", "GET", "/api/claims/C%201", "ann", "",
			`400 invalid_claim_id: claim id "C 1": no spaces, slashes, '?' or '#'`),
		apiRow("stage typo", "GET", "/api/claims/{A}/assignment-options/reveiw", "ann", "",
			`400 unknown_stage: unknown stage "reveiw": want one of capture, review, acknowledge, finalise (did you mean "review"?)`),
		afterAcceptance(apiRow("assign an unknown user", "POST", "/api/claims/{A}/assign", "root", `{"userId": "ghost"}`,
			`400 invalid: "ghost" is not eligible for capture of claim {A}: eligible are ann, bob, cat`)),
		apiRow("reassign a finalised claim", "POST", "/api/claims/{C}/reassign", "root", `{"userId": "bob"}`,
			`409 conflict: claim {C} is finalised: assignment is not possible`),
		apiRow("groups without permission", "PUT", "/api/groups", "ann", badInputGroups,
			`403 forbidden: ann may not edit reassignment groups: it needs the ManageReassignmentGroups permission`),
		apiRow("groups unknown member", "PUT", "/api/groups", "gus", "groups:\n  - {name: seniors, members: [ghost], defaultAssignee: cat}\n",
			`400 invalid: request body:2: groups[0].members[0]: unknown user "ghost"`),
		apiRow("groups malformed", "PUT", "/api/groups", "gus", "groups:\n  - {name: seniors\n",
			`400 invalid_body: request body: not valid YAML or JSON: line 1: did not find expected ',' or '}'`),
		apiRow("queue parameter typo", "GET", "/api/queue?stauts=unassigned", "ann", "",
			`400 invalid_query: unknown query parameter "stauts": want queue, stage, status, since, policy, page, page_size`),
		apiRow("inbox item id", "POST", "/api/inbox/first/read", "ann", "",
			`400 invalid_item_id: inbox item id "first": want a positive whole number`),

		// Updates, as a Go service sends them (claimclient).
		updateRow("complete by a non-assignee", "complete_stage {A} as bob",
			func(ctx context.Context, f *badInputFixture) error {
				_, err := f.b.Claims.Complete(ctx, f.ids["A"], workflows.CompleteInput{Actor: "bob"})
				return err
			},
			`complete_stage on claim {A}: "bob" may not complete capture of claim {A}: only the assignee (ann) may (BatonForbidden)`),
		afterAcceptance(updateRow("assign an unknown user", "assign {A} to ghost as root",
			func(ctx context.Context, f *badInputFixture) error {
				_, err := f.b.Claims.Assign(ctx, f.ids["A"], workflows.AssignInput{Actor: "root", UserID: "ghost"})
				return err
			},
			`assign on claim {A}: "ghost" is not eligible for capture of claim {A}: eligible are ann, bob, cat (BatonInvalidRequest)`)),
		afterAcceptance(updateRow("assign an inactive user", "assign {A} to old as root",
			func(ctx context.Context, f *badInputFixture) error {
				_, err := f.b.Claims.Assign(ctx, f.ids["A"], workflows.AssignInput{Actor: "root", UserID: "old"})
				return err
			},
			`assign on claim {A}: "old" is not eligible for capture of claim {A}: eligible are ann, bob, cat (BatonInvalidRequest)`)),
		updateRow("update name typo", "complete_stge {A} as ann (by name, as other SDKs send it)",
			func(ctx context.Context, f *badInputFixture) error {
				h, err := f.b.Temporal.UpdateWorkflow(ctx, client.UpdateWorkflowOptions{WorkflowID: workflows.WorkflowID(f.ids["A"]),
					UpdateName: "complete_stge", Args: []any{workflows.CompleteInput{Actor: "ann"}}, WaitForStage: client.WorkflowUpdateStageCompleted})
				if err == nil {
					err = h.Get(ctx, nil)
				}
				return sortKnownUpdates(err)
			},
			"unknown update complete_stge. KnownUpdates=[assign claim complete_stage migrate_policy start_reassignment unassign]"),
		updateRow("outcome typo", "complete_stage {D} as ann, outcome aproval",
			func(ctx context.Context, f *badInputFixture) error {
				_, err := f.b.Claims.Complete(ctx, f.ids["D"], workflows.CompleteInput{Actor: "ann", Outcome: "aproval"})
				return err
			},
			`complete_stage on claim {D}: complete_stage: unknown review outcome "aproval": want one of approval, goodwill, `+
				`repudiation, no_claim (did you mean "approval"?) (BatonInvalidRequest)`),
		updateRow("outcome outside review", "complete_stage {A} as ann, outcome approval",
			func(ctx context.Context, f *badInputFixture) error {
				_, err := f.b.Claims.Complete(ctx, f.ids["A"], workflows.CompleteInput{Actor: "ann", Outcome: "approval"})
				return err
			},
			`complete_stage on claim {A}: complete_stage: outcome is only recorded at review, not at capture (BatonInvalidRequest)`),
		afterAcceptance(updateRow("claim when not eligible", "claim {B} as dan",
			func(ctx context.Context, f *badInputFixture) error {
				_, err := f.b.Claims.Claim(ctx, f.ids["B"], workflows.ClaimStageInput{Actor: "dan"})
				return err
			},
			`claim on claim {B}: "dan" may not claim capture of claim {B}: they are not eligible (eligible are ann, bob, cat) (BatonForbidden)`)),
		updateRow("claim assigned work", "claim {A} as bob",
			func(ctx context.Context, f *badInputFixture) error {
				_, err := f.b.Claims.Claim(ctx, f.ids["A"], workflows.ClaimStageInput{Actor: "bob"})
				return err
			},
			`claim on claim {A}: claim {A}: capture is already assigned to ann (BatonConflict)`),
		afterAcceptance(updateRow("unassign by a non-assignee", "unassign {A} as bob",
			func(ctx context.Context, f *badInputFixture) error {
				_, err := f.b.Claims.Unassign(ctx, f.ids["A"], workflows.UnassignInput{Actor: "bob"})
				return err
			},
			`unassign on claim {A}: "bob" may not unassign capture of claim {A}: only the assignee (ann), admins and the owner may (BatonForbidden)`)),
		updateRow("no actor", "assign {A} to bob, no actor",
			func(ctx context.Context, f *badInputFixture) error {
				_, err := f.b.Claims.Assign(ctx, f.ids["A"], workflows.AssignInput{UserID: "bob"})
				return err
			},
			`assign on claim {A}: assign: actor is required (BatonInvalidRequest)`),
		afterAcceptance(updateRow("migrate policy by a non-admin", "migrate_policy {A} to version 1 as ann",
			func(ctx context.Context, f *badInputFixture) error {
				_, err := f.b.Claims.MigratePolicy(ctx, f.ids["A"], workflows.MigratePolicyInput{Actor: "ann", Version: 1})
				return err
			},
			`migrate_policy on claim {A}: "ann" may not migrate claim {A} to another policy version: admins only (BatonForbidden)`)),
		updateRow("reassign in finalise", "assign {C} to bob as root",
			func(ctx context.Context, f *badInputFixture) error {
				_, err := f.b.Claims.Assign(ctx, f.ids["C"], workflows.AssignInput{Actor: "root", UserID: "bob"})
				return err
			},
			`assign on claim {C}: claim {C} is finalised: assignment is not possible (BatonConflict)`),
		// The one rejection that needs the database: the workflow accepts the
		// update, looks the group up (an activity) and then rejects it. Its
		// history records that attempt; its state and every table stay as they were.
		afterAcceptance(updateRow("reassignment to an unknown group", "start_reassignment {A} to nightshift as ann",
			func(ctx context.Context, f *badInputFixture) error {
				_, err := f.b.Claims.StartReassignment(ctx, f.ids["A"], workflows.StartReassignmentInput{Actor: "ann", Group: "nightshift"})
				return err
			},
			`start_reassignment on claim {A}: unknown reassignment group "nightshift": known groups are seniors (BatonInvalidRequest)`)),
	}
}

// afterAcceptance marks a row whose rejection comes after its update was
// accepted: the claim's history may grow by the rejected update's events.
func afterAcceptance(r badInput) badInput {
	r.afterAcceptance = true
	return r
}

// sortKnownUpdates sorts the update names the SDK lists when it rejects an
// unknown update: it lists them in map order, which changes from run to run.
func sortKnownUpdates(err error) error {
	if err == nil {
		return nil
	}
	msg := err.Error()
	head, list, ok := strings.Cut(msg, "KnownUpdates=[")
	if !ok {
		return err
	}
	names, rest, _ := strings.Cut(list, "]")
	sorted := strings.Fields(names)
	slices.Sort(sorted)
	return errors.New(head + "KnownUpdates=[" + strings.Join(sorted, " ") + "]" + rest)
}

// TestBadInput runs the table: every class of bad input Baton has met (files,
// the CLI, the HTTP API, updates, and starts and updates from a plain Temporal
// client with raw JSON, temporalclient_test.go), each with the exact error its user sees, and
// proof that nothing recorded changed. The rows run in order against one live
// Baton (real Temporal, real PostgreSQL, the real starter binary and HTTP API);
// after each, every table of the schema and every claim's status, state and
// history length must equal the snapshot taken before the first row.
//
// In the wanted errors {A} {B} {C} {D} stand for the fixture's claim ids and
// {file} for the file a row writes.
func TestBadInput(t *testing.T) {
	t.Parallel()
	f := startBadInputFixture(t)
	before := f.snapshot(t)
	count := map[string]int{}
	for _, row := range append(badInputs(), temporalClientRows()...) {
		count[row.class]++
		t.Run(row.class+"/"+row.name, func(t *testing.T) {
			got := row.run(t, f)
			require.Equal(t, row.want, got, "input: %s", row.input)
			after := f.snapshot(t)
			if row.afterAcceptance {
				// One claim's history records the rejected update; no other changes.
				grew := 0
				for k, n := range after.History {
					require.GreaterOrEqual(t, n, before.History[k], "claim %s", k)
					if n > before.History[k] {
						grew++
					}
				}
				require.LessOrEqual(t, grew, 1)
				before.History = after.History
			}
			require.Equal(t, before, after, "nothing recorded may change")
		})
	}
	for _, class := range []string{"file", "CLI", "API", "Update", "Temporal"} {
		require.NotZero(t, count[class], "rows of class %s", class)
	}
}

func startBadInputFixture(t *testing.T) *badInputFixture {
	t.Helper()
	ctx := context.Background()
	b := testenv.Start(t, pol(policy.MethodManual, true), badInputDirectory)
	f := &badInputFixture{b: b, tokens: map[string]string{}, ids: map[string]string{}, dir: t.TempDir()}

	// Stored state of every kind: a policy version, a group, tokens.
	p := parsePolicy(t, badInputPolicy)
	_, err := b.DB.Store.PolicyApply(ctx, "policy.yaml", []byte(badInputPolicy), p, "root")
	require.NoError(t, err)
	gs, err := yamlfile.ParseGroups("groups.yaml", []byte(badInputGroups))
	require.NoError(t, err)
	require.NoError(t, b.DB.Store.ApplyGroups(ctx, "groups.yaml", "gus", gs))
	for _, u := range []string{"ann", "bob", "gus", "root"} {
		f.tokens[u], _, err = b.DB.Store.TokenCreate(ctx, u, "bad input")
		require.NoError(t, err)
	}
	var revoked int64
	f.tokens["revoked"], revoked, err = b.DB.Store.TokenCreate(ctx, "ann", "revoked")
	require.NoError(t, err)
	require.NoError(t, b.DB.Store.TokenRevoke(ctx, revoked))

	// Claims in each state an action can meet.
	for i, k := range []string{"A", "B", "C", "D"} {
		f.ids[k] = b.ClaimID(i + 1)
		_, err := b.Claims.Start(ctx, workflows.ClaimInput{ClaimID: f.ids[k], Owner: "eve"})
		require.NoError(t, err)
		waitDecided(t, b, f.ids[k], policy.StageCapture)
	}
	assign := func(id, user string) {
		_, err := b.Claims.Assign(ctx, id, workflows.AssignInput{Actor: "root", UserID: user})
		require.NoError(t, err)
	}
	assign(f.ids["A"], "ann")
	for _, id := range []string{f.ids["C"], f.ids["D"]} {
		assign(id, "ann")
		complete(t, b, id, "ann", policy.StageCapture)
		waitDecided(t, b, id, policy.StageReview)
		assign(id, "ann")
	}
	_, err = b.Claims.Complete(ctx, f.ids["C"], workflows.CompleteInput{Actor: "ann", Outcome: "approval"})
	require.NoError(t, err)
	waitDecided(t, b, f.ids["C"], policy.StageAcknowledge)
	assign(f.ids["C"], "dan")
	complete(t, b, f.ids["C"], "dan", policy.StageAcknowledge)
	_, err = b.Claims.Summary(ctx, f.ids["C"]) // waits for the workflow to close
	require.NoError(t, err)

	// Everything at rest: no activity or workflow task still to run.
	batontest.Eventually(t, 30*time.Second, func() (bool, string) {
		for k, id := range f.ids {
			d, err := b.Temporal.DescribeWorkflowExecution(ctx, workflows.WorkflowID(id), "")
			if err != nil {
				return false, err.Error()
			}
			if n := len(d.GetPendingActivities()); n > 0 || d.GetPendingWorkflowTask() != nil {
				return false, fmt.Sprintf("claim %s: %d pending activities, workflow task %v", k, n, d.GetPendingWorkflowTask())
			}
		}
		return true, ""
	})

	f.api = httptest.NewServer(httpapi.New(b.Claims, b.DB.Store, nil).Handler())
	t.Cleanup(f.api.Close)

	f.starter = batontest.Build(t, "github.com/batonhq/baton/starter")
	srv, _ := testenv.Temporal(t)
	f.env = []string{
		"PATH=" + os.Getenv("PATH"),
		"DATABASE_URL=" + b.DB.URL,
		"TEMPORAL_ADDRESS=" + srv.GetFrontendHostPort(),
		"TEMPORAL_NAMESPACE=" + b.Namespace,
		"BATON_TASK_QUEUE=" + b.TaskQueue,
	}
	return f
}

// badInputSnapshot is everything recorded: every table's rows, and each
// claim's status and state, and the length of its history.
type badInputSnapshot struct {
	Tables  map[string]string
	Claims  map[string]string
	History map[string]int64
}

func (f *badInputFixture) snapshot(t *testing.T) badInputSnapshot {
	t.Helper()
	ctx := context.Background()
	s := badInputSnapshot{Tables: map[string]string{}, Claims: map[string]string{}, History: map[string]int64{}}
	rows, err := f.b.DB.Pool.Query(ctx, "SELECT table_name FROM information_schema.tables WHERE table_schema = $1 ORDER BY 1", f.b.DB.Name)
	require.NoError(t, err)
	var tables []string
	for rows.Next() {
		var name string
		require.NoError(t, rows.Scan(&name))
		tables = append(tables, name)
	}
	require.NoError(t, rows.Err())
	require.Contains(t, tables, "decisions")
	for _, table := range tables {
		var dump string
		// A token's last use is bookkeeping every authenticated request
		// moves, bad or not: everything else must stay as it was.
		require.NoError(t, f.b.DB.Pool.QueryRow(ctx, fmt.Sprintf(
			`SELECT coalesce(jsonb_agg(to_jsonb(t) - 'last_used_at' ORDER BY to_jsonb(t)::text), '[]')::text FROM %q t`, table)).Scan(&dump))
		s.Tables[table] = dump
	}
	for k, id := range f.ids {
		d, err := f.b.Temporal.DescribeWorkflowExecution(ctx, workflows.WorkflowID(id), "")
		require.NoError(t, err)
		info := d.GetWorkflowExecutionInfo()
		state, err := f.b.Claims.State(ctx, id)
		require.NoError(t, err)
		js, err := json.Marshal(state)
		require.NoError(t, err)
		s.Claims[k] = fmt.Sprintf("status %s, state %s", info.GetStatus(), js)
		s.History[k] = info.GetHistoryLength()
		if k == "C" {
			require.Equal(t, enumspb.WORKFLOW_EXECUTION_STATUS_COMPLETED, info.GetStatus())
		}
	}
	return s
}
