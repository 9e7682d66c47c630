package main

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/batonhq/baton/batontest"
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
		{[]string{"bench", "--only", "flow,speed"}, "dev bench: --only: \"speed\" is not a figure (rules, fairness, contention, flow, flow-postgres, timers, two, memory, organisation, workload)\n"},
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
