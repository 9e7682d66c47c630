package cli

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/batonhq/baton/internal/batontest"
	"github.com/batonhq/baton/policy"
	"github.com/batonhq/baton/tools/testenv"
)

// TestCLIActorKey runs the starter against a worker with BATON_ACTOR_KEY: with
// the key in its environment its starts and updates are signed and accepted;
// without it, a start fails at once and an update is refused, changing
// nothing.
func TestCLIActorKey(t *testing.T) {
	t.Parallel()
	key := strings.Repeat("cli-actor-key-", 3)
	cli, b := newCLI(t, &policy.Policy{Version: "v1", AssignmentsEnabled: true, Method: policy.MethodManual}, testenv.WithActorKey(key))
	code, _, errs := cli.run("directory", "load", "../../../examples/directory.yaml")
	require.Equal(t, 0, code, errs)
	unsigned := b.ClaimID(1)
	code, _, errs = cli.run("start", unsigned, "--owner", "gus")
	require.Equal(t, 0, code, errs)
	batontest.Eventually(t, 30*time.Second, func() (bool, string) {
		_, out, _ := cli.run("show", unsigned)
		return strings.Contains(out, "closed    failed"), out
	})

	cli.env["BATON_ACTOR_KEY"] = key
	id := b.ClaimID(2)
	code, _, errs = cli.run("start", id, "--owner", "gus")
	require.Equal(t, 0, code, errs)
	batontest.Eventually(t, 30*time.Second, func() (bool, string) {
		_, out, _ := cli.run("show", id)
		return strings.Contains(out, "status    unassigned"), out
	})

	delete(cli.env, "BATON_ACTOR_KEY")
	code, _, errs = cli.run("assign", id, "ben", "--as", "ben")
	require.Equal(t, 1, code)
	require.Equal(t, "starter assign: assign on claim/"+id+" refused: no actor assertion (header baton-actor); this worker takes only "+
		"updates signed with BATON_ACTOR_KEY, as claimclient, the starter and the HTTP API send them\n", errs)
	_, out, _ := cli.run("show", id)
	require.Contains(t, out, "status    unassigned", "the refused update changed nothing")

	cli.env["BATON_ACTOR_KEY"] = key
	code, out, errs = cli.run("assign", id, "ben", "--as", "ben")
	require.Equal(t, 0, code, errs)
	require.Contains(t, out, "assigned to ben (assigned by ben)")
}
