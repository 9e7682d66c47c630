package cli

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/batonhq/baton/claimclient"
	"github.com/batonhq/baton/internal/batontest"
	"github.com/batonhq/baton/policy"
	"github.com/batonhq/baton/tools/testenv"
	"github.com/batonhq/baton/workflows"
)

// Deactivating someone who holds 30 open stages moves each exactly once, even
// with the worker binary SIGKILLed while the stages are being decided again and
// another started in its place.
func TestDeactivationSurvivesAWorkerKill(t *testing.T) {
	t.Parallel()
	bin := batontest.Build(t, "github.com/batonhq/baton/worker")
	b := testenv.Start(t, policy.DefaultPolicy(), `
users:
  - {id: ann, name: Ann, email: ann@example.com, permissions: [MakeClaimDecisions]}
  - {id: bob, name: Bob, email: bob@example.com, permissions: [MakeClaimDecisions]}
  - {id: cat, name: Cat, email: cat@example.com, permissions: [MakeClaimDecisions]}
  - {id: root, name: Root, email: root@example.com, permissions: [Admin]}
`)
	srv, c := testenv.Temporal(t)
	queue := b.TaskQueue + "-kill"
	policyFile := filepath.Join(t.TempDir(), "policy.yaml")
	require.NoError(t, os.WriteFile(policyFile, []byte("version: kill-1\nclaims:\n  enableClaimAssignments: true\n  claimAssignmentMethod: round_robin\n"), 0o600))
	var stderr bytes.Buffer
	start := func() *exec.Cmd {
		cmd := exec.Command(bin)
		cmd.Env = append(os.Environ(), "DATABASE_URL="+b.DB.URL, "TEMPORAL_ADDRESS="+srv.GetFrontendHostPort(),
			"TEMPORAL_NAMESPACE="+b.Namespace, "BATON_TASK_QUEUE="+queue, "BATON_POLICY_FILE="+policyFile,
			"BATON_METRICS_ADDRESS=off", "BATON_SHUTDOWN_TIMEOUT=1s")
		cmd.Stderr = &stderr
		require.NoError(t, cmd.Start())
		t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
		return cmd
	}
	worker := start()

	ctx := context.Background()
	claims := claimclient.New(c, queue)
	const n = 30
	state := func(id string) workflows.ClaimState {
		s, err := claims.State(ctx, id)
		require.NoError(t, err)
		return s
	}
	for i := 1; i <= n; i++ {
		id := b.ClaimID(i)
		_, err := claims.Start(ctx, workflows.ClaimInput{ClaimID: id})
		require.NoError(t, err)
		batontest.Eventually(t, time.Minute, func() (bool, string) {
			s, err := claims.State(ctx, id)
			return err == nil && s.Status == workflows.StatusAssigned, fmt.Sprint(err, " ", stderr.String())
		})
		if state(id).Assignee != "ann" {
			_, err := claims.Assign(ctx, id, workflows.AssignInput{Actor: "root", UserID: "ann"})
			require.NoError(t, err)
		}
	}
	held, _, err := b.DB.Store.UserActiveSet(ctx, "ann", false)
	require.NoError(t, err)
	require.Len(t, held, n)
	require.NoError(t, claims.Redistribute(ctx, held, "ann", "ann was deactivated"))

	// Kill the worker while the claims decide again, and start another.
	require.NoError(t, worker.Process.Kill())
	_ = worker.Wait()
	start()
	// The command again, as an operator would after the crash.
	again, _, err := b.DB.Store.UserActiveSet(ctx, "ann", false)
	require.NoError(t, err)
	require.NoError(t, claims.Redistribute(ctx, again, "ann", "ann was deactivated"))

	got := map[string]int{}
	for i := 1; i <= n; i++ {
		id := b.ClaimID(i)
		var s workflows.ClaimState
		batontest.Eventually(t, 2*time.Minute, func() (bool, string) {
			s = state(id)
			return s.Assignee != "ann" && s.Status == workflows.StatusAssigned, s.Assignee + " " + s.Status
		})
		moved := 0
		for _, d := range s.Decisions {
			if strings.HasPrefix(d.Reason, "ann was deactivated; ") {
				moved++
			}
		}
		require.Equal(t, 1, moved, "claim %s moved %d times", id, moved)
		got[s.Assignee]++
	}
	require.Equal(t, map[string]int{"bob": n / 2, "cat": n / 2}, got)
	w, err := b.DB.Store.UserWorkload(ctx, "ann")
	require.NoError(t, err)
	require.Zero(t, w.Open)
}
