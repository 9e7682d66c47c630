package store

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/batonhq/baton/policy"
)

// OutboxMessage is one notification to send on one channel to one user: written
// with the decision or event that causes it, sent later by SendNotifications.
type OutboxMessage struct {
	ID         int64        `json:"id"`
	WorkflowID string       `json:"workflowId"`
	Stage      policy.Stage `json:"stage"`
	Seq        int          `json:"seq"`
	// Channel is "email" or "slack".
	Channel string `json:"channel"`
	// Recipient is the user notified.
	Recipient string `json:"recipient"`
	ClaimID   string `json:"claimId"`
	// Address is the recipient's e-mail address; empty for Slack, which posts to
	// the configured webhook's channel.
	Address string `json:"address,omitempty"`
	Subject string `json:"subject"`
	Body    string `json:"body"`
	Link    string `json:"link"`
	// MessageID is the e-mail's Message-ID, the same on every attempt.
	MessageID string     `json:"messageId"`
	Attempts  int        `json:"attempts"`
	LastError string     `json:"lastError,omitempty"`
	CreatedAt time.Time  `json:"createdAt"`
	SentAt    *time.Time `json:"sentAt,omitempty"`
}

// Key is the decision or event the message belongs to.
func (m OutboxMessage) Key() policy.DecisionKey {
	return policy.DecisionKey{WorkflowID: m.WorkflowID, Stage: m.Stage, Seq: m.Seq}
}

// OutboxAdd queues a message. It reports false when the key already has a row for
// the channel and recipient (a retry), and then writes nothing. Call it inside the
// transaction of the decision or event that causes it.
func (qs *Queries) OutboxAdd(ctx context.Context, m OutboxMessage) (bool, error) {
	sql, args, err := outboxInsert(m)
	if err != nil {
		return false, err
	}
	tag, err := qs.db.Exec(ctx, sql, args...)
	if err != nil {
		return false, fmt.Errorf("queue %s notification for %s on %s: %w", m.Channel, m.Recipient, m.Key(), err)
	}
	return tag.RowsAffected() == 1, nil
}

// outboxInsert is OutboxInsert with its arguments for messages, a column each.
func outboxInsert(messages ...OutboxMessage) (string, []any, error) {
	n := len(messages)
	cols := make([][]string, 10)
	for c := range cols {
		cols[c] = make([]string, n)
	}
	seq := make([]int, n)
	for i, m := range messages {
		seq[i] = m.Seq
		for c, v := range []string{m.WorkflowID, string(m.Stage), string(m.Channel), m.Recipient, m.ClaimID, m.Address,
			m.Subject, m.Body, m.Link, m.MessageID} {
			cols[c][i] = v
		}
	}
	return named("OutboxInsert", Args{"workflow_id": cols[0], "stage": cols[1], "seq": seq, "channel": cols[2],
		"recipient": cols[3], "claim_id": cols[4], "address": cols[5], "subject": cols[6], "body": cols[7], "link": cols[8],
		"message_id": cols[9]})
}

// OutboxUnsent lists the ids of a key's messages not yet sent, in order.
func (qs *Queries) OutboxUnsent(ctx context.Context, k policy.DecisionKey) ([]int64, error) {
	rows, err := qs.db.Query(ctx, q("OutboxUnsent"), k.WorkflowID, k.Stage, k.Seq)
	if err != nil {
		return nil, fmt.Errorf("unsent notifications of %s: %w", k, err)
	}
	ids, err := pgx.CollectRows(rows, pgx.RowTo[int64])
	if err != nil {
		return nil, fmt.Errorf("unsent notifications of %s: %w", k, err)
	}
	return ids, nil
}

