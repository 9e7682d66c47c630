package e2e

import (
	"context"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/require"

	"github.com/batonhq/baton/activities"
	"github.com/batonhq/baton/claimclient"
	"github.com/batonhq/baton/internal/testdb"
	"github.com/batonhq/baton/internal/testenv"
	"github.com/batonhq/baton/policy"
	"github.com/batonhq/baton/workflows"
)

// findChromium returns a headless-capable Chromium, or fails the test saying how
// to install one: a browser test never skips silently.
func findChromium(t *testing.T) string {
	t.Helper()
	if p := os.Getenv("BATON_CHROMIUM"); p != "" {
		return p
	}
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	t.Fatal("no Chromium found: install Debian's chromium (apt-get install chromium; .ci/run does) or set BATON_CHROMIUM")
	return ""
}

// TestWebUIFiltersClaimsByAssignee runs the dev stack's Temporal Web UI, opens the
// workflow list filtered by BatonAssignee in headless Chromium, and checks the
// claim is listed. The screenshot is kept in artifacts/ (BATON_ARTIFACTS to move it).
func TestWebUIFiltersClaimsByAssignee(t *testing.T) {
	t.Parallel()
	chromium := findChromium(t)
	ctx := context.Background()
	db := testdb.New(t)
	d, err := policy.ParseDirectory("directory.yaml", []byte(directory))
	require.NoError(t, err)
	_, err = db.Store.LoadDirectory(ctx, d)
	require.NoError(t, err)

	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelError}))
	stack := startDevStack(t, t.TempDir(), freePort(t), freePort(t), "baton-webui",
		activities.New(db.Store, pol(policy.MethodRoundRobin, true), nil, "", log), log)
	t.Cleanup(func() { stack.stop(t) })
	srv, c := stack.srv, stack.c

	claims := claimclient.New(c, "baton-webui")
	_, err = claims.Start(ctx, workflows.ClaimInput{ClaimID: "webui-1"})
	require.NoError(t, err)
	testenv.Eventually(t, time.Minute, func() (bool, string) {
		s, err := claims.State(ctx, "webui-1")
		return err == nil && s.Assignee == "ann", "waiting for the claim to be assigned"
	})

	query := `BatonAssignee = "ann"`
	page := fmt.Sprintf("%s/namespaces/%s/workflows?query=%s", srv.UIURL(), srv.Namespace(), url.QueryEscape(query))
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(chromium), chromedp.NoSandbox, chromedp.DisableGPU, chromedp.UserDataDir(t.TempDir()),
		chromedp.Flag("disable-quic", true), chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true), chromedp.Flag("disable-sync", true),
		chromedp.WindowSize(1400, 900))
	alloc, cancelAlloc := chromedp.NewExecAllocator(ctx, opts...)
	defer cancelAlloc()
	browser, cancelBrowser := chromedp.NewContext(alloc)
	defer cancelBrowser()
	run, cancel := context.WithTimeout(browser, 90*time.Second)
	defer cancel()

	require.NoError(t, chromedp.Do(run, chromedp.Navigate(page)))
	t.Cleanup(func() {
		if t.Failed() { // keep what the browser showed, for whoever reads the failure
			if shot, err := chromedp.Run(browser, chromedp.FullScreenshot(100)); err == nil {
				_ = os.WriteFile(filepath.Join(os.TempDir(), "baton-webui-failure.png"), shot, 0o644)
			}
		}
	})
	// The list is filled in by the UI's own requests: wait for the claim to show.
	testenv.Eventually(t, time.Minute, func() (bool, string) {
		body, err := chromedp.Run(run, chromedp.Text(chromedp.CSS("body")))
		return err == nil && strings.Contains(body, "claim/webui-1"),
			fmt.Sprintf("the Web UI does not list the claim for %s (error %v); page text: %.2000s", query, err, body)
	})
	shot, err := chromedp.Run(run, chromedp.FullScreenshot(100))
	require.NoError(t, err)

	dir := os.Getenv("BATON_ARTIFACTS")
	if dir == "" {
		dir = filepath.Join("..", "..", "artifacts")
	}
	require.NoError(t, os.MkdirAll(dir, 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "webui-filter-by-assignee.png"), shot, 0o644))
	require.Greater(t, len(shot), 10_000, "a real screenshot")
}
