package activities

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net/mail"
	"strconv"
	"strings"
	"time"

	"github.com/batonhq/baton/internal/notify"
	"github.com/batonhq/baton/internal/store"
	"github.com/batonhq/baton/policy"
	"github.com/batonhq/baton/workflows"
)

// E-mail and Slack notifications go through an outbox. The decision or event that
// causes them writes one outbox row per configured channel per recipient in its
// own transaction (queueNotifications), so they exist exactly when it does and a
// retry cannot add them twice. The workflow then schedules SendNotifications for
// the same key in the background; it leases each unsent row, sends it, and marks
// it sent at once, so a retried or duplicated run skips what went out. The one
// gap: a crash, or a lost database, between the channel accepting a message and
// that mark leaves the row unsent, and a later attempt sends it again (as does a
// channel that took the message but whose answer was lost).

// notification is what to tell one user about a decision or event.
type notification struct {
	key     policy.DecisionKey
	claimID string
	user    string
	// subject is one line, e.g. "Claim C-1 is yours at capture".
	subject string
	// why explains it (the decision's reason), or is empty.
	why string
}

// lastErrorMax bounds the error text kept on an outbox row.
const lastErrorMax = 2000

// notifying reports whether any channel beyond the inbox is configured.
func (a *Activities) notifying() bool { return a.Email != nil || a.Slack != nil }

// queueNotifications writes n's outbox rows, one per configured channel, and
// returns how many it wrote, in the
// caller's transaction: e-mail unless the user turned it off (or has no
// address), Slack whenever a webhook is configured. A user no longer in the
// directory has nobody to reach and gets none.
func (a *Activities) queueNotifications(ctx context.Context, qs *store.Queries, n notification) (int, error) {
	msgs, err := a.outboxFor(ctx, qs.UserGet, n)
	if err != nil {
		return 0, err
	}
	for i, m := range msgs {
		if _, err := qs.OutboxAdd(ctx, m); err != nil {
			return i, err
		}
	}
	return len(msgs), nil
}

