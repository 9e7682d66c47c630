package activities_test

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/batonhq/baton/activities"
	"github.com/batonhq/baton/internal/batontest"
	"github.com/batonhq/baton/internal/metrics"
	"github.com/batonhq/baton/internal/notify"
	"github.com/batonhq/baton/internal/store"
	"github.com/batonhq/baton/policy"
	"github.com/batonhq/baton/policy/yamlfile"
	"github.com/batonhq/baton/workflows"
)

const notifyDirectory = `
users:
  - {id: ann, name: Ann Lee, email: ann@example.com, permissions: [MakeClaimDecisions]}
  - {id: ben, name: Ben Ode, email: ben@example.com, permissions: [MakeClaimDecisions], emailNotifications: false}
  - {id: gus, name: Gus Lind, email: gus@example.com, permissions: [Admin, ManageReassignmentGroups]}
`

type notifyFixture struct {
	acts  *activities.Activities
	db    *batontest.Schema
	m     *metrics.Metrics
	smtp  *batontest.SMTPServer
	slack *batontest.SlackServer
}

// setupNotify is the activities over a fresh schema with e-mail (STARTTLS and
// PLAIN auth) and Slack configured; slackFails is how many posts the webhook
// fails first.
func setupNotify(t *testing.T, slackFails int) *notifyFixture {
	t.Helper()
	db := batontest.New(t)
	d, err := yamlfile.ParseDirectory("directory.yaml", []byte(notifyDirectory))
	require.NoError(t, err)
	_, err = db.Store.LoadDirectory(context.Background(), d)
	require.NoError(t, err)
	f := &notifyFixture{
		db:    db,
		m:     metrics.New(),
		smtp:  batontest.NewSMTPServer(t, batontest.SMTPOptions{TLS: notify.TLSStartTLS, Username: "baton", Password: "pw"}),
		slack: batontest.NewSlackServer(t, slackFails),
	}
	f.acts = activities.New(db.Store, &policy.Policy{Version: "v1", AssignmentsEnabled: true, Method: policy.MethodRoundRobin},
		nil, "https://baton.example/claims/{claim_id}?stage={stage}", nil)
	f.acts.Metrics = f.m
	f.acts.Email = f.smtp.Sender("Baton <baton@example.com>")
	f.acts.Slack = f.slack.Sender()
	return f
}

func (f *notifyFixture) sent(t *testing.T, channel string) float64 {
	return counterValue(t, f.m, "baton_notifications_total", map[string]string{"channel": channel, "result": "sent"})
}

func (f *notifyFixture) failed(t *testing.T, channel string) float64 {
	return counterValue(t, f.m, "baton_notifications_total", map[string]string{"channel": channel, "result": "failed"})
}

func assign(t *testing.T, a *activities.Activities, claimID string, seq int, user string) workflows.SendNotificationsInput {
	t.Helper()
	in := workflows.RecordAssignmentInput{WorkflowID: workflows.WorkflowID(claimID), ClaimID: claimID, Stage: policy.StageCapture,
		Seq: seq, Assignee: user, Actor: "gus", PolicyVersion: "v1"}
	for range 2 { // a retried activity queues nothing twice
		_, err := a.RecordAssignment(context.Background(), in)
		require.NoError(t, err)
	}
	return workflows.SendNotificationsInput{WorkflowID: in.WorkflowID, Stage: in.Stage, Seq: in.Seq}
}

func TestDecisionQueuesOneMessagePerChannel(t *testing.T) {
	t.Parallel()
	f := setupNotify(t, 0)
	ctx := context.Background()
	key := assign(t, f.acts, "C-1", 1, "ann")
	rows, err := f.db.Store.OutboxByKey(ctx, policy.DecisionKey{WorkflowID: key.WorkflowID, Stage: key.Stage, Seq: key.Seq})
	require.NoError(t, err)
	require.Len(t, rows, 2)
	email, slack := rows[0], rows[1]
	require.Equal(t, notify.ChannelEmail, email.Channel)
	require.Equal(t, `"Ann Lee" <ann@example.com>`, email.Address)
	require.Equal(t, "Claim C-1 is yours at capture", email.Subject)
	require.Equal(t, "https://baton.example/claims/C-1?stage=capture", email.Link)
	require.Contains(t, email.Body, "Why: assigned by gus\n")
	require.Contains(t, email.Body, "Open the claim: https://baton.example/claims/C-1?stage=capture\n")
	require.Regexp(t, `^<baton\.[0-9a-f]{32}@example\.com>$`, email.MessageID)
	require.Equal(t, notify.ChannelSlack, slack.Channel)
	require.Empty(t, slack.Address)
	require.Equal(t, "*Claim C-1 is yours at capture* for Ann Lee (ann)\nWhy: assigned by gus\n"+
		"<https://baton.example/claims/C-1?stage=capture|Open the claim>", slack.Body)

	// ben turned e-mail off: Slack only.
	key = assign(t, f.acts, "C-2", 1, "ben")
	rows, err = f.db.Store.OutboxByKey(ctx, policy.DecisionKey{WorkflowID: key.WorkflowID, Stage: key.Stage, Seq: key.Seq})
	require.NoError(t, err)
	require.Len(t, rows, 1)
	require.Equal(t, notify.ChannelSlack, rows[0].Channel)

	// An unassignment names nobody: nobody to tell.
	_, err = f.acts.RecordAssignment(ctx, workflows.RecordAssignmentInput{WorkflowID: workflows.WorkflowID("C-1"), ClaimID: "C-1",
		Stage: policy.StageCapture, Seq: 2, Actor: "gus", Previous: "ann", Method: policy.MethodUnassign})
	require.NoError(t, err)
	all, err := f.db.Store.OutboxByClaim(ctx, "C-1")
	require.NoError(t, err)
	require.Len(t, all, 2)
}

