package e2e

import (
	"context"
	"log/slog"
	"testing"

	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/client"
	sdklog "go.temporal.io/sdk/log"
	"go.temporal.io/sdk/worker"

	"github.com/batonhq/baton/activities"
	"github.com/batonhq/baton/batonfx"
	"github.com/batonhq/baton/internal/batontest"
	"github.com/batonhq/baton/internal/temporalx"
	"github.com/batonhq/baton/policy/yamlfile"
	"github.com/batonhq/baton/tools/devserver"
)

// devStack is the dev program's stack in a test: the embedded Temporal server
// (SQLite under a data directory), a client and a Baton worker on a task queue.
type devStack struct {
	srv *devserver.Server
	c   client.Client
	w   worker.Worker
}

// startDevStack starts it; uiPort -1 runs no Web UI.
func startDevStack(t *testing.T, dataDir string, port, uiPort int, queue string, acts *activities.Activities, log *slog.Logger) devStack {
	t.Helper()
	srv, err := devserver.Start(context.Background(), devserver.Config{DataDir: dataDir, FrontendPort: port, UIPort: uiPort,
		SearchAttributes: temporalx.SearchAttributes(), Logger: log})
	require.NoError(t, err)
	c, err := client.Dial(client.Options{HostPort: srv.HostPort(), Namespace: srv.Namespace(), Logger: sdklog.NewStructuredLogger(log)})
	require.NoError(t, err)
	w := worker.New(c, queue, worker.Options{})
	batonfx.Register(w, acts)
	require.NoError(t, w.Start())
	return devStack{srv, c, w}
}

// stop stops the worker, the client and the server, in that order.
func (s devStack) stop(t *testing.T) {
	s.w.Stop()
	s.c.Close()
	require.NoError(t, s.srv.Stop())
}

// directorySchema is a fresh schema with the test directory loaded, for tests that
// run their own Temporal server instead of testenv's.
func directorySchema(t *testing.T) *batontest.Schema {
	t.Helper()
	db := batontest.New(t)
	d, err := yamlfile.ParseDirectory("directory.yaml", []byte(directory))
	require.NoError(t, err)
	_, err = db.Store.LoadDirectory(context.Background(), d)
	require.NoError(t, err)
	return db
}
