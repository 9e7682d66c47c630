package activities_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/batonhq/baton/internal/notify"
	"github.com/batonhq/baton/workflows"
)

// A notification whose claim finished before SendNotifications ran (Temporal
// drops a closed workflow's pending activities) is sent by the sweeper once it
// is older than the sweep age, exactly once, and the activity, should it run
// after all, sends nothing more.
func TestSweepOutboxSendsWhatTheClaimLeftUnsent(t *testing.T) {
	t.Parallel()
	f := setupNotify(t, 0)
	ctx := context.Background()
	key := assign(t, f.acts, "C-9", 1, "ann")

	sent, err := f.acts.SweepOutbox(ctx, time.Hour)
	require.NoError(t, err)
	require.Zero(t, sent, "younger than the sweep age: still the activity's to send")
	require.Empty(t, f.smtp.To("ann@example.com"))

	sent, err = f.acts.SweepOutbox(ctx, 0)
	require.NoError(t, err)
	require.Equal(t, 2, sent, "one e-mail and one Slack message")
	require.Len(t, f.smtp.To("ann@example.com"), 1)
	require.Len(t, f.slack.Texts(), 1)

	sent, err = f.acts.SweepOutbox(ctx, 0)
	require.NoError(t, err)
	require.Zero(t, sent)
	res, err := f.acts.SendNotifications(ctx, key)
	require.NoError(t, err)
	require.Equal(t, workflows.SendNotificationsResult{AlreadySent: 2}, res)
	require.Len(t, f.smtp.To("ann@example.com"), 1)
	require.Equal(t, 1.0, f.sent(t, notify.ChannelEmail))
}

// A row the channel kept refusing is given up after 20 attempts in all: the
// sweeper does not retry a bad address every ten seconds forever.
func TestSweepOutboxGivesUpAfterTwentyAttempts(t *testing.T) {
	t.Parallel()
	f := setupNotify(t, 0)
	ctx := context.Background()
	assign(t, f.acts, "C-10", 1, "ann")
	_, err := f.db.Pool.Exec(ctx, `UPDATE outbox SET attempts = 20`)
	require.NoError(t, err)
	sent, err := f.acts.SweepOutbox(ctx, 0)
	require.NoError(t, err)
	require.Zero(t, sent)
	require.Empty(t, f.smtp.To("ann@example.com"))
}
