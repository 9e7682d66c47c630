package e2e

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/batonhq/baton/internal/batontest"
	"github.com/batonhq/baton/internal/notify"
	"github.com/batonhq/baton/internal/store"
	"github.com/batonhq/baton/policy"
	"github.com/batonhq/baton/tools/testenv"
	"github.com/batonhq/baton/workflows"
)

// notifyDirectory: three assessors in round-robin order; cat turned e-mail off.
const notifyDirectory = `
users:
  - {id: ann, name: Ann Lee, email: ann@example.com, role: Claims assessor, permissions: [MakeClaimDecisions]}
  - {id: bob, name: Bob Ng, email: bob@example.com, role: Claims assessor, permissions: [MakeClaimDecisions]}
  - {id: cat, name: Cat Roy, email: cat@example.com, role: Claims assessor, permissions: [MakeClaimDecisions], emailNotifications: false}
`

type notified struct {
	b     *testenv.Baton
	smtp  *batontest.SMTPServer
	slack *batontest.SlackServer
}

// startNotified runs Baton (round robin) with e-mail through a real SMTP server
// (STARTTLS, PLAIN auth) and Slack through a webhook that fails its first
// slackFails posts.
func startNotified(t *testing.T, slackFails int) *notified {
	t.Helper()
	n := &notified{
		smtp:  batontest.NewSMTPServer(t, batontest.SMTPOptions{TLS: notify.TLSStartTLS, Username: "baton", Password: "pw"}),
		slack: batontest.NewSlackServer(t, slackFails),
	}
	n.b = testenv.Start(t, pol(policy.MethodRoundRobin, true), notifyDirectory, func(b *testenv.Baton) {
		b.Acts.Email = n.smtp.Sender("Baton <baton@example.com>")
		b.Acts.Slack = n.slack.Sender()
	})
	return n
}

func (n *notified) start(t *testing.T, i int) string {
	t.Helper()
	id := n.b.ClaimID(i)
	_, err := n.b.Claims.Start(context.Background(), workflows.ClaimInput{ClaimID: id})
	require.NoError(t, err)
	return id
}

// waitAllSent waits until every outbox row of the claims is sent and returns them.
func (n *notified) waitAllSent(t *testing.T, ids ...string) map[string][]store.OutboxMessage {
	t.Helper()
	out := map[string][]store.OutboxMessage{}
	batontest.Eventually(t, time.Minute, func() (bool, string) {
		for _, id := range ids {
			rows, err := n.b.DB.Store.OutboxByClaim(context.Background(), id)
			if err != nil {
				return false, err.Error()
			}
			if len(rows) == 0 {
				return false, id + ": nothing queued yet"
			}
			for _, r := range rows {
				if r.SentAt == nil {
					return false, fmt.Sprintf("%s: %s to %s unsent after %d attempts (%s)", id, r.Channel, r.Recipient, r.Attempts, r.LastError)
				}
			}
			out[id] = rows
		}
		return true, ""
	})
	return out
}

func link(id string, stage policy.Stage) string {
	return "https://baton.example/claims/" + id + "?stage=" + string(stage)
}

func keyOf(d policy.Decision, id string) workflows.SendNotificationsInput {
	return workflows.SendNotificationsInput{WorkflowID: workflows.WorkflowID(id), Stage: d.Stage, Seq: d.Seq}
}

// Round robin assigns two claims: each assignee gets exactly one e-mail and one
// Slack message, each with the claim's deep link; running SendNotifications
// again, twice, for the same decision sends nothing more.
func TestNotificationsEachAssigneeOnceOnEveryChannel(t *testing.T) {
	t.Parallel()
	n := startNotified(t, 0)
	ctx := context.Background()
	assignees := []string{"ann", "bob"}
	var ids []string
	var decisions []policy.Decision
	for i := range assignees {
		id := n.start(t, i+1)
		s := waitDecided(t, n.b, id, policy.StageCapture) // one at a time: round robin in order
		require.Equal(t, assignees[i], s.Assignee)
		ids = append(ids, id)
		decisions = append(decisions, s.Decisions[0])
	}
	n.waitAllSent(t, ids...)

	check := func() {
		t.Helper()
		require.Len(t, n.smtp.Mails(), 2)
		require.Len(t, n.slack.Texts(), 2)
		for i, id := range ids {
			user := assignees[i]
			mails := n.smtp.To(user + "@example.com")
			require.Len(t, mails, 1, user)
			m := mails[0]
			require.Equal(t, "Claim "+id+" is yours at capture", m.Header.Get("Subject"))
			require.Contains(t, m.Body, "Open the claim: "+link(id, policy.StageCapture)+"\n")
			require.Contains(t, m.Body, "Why: round robin")
			require.Equal(t, "baton", m.User)
			require.True(t, m.TLS)
			texts := n.slack.Mentioning(link(id, policy.StageCapture))
			require.Len(t, texts, 1, user)
			require.Contains(t, texts[0], "*Claim "+id+" is yours at capture* for ")
			require.Contains(t, texts[0], "("+user+")")
		}
	}
	check()

	// A retried SendNotifications: the activity, called twice more with each
	// decision's key, finds everything sent and sends nothing.
	for i, id := range ids {
		for range 2 {
			res, err := n.b.Acts.SendNotifications(ctx, keyOf(decisions[i], id))
			require.NoError(t, err)
			require.Equal(t, workflows.SendNotificationsResult{AlreadySent: 2}, res)
		}
	}
	check()
	for _, id := range ids {
		rows, err := n.b.DB.Store.OutboxByClaim(ctx, id)
		require.NoError(t, err)
		for _, r := range rows {
			require.Equal(t, 1, r.Attempts, "%s to %s", r.Channel, r.Recipient)
		}
	}
}

