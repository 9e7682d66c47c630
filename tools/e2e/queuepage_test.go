package e2e

import (
	"context"
	"fmt"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/require"

	"github.com/batonhq/baton/internal/httpapi"
	"github.com/batonhq/baton/policy"
	"github.com/batonhq/baton/tools/testenv"
	"github.com/batonhq/baton/workflows"
)

// TestQueuePageInBrowser signs in with a token, claims from the queue, sees the
// claim move to "my work", reassigns it with a comment and sees the timeline
// entry, in headless Chromium against the real API, workflow and database. It
// runs again with BATON_ACTOR_KEY: the page acts through the API, which signs.
func TestQueuePageInBrowser(t *testing.T) {
	t.Parallel()
	t.Run("no actor key", func(t *testing.T) { t.Parallel(); queuePageInBrowser(t) })
	t.Run("actor key", func(t *testing.T) {
		t.Parallel()
		queuePageInBrowser(t, testenv.WithActorKey(strings.Repeat("queue-page-key-", 3)))
	})
}

func queuePageInBrowser(t *testing.T, opts ...testenv.Option) {
	b := testenv.Start(t, parsePolicy(t, `
claims:
  enableClaimAssignments: true
  claimAssignmentMethod: manual
  stages:
    capture: {queue: intake}
`), directory, opts...)
	ctx := context.Background()
	token, _, err := b.DB.Store.TokenCreate(ctx, "ann", "browser test")
	require.NoError(t, err)
	srv := httptest.NewServer(httpapi.New(b.Claims, b.DB.Store, nil).Handler())
	t.Cleanup(srv.Close)
	id := b.ClaimID(1)
	_, err = b.Claims.Start(ctx, workflows.ClaimInput{ClaimID: id, Owner: "root"})
	require.NoError(t, err)
	waitDecided(t, b, id, policy.StageCapture)

	run := newBrowser(t, 2*time.Minute)

	waitText := func(sel, want string) { t.Helper(); waitPageText(t, run, sel, want) }
	row := fmt.Sprintf(`tr[data-claim=%q]`, id)

	require.NoError(t, chromedp.Do(run,
		chromedp.Navigate(srv.URL+"/"),
		chromedp.SetValue(chromedp.CSS("#token"), token),
		chromedp.Click(chromedp.CSS("#login")),
	))
	waitText("#me", "Signed in as Ann Lee (ann)")
	waitText("#queue", id)
	require.NoError(t, chromedp.Do(run, chromedp.Click(chromedp.CSS("#queue "+row+" button.claim"))))
	waitText("#mywork", id) // claimed: it moved to my work
	require.NoError(t, chromedp.Do(run,
		chromedp.Click(chromedp.CSS("#mywork "+row+" button.reassign")),
		chromedp.SetValue(chromedp.CSS("#reassign-user"), "bob"),
		chromedp.SetValue(chromedp.CSS("#reassign-comment"), "bob knows this customer"),
		chromedp.Click(chromedp.CSS("#reassign-submit")),
	))
	waitText("#timeline", "bob knows this customer")
	waitText("#queue", "bob")
	// Who may take it, from the ledger: ann, bob and cat hold MakeClaimDecisions.
	waitText("#cand-count", "3 eligible")
	waitText("#candidates", "Bob Ng (bob) · assigned")

	s, err := b.Claims.State(ctx, id)
	require.NoError(t, err)
	require.Equal(t, "bob", s.Assignee, "the page's actions reached the workflow")

	if len(opts) == 0 { // one screenshot of the page is enough
		saveScreenshot(t, run, "queue-page.png")
	}
}
