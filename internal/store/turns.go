package store

// The rr_turns table (queries/turns.sql): turn counts and the scope lock;
// reading turns for a decision is People.Turns, in people.go.

import (
	"context"
	"fmt"

	"github.com/batonhq/baton/policy"
)

// TurnCounts returns each person's turns in a scope.
func (qs *Queries) TurnCounts(ctx context.Context, scope string) (map[string]int64, error) {
	return countsBy[int64](ctx, qs, "turn counts "+scope, q("TurnCounts"), scope)
}

// TurnsLock locks a scope's turns until the transaction ends, for a caller that
// computes its view itself (a reassignment group, whose members are few).
func (qs *Queries) TurnsLock(ctx context.Context, scope string) error {
	if _, err := qs.db.Exec(ctx, q("TurnScopeLock"), scope); err != nil {
		return fmt.Errorf("lock turns %s: %w", scope, err)
	}
	return nil
}

// TurnRecord stores a turn taken.
func (qs *Queries) TurnRecord(ctx context.Context, t policy.Turn) error {
	if _, err := qs.db.Exec(ctx, q("TurnSet"), t.Scope, t.User.ID, t.Served, max(t.Weight, 1), t.Order); err != nil {
		return fmt.Errorf("record turn %s of %s: %w", t.Scope, t.User.ID, err)
	}
	return nil
}
