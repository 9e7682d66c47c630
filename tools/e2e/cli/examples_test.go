package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
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
)

// baseline is how many modules `go list -m all` listed in a service importing
// only claimclient before the tooling moved to its own module.
const baseline = 251

// buildOutside builds the Go module in dir (its own go.mod, with a replace to
// this repository) as a user's would be built, and returns the binary.
func buildOutside(t *testing.T, dir string) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), filepath.Base(dir))
	cmd := exec.Command("go", "build", "-o", bin, ".")
	cmd.Dir = dir
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, "build %s from outside Baton's module: %s", dir, out)
	return bin
}

func goList(t *testing.T, dir string, args ...string) []string {
	t.Helper()
	cmd := exec.Command("go", append([]string{"list"}, args...)...)
	cmd.Dir = dir
	out, err := cmd.Output()
	require.NoError(t, err, "go list %v in %s", args, dir)
	return strings.Fields(string(out))
}

// A service that only starts claims imports claimclient and nothing else of
// Baton, links no Temporal server and resolves far fewer modules than before.
func TestClaimStarterServiceIsLean(t *testing.T) {
	t.Parallel()
	const dir = "../../../examples/claimstarter"
	var baton []string
	for _, imp := range goList(t, dir, "-f", "{{join .Imports \" \"}}", ".") {
		if strings.HasPrefix(imp, "github.com/batonhq/") {
			baton = append(baton, imp)
		}
	}
	require.Equal(t, []string{"github.com/batonhq/baton/claimclient"}, baton)
	deps := goList(t, dir, "-deps", ".")
	require.Contains(t, deps, "go.temporal.io/sdk/client", "the listing is real")
	for _, pkg := range deps {
		require.False(t, strings.HasPrefix(pkg, "go.temporal.io/server"), "the claim starter links %s", pkg)
	}
	modules := goList(t, dir, "-m", "-f", "{{.Path}}", "all")
	t.Logf("a service importing only claimclient resolves %d modules (was %d)", len(modules), baseline)
	require.Less(t, len(modules), baseline/2)
	for _, m := range []string{"go.temporal.io/server", "github.com/chromedp/chromedp", "github.com/temporalio/ui-server/v2"} {
		require.NotContains(t, modules, m)
	}

	// And it starts a claim a Baton worker decides.
	bin := buildOutside(t, dir)
	rr := &policy.Policy{Version: "v1", AssignmentsEnabled: true, Method: policy.MethodRoundRobin}
	b := testenv.Start(t, rr, "users:\n  - {id: ann, name: Ann, email: ann@example.com, role: Claims assessor, permissions: [MakeClaimDecisions]}\n")
	srv, _ := testenv.Temporal(t)
	id := b.ClaimID(1)
	cmd := exec.Command(bin, id, "amount=1200")
	cmd.Env = append(os.Environ(), "TEMPORAL_ADDRESS="+srv.GetFrontendHostPort(),
		"TEMPORAL_NAMESPACE="+b.Namespace, "BATON_TASK_QUEUE="+b.TaskQueue)
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, "%s", out)
	require.Equal(t, "started claim "+id+"\n", string(out))
	batontest.Eventually(t, 30*time.Second, func() (bool, string) {
		s, err := b.Claims.State(context.Background(), id)
		if err != nil {
			return false, err.Error()
		}
		return s.Assignee == "ann" && s.Data["amount"] == "1200", s.Assignee
	})
}

