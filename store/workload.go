package store

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/batonhq/baton/policy"
)

// OpenStageClose records that a stage is no longer anyone's open work.
func (qs *Queries) OpenStageClose(ctx context.Context, workflowID string, stage policy.Stage) error {
	if _, err := qs.db.Exec(ctx, q("OpenStageClose"), workflowID, string(stage)); err != nil {
		return fmt.Errorf("close open stage %s/%s: %w", workflowID, stage, err)
	}
	return nil
}

// UserWork is a person's workload as `starter user show` and the API present it.
type UserWork struct {
	User   policy.User
	Open   map[policy.Stage]int
	Total  int
	Limits policy.Capacity
}

// UserWorkload reads a person with their status, limits and open stages.
func (qs *Queries) UserWorkload(ctx context.Context, id string) (UserWork, error) {
	u, err := qs.GetUser(ctx, id)
	if err != nil {
		return UserWork{}, err
	}
	w, _, err := qs.workload(ctx, q("UserWorkload"), id, policy.StageCapture)
	if err != nil {
		return UserWork{}, err
	}
	u.Status, u.Capacity = w.Status, w.Capacity
	out := UserWork{User: u, Open: map[policy.Stage]int{}, Total: w.Open.Total, Limits: w.Capacity}
	counts, err := countsBy[int](ctx, qs, "open stages of "+id, q("UserOpenByStage"), id)
	if err != nil {
		return UserWork{}, err
	}
	for s, n := range counts {
		out.Open[policy.Stage(s)] = n
	}
	return out, nil
}

// UserStatusSet sets a person's status and returns the one they had. A person
// becoming available again resumes every turn order at its lowest level
// (TurnsCatchUp), so the turns passed over while away do not come back as a run
// of catch-up work.
func (s *Store) UserStatusSet(ctx context.Context, id string, status policy.Availability) (policy.Availability, error) {
	var old string
	err := s.InTx(ctx, func(qs *Queries) error {
		err := qs.db.QueryRow(ctx, q("UserStatusSet"), id, string(status)).Scan(&old)
		if errors.Is(err, pgx.ErrNoRows) {
			return fmt.Errorf("user %q: %w", id, ErrNotFound)
		}
		if err != nil {
			return fmt.Errorf("set status of %q: %w", id, err)
		}
		if status == policy.Available && old != string(policy.Available) {
			if _, err := qs.db.Exec(ctx, q("TurnsCatchUp"), id); err != nil {
				return fmt.Errorf("reset turns of %q: %w", id, err)
			}
		}
		return nil
	})
	return policy.Availability(old), err
}
