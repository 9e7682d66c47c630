package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/batonhq/baton/internal/batontest"
	"github.com/batonhq/baton/policy"
	"github.com/batonhq/baton/policy/yamlfile"
	"github.com/batonhq/baton/tools/testenv"
)

// starterBin is the starter built once for the package: these tests drive the
// real binary, as a user's shell does.
var starterBin string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "baton-cli-")
	if err != nil {
		panic(err)
	}
	starterBin = filepath.Join(dir, "starter")
	if out, err := exec.Command("go", "build", "-o", starterBin, "github.com/batonhq/baton/starter").CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "build starter: %v\n%s", err, out)
		os.Exit(1)
	}
	code := m.Run()
	_ = os.RemoveAll(dir)
	os.Exit(code)
}

type cliRun struct {
	t   *testing.T
	env map[string]string
}

// run runs the starter with args and only the environment c.env.
func (c cliRun) run(args ...string) (code int, stdout, stderr string) {
	c.t.Helper()
	var out, errb bytes.Buffer
	cmd := exec.Command(starterBin, args...)
	cmd.Stdout, cmd.Stderr = &out, &errb
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + os.Getenv("HOME")}
	for k, v := range c.env {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	err := cmd.Run()
	var exit *exec.ExitError
	switch {
	case errors.As(err, &exit):
		code = exit.ExitCode()
	case err != nil:
		c.t.Fatalf("run starter %v: %v", args, err)
	}
	return code, out.String(), errb.String()
}

func newCLI(t *testing.T, p *policy.Policy, opts ...testenv.Option) (cliRun, *testenv.Baton) {
	b := testenv.Start(t, p, "", opts...)
	srv, _ := testenv.Temporal(t)
	return cliRun{t: t, env: map[string]string{
		"DATABASE_URL":       b.DB.URL,
		"TEMPORAL_ADDRESS":   srv.GetFrontendHostPort(),
		"TEMPORAL_NAMESPACE": b.Namespace,
		"BATON_TASK_QUEUE":   b.TaskQueue,
	}}, b
}

func TestCLIClaimLifecycle(t *testing.T) {
	t.Parallel()
	cli, b := newCLI(t, &policy.Policy{Version: "v1", AssignmentsEnabled: true, Method: policy.MethodManual})

	code, out, errs := cli.run("directory", "load", "../../../examples/directory.yaml")
	require.Equal(t, 0, code, errs)
	require.Equal(t, "loaded 8 users and 2 teams from ../../../examples/directory.yaml\n", out)

	id := b.ClaimID(1)
	code, out, errs = cli.run("start", id, "--owner", "gus", "--data", "amount=1200")
	require.Equal(t, 0, code, errs)
	require.Contains(t, out, "started claim "+id)

	batontest.Eventually(t, 30*time.Second, func() (bool, string) {
		_, out, _ := cli.run("show", id)
		return strings.Contains(out, "status    unassigned"), out
	})
	code, out, _ = cli.run("assign", id, "ben", "--as", "ben")
	require.Equal(t, 0, code)
	require.Contains(t, out, "assigned to ben (assigned by ben)")

	code, _, errs = cli.run("complete", id, "--as", "ava")
	require.Equal(t, 1, code)
	require.Equal(t, `starter complete: "ava" may not complete capture of claim `+id+": only the assignee (ben) may\n", errs)

	code, out, errs = cli.run("complete", id, "--as", "ben")
	require.Equal(t, 0, code, errs)
	require.Equal(t, "claim "+id+": capture completed by ben\n", out)

	code, out, _ = cli.run("options", id, "capture")
	require.Equal(t, 0, code)
	require.Contains(t, out, `"assignedTo": {`)
	require.Contains(t, out, `"userId": "ben"`)

	code, _, errs = cli.run("options", id, "reveiw")
	require.Equal(t, 2, code)
	require.Contains(t, errs, `did you mean "review"`)

	code, out, _ = cli.run("inbox", "ben")
	require.Equal(t, 0, code)
	require.Contains(t, out, "Claim "+id+" is yours at capture")
}