// The extension point as a deployment uses it: examples/productmodule, a module
// of its own, is a worker with a custom product module. Built from outside, it
// decides a claim with that module, and serves the API answering assignment
// options with it (batonfx.ServeAPI). The README shows the same fx.New call.
func TestProductModuleExampleDecidesAClaim(t *testing.T) {
	t.Parallel()
	const dir = "../../../examples/productmodule"
	main, err := os.ReadFile(filepath.Join(dir, "main.go"))
	require.NoError(t, err)
	readme, err := os.ReadFile("../../../README.md")
	require.NoError(t, err)
	for _, line := range []string{"batonfx.Module,", "batonfx.WithProductModuleFrom(func(d batonfx.Directory) batonfx.ProductModule { return ByLine{Users: d} }),",
		"batonfx.ServeAPI,"} {
		require.Contains(t, string(main), line)
		require.Contains(t, string(readme), line, "the README's extension-point snippet is the example's")
	}
	bin := buildOutside(t, dir)

	// testenv's own worker listens on its queue; the example gets another.
	b := testenv.Start(t, policy.DefaultPolicy(), "")
	srv, c := testenv.Temporal(t)
	queue := b.TaskQueue + "-example"
	d, err := yamlfile.LoadDirectory("../../../examples/directory.yaml")
	require.NoError(t, err)
	_, err = b.DB.Store.LoadDirectory(context.Background(), d)
	require.NoError(t, err)
	policyFile := filepath.Join(t.TempDir(), "policy.yaml")
	require.NoError(t, os.WriteFile(policyFile, []byte("version: by-line-1\nclaims:\n  enableClaimAssignments: true\n  claimAssignmentMethod: product_module\n"), 0o600))

	// batonfx.ServeAPI: the example serves the API with its module too.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	apiAddr := ln.Addr().String()
	require.NoError(t, ln.Close())
	token, _, err := b.DB.Store.TokenCreate(context.Background(), "chloe", "example")
	require.NoError(t, err)

	var stderr bytes.Buffer
	cmd := exec.Command(bin)
	cmd.Env = append(os.Environ(),
		"BATON_HTTP_ADDRESS="+apiAddr,
		"DATABASE_URL="+b.DB.URL,
		"TEMPORAL_ADDRESS="+srv.GetFrontendHostPort(),
		"TEMPORAL_NAMESPACE="+b.Namespace,
		"BATON_TASK_QUEUE="+queue,
		"BATON_POLICY_FILE="+policyFile,
		"BATON_SHUTDOWN_TIMEOUT=5s",
		"BATON_METRICS_ADDRESS=off",
	)
	cmd.Stderr = &stderr
	require.NoError(t, cmd.Start())
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	t.Cleanup(func() { _ = cmd.Process.Kill() })

	claims := claimclient.New(c, queue)
	id := b.ClaimID(1)
	_, err = claims.Start(context.Background(), claimclient.ClaimInput{ClaimID: id, Data: map[string]string{"line": "home"}})
	require.NoError(t, err)
	var s claimclient.ClaimState
	batontest.Eventually(t, time.Minute, func() (bool, string) {
		select {
		case err := <-exited:
			t.Fatalf("the example worker exited (%v); stderr: %s", err, stderr.String())
		default:
		}
		s, err = claims.State(context.Background(), id)
		if err != nil {
			return false, err.Error() + "; example stderr: " + stderr.String()
		}
		return s.Assignee != "", "no assignee yet; example stderr: " + stderr.String()
	})
	// ben is the first user of examples/directory.yaml tagged home.
	require.Equal(t, "ben", s.Assignee)
	require.Equal(t, policy.MethodProductModule, s.Decisions[0].Method)
	require.Equal(t, 2, s.Eligible, "ben and chloe cover home claims")

	// Asked through the example's API, the module answers for its caller:
	// chloe covers home claims, so she is who it would give this one to.
	var opts struct {
		AssignedTo struct {
			UserID string `json:"userId"`
		} `json:"assignedTo"`
	}
	var answer string
	batontest.Eventually(t, 30*time.Second, func() (bool, string) {
		req, err := http.NewRequest("GET", "http://"+apiAddr+"/api/claims/"+id+"/assignment-options/capture", nil)
		require.NoError(t, err)
		req.Header.Set("Authorization", "Bearer "+token)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return false, err.Error() + "; example stderr: " + stderr.String()
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != http.StatusOK {
			return false, resp.Status + ": " + string(body)
		}
		require.NoError(t, json.Unmarshal(body, &opts))
		answer = string(body)
		return true, ""
	})
	require.Equal(t, "chloe", opts.AssignedTo.UserID, answer)

	require.NoError(t, cmd.Process.Signal(syscall.SIGTERM))
	select {
	case err := <-exited:
		require.NoError(t, err, "clean exit after SIGTERM; stderr: %s", stderr.String())
	case <-time.After(30 * time.Second):
		t.Fatalf("the example did not stop within 30s of SIGTERM; stderr: %s", stderr.String())
	}
}
