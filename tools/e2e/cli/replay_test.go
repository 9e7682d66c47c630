package cli

import (
	"context"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/batonhq/baton/internal/batontest"
	"github.com/batonhq/baton/policy"
	"github.com/batonhq/baton/workflows"
)

// TestReplayServer is deliberately not parallel, and ends its claims: the other CLI
// tests list every open claim at capture in the shared namespace, so this test's
// claims must be gone (terminated) before they run.
func TestReplayServer(t *testing.T) {
	cli, b := newCLI(t, &policy.Policy{Version: "v1", AssignmentsEnabled: true, Method: policy.MethodRoundRobin})
	code, _, errs := cli.run("directory", "load", "../../../examples/directory.yaml")
	require.Equal(t, 0, code, errs)

	first, second := b.ClaimID(1), b.ClaimID(2)
	for _, id := range []string{first, second} {
		code, _, errs = cli.run("start", id, "--owner", "gus")
		require.Equal(t, 0, code, errs)
	}
	assigneeRe := regexp.MustCompile(`(?m)^assignee  (\S+)$`)
	var assignee string
	batontest.Eventually(t, 30*time.Second, func() (bool, string) {
		_, out, _ := cli.run("show", first)
		m := assigneeRe.FindStringSubmatch(out)
		if !strings.Contains(out, "status    assigned") || m == nil {
			return false, out
		}
		assignee = m[1]
		return true, out
	})
	code, out, errs := cli.run("complete", first, "--as", assignee)
	require.Equal(t, 0, code, errs)
	require.Contains(t, out, "capture completed by "+assignee)
	batontest.Eventually(t, 30*time.Second, func() (bool, string) {
		_, out, _ := cli.run("show", second)
		return strings.Contains(out, "status    assigned"), out
	})

	query := "WorkflowType = 'ClaimWorkflow' AND TaskQueue = '" + b.TaskQueue + "'"
	batontest.Eventually(t, 30*time.Second, func() (bool, string) { // visibility is eventually consistent
		code, out, errs = cli.run("replay", "--query", query)
		return code == 0 && strings.Contains(out, "replayed 2 claims: 2 ok, 0 failed"), out + errs
	})
	require.Regexp(t, `(?m)^ok    `+regexp.QuoteMeta(first)+`  \(\d+ events\)$`, out)
	require.Regexp(t, `(?m)^ok    `+regexp.QuoteMeta(second)+`  \(\d+ events\)$`, out)

	// --limit stops early, and says so.
	code, out, errs = cli.run("replay", "--query", query, "--limit", "1")
	require.Equal(t, 0, code, errs)
	require.Contains(t, out, "replayed 1 claims: 1 ok, 0 failed")
	require.Contains(t, out, "stopped at --limit 1: more claims may match")

	// --since narrows the query: nothing started tomorrow. None found is not a failure.
	tomorrow := time.Now().UTC().Add(24 * time.Hour).Format(time.DateOnly)
	code, out, errs = cli.run("replay", "--query", query, "--since", tomorrow)
	require.Equal(t, 0, code, errs)
	require.Equal(t, "no claims to replay: nothing matches ("+query+") AND StartTime >= '"+tomorrow+"T00:00:00Z'\n", out)

	// A query visibility rejects is a usage error.
	code, _, errs = cli.run("replay", "--query", "NoSuchAttribute = 'x'")
	require.Equal(t, 2, code, errs)
	require.Contains(t, errs, `starter replay: --query "NoSuchAttribute = 'x'"`)

	// Once the claims end, the open-claims gate has nothing to replay, and passes.
	for _, id := range []string{first, second} {
		require.NoError(t, b.Temporal.TerminateWorkflow(context.Background(), workflows.WorkflowID(id), "", "replay test done"))
	}
	open := query + " AND ExecutionStatus = 'Running'"
	batontest.Eventually(t, 30*time.Second, func() (bool, string) {
		code, out, errs = cli.run("replay", "--query", open)
		return code == 0 && out == "no claims to replay: nothing matches "+open+"\n", out + errs
	})
}