func TestUnconfiguredChannelsQueueNothing(t *testing.T) {
	t.Parallel()
	f := setupNotify(t, 0)
	f.acts.Email, f.acts.Slack = nil, nil
	key := assign(t, f.acts, "C-1", 1, "ann")
	rows, err := f.db.Store.OutboxByClaim(context.Background(), "C-1")
	require.NoError(t, err)
	require.Empty(t, rows)
	res, err := f.acts.SendNotifications(context.Background(), key)
	require.NoError(t, err)
	require.Equal(t, workflows.SendNotificationsResult{}, res)
	items, err := f.db.Store.Inbox(context.Background(), "ann", false, 10)
	require.NoError(t, err)
	require.Len(t, items, 1, "the in-app inbox does not depend on them")
}

// A retried SendNotifications sends nothing twice: each message is marked sent as
// it goes, and the next run skips it.
func TestSendNotificationsRetriedSendsOnce(t *testing.T) {
	t.Parallel()
	f := setupNotify(t, 0)
	ctx := context.Background()
	key := assign(t, f.acts, "C-1", 1, "ann")
	res, err := f.acts.SendNotifications(ctx, key)
	require.NoError(t, err)
	require.Equal(t, workflows.SendNotificationsResult{Sent: 2}, res)
	res, err = f.acts.SendNotifications(ctx, key)
	require.NoError(t, err)
	require.Equal(t, workflows.SendNotificationsResult{AlreadySent: 2}, res)

	mails := f.smtp.To("ann@example.com")
	require.Len(t, mails, 1)
	require.Equal(t, "Claim C-1 is yours at capture", mails[0].Header.Get("Subject"))
	require.Equal(t, "baton", mails[0].User, "PLAIN auth")
	require.True(t, mails[0].TLS, "STARTTLS")
	require.Contains(t, mails[0].Body, "https://baton.example/claims/C-1?stage=capture")
	require.Len(t, f.slack.Texts(), 1)
	require.Equal(t, 1.0, f.sent(t, notify.ChannelEmail))
	require.Equal(t, 1.0, f.sent(t, notify.ChannelSlack))
}

// A failed send is recorded on its row and counted; the activity fails, and its
// retry sends only what is still unsent.
func TestSendNotificationsFailureRecordedThenRetried(t *testing.T) {
	t.Parallel()
	f := setupNotify(t, 2)
	ctx := context.Background()
	key := assign(t, f.acts, "C-1", 1, "ann")
	for attempt := 1; attempt <= 2; attempt++ {
		res, err := f.acts.SendNotifications(ctx, key)
		require.ErrorContains(t, err, "slack to ann: slack webhook http://127.0.0.1")
		require.ErrorContains(t, err, "answered 500 Internal Server Error: injected failure")
		require.Equal(t, 1, res.Failed)
		row := outboxRow(t, f, key, notify.ChannelSlack)
		require.Equal(t, attempt, row.Attempts)
		require.Contains(t, row.LastError, "injected failure")
		require.Nil(t, row.SentAt)
	}
	res, err := f.acts.SendNotifications(ctx, key)
	require.NoError(t, err)
	require.Equal(t, workflows.SendNotificationsResult{Sent: 1, AlreadySent: 1}, res)
	row := outboxRow(t, f, key, notify.ChannelSlack)
	require.Equal(t, 3, row.Attempts)
	require.NotNil(t, row.SentAt)
	require.Equal(t, 1, outboxRow(t, f, key, notify.ChannelEmail).Attempts, "e-mail went on the first run, once")
	require.Len(t, f.smtp.Mails(), 1)
	require.Len(t, f.slack.Texts(), 1)
	require.Equal(t, 2.0, f.failed(t, notify.ChannelSlack))
	require.Equal(t, 1.0, f.sent(t, notify.ChannelSlack))
	require.Equal(t, 0.0, f.failed(t, notify.ChannelEmail))
}

