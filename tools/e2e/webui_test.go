package e2e

import (
	"context"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/require"

	"github.com/batonhq/baton/activities"
	"github.com/batonhq/baton/claimclient"
	"github.com/batonhq/baton/internal/batontest"
	"github.com/batonhq/baton/policy"
	"github.com/batonhq/baton/workflows"
)

// TestWebUIFiltersClaimsByAssignee runs the dev stack's Temporal Web UI, opens the
// workflow list filtered by BatonAssignee in headless Chromium, and checks the
// claim is listed. The screenshot is kept in artifacts/ (BATON_ARTIFACTS to move it).
func TestWebUIFiltersClaimsByAssignee(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := directorySchema(t)

	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelError}))
	stack := startDevStack(t, t.TempDir(), freePort(t), freePort(t), "baton-webui",
		activities.New(db.Store, pol(policy.MethodRoundRobin, true), nil, "", log), log)
	t.Cleanup(func() { stack.stop(t) })
	srv, c := stack.srv, stack.c

	claims := claimclient.New(c, "baton-webui")
	_, err := claims.Start(ctx, workflows.ClaimInput{ClaimID: "webui-1"})
	require.NoError(t, err)
	batontest.Eventually(t, time.Minute, func() (bool, string) {
		s, err := claims.State(ctx, "webui-1")
		return err == nil && s.Assignee == "ann", "waiting for the claim to be assigned"
	})

	query := `BatonAssignee = "ann"`
	page := fmt.Sprintf("%s/namespaces/%s/workflows?query=%s", srv.UIURL(), srv.Namespace(), url.QueryEscape(query))
	run := newBrowser(t, 90*time.Second)

	require.NoError(t, chromedp.Do(run, chromedp.Navigate(page)))
	t.Cleanup(func() {
		if t.Failed() { // keep what the browser showed, for whoever reads the failure
			if shot, err := chromedp.Run(run, chromedp.FullScreenshot(100)); err == nil {
				_ = os.WriteFile(filepath.Join(os.TempDir(), "baton-webui-failure.png"), shot, 0o644)
			}
		}
	})
	// The list is filled in by the UI's own requests: wait for the claim to show.
	batontest.Eventually(t, time.Minute, func() (bool, string) {
		body, err := chromedp.Run(run, chromedp.Text(chromedp.CSS("body")))
		return err == nil && strings.Contains(body, "claim/webui-1"),
			fmt.Sprintf("the Web UI does not list the claim for %s (error %v); page text: %.2000s", query, err, body)
	})
	saveScreenshot(t, run, "webui-filter-by-assignee.png")
}
