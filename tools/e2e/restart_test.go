package e2e

import (
	"context"
	"log/slog"
	"net"
	"os"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	enumspb "go.temporal.io/api/enums/v1"

	"github.com/batonhq/baton/activities"
	"github.com/batonhq/baton/claimclient"
	"github.com/batonhq/baton/internal/batontest"
	"github.com/batonhq/baton/policy"
	"github.com/batonhq/baton/workflows"
)

// TestTimerFiresOnceAcrossRestart stops the worker and the embedded Temporal
// server (SQLite on disk) while a claim window is open, starts both again, and
// checks the window's timer fired exactly once: one expiry, one default
// assignment, one TimerFired in the claim's history.
func TestTimerFiresOnceAcrossRestart(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := directorySchema(t)
	p := parsePolicy(t, `
claims:
  enableClaimAssignments: true
  claimAssignmentMethod: manual
  stages:
    capture: {claimWindow: 3s, defaultAssignee: root}
`)
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelError}))
	acts := activities.New(db.Store, p, nil, "", log)
	dataDir, port := t.TempDir(), freePort(t)

	s := startDevStack(t, dataDir, port, -1, "baton-restart", acts, log)
	claims := claimclient.New(s.c, "baton-restart")
	_, err := claims.Start(ctx, workflows.ClaimInput{ClaimID: "restart-1"})
	require.NoError(t, err)
	batontest.Eventually(t, time.Minute, func() (bool, string) {
		st, err := claims.State(ctx, "restart-1")
		return err == nil && st.Status == workflows.StatusUnassigned, "waiting for the window to open"
	})
	s.stop(t) // the window is open and nobody is running

	s = startDevStack(t, dataDir, port, -1, "baton-restart", acts, log)
	t.Cleanup(func() { s.stop(t) })
	claims = claimclient.New(s.c, "baton-restart")
	batontest.Eventually(t, time.Minute, func() (bool, string) {
		st, err := claims.State(ctx, "restart-1")
		if err != nil {
			return false, err.Error()
		}
		return st.Assignee == "root", "assignee " + st.Assignee
	})

	n := map[string]int{}
	events, err := db.Store.Timeline(ctx, "restart-1")
	require.NoError(t, err)
	for _, e := range events {
		n[e.Kind]++
	}
	require.Equal(t, 1, n[policy.EventWindowExpired])
	require.Equal(t, 1, n[policy.EventDefaultAssigned])
	fired := 0
	it := s.c.GetWorkflowHistory(ctx, workflows.WorkflowID("restart-1"), "", false, enumspb.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
	for it.HasNext() {
		ev, err := it.Next()
		require.NoError(t, err)
		if ev.GetEventType() == enumspb.EVENT_TYPE_TIMER_FIRED {
			fired++
		}
	}
	require.Equal(t, 1, fired, "the claim window's timer fired once")
}

func freePort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}
