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
	"go.temporal.io/sdk/client"
	sdklog "go.temporal.io/sdk/log"
	"go.temporal.io/sdk/worker"

	"github.com/batonhq/baton/activities"
	"github.com/batonhq/baton/claimclient"
	"github.com/batonhq/baton/internal/devserver"
	"github.com/batonhq/baton/internal/temporalx"
	"github.com/batonhq/baton/internal/testdb"
	"github.com/batonhq/baton/internal/testenv"
	"github.com/batonhq/baton/internal/workerapp"
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
	db := testdb.New(t)
	d, err := policy.ParseDirectory("directory.yaml", []byte(directory))
	require.NoError(t, err)
	_, err = db.Store.LoadDirectory(ctx, d)
	require.NoError(t, err)
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

	type stack struct {
		srv *devserver.Server
		c   client.Client
		w   worker.Worker
	}
	up := func() stack {
		srv, err := devserver.Start(ctx, devserver.Config{DataDir: dataDir, FrontendPort: port, UIPort: -1,
			SearchAttributes: temporalx.SearchAttributes(), Logger: log})
		require.NoError(t, err)
		c, err := client.Dial(client.Options{HostPort: srv.HostPort(), Namespace: srv.Namespace(), Logger: sdklog.NewStructuredLogger(log)})
		require.NoError(t, err)
		w := worker.New(c, "baton-restart", worker.Options{})
		workerapp.Register(w, acts)
		require.NoError(t, w.Start())
		return stack{srv, c, w}
	}
	down := func(s stack) {
		s.w.Stop()
		s.c.Close()
		require.NoError(t, s.srv.Stop())
	}

	s := up()
	claims := claimclient.New(s.c, "baton-restart")
	_, err = claims.Start(ctx, workflows.ClaimInput{ClaimID: "restart-1"})
	require.NoError(t, err)
	testenv.Eventually(t, time.Minute, func() (bool, string) {
		st, err := claims.State(ctx, "restart-1")
		return err == nil && st.Status == workflows.StatusUnassigned, "waiting for the window to open"
	})
	down(s) // the window is open and nobody is running

	s = up()
	t.Cleanup(func() { down(s) })
	claims = claimclient.New(s.c, "baton-restart")
	testenv.Eventually(t, time.Minute, func() (bool, string) {
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