func TestCLIBadInput(t *testing.T) {
	t.Parallel()
	cli, b := newCLI(t, policy.DefaultPolicy())
	bad := filepath.Join(t.TempDir(), "dir.yaml")
	require.NoError(t, os.WriteFile(bad, []byte("users:\n  - {id: zoe, name: Zoe, email: zoe@example.com}\n  - {id: yan, name: Yan, email: nope}\n"), 0o600))

	code, _, errs := cli.run("directory", "load", bad)
	require.Equal(t, 1, code)
	require.Contains(t, errs, bad+`:3: users[1].email: invalid email "nope"`)
	users, err := b.DB.Store.UserList(context.Background())
	require.NoError(t, err)
	require.Empty(t, users, "a bad row loads nothing")

	cases := []struct {
		args []string
		code int
		want string
	}{
		{[]string{"frobnicate"}, 2, `unknown command "frobnicate"`},
		{[]string{"assign", "c1", "ben"}, 2, "--as ACTOR is required"},
		{[]string{"start", "bad id"}, 2, `claim id "bad id": no spaces`},
		{[]string{"start", "c1", "--data", "nokey"}, 2, `--data "nokey": want KEY=VALUE`},
		{[]string{"show", "no-such-claim"}, 1, "claim no-such-claim: claim not found"},
		{[]string{"complete", "no-such-claim", "--as", "ben"}, 1, "claim not found"},
	}
	for _, tc := range cases {
		code, _, errs := cli.run(tc.args...)
		require.Equal(t, tc.code, code, tc.args)
		require.Contains(t, errs, tc.want, tc.args)
	}
}

func TestCLIQueuesGroupsAndTimeline(t *testing.T) {
	t.Parallel()
	p, err := yamlfile.ParsePolicy("p.yaml", []byte("claims:\n  enableClaimAssignments: true\n  stages:\n    capture: {queue: intake}\n"))
	require.NoError(t, err)
	cli, b := newCLI(t, p)
	code, _, errs := cli.run("directory", "load", "../../../examples/directory.yaml")
	require.Equal(t, 0, code, errs)

	// Editing groups needs ManageReassignmentGroups: ben lacks it, gus has it.
	code, _, errs = cli.run("group", "apply", "../../../examples/groups.yaml", "--as", "ben")
	require.Equal(t, 1, code)
	require.Contains(t, errs, "nothing applied: ben may not edit reassignment groups: it needs the ManageReassignmentGroups permission")
	code, out, errs := cli.run("group", "apply", "../../../examples/groups.yaml", "--as", "gus")
	require.Equal(t, 0, code, errs)
	require.Contains(t, out, "applied 2 reassignment groups")
	_, out, _ = cli.run("group", "list")
	require.Contains(t, out, "senior-assessors  round_robin  30m0s")

	first, second := b.ClaimID(1), b.ClaimID(2)
	for _, id := range []string{first, second} {
		code, _, errs = cli.run("start", id, "--owner", "gus")
		require.Equal(t, 0, code, errs)
	}
	for _, id := range []string{first, second} {
		batontest.Eventually(t, 30*time.Second, func() (bool, string) {
			_, out, _ := cli.run("show", id)
			return strings.Contains(out, "queue     intake"), out
		})
	}
	code, _, errs = cli.run("claim", first, "--as", "ava")
	require.Equal(t, 0, code, errs)
	code, _, errs = cli.run("claim", first, "--as", "ben")
	require.Equal(t, 1, code)
	require.Contains(t, errs, "capture is already assigned to ava")

	// The queue lists unassigned work first, then the rest.
	batontest.Eventually(t, 30*time.Second, func() (bool, string) {
		_, out, _ := cli.run("queue", "list", "--stage", "capture")
		// The namespace is shared with other tests: look only at this test's claims,
		// in the order listed.
		var lines []string
		for _, l := range strings.Split(out, "\n") {
			if strings.HasPrefix(l, first) || strings.HasPrefix(l, second) {
				lines = append(lines, l)
			}
		}
		if len(lines) != 2 {
			return false, out
		}
		row1, row2 := strings.Fields(lines[0]), strings.Fields(lines[1])
		return strings.Join(row1[:5], " ") == second+" capture unassigned intake -" &&
			strings.Join(row2[:5], " ") == first+" capture assigned - ava", out
	})
	batontest.Eventually(t, 30*time.Second, func() (bool, string) {
		_, out, _ := cli.run("queue", "list", "--queue", "intake")
		return strings.Contains(out, second) && !strings.Contains(out, first), out
	})
	code, _, errs = cli.run("queue", "list", "--stage", "reveiw")
	require.Equal(t, 2, code)
	require.Contains(t, errs, `did you mean "review"`)

	code, out, errs = cli.run("start-reassignment", first, "senior-assessors", "--as", "ava", "--comment", "needs a senior")
	require.Equal(t, 0, code, errs)
	require.Contains(t, out, "reassignment in progress with group senior-assessors")
	batontest.Eventually(t, 30*time.Second, func() (bool, string) {
		_, out, _ := cli.run("show", first)
		return strings.Contains(out, "reassign  in progress: group senior-assessors (round_robin), offered to chloe"), out
	})

	_, out, _ = cli.run("timeline", first)
	require.Contains(t, out, "claimed")
	require.Contains(t, out, "reassignment_started")
	require.Contains(t, out, "needs a senior")
}

