package store_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/batonhq/baton/internal/batontest"
	"github.com/batonhq/baton/internal/store"
	"github.com/batonhq/baton/policy"
)

func outboxRow(channel, recipient string) store.OutboxMessage {
	return store.OutboxMessage{WorkflowID: "claim/C-1", Stage: policy.StageCapture, Seq: 1, Channel: channel,
		Recipient: recipient, ClaimID: "C-1", Address: recipient + "@example.com", Subject: "Claim C-1 is yours at capture",
		Body: "body", Link: "https://baton.example/claims/C-1?stage=capture", MessageID: "<m-" + channel + "-" + recipient + "@example.com>"}
}

func TestOutboxOneRowPerChannelAndRecipient(t *testing.T) {
	t.Parallel()
	db := batontest.New(t)
	ctx := context.Background()
	key := policy.DecisionKey{WorkflowID: "claim/C-1", Stage: policy.StageCapture, Seq: 1}
	for _, m := range []store.OutboxMessage{outboxRow("email", "ann"), outboxRow("slack", "ann"), outboxRow("email", "bob")} {
		added, err := db.Store.OutboxAdd(ctx, m)
		require.NoError(t, err)
		require.True(t, added)
	}
	again := outboxRow("email", "ann")
	again.Body = "a retry's copy"
	added, err := db.Store.OutboxAdd(ctx, again)
	require.NoError(t, err)
	require.False(t, added, "a retry adds nothing")
	_, err = db.Store.OutboxAdd(ctx, outboxRow("fax", "ann"))
	require.Error(t, err, "unknown channel")

	rows, err := db.Store.OutboxByKey(ctx, key)
	require.NoError(t, err)
	require.Len(t, rows, 3)
	require.Equal(t, "body", rows[0].Body, "the first write stands")
	require.Equal(t, key, rows[0].Key())
	require.Nil(t, rows[0].SentAt)
	unsent, err := db.Store.OutboxUnsent(ctx, key)
	require.NoError(t, err)
	require.Equal(t, []int64{rows[0].ID, rows[1].ID, rows[2].ID}, unsent)
	byClaim, err := db.Store.OutboxByClaim(ctx, "C-1")
	require.NoError(t, err)
	require.Equal(t, rows, byClaim)
}

func TestOutboxLeaseSendMark(t *testing.T) {
	t.Parallel()
	db := batontest.New(t)
	ctx := context.Background()
	_, err := db.Store.OutboxAdd(ctx, outboxRow("slack", "ann"))
	require.NoError(t, err)
	key := policy.DecisionKey{WorkflowID: "claim/C-1", Stage: policy.StageCapture, Seq: 1}
	ids, err := db.Store.OutboxUnsent(ctx, key)
	require.NoError(t, err)
	id := ids[0]

	// A failed attempt is counted, keeps its error and releases its lease.
	m, ok, err := db.Store.OutboxLease(ctx, id, "a1", time.Minute)
	require.NoError(t, err)
	require.True(t, ok)
	require.Equal(t, "ann", m.Recipient)
	require.Equal(t, 1, m.Attempts)
	_, _, err = db.Store.OutboxLease(ctx, id, "a2", time.Minute)
	require.ErrorIs(t, err, store.ErrOutboxBusy, "one attempt at a time")
	require.NoError(t, db.Store.OutboxMarkFailed(ctx, id, "a1", "slack webhook answered 500"))

	// The next attempt takes it at once; a lease that ran out (a crashed sender)
	// can be taken over.
	_, ok, err = db.Store.OutboxLease(ctx, id, "a2", -time.Second)
	require.NoError(t, err)
	require.True(t, ok)
	m, ok, err = db.Store.OutboxLease(ctx, id, "a3", time.Minute)
	require.NoError(t, err)
	require.True(t, ok)
	require.Equal(t, 3, m.Attempts)
	// A late failure report from the lapsed attempt keeps its error but not a3's lease.
	require.NoError(t, db.Store.OutboxMarkFailed(ctx, id, "a2", "timeout"))
	_, _, err = db.Store.OutboxLease(ctx, id, "a4", time.Minute)
	require.ErrorIs(t, err, store.ErrOutboxBusy)
	require.NoError(t, db.Store.OutboxMarkSent(ctx, id))

	// Sent: nothing to lease, nothing unsent, and a sent row is never changed.
	_, ok, err = db.Store.OutboxLease(ctx, id, "a5", time.Minute)
	require.NoError(t, err)
	require.False(t, ok)
	require.NoError(t, db.Store.OutboxMarkFailed(ctx, id, "a5", "too late"))
	rows, err := db.Store.OutboxByKey(ctx, key)
	require.NoError(t, err)
	require.Len(t, rows, 1)
	require.NotNil(t, rows[0].SentAt)
	require.Equal(t, 3, rows[0].Attempts)
	require.Equal(t, "timeout", rows[0].LastError)
	unsent, err := db.Store.OutboxUnsent(ctx, key)
	require.NoError(t, err)
	require.Empty(t, unsent)

	_, _, err = db.Store.OutboxLease(ctx, 999999, "x", time.Minute)
	require.ErrorIs(t, err, store.ErrNotFound)
}

func TestEmailNotificationsPreference(t *testing.T) {
	t.Parallel()
	db := batontest.New(t)
	ctx := context.Background()
	_, err := loadDir(t, db.Store, `
users:
  - {id: ann, name: Ann, email: ann@example.com}
  - {id: bob, name: Bob, email: bob@example.com, emailNotifications: false}
`)
	require.NoError(t, err)
	ann, err := db.Store.UserGet(ctx, "ann")
	require.NoError(t, err)
	require.True(t, ann.EmailNotifications, "on by default")
	bob, err := db.Store.UserGet(ctx, "bob")
	require.NoError(t, err)
	require.False(t, bob.EmailNotifications)

	_, err = loadDir(t, db.Store, "users:\n  - {id: bob, name: Bob, email: bob@example.com}\n")
	require.NoError(t, err)
	users, err := db.Store.UserList(ctx)
	require.NoError(t, err)
	require.True(t, users[1].EmailNotifications, "a reload without the key turns it back on")
}
