package bench

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/batonhq/baton/claimclient"
	"github.com/batonhq/baton/policy"
	"github.com/batonhq/baton/workflows"
)

// observeChaos reads back everything the audit checks: every ledger row in the
// run's schema (not only the run's claims', so a stray row shows), each
// claim's state, history and timeline, the outbox and what the SMTP server
// received.
func (s *Stack) observeChaos(ctx context.Context, claims *claimclient.Client, ids []string, window time.Duration, box *mailbox, leaver string) (chaosObserved, error) {
	obs := chaosObserved{Claims: map[string]claimObservation{}, Deliveries: box.Deliveries()}
	rows, err := s.Pool.Query(ctx, `SELECT workflow_id, claim_id, stage, seq, method, coalesce(assignee, ''), reason FROM decisions`)
	if err != nil {
		return obs, fmt.Errorf("read the ledger: %w", err)
	}
	for rows.Next() {
		var r ledgerRow
		if err := rows.Scan(&r.WorkflowID, &r.ClaimID, &r.Stage, &r.Seq, &r.Method, &r.Assignee, &r.Reason); err != nil {
			rows.Close()
			return obs, err
		}
		obs.Ledger = append(obs.Ledger, r)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return obs, err
	}
	for _, id := range ids {
		o, err := s.observeClaim(ctx, claims, id, window)
		if err != nil {
			return obs, err
		}
		obs.Claims[id] = o
	}
	rows, err = s.Pool.Query(ctx, `SELECT message_id, claim_id, sent_at IS NOT NULL FROM outbox WHERE channel = 'email'`)
	if err != nil {
		return obs, fmt.Errorf("read the outbox: %w", err)
	}
	for rows.Next() {
		var m outboxRow
		if err := rows.Scan(&m.MessageID, &m.ClaimID, &m.Sent); err != nil {
			rows.Close()
			return obs, err
		}
		m.MessageID = strings.Trim(m.MessageID, "<> ")
		obs.Outbox = append(obs.Outbox, m)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return obs, err
	}
	if leaver != "" {
		err := s.Pool.QueryRow(ctx, `SELECT count(*) FROM open_stages WHERE user_id = $1`, leaver).Scan(&obs.LeaverOpen)
		if err != nil {
			return obs, err
		}
	}
	return obs, nil
}

// observeClaim reads one claim's state, its window timers from the history and
// its timeline's window expiries and completions.
func (s *Stack) observeClaim(ctx context.Context, claims *claimclient.Client, id string, window time.Duration) (claimObservation, error) {
	o := claimObservation{CompletedBy: map[policy.Stage]string{}}
	if st, err := claims.State(ctx, id); err != nil {
		o.Err = err.Error()
	} else {
		o.State = &st
	}
	wf := workflows.WorkflowID(id)
	events, err := history(ctx, s.Client, wf)
	if err != nil {
		return o, err
	}
	o.TimersStarted, o.TimersFired = windowTimers(events, window)
	rows, err := s.Pool.Query(ctx, `SELECT kind, stage, coalesce(actor, '') FROM timeline WHERE workflow_id = $1 AND kind IN ($2, 'completed')`,
		wf, policy.EventWindowExpired)
	if err != nil {
		return o, fmt.Errorf("timeline of %s: %w", id, err)
	}
	defer rows.Close()
	for rows.Next() {
		var kind, stage, actor string
		if err := rows.Scan(&kind, &stage, &actor); err != nil {
			return o, err
		}
		if kind == policy.EventWindowExpired {
			o.WindowExpired++
		} else {
			o.CompletedBy[policy.Stage(stage)] = actor
		}
	}
	return o, rows.Err()
}

// turnCounts reads the round-robin scopes' turn counts of the given stages,
// each in turn order.
func (s *Stack) turnCounts(ctx context.Context, stages ...policy.Stage) (map[policy.Stage][]turnCount, error) {
	out := map[policy.Stage][]turnCount{}
	for _, st := range stages {
		rows, err := s.Pool.Query(ctx, `SELECT user_id, served, weight, ord FROM rr_turns WHERE scope = $1 ORDER BY ord`, policy.StageScope(st))
		if err != nil {
			return nil, fmt.Errorf("read the turn counts at %s: %w", st, err)
		}
		out[st], err = pgx.CollectRows(rows, pgx.RowToStructByPos[turnCount])
		if err != nil {
			return nil, fmt.Errorf("read the turn counts at %s: %w", st, err)
		}
	}
	return out, nil
}