// A user with emailNotifications: false gets Slack (and the inbox) but no e-mail.
func TestNotificationsEmailOffSlackOnly(t *testing.T) {
	t.Parallel()
	n := startNotified(t, 0)
	ctx := context.Background()
	var ids []string
	for i := 1; i <= 3; i++ {
		ids = append(ids, n.start(t, i))
		waitDecided(t, n.b, ids[i-1], policy.StageCapture) // in order: ann, bob, cat
	}
	s, err := n.b.Claims.State(ctx, ids[2])
	require.NoError(t, err)
	require.Equal(t, "cat", s.Assignee)
	sent := n.waitAllSent(t, ids...)
	require.Len(t, sent[ids[2]], 1)
	require.Equal(t, notify.ChannelSlack, sent[ids[2]][0].Channel)
	require.Empty(t, n.smtp.To("cat@example.com"))
	require.Len(t, n.smtp.Mails(), 2, "ann and bob")
	texts := n.slack.Mentioning(link(ids[2], policy.StageCapture))
	require.Len(t, texts, 1)
	require.Contains(t, texts[0], "Cat Roy (cat)")
	items, err := n.b.DB.Store.Inbox(ctx, "cat", false, 10)
	require.NoError(t, err)
	require.Len(t, items, 1)
}

// Slack is down: the claim is assigned, and moves on, while every post fails; the
// failures are on the outbox row; once Slack answers, each decision's message
// arrives exactly once, and the e-mails, sent on the first attempt, were never
// sent again by the retries.
func TestNotificationsSlackDownNeverHoldsUpTheClaim(t *testing.T) {
	t.Parallel()
	const failFirst = 2
	n := startNotified(t, failFirst)
	// Hold keeps failing until released, so the checks below cannot race the
	// retry that succeeds.
	n.slack.Hold()
	ctx := context.Background()
	id := n.start(t, 1)
	batontest.Eventually(t, time.Minute, func() (bool, string) {
		s, err := n.b.Claims.State(ctx, id)
		if err != nil {
			return false, err.Error()
		}
		return s.Assignee == "ann" && n.slack.Failures() >= failFirst,
			fmt.Sprintf("assignee %q, %d Slack failures", s.Assignee, n.slack.Failures())
	})
	require.Empty(t, n.slack.Texts(), "the state showed the assignee before any Slack message went")
	s, err := n.b.Claims.State(ctx, id)
	require.NoError(t, err)
	require.Equal(t, workflows.StatusAssigned, s.Status)
	capture := keyOf(s.Decisions[0], id)
	rows, err := n.b.DB.Store.OutboxByKey(ctx, policy.DecisionKey{WorkflowID: capture.WorkflowID, Stage: capture.Stage, Seq: capture.Seq})
	require.NoError(t, err)
	require.Len(t, rows, 2)
	slackRow := rows[1]
	require.Equal(t, notify.ChannelSlack, slackRow.Channel)
	require.Nil(t, slackRow.SentAt)
	require.GreaterOrEqual(t, slackRow.Attempts, failFirst)
	require.Contains(t, slackRow.LastError, "answered 500 Internal Server Error: injected failure")

	// The claim moves on meanwhile: ann completes capture and review is decided.
	complete(t, n.b, id, "ann", policy.StageCapture)
	s = waitDecided(t, n.b, id, policy.StageReview)
	require.Equal(t, "ann", s.Assignee)
	require.Empty(t, n.slack.Texts())

	n.slack.Release()
	n.waitAllSent(t, id)
	for _, stage := range []policy.Stage{policy.StageCapture, policy.StageReview} {
		require.Len(t, n.slack.Mentioning(link(id, stage)), 1, stage)
		var mails int
		for _, m := range n.smtp.To("ann@example.com") {
			if m.Header.Get("Subject") == "Claim "+id+" is yours at "+string(stage) {
				mails++
			}
		}
		require.Equal(t, 1, mails, "one e-mail for %s, however often the activity retried", stage)
	}
	require.Len(t, n.smtp.Mails(), 2)
	rows, err = n.b.DB.Store.OutboxByClaim(ctx, id)
	require.NoError(t, err)
	for _, r := range rows {
		if r.Channel == notify.ChannelEmail {
			require.Equal(t, 1, r.Attempts, "e-mail for %s/%d", r.Stage, r.Seq)
		}
	}
}
