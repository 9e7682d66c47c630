package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/batonhq/baton/internal/testenv"
	"github.com/batonhq/baton/policy"
)

type cliRun struct {
	t   *testing.T
	env map[string]string
}

func (c cliRun) run(args ...string) (code int, stdout, stderr string) {
	var out, errb bytes.Buffer
	code = run(context.Background(), args, &out, &errb, func(k string) string { return c.env[k] })
	return code, out.String(), errb.String()
}

func newCLI(t *testing.T, p *policy.Policy) (cliRun, *testenv.Baton) {
	b := testenv.Start(t, p, "")
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

	code, out, errs := cli.run("directory", "load", "../examples/directory.yaml")
	require.Equal(t, 0, code, errs)
	require.Equal(t, "loaded 8 users and 2 teams from ../examples/directory.yaml\n", out)

	id := b.ClaimID(1)
	code, out, errs = cli.run("start", id, "--owner", "gus", "--data", "amount=1200")
	require.Equal(t, 0, code, errs)
	require.Contains(t, out, "started claim "+id)

	testenv.Eventually(t, 30*time.Second, func() (bool, string) {
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
	users, err := b.DB.Store.ListUsers(context.Background())
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