func TestCLIPolicies(t *testing.T) {
	t.Parallel()
	cli, b := newCLI(t, policy.DefaultPolicy())
	code, _, errs := cli.run("directory", "load", "../../../examples/directory.yaml")
	require.Equal(t, 0, code, errs)
	dir := t.TempDir()
	write := func(name, body string) string {
		p := filepath.Join(dir, name)
		require.NoError(t, os.WriteFile(p, []byte(body), 0o600))
		return p
	}
	v1 := write("v1.yaml", "claims:\n  enableClaimAssignments: true\n  stages:\n    capture: {method: recent_host, fallback: default, defaultAssignee: gus}\n")
	code, out, errs := cli.run("policy", "apply", v1, "--as", "gus")
	require.Equal(t, 0, code, errs)
	require.Equal(t, "stored policy default version 1; new claims use it, running claims keep theirs\n(first version)\n", out)
	code, out, _ = cli.run("policy", "apply", v1, "--as", "gus")
	require.Equal(t, 0, code)
	require.Equal(t, "unchanged: policy default is at version 1\n", out)

	bad := write("bad.yaml", "claims:\n  stages:\n    capture: {assignee: nobody}\n")
	code, _, errs = cli.run("policy", "apply", bad, "--as", "gus")
	require.Equal(t, 1, code)
	require.Contains(t, errs, `nothing applied:`)
	require.Contains(t, errs, `claims.stages.capture.assignee: unknown user "nobody"`)
	_, out, _ = cli.run("policy", "list")
	require.Equal(t, 2, strings.Count(out, "\n"), "still one version: %s", out)

	// recent_host: the latest host of the claim's subject gets it.
	code, _, errs = cli.run("host", "record", "patient-7", "ben", "--at", "2026-11-01T09:00:00Z")
	require.Equal(t, 0, code, errs)
	code, _, errs = cli.run("host", "record", "patient-7", "chloe", "--at", "2026-11-20T09:00:00Z")
	require.Equal(t, 0, code, errs)
	code, _, errs = cli.run("host", "record", "patient-7", "ghost")
	require.Equal(t, 1, code)
	require.Contains(t, errs, `unknown user "ghost"`)
	id := b.ClaimID(1)
	code, _, errs = cli.run("start", id, "--data", "subject=patient-7")
	require.Equal(t, 0, code, errs)
	batontest.Eventually(t, 30*time.Second, func() (bool, string) {
		_, out, _ := cli.run("show", id)
		return strings.Contains(out, "assignee  chloe"), out
	})
	_, out, _ = cli.run("explain", id, "capture")
	require.Contains(t, out, "capture · decision 1 · recent_host · policy default@v1")
	require.Contains(t, out, "pick      chloe — the most recent host of the claim's subject: chloe")
	require.Contains(t, out, "removed   dev: missing MakeClaimDecisions")
	require.Contains(t, out, "removed   hana: inactive")

	// A second version prints what changed.
	v2 := write("v2.yaml", "claims:\n  enableClaimAssignments: true\n  claimAssignmentMethod: round_robin\n  stages:\n    capture: {method: recent_host, fallback: default, defaultAssignee: ben}\n")
	code, out, errs = cli.run("policy", "apply", v2, "--as", "gus")
	require.Equal(t, 0, code, errs)
	require.Equal(t, "stored policy default version 2; new claims use it, running claims keep theirs\n"+
		"~ claims.claimAssignmentMethod: manual → round_robin\n"+
		`~ claims.stages.capture.defaultAssignee: "gus" → "ben"`+"\n", out)

	code, out, errs = cli.run("policy", "test", "../../../examples/policy-distribution.yaml", "--claims", "../../../examples/claims.yaml")
	require.Equal(t, 0, code, errs)
	require.Contains(t, out, "sample-vip     capture      distribution          ava       vip              High")
	require.Contains(t, out, `names "nobody-known", who is not in the directory; default assignee dev`)
	_, out, _ = cli.run("policy", "list")
	require.Equal(t, 3, strings.Count(out, "\n"), "policy test stored nothing: %s", out)
}