// OutboxLease takes an unsent message for one send attempt, under token, for
// lease: no other attempt may take it until the lease ends or is released, and
// the attempt is counted. It reports false when the message was already sent,
// and ErrOutboxBusy while another lease stands. The sender must finish within the
// lease, then call OutboxMarkSent or OutboxMarkFailed; a crashed sender's lease
// simply runs out. No transaction or connection is held meanwhile.
func (qs *Queries) OutboxLease(ctx context.Context, id int64, token string, lease time.Duration) (OutboxMessage, bool, error) {
	m, err := scanOutbox(qs.db.QueryRow(ctx, q("OutboxLease"), id, token, lease.Seconds()))
	if err == nil {
		return m, true, nil
	}
	if !errors.Is(err, pgx.ErrNoRows) {
		return OutboxMessage{}, false, fmt.Errorf("lease notification %d: %w", id, err)
	}
	var sent bool
	if err := qs.db.QueryRow(ctx, q("OutboxIsSent"), id).Scan(&sent); err != nil {
		if errors.Is(err, pgx.ErrNoRows) {
			return OutboxMessage{}, false, fmt.Errorf("notification %d: %w", id, ErrNotFound)
		}
		return OutboxMessage{}, false, fmt.Errorf("read notification %d: %w", id, err)
	}
	if sent {
		return OutboxMessage{}, false, nil
	}
	return OutboxMessage{}, false, fmt.Errorf("notification %d: %w", id, ErrOutboxBusy)
}

// OutboxMarkSent records that the message went out: sent_at, and the lease ends.
// A sent message is never sent again.
func (qs *Queries) OutboxMarkSent(ctx context.Context, id int64) error {
	if _, err := qs.db.Exec(ctx, q("OutboxMarkSent"), id); err != nil {
		return fmt.Errorf("mark notification %d sent: %w", id, err)
	}
	return nil
}

// OutboxMarkFailed records a failed attempt's error and releases its lease (if
// token still holds it), so the next attempt may send at once.
func (qs *Queries) OutboxMarkFailed(ctx context.Context, id int64, token, msg string) error {
	if _, err := qs.db.Exec(ctx, q("OutboxMarkFailed"), id, token, msg); err != nil {
		return fmt.Errorf("mark notification %d failed: %w", id, err)
	}
	return nil
}

// OutboxByKey lists every message of a decision or event, sent or not.
func (qs *Queries) OutboxByKey(ctx context.Context, k policy.DecisionKey) ([]OutboxMessage, error) {
	rows, err := qs.db.Query(ctx, q("OutboxByKey"), k.WorkflowID, k.Stage, k.Seq)
	if err != nil {
		return nil, fmt.Errorf("notifications of %s: %w", k, err)
	}
	return collectOutbox(rows, k.String())
}

// OutboxByClaim lists every message about a claim, oldest first.
func (qs *Queries) OutboxByClaim(ctx context.Context, claimID string) ([]OutboxMessage, error) {
	rows, err := qs.db.Query(ctx, q("OutboxByClaim"), claimID)
	if err != nil {
		return nil, fmt.Errorf("notifications of %s: %w", claimID, err)
	}
	return collectOutbox(rows, claimID)
}

func collectOutbox(rows pgx.Rows, of string) ([]OutboxMessage, error) {
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (OutboxMessage, error) { return scanOutbox(r) })
	if err != nil {
		return nil, fmt.Errorf("notifications of %s: %w", of, err)
	}
	return out, nil
}

func scanOutbox(row pgx.Row) (OutboxMessage, error) {
	var m OutboxMessage
	err := row.Scan(&m.ID, &m.WorkflowID, &m.Stage, &m.Seq, &m.Channel, &m.Recipient, &m.ClaimID, &m.Address,
		&m.Subject, &m.Body, &m.Link, &m.MessageID, &m.Attempts, &m.LastError, &m.CreatedAt, &m.SentAt)
	return m, err
}

// OutboxStale lists up to limit unsent messages older than age that no attempt
// holds a lease on, oldest first.
func (qs *Queries) OutboxStale(ctx context.Context, age time.Duration, limit int) ([]int64, error) {
	rows, err := qs.db.Query(ctx, q("OutboxStale"), age.Seconds(), limit)
	if err != nil {
		return nil, fmt.Errorf("stale notifications: %w", err)
	}
	return pgx.CollectRows(rows, pgx.RowTo[int64])
}
