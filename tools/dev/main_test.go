package main

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/batonhq/baton/internal/batontest"
	"github.com/batonhq/baton/policy"
	"github.com/batonhq/baton/policy/yamlfile"
	"github.com/batonhq/baton/tools/testenv"
	"github.com/batonhq/baton/workflows"
)

func freePort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// The README's main command: N claims, a decision printed for every stage of every
// claim, exit 0.
func TestDemoRunsClaimsThroughEveryStage(t *testing.T) {
	db := batontest.New(t)
	t.Setenv("DATABASE_URL", db.URL)
	var out, errs bytes.Buffer
	code := run(context.Background(), []string{"demo", "--claims", "3", "--exit",
		"--data", t.TempDir(),
		"--port", fmt.Sprint(freePort(t)), "--ui-port", "-1",
		"--http", fmt.Sprintf("127.0.0.1:%d", freePort(t)), "--metrics", fmt.Sprintf("127.0.0.1:%d", freePort(t)),
		"--directory", "../../examples/directory.yaml", "--policy", "../../examples/policy.yaml", "--groups", "../../examples/groups.yaml",
	}, &out, &errs)
	require.Equal(t, 0, code, "stderr: %s\nstdout: %s", errs.String(), out.String())

	text := out.String()
	ids := regexp.MustCompile(`(?m)^(demo-\S+-\d{4})  capture `).FindAllStringSubmatch(text, -1)
	require.Len(t, ids, 3, text)
	for _, m := range ids {
		for _, stage := range []string{"capture", "review", "acknowledge"} {
			line := regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(m[1]) + `  ` + stage + ` +→ \S+ +round_robin +round robin: .+ \[policy default@v1 \(demo-1\)\]$`)
			require.Regexp(t, line, text, "%s has no %s decision", m[1], stage)
		}
		require.Contains(t, text, m[1]+"  finalise    ✓")
	}
	require.Contains(t, text, "3 claims finalised")
	require.NotContains(t, text, "max-min 2", "round robin stays within one per scope")
	require.True(t, strings.Contains(text, "(local)") || strings.Contains(text, "(DATABASE_URL)"))
	require.Regexp(t, `(?m)^Actor key    .+actor-key \(every start and update is signed`, text, "the demo is signed")
}

// Bad flags to bench and chaos name what is wrong and run nothing.
func TestBenchAndChaosRejectBadFlags(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"bench", "--worker", "/nonexistent/worker"}, "dev bench: --worker /nonexistent/worker: stat /nonexistent/worker: no such file or directory (make bench builds it)\n"},
		{[]string{"bench", "--worker", "/nonexistent/worker", "--callers", "1,x"}, "dev bench: --callers: \"x\" is not a positive number\n"},
		{[]string{"bench", "--bursts", "0"}, "dev bench: --bursts: \"0\" is not a positive number\n"},
		{[]string{"bench", "--timer-wave", "0"}, "dev bench: --timer-wave: 0 is not a positive number\n"},
		{[]string{"bench", "--only", "flow,speed"}, "dev bench: --only: \"speed\" is not a figure (rules, fairness, contention, flow, flow-postgres, timers, two, memory, organisation, workload, scale)\n"},
		{[]string{"bench", "--worker", os.Args[0], "--noop-worker", "/nonexistent/noop"}, "dev bench: --noop-worker /nonexistent/noop: stat /nonexistent/noop: no such file or directory (make bench builds it)\n"},
		{[]string{"chaos", "--worker", "/nonexistent/worker"}, "dev chaos: --worker /nonexistent/worker: stat /nonexistent/worker: no such file or directory (make chaos builds it)\n"},
	} {
		var out, errs bytes.Buffer
		code := run(context.Background(), tc.args, &out, &errs)
		require.Equal(t, 2, code, tc.args)
		require.Equal(t, tc.want, errs.String(), tc.args)
		require.Empty(t, out.String())
	}
}

