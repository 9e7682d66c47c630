package e2e

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/require"

	"github.com/batonhq/baton/internal/batontest"
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

// newBrowser starts headless Chromium for the test, with the flags this closed
// network needs (no background connections), and returns a tab context bounded
// by timeout.
func newBrowser(t *testing.T, timeout time.Duration) context.Context {
	t.Helper()
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(findChromium(t)), chromedp.NoSandbox, chromedp.DisableGPU, chromedp.UserDataDir(t.TempDir()),
		chromedp.Flag("disable-quic", true), chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true), chromedp.Flag("disable-sync", true),
		chromedp.WindowSize(1400, 900))
	alloc, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	browser, cancelBrowser := chromedp.NewContext(alloc)
	run, cancel := context.WithTimeout(browser, timeout)
	t.Cleanup(func() { cancel(); cancelBrowser(); cancelAlloc() })
	return run
}

// saveScreenshot keeps a full-page PNG in artifacts/ (BATON_ARTIFACTS to move it).
func saveScreenshot(t *testing.T, tab context.Context, name string) {
	t.Helper()
	shot, err := chromedp.Run(tab, chromedp.FullScreenshot(100))
	require.NoError(t, err)
	require.Greater(t, len(shot), 10_000, "a real screenshot")
	dir := os.Getenv("BATON_ARTIFACTS")
	if dir == "" {
		dir = filepath.Join("..", "..", "artifacts")
	}
	require.NoError(t, os.MkdirAll(dir, 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(dir, name), shot, 0o644))
}

// pageText reads the text of the first element matching a CSS selector, "" when
// there is none.
func pageText(run context.Context, sel string) string {
	s, _ := chromedp.Run(run, chromedp.Evaluate[string](fmt.Sprintf(`(document.querySelector(%q)||{}).innerText||""`, sel)))
	return s
}

// waitPageText waits until the element shows want, failing with what it and the
// page's #error show instead.
func waitPageText(t *testing.T, run context.Context, sel, want string) {
	t.Helper()
	batontest.Eventually(t, time.Minute, func() (bool, string) {
		got := pageText(run, sel)
		return strings.Contains(got, want), fmt.Sprintf("%s does not show %q: %s | error: %s", sel, want, got, pageText(run, "#error"))
	})
}