// outboxFor builds the e-mail and Slack messages n sends, one per channel
// configured and wanted by the recipient (read with user), for the caller to
// queue in the transaction that causes them.
func (a *Activities) outboxFor(ctx context.Context, user func(context.Context, string) (policy.User, error), n notification) ([]store.OutboxMessage, error) {
	if !a.notifying() || n.user == "" {
		return nil, nil
	}
	u, err := user(ctx, n.user)
	if errors.Is(err, store.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var out []store.OutboxMessage
	link := a.link(n.key.WorkflowID, n.claimID, n.key.Stage)
	row := func(channel string) store.OutboxMessage {
		return store.OutboxMessage{
			WorkflowID: n.key.WorkflowID, Stage: n.key.Stage, Seq: n.key.Seq, Channel: channel, Recipient: u.ID,
			ClaimID: n.claimID, Subject: n.subject, Link: link,
			MessageID: notify.MessageID(a.mailFrom(), n.key.WorkflowID, string(n.key.Stage), strconv.Itoa(n.key.Seq), channel, u.ID),
		}
	}
	if a.Email != nil && u.EmailNotifications && u.Email != "" {
		m := row(notify.ChannelEmail)
		m.Address = (&mail.Address{Name: u.Name, Address: u.Email}).String()
		m.Body = emailBody(u.Name, n, link)
		out = append(out, m)
	}
	if a.Slack != nil {
		m := row(notify.ChannelSlack)
		m.Body = slackText(u.Name, u.ID, n, link)
		out = append(out, m)
	}
	return out, nil
}

// mailFrom is the configured From address, for Message-IDs in its domain.
func (a *Activities) mailFrom() string {
	if s, ok := a.Email.(*notify.SMTP); ok {
		return s.From
	}
	return ""
}

func emailBody(name string, n notification, link string) string {
	var b strings.Builder
	if name != "" {
		fmt.Fprintf(&b, "Hello %s,\n\n", name)
	}
	fmt.Fprintf(&b, "%s.\n\n", strings.TrimSuffix(n.subject, "."))
	if n.why != "" {
		fmt.Fprintf(&b, "Why: %s\n\n", n.why)
	}
	fmt.Fprintf(&b, "Open the claim: %s\n\n-- \nBaton\n", link)
	return b.String()
}

// slackText is the message for the webhook's channel: who it is for, what, why
// and the link (Slack's mrkdwn, its control characters escaped).
func slackText(name, id string, n notification, link string) string {
	who := id
	if name != "" {
		who = fmt.Sprintf("%s (%s)", name, id)
	}
	text := fmt.Sprintf("*%s* for %s", slackEscape(n.subject), slackEscape(who))
	if n.why != "" {
		text += "\nWhy: " + slackEscape(n.why)
	}
	return text + fmt.Sprintf("\n<%s|Open the claim>", link)
}

func slackEscape(s string) string {
	return strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;").Replace(s)
}

// SendNotifications sends the e-mail and Slack messages queued for one decision
// or event, each at most once per successful run: a message already sent is
// skipped, one being sent by a concurrent run is left to it. A failed message is
// recorded on its row (attempts, last_error) and counted; the activity then
// fails so Temporal retries it, and the retry sends only what is still unsent.
func (a *Activities) SendNotifications(ctx context.Context, in workflows.SendNotificationsInput) (workflows.SendNotificationsResult, error) {
	key := policy.DecisionKey{WorkflowID: in.WorkflowID, Stage: in.Stage, Seq: in.Seq}
	var res workflows.SendNotificationsResult
	msgs, err := a.Store.OutboxByKey(ctx, key)
	if err != nil {
		return res, fmt.Errorf("send notifications of %s: %w", key, err)
	}
	var errs []error
	for _, m := range msgs {
		if m.SentAt != nil {
			res.AlreadySent++
			continue
		}
		sent, err := a.sendOne(ctx, m.ID)
		switch {
		case err != nil:
			res.Failed++
			errs = append(errs, fmt.Errorf("%s to %s: %w", m.Channel, m.Recipient, err))
		case sent:
			res.Sent++
		default:
			res.AlreadySent++
		}
	}
	if len(msgs) > 0 {
		a.Log.InfoContext(ctx, "notifications", "workflow_id", in.WorkflowID, "stage", in.Stage, "seq", in.Seq,
			"sent", res.Sent, "already_sent", res.AlreadySent, "failed", res.Failed)
	}
	if len(errs) > 0 {
		return res, fmt.Errorf("send notifications of %s: %w", key, errors.Join(errs...))
	}
	return res, nil
}

// sendTimeout bounds one message's send; sendLease, the time an attempt holds a
// message, is comfortably longer, so no two attempts ever send it at once.
const (
	sendTimeout = notify.DefaultTimeout
	sendLease   = sendTimeout + 90*time.Second
)

// sendOne sends one outbox message under a lease and records the outcome: sent_at
// as soon as the channel accepted it, or the failure. It reports false, with no
// error, when the message was already sent, and store.ErrOutboxBusy while another
// attempt holds it. No database connection is held during the send, so a slow
// mail server or webhook never starves the decisions of connections.
//
// The marks ignore the activity's cancellation (with a bound of their own) and
// marking sent is retried briefly, so a message that went out is recorded even
// when the worker is stopping or the activity's deadline passes just after: what
// remains is a crash, or a database unreachable for seconds, between the
// channel's acceptance and that one UPDATE, and the next attempt sends again.
func (a *Activities) sendOne(ctx context.Context, id int64) (bool, error) {
	token, err := leaseToken()
	if err != nil {
		return false, err
	}
	m, ok, err := a.Store.OutboxLease(ctx, id, token, sendLease)
	if err != nil || !ok {
		return false, err
	}
	sendCtx, cancel := context.WithTimeout(ctx, sendTimeout)
	sendErr := a.deliver(sendCtx, m)
	cancel()
	a.Metrics.Notification(m.Channel, sendErr)
	markCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	if sendErr != nil {
		a.Log.WarnContext(ctx, "notification not sent", "channel", m.Channel, "recipient", m.Recipient,
			"claim_id", m.ClaimID, "stage", m.Stage, "seq", m.Seq, "attempt", m.Attempts, "error", sendErr)
		if err := a.Store.OutboxMarkFailed(markCtx, id, token, lastError(sendErr)); err != nil {
			return false, errors.Join(sendErr, err)
		}
		return false, sendErr
	}
	for wait := 100 * time.Millisecond; ; wait *= 4 {
		err = a.Store.OutboxMarkSent(markCtx, id)
		if err == nil {
			return true, nil
		}
		select {
		case <-markCtx.Done():
			a.Log.ErrorContext(ctx, "notification sent but not marked sent: it may be sent again", "channel", m.Channel,
				"recipient", m.Recipient, "claim_id", m.ClaimID, "stage", m.Stage, "seq", m.Seq, "error", err)
			return false, fmt.Errorf("sent, but not marked sent (it may be sent again): %w", err)
		case <-time.After(wait):
		}
	}
}

func leaseToken() (string, error) {
	b := make([]byte, 12)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("lease token: %w", err)
	}
	return hex.EncodeToString(b), nil
}

// lastError is the error as an outbox row keeps it: valid UTF-8 without NULs
// (PostgreSQL text takes neither), at most lastErrorMax bytes.
func lastError(err error) string {
	msg := strings.ToValidUTF8(strings.ReplaceAll(err.Error(), "\x00", ""), "?")
	if len(msg) > lastErrorMax {
		msg = strings.ToValidUTF8(msg[:lastErrorMax], "")
	}
	return msg
}

// deliver hands one message to its channel.
func (a *Activities) deliver(ctx context.Context, m store.OutboxMessage) error {
	var s notify.Sender
	switch m.Channel {
	case notify.ChannelEmail:
		s = a.Email
	case notify.ChannelSlack:
		s = a.Slack
	}
	if s == nil {
		return fmt.Errorf("%s is not configured on this worker", m.Channel)
	}
	return s.Send(ctx, notify.Message{To: m.Address, Subject: m.Subject, Body: m.Body, Link: m.Link, MessageID: m.MessageID})
}