// A rule-routed decision records its rules, not its trace: `starter explain`
// renders every rule tried from the record, worded as decisions always wrote it.
func TestCLIExplainRendersTheRulesTried(t *testing.T) {
	t.Parallel()
	cli, b := newCLI(t, policy.DefaultPolicy())
	code, _, errs := cli.run("directory", "load", "../../../examples/directory.yaml")
	require.Equal(t, 0, code, errs)
	file := filepath.Join(t.TempDir(), "rules.yaml")
	require.NoError(t, os.WriteFile(file, []byte(`claims:
  enableClaimAssignments: true
  claimAssignmentMethod: distribution
  distribution:
    rules:
      - {id: vip, when: [{attribute: customer_group, operator: IN, values: [VIP, Gold]}], then: [{action: assign_user, user: ava}]}
      - id: a-to-m
        when:
          - {attribute: customer_name, operator: NAME RANGE START, values: [A]}
          - {attribute: customer_name, operator: NAME RANGE END, values: [M]}
        then: [{action: assign_user, user: ava}]
      - {id: everything-else, then: [{action: set_priority, priority: Low}]}
`), 0o600))
	code, _, errs = cli.run("policy", "apply", file, "--as", "gus")
	require.Equal(t, 0, code, errs)
	id := b.ClaimID(1)
	code, _, errs = cli.run("start", id, "--data", "customer_group=Basic", "--data", "customer_name=Zed")
	require.Equal(t, 0, code, errs)
	batontest.Eventually(t, 30*time.Second, func() (bool, string) {
		_, out, _ := cli.run("explain", id, "capture")
		return strings.Contains(out, "rule      everything-else MATCHED"), out
	})
	_, out, _ := cli.run("explain", id, "capture")
	require.Contains(t, out, "capture · decision 1 · distribution · policy default@v1")
	require.Contains(t, out, "  rule      vip did not match: customer_group IN VIP, Gold: \"Basic\" does not match\n"+
		"  rule      a-to-m did not match: customer_name NAME RANGE END M: \"Zed\" does not match\n"+
		"  rule      everything-else MATCHED: no conditions: the default rule\n")
	require.NotContains(t, out, "drift")
}

// `starter options CLAIM STAGE --as USER` asks the configured product module on
// USER's behalf, as the HTTP API does for its caller, and changes nothing.
func TestCLIOptionsAsCurrentUser(t *testing.T) {
	t.Parallel()
	const doc = "version: pm-1\nclaims:\n  enableClaimAssignments: true\n  claimAssignmentMethod: product_module\n"
	p, err := yamlfile.ParsePolicy("policy.yaml", []byte(doc))
	require.NoError(t, err)
	cli, b := newCLI(t, p)
	b.Acts.Module = policy.RolesByStage{Users: b.DB.Store}
	cli.env["BATON_PRODUCT_MODULE"] = "roles_by_stage"
	code, _, errs := cli.run("directory", "load", "../../../examples/directory.yaml")
	require.Equal(t, 0, code, errs)
	_, err = b.DB.Store.PolicyApply(context.Background(), "policy.yaml", []byte(doc), p, "test")
	require.NoError(t, err)

	id := b.ClaimID(1)
	code, _, errs = cli.run("start", id)
	require.Equal(t, 0, code, errs)
	var system string
	batontest.Eventually(t, 30*time.Second, func() (bool, string) {
		_, out, _ := cli.run("options", id, "capture")
		system = out
		return strings.Contains(out, `"assignedTo": {`), out
	})
	assignedTo := func(out string) string {
		var o struct {
			AssignedTo struct{ UserID string } `json:"assignedTo"`
		}
		require.NoError(t, json.Unmarshal([]byte(out), &o), out)
		return o.AssignedTo.UserID
	}
	first := assignedTo(system)
	require.NotEmpty(t, first)

	// Everyone the module lists for capture gets themselves when they ask.
	var listed struct {
		Users []struct{ UserID string } `json:"users"`
	}
	require.NoError(t, json.Unmarshal([]byte(system), &listed))
	require.Greater(t, len(listed.Users), 1)
	for _, u := range listed.Users {
		code, out, errs := cli.run("options", id, "capture", "--as", u.UserID)
		require.Equal(t, 0, code, errs)
		require.Equal(t, u.UserID, assignedTo(out))
	}
	code, out, _ := cli.run("options", id, "capture")
	require.Equal(t, 0, code)
	require.Equal(t, first, assignedTo(out), "asking as someone changed the claim's decision")

	code, _, errs = cli.run("options", id, "capture", "--as", "ghost")
	require.Equal(t, 1, code)
	require.Equal(t, "starter options: --as \"ghost\": no such user in the directory\n", errs)
}
