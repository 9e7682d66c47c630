package cli

import (
	"bytes"
	"context"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/batonhq/baton/claimclient"
	"github.com/batonhq/baton/internal/batontest"
	"github.com/batonhq/baton/policy"
	"github.com/batonhq/baton/policy/yamlfile"
	"github.com/batonhq/baton/tools/testenv"
	"github.com/batonhq/baton/workflows"
)

// Production workers stay lean: the embedded server belongs to the dev program.
func TestWorkerAndStarterLinkNoTemporalServer(t *testing.T) {
	t.Parallel()
	out, err := exec.Command("go", "list", "-deps", "github.com/batonhq/baton/worker", "github.com/batonhq/baton/starter").Output()
	require.NoError(t, err)
	for _, pkg := range strings.Fields(string(out)) {
		require.False(t, strings.HasPrefix(pkg, "go.temporal.io/server"), "worker or starter links %s", pkg)
	}
	require.Contains(t, string(out), "go.temporal.io/sdk/worker", "the listing is real")
}

// The worker binary starts against a real server and database, decides claims,
// and on SIGTERM stops cleanly with exit status 0.
func TestWorkerBinaryServesAndStopsOnSIGTERM(t *testing.T) {
	t.Parallel()
	bin := batontest.Build(t, "github.com/batonhq/baton/worker")

	// testenv's own in-process worker listens on its queue; the binary gets another.
	b := testenv.Start(t, policy.DefaultPolicy(), "")
	srv, c := testenv.Temporal(t)
	queue := b.TaskQueue + "-bin"
	dir, err := yamlfile.LoadDirectory("../../../examples/directory.yaml")
	require.NoError(t, err)
	_, err = b.DB.Store.LoadDirectory(context.Background(), dir)
	require.NoError(t, err)

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	metricsAddr := ln.Addr().String()
	require.NoError(t, ln.Close())
	var stderr bytes.Buffer
	cmd := exec.Command(bin)
	cmd.Env = append(os.Environ(),
		"DATABASE_URL="+b.DB.URL,
		"TEMPORAL_ADDRESS="+srv.GetFrontendHostPort(),
		"TEMPORAL_NAMESPACE="+b.Namespace,
		"BATON_TASK_QUEUE="+queue,
		"BATON_POLICY_FILE=../../../examples/policy.yaml",
		"BATON_SHUTDOWN_TIMEOUT=5s",
		"BATON_METRICS_ADDRESS="+metricsAddr,
	)
	cmd.Stderr = &stderr
	require.NoError(t, cmd.Start())
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	t.Cleanup(func() { _ = cmd.Process.Kill() })

	claims := claimclient.New(c, queue)
	id := b.ClaimID(1)
	_, err = claims.Start(context.Background(), workflows.ClaimInput{ClaimID: id})
	require.NoError(t, err)
	batontest.Eventually(t, time.Minute, func() (bool, string) {
		s, err := claims.State(context.Background(), id)
		if err != nil {
			return false, err.Error()
		}
		return s.Assignee == "ava", "assignee " + s.Assignee + "; worker stderr: " + stderr.String()
	})

	// Baton's metrics and the SDK's are scraped from the metrics address.
	batontest.Eventually(t, 30*time.Second, func() (bool, string) {
		resp, err := http.Get("http://" + metricsAddr + "/metrics")
		if err != nil {
			return false, err.Error()
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		return strings.Contains(string(body), `baton_decisions_total{method="round_robin",outcome="assigned",stage="capture"} 1`) &&
			strings.Contains(string(body), "temporal_"), string(body)
	})

	require.NoError(t, cmd.Process.Signal(syscall.SIGTERM))
	select {
	case err := <-exited:
		require.NoError(t, err, "clean exit after SIGTERM; stderr: %s", stderr.String())
	case <-time.After(30 * time.Second):
		t.Fatalf("worker did not stop within 30s of SIGTERM; stderr: %s", stderr.String())
	}
	require.Contains(t, stderr.String(), `"policy_version":"default@v1 (demo-1)"`)
}