// Copies of the activity running at once (a retry overtaking a slow first
// attempt) send each message once: a row is locked while it is sent.
func TestSendNotificationsConcurrentCopiesSendOnce(t *testing.T) {
	t.Parallel()
	f := setupNotify(t, 0)
	ctx := context.Background()
	key := assign(t, f.acts, "C-1", 1, "ann")
	var wg sync.WaitGroup
	errs := make([]error, 8)
	for i := range errs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, errs[i] = f.acts.SendNotifications(ctx, key)
		}()
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			require.ErrorIs(t, err, store.ErrOutboxBusy, "the only failure is finding another copy sending")
		}
	}
	res, err := f.acts.SendNotifications(ctx, key)
	require.NoError(t, err)
	require.Equal(t, workflows.SendNotificationsResult{AlreadySent: 2}, res)
	require.Len(t, f.smtp.Mails(), 1)
	require.Len(t, f.slack.Texts(), 1)
}

// An escalation notifies the assignee and the target on every channel; an offer
// notifies the member offered.
func TestEventsQueueNotifications(t *testing.T) {
	t.Parallel()
	f := setupNotify(t, 0)
	ctx := context.Background()
	ev := workflows.RecordEventInput{TimelineEvent: policy.TimelineEvent{WorkflowID: workflows.WorkflowID("C-1"), ClaimID: "C-1", Stage: policy.StageCapture, Seq: 3,
		Kind: policy.EventEscalated, Subject: "ann"},
		Notify: []string{"ann", "gus"}, Message: "Claim C-1 is overdue: capture not completed within 2d"}
	for range 2 {
		require.NoError(t, f.acts.RecordEvent(ctx, ev))
	}
	res, err := f.acts.SendNotifications(ctx, workflows.SendNotificationsInput{WorkflowID: ev.WorkflowID, Stage: ev.Stage, Seq: ev.Seq})
	require.NoError(t, err)
	require.Equal(t, workflows.SendNotificationsResult{Sent: 4}, res)
	for _, to := range []string{"ann@example.com", "gus@example.com"} {
		mails := f.smtp.To(to)
		require.Len(t, mails, 1, to)
		require.Equal(t, "Claim C-1 is overdue: capture not completed within 2d", mails[0].Header.Get("Subject"))
	}
	require.Len(t, f.slack.Mentioning("overdue"), 2)

	require.NoError(t, f.db.Store.ApplyGroups(ctx, "groups.yaml", "gus", []policy.ReassignmentGroup{
		{Name: "seniors", Members: []string{"ben"}, DefaultAssignee: "gus", Method: policy.GroupRoundRobin, OfferTimeout: time.Minute}}))
	// The stage's own decision says who may be offered it (ann and ben hold the permission).
	_, err = f.acts.ResolveAssignment(ctx, workflows.ResolveAssignmentInput{WorkflowID: workflows.WorkflowID("C-1"),
		Claim: policy.Claim{ID: "C-1"}, Stage: policy.StageCapture, Seq: 1})
	require.NoError(t, err)
	offer := workflows.OfferNextInput{WorkflowID: workflows.WorkflowID("C-1"), ClaimID: "C-1", Stage: policy.StageCapture, Seq: 4,
		Group: "seniors", DecidedSeq: 1, OfferTimeout: time.Minute}
	got, err := f.acts.OfferNext(ctx, offer)
	require.NoError(t, err)
	require.Equal(t, "ben", got.Member)
	_, err = f.acts.SendNotifications(ctx, workflows.SendNotificationsInput{WorkflowID: offer.WorkflowID, Stage: offer.Stage, Seq: offer.Seq})
	require.NoError(t, err)
	offers := f.slack.Mentioning("is offered to you")
	require.Len(t, offers, 1)
	require.True(t, strings.Contains(offers[0], "Ben Ode (ben)"), offers[0])
	require.Empty(t, f.smtp.To("ben@example.com"), "ben turned e-mail off")
}

func outboxRow(t *testing.T, f *notifyFixture, key workflows.SendNotificationsInput, channel string) store.OutboxMessage {
	t.Helper()
	rows, err := f.db.Store.OutboxByKey(context.Background(), policy.DecisionKey{WorkflowID: key.WorkflowID, Stage: key.Stage, Seq: key.Seq})
	require.NoError(t, err)
	for _, r := range rows {
		if r.Channel == channel {
			return r
		}
	}
	t.Fatalf("no %s row for %v", channel, key)
	return store.OutboxMessage{}
}
