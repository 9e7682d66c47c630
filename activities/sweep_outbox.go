package activities

import (
	"context"
	"errors"
	"time"

	"github.com/batonhq/baton/internal/store"
)

// SweepOutbox sends notifications that their claim's SendNotifications left
// unsent for longer than age: the claim finished while a send was waiting to
// retry (Temporal drops a closed workflow's pending activities), or the worker
// died mid-send and nothing retried it. Each message goes through the same
// leased send as the activity, so the sweeper and a live activity never send one
// message twice. It is not an activity: the worker runs it on a ticker (see
// batonfx.RunSweeper). It returns how many it sent.
func (a *Activities) SweepOutbox(ctx context.Context, age time.Duration) (int, error) {
	if !a.notifying() {
		return 0, nil
	}
	ids, err := a.Store.OutboxStale(ctx, age, 100)
	if err != nil {
		return 0, err
	}
	sent := 0
	var errs []error
	for _, id := range ids {
		ok, err := a.sendOne(ctx, id)
		switch {
		case errors.Is(err, store.ErrOutboxBusy):
		case err != nil:
			errs = append(errs, err)
		case ok:
			sent++
		}
	}
	if sent > 0 || len(errs) > 0 {
		a.Log.InfoContext(ctx, "outbox swept", "stale", len(ids), "sent", sent, "failed", len(errs))
	}
	return sent, errors.Join(errs...)
}
