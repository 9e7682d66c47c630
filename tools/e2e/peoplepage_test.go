package e2e

import (
	"context"
	"fmt"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/require"

	"github.com/batonhq/baton/internal/httpapi"
	"github.com/batonhq/baton/policy"
	"github.com/batonhq/baton/tools/testenv"
	"github.com/batonhq/baton/workflows"
)

// TestPeoplesPageInBrowser: an admin who also assesses sees their status and
// open work against their limit, the team view with everyone's open work, sets
// themselves away and sees the team view change, reads the claim's data and
// completes review with an outcome, in headless Chromium against the real API,
// workflow and database.
func TestPeoplesPageInBrowser(t *testing.T) {
	t.Parallel()
	b := testenv.Start(t, pol(policy.MethodRoundRobin, true), `
users:
  - {id: ada, name: Ada Obi, email: ada@example.com, permissions: [Admin, MakeClaimDecisions], capacity: {total: 4}}
  - {id: bob, name: Bob Ng, email: bob@example.com, permissions: [MakeClaimDecisions]}
`)
	ctx := context.Background()
	token, _, err := b.DB.Store.TokenCreate(ctx, "ada", "browser test")
	require.NoError(t, err)
	srv := httptest.NewServer(httpapi.New(b.Claims, b.DB.Store, nil).Handler())
	t.Cleanup(srv.Close)
	id := b.ClaimID(1)
	_, err = b.Claims.Start(ctx, workflows.ClaimInput{ClaimID: id, Data: map[string]string{"amount": "1200"}})
	require.NoError(t, err)
	require.Equal(t, "ada", waitDecided(t, b, id, policy.StageCapture).Assignee)
	_, err = b.Claims.Complete(ctx, id, workflows.CompleteInput{Actor: "ada"})
	require.NoError(t, err)
	require.Equal(t, "ada", waitDecided(t, b, id, policy.StageReview).Assignee)

	run := newBrowser(t, 2*time.Minute)
	waitText := func(sel, want string) { t.Helper(); waitPageText(t, run, sel, want) }
	require.NoError(t, chromedp.Do(run,
		chromedp.Navigate(srv.URL+"/"),
		chromedp.SetValue(chromedp.CSS("#token"), token),
		chromedp.Click(chromedp.CSS("#login")),
	))
	waitText("#my-status", "available")
	waitText("#my-open", "1 open of 4")
	waitText(`#team tr[data-user="ada"]`, "available")
	waitText(`#team tr[data-user="bob"]`, "no limit")

	require.NoError(t, chromedp.Do(run,
		chromedp.SetValue(chromedp.CSS("#status-select"), "away"),
		chromedp.Click(chromedp.CSS("#status-submit")),
	))
	waitText("#my-status", "away")
	waitText(`#team tr[data-user="ada"]`, "away")
	w, err := b.DB.Store.UserWorkload(ctx, "ada")
	require.NoError(t, err)
	require.Equal(t, policy.Away, w.Status)

	row := fmt.Sprintf(`#mywork tr[data-claim=%q]`, id)
	waitText(row, "review")
	require.NoError(t, chromedp.Do(run, chromedp.Click(chromedp.CSS(row+" button.timeline"))))
	waitText("#claim-data", "amount")
	waitText("#claim-data", "1200")
	require.NoError(t, chromedp.Do(run,
		chromedp.SetValue(chromedp.CSS(row+" select.outcome"), "goodwill"),
		chromedp.Click(chromedp.CSS(row+" button.complete")),
	))
	waitText("#timeline", "review · completed by ada")
	s, err := b.Claims.State(ctx, id)
	require.NoError(t, err)
	require.Equal(t, policy.StageAcknowledge, s.Stage)
	require.Equal(t, policy.OutcomeGoodwill, s.ReviewOutcome)
}
