package store

// The inbox table (queries/inbox.sql): in-app notifications.

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/batonhq/baton/policy"
)

// InboxItem is one in-app notification.
type InboxItem struct {
	ID        int64      `json:"id"`
	UserID    string     `json:"userId"`
	ClaimID   string     `json:"claimId"`
	Stage     string     `json:"stage"`
	Message   string     `json:"message"`
	Link      string     `json:"link"`
	CreatedAt time.Time  `json:"createdAt"`
	ReadAt    *time.Time `json:"readAt,omitempty"`
}

// InboxAdd notifies a user of a decision; a second call for the same decision and
// user does nothing.
func (qs *Queries) InboxAdd(ctx context.Context, k policy.DecisionKey, claimID, userID, message, link string) error {
	row := inboxRow{k, claimID, InboxEntry{UserID: userID, Message: message, Link: link}}
	sql, args, err := inboxInsert(row)
	if err == nil {
		_, err = qs.db.Exec(ctx, sql, args...)
	}
	if err != nil {
		return fmt.Errorf("add inbox item for %s on %s: %w", userID, k, err)
	}
	return nil
}

// inboxRow is one decision's notification as InboxInsert writes it.
type inboxRow struct {
	key     policy.DecisionKey
	claimID string
	InboxEntry
}

// inboxInsert is InboxInsert with its arguments for rows, a column each.
func inboxInsert(rows ...inboxRow) (string, []any, error) {
	n := len(rows)
	user, wf, claim, stage, message, link := make([]string, n), make([]string, n), make([]string, n), make([]string, n),
		make([]string, n), make([]string, n)
	seq := make([]int, n)
	for i, r := range rows {
		user[i], wf[i], claim[i], stage[i], seq[i] = r.UserID, r.key.WorkflowID, r.claimID, string(r.key.Stage), r.key.Seq
		message[i], link[i] = r.Message, r.Link
	}
	return named("InboxInsert", Args{"user_id": user, "workflow_id": wf, "claim_id": claim, "stage": stage, "seq": seq,
		"message": message, "link": link})
}

// Inbox lists a user's notifications, newest first; unread only unless all.
func (qs *Queries) Inbox(ctx context.Context, userID string, all bool, limit int) ([]InboxItem, error) {
	rows, err := qs.db.Query(ctx, q("InboxList"), userID, all, limit)
	if err != nil {
		return nil, fmt.Errorf("list inbox of %s: %w", userID, err)
	}
	items, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (InboxItem, error) {
		var it InboxItem
		err := r.Scan(&it.ID, &it.UserID, &it.ClaimID, &it.Stage, &it.Message, &it.Link, &it.CreatedAt, &it.ReadAt)
		return it, err
	})
	if err != nil {
		return nil, fmt.Errorf("list inbox of %s: %w", userID, err)
	}
	return items, nil
}

// InboxMarkRead marks one of a user's items read; it reports whether it changed one.
func (qs *Queries) InboxMarkRead(ctx context.Context, userID string, id int64) (bool, error) {
	tag, err := qs.db.Exec(ctx, q("InboxMarkRead"), userID, id)
	if err != nil {
		return false, fmt.Errorf("mark inbox item %d read: %w", id, err)
	}
	return tag.RowsAffected() == 1, nil
}

// InboxEntry is one in-app notification about a decision.
type InboxEntry struct {
	UserID, Message, Link string
}
