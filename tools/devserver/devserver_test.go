package devserver

import (
	"context"
	"log/slog"
	"net"
	"net/http"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/operatorservice/v1"
	"go.temporal.io/sdk/client"
	sdktemporal "go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"
	"go.temporal.io/server/common/testing/freeport"
)

// greetWorkflow is the smallest workflow that produces a result to check.
func greetWorkflow(_ workflow.Context, name string) (string, error) {
	return "hello " + name, nil
}

// testLogger writes to stderr rather than t.Output(): server goroutines can
// still log while shutting down, and logging through t after the test ends
// panics.
func testLogger() *slog.Logger {
	return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
}

func TestStartPersistsStateAcrossRestart(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()

	cfg := Config{
		DataDir:      t.TempDir(),
		Namespace:    "baton-test",
		FrontendPort: freeport.MustGetFreePort(),
		UIPort:       freeport.MustGetFreePort(),
		SearchAttributes: map[string]enumspb.IndexedValueType{
			"BatonStage":    enumspb.INDEXED_VALUE_TYPE_KEYWORD,
			"BatonAssignee": enumspb.INDEXED_VALUE_TYPE_KEYWORD,
		},
		Logger: testLogger(),
	}

	srv, err := Start(ctx, cfg)
	require.NoError(t, err)
	t.Cleanup(func() { _ = srv.Stop() })

	require.Equal(t, net.JoinHostPort("127.0.0.1", strconv.Itoa(cfg.FrontendPort)), srv.HostPort())
	require.Equal(t, "baton-test", srv.Namespace())
	require.Equal(t, "http://127.0.0.1:"+strconv.Itoa(cfg.UIPort), srv.UIURL())

	require.Eventually(t, func() bool {
		resp, err := http.Get(srv.UIURL())
		if err != nil {
			return false
		}
		_ = resp.Body.Close()
		return resp.StatusCode == http.StatusOK
	}, 30*time.Second, 100*time.Millisecond, "UI did not answer 200 at %s", srv.UIURL())

	c, err := client.DialContext(ctx, client.Options{
		HostPort:  srv.HostPort(),
		Namespace: srv.Namespace(),
	})
	require.NoError(t, err)

	sas, err := c.OperatorService().ListSearchAttributes(ctx,
		&operatorservice.ListSearchAttributesRequest{Namespace: srv.Namespace()})
	require.NoError(t, err)
	require.Equal(t, enumspb.INDEXED_VALUE_TYPE_KEYWORD, sas.GetCustomAttributes()["BatonStage"])
	require.Equal(t, enumspb.INDEXED_VALUE_TYPE_KEYWORD, sas.GetCustomAttributes()["BatonAssignee"])

	const taskQueue = "devserver-test"
	w := worker.New(c, taskQueue, worker.Options{})
	w.RegisterWorkflow(greetWorkflow)
	require.NoError(t, w.Start())

	// Setting a custom search attribute proves the attributes are usable
	// right away, not just listed.
	run, err := c.ExecuteWorkflow(ctx, client.StartWorkflowOptions{
		ID:        "devserver-restart-test",
		TaskQueue: taskQueue,
		TypedSearchAttributes: sdktemporal.NewSearchAttributes(
			sdktemporal.NewSearchAttributeKeyKeyword("BatonStage").ValueSet("intake"),
		),
	}, greetWorkflow, "baton")
	require.NoError(t, err)
	var greeting string
	require.NoError(t, run.Get(ctx, &greeting))
	require.Equal(t, "hello baton", greeting)

	w.Stop()
	c.Close()
	require.NoError(t, srv.Stop())
	require.NoError(t, srv.Stop(), "second Stop must be a no-op")

	// Same DataDir: the completed workflow must still be there. One more
	// search attribute exercises adding to an existing namespace.
	cfg.SearchAttributes["BatonQueue"] = enumspb.INDEXED_VALUE_TYPE_KEYWORD
	srv2, err := Start(ctx, cfg)
	require.NoError(t, err)
	t.Cleanup(func() { _ = srv2.Stop() })

	c2, err := client.DialContext(ctx, client.Options{HostPort: srv2.HostPort(), Namespace: srv2.Namespace()})
	require.NoError(t, err)
	defer c2.Close()

	desc, err := c2.DescribeWorkflowExecution(ctx, run.GetID(), run.GetRunID())
	require.NoError(t, err)
	require.Equal(t, enumspb.WORKFLOW_EXECUTION_STATUS_COMPLETED, desc.GetWorkflowExecutionInfo().GetStatus())

	sas, err = c2.OperatorService().ListSearchAttributes(ctx,
		&operatorservice.ListSearchAttributesRequest{Namespace: srv2.Namespace()})
	require.NoError(t, err)
	for name := range cfg.SearchAttributes {
		require.Equal(t, enumspb.INDEXED_VALUE_TYPE_KEYWORD, sas.GetCustomAttributes()[name], name)
	}

	// The restarted server must also run new work, not just serve old state.
	w2 := worker.New(c2, taskQueue, worker.Options{})
	w2.RegisterWorkflow(greetWorkflow)
	require.NoError(t, w2.Start())
	defer w2.Stop()
	run2, err := c2.ExecuteWorkflow(ctx, client.StartWorkflowOptions{
		ID:        "devserver-restart-test-2",
		TaskQueue: taskQueue,
	}, greetWorkflow, "again")
	require.NoError(t, err)
	require.NoError(t, run2.Get(ctx, &greeting))
	require.Equal(t, "hello again", greeting)
}

func TestStartReportsBusyFrontendPort(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer l.Close()
	port := l.Addr().(*net.TCPAddr).Port

	_, err = Start(context.Background(), Config{
		DataDir:      t.TempDir(),
		FrontendPort: port,
		UIPort:       -1,
		Logger:       testLogger(),
	})
	require.Error(t, err)
	require.Contains(t, err.Error(), strconv.Itoa(port))
	require.Contains(t, err.Error(), "another Temporal server may be running")
}

func TestStartRequiresDataDir(t *testing.T) {
	_, err := Start(context.Background(), Config{})
	require.ErrorContains(t, err, "DataDir is required")
}