// The docs' example, run from another folder: a directory made by dev
// directory (no "gus" in it) and a policy, both named relative to the folder
// the demo starts in. The claims' owner is one of the generated users, and
// every claim is finalised.
func TestDemoRunsAGeneratedDirectoryFromAnotherFolder(t *testing.T) {
	db := batontest.New(t)
	t.Setenv("DATABASE_URL", db.URL)
	examples, err := filepath.Abs("../../examples")
	require.NoError(t, err)
	dir := t.TempDir()
	require.NoError(t, os.MkdirAll(filepath.Join(dir, "conf"), 0o755))
	body, err := os.ReadFile(filepath.Join(examples, "policy.yaml"))
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(filepath.Join(dir, "conf", "policy.yaml"), body, 0o644))
	t.Chdir(dir)

	var out, errs bytes.Buffer
	require.Equal(t, 0, run(context.Background(), []string{"directory", "--users", "40", "--every", "2", "--out", "org.yaml"}, &out, &errs), errs.String())
	code := run(context.Background(), []string{"demo", "--claims", "2", "--exit", "--data", "data",
		"--port", fmt.Sprint(freePort(t)), "--ui-port", "-1",
		"--http", fmt.Sprintf("127.0.0.1:%d", freePort(t)), "--metrics", "off",
		"--directory", "org.yaml", "--policy", "conf/policy.yaml", "--groups", "",
	}, &out, &errs)
	require.Equal(t, 0, code, "stderr: %s\nstdout: %s", errs.String(), out.String())
	require.Contains(t, out.String(), "Owner        o000000 (")
	require.Contains(t, out.String(), "Policy       "+filepath.Join(dir, "conf", "policy.yaml"))
	require.Contains(t, out.String(), "2 claims finalised")
}

// An owner the directory lacks, or a policy file that is not where it was
// said to be, is refused before anything starts, naming the user or the file.
func TestDemoRefusesAnOwnerOrAFileItCannotUse(t *testing.T) {
	var out, errs bytes.Buffer
	code := run(context.Background(), []string{"demo", "--owner", "nobody", "--directory", "../../examples/directory.yaml"}, &out, &errs)
	require.Equal(t, 1, code)
	file, err := filepath.Abs("../../examples/directory.yaml")
	require.NoError(t, err)
	require.Equal(t, fmt.Sprintf("dev demo: --owner \"nobody\" is not in the directory %s: a claim's owner must be one of its users\n", file), errs.String())
	require.Empty(t, out.String(), "nothing was started")

	// A relative path is read from the folder the demo runs in, and a wrong
	// one fails before anything starts, naming the file it looked for.
	errs.Reset()
	t.Chdir(t.TempDir())
	code = run(context.Background(), []string{"demo", "--directory", file, "--policy", "examples/policy.yaml"}, &out, &errs)
	require.Equal(t, 1, code)
	wd, err := os.Getwd()
	require.NoError(t, err)
	require.Equal(t, fmt.Sprintf("dev demo: --policy: read policy file: open %s: no such file or directory\n", filepath.Join(wd, "examples", "policy.yaml")), errs.String())
	require.Empty(t, out.String())
}

// A claim the worker refuses to start fails at once with the worker's reason,
// not after a minute of asking for a decision that never comes.
func TestDemoClaimFailsWithTheReasonItsStartWasRefused(t *testing.T) {
	p, err := yamlfile.ParsePolicy("rr.yaml", []byte("version: rr\nclaims:\n  enableClaimAssignments: true\n  claimAssignmentMethod: round_robin\n"))
	require.NoError(t, err)
	b := testenv.Start(t, p, "users:\n  - {id: ann, name: Ann, email: ann@example.com, permissions: [MakeClaimDecisions]}\n")
	err = driveClaim(context.Background(), b.Claims, b.ClaimID(1), "gus", policy.OutcomeApproval,
		func(policy.Decision, string) {}, func(string, ...any) {})
	require.EqualError(t, err, fmt.Sprintf("the claim's workflow failed before capture was decided: %s: start input: field \"owner\": user \"gus\" is not in the directory",
		workflows.ErrTypeInvalid))
}
