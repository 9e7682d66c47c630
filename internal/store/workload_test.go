package store_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/batonhq/baton/internal/batontest"
	"github.com/batonhq/baton/internal/store"
	"github.com/batonhq/baton/policy"
)

// Two decisions in different turn scopes (capture and review) both want ann's
// last slot. The first holds it until it commits; the second waits on it, then
// sees her full and passes over her. Without the hold, both would take it.
func TestALastSlotIsTakenOnce(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := batontest.New(t)
	_, err := loadDir(t, db.Store, `
users:
  - {id: ann, name: Ann, email: ann@example.com, permissions: [MakeClaimDecisions], capacity: {total: 1}}
  - {id: bob, name: Bob, email: bob@example.com, permissions: [MakeClaimDecisions]}
`)
	require.NoError(t, err)
	req := policy.Requirement{Required: []string{"MakeClaimDecisions"}}
	decide := func(qs *store.Queries, stage policy.Stage, workflow string) (string, error) {
		r := req
		r.Stage = stage
		v, err := qs.People().Turns(ctx, policy.StageScope(stage), r, policy.TurnOrder{Stage: stage})
		if err != nil || v.Next == nil {
			return "", err
		}
		pick := v.Next.User.ID
		_, err = qs.DecisionRecord(ctx, store.DecisionWrite{
			Key: policy.DecisionKey{WorkflowID: workflow, Stage: stage, Seq: 1}, ClaimID: workflow,
			Decision: policy.Decision{Stage: stage, Method: policy.MethodRoundRobin, Assignee: pick, Reason: "test"},
			Event:    store.TimelineEvent{WorkflowID: workflow, ClaimID: workflow, Stage: stage, Seq: 1, Kind: policy.EventAssigned, Subject: pick},
		})
		return pick, err
	}

	// Both scopes' eligible set and turn pools exist before the race, as they do
	// after a scope's first decision: what the two contend for is ann's row.
	require.NoError(t, db.Store.InTx(ctx, func(qs *store.Queries) error {
		for _, stage := range []policy.Stage{policy.StageCapture, policy.StageReview} {
			r := req
			r.Stage = stage
			if _, err := qs.People().Turns(ctx, policy.StageScope(stage), r, policy.TurnOrder{Stage: stage}); err != nil {
				return err
			}
		}
		return nil
	}))

	first, release, firstDone := make(chan string, 1), make(chan struct{}), make(chan error, 1)
	var once sync.Once
	releaseFirst := func() { once.Do(func() { close(release) }) }
	t.Cleanup(releaseFirst) // never leave the first transaction open behind a failure
	go func() {
		firstDone <- db.Store.InTx(ctx, func(qs *store.Queries) error {
			pick, err := decide(qs, policy.StageCapture, "claim/one")
			first <- pick
			if err != nil {
				return err
			}
			<-release
			return nil
		})
	}()
	require.Equal(t, "ann", <-first)

	second, secondDone := make(chan string, 1), make(chan error, 1)
	go func() {
		secondDone <- db.Store.InTx(ctx, func(qs *store.Queries) error {
			pick, err := decide(qs, policy.StageReview, "claim/two")
			second <- pick
			return err
		})
	}()
	// The second decision must be waiting on ann's row, not deciding.
	batontest.Eventually(t, 20*time.Second, func() (bool, string) {
		select {
		case pick := <-second:
			t.Fatalf("the second decision did not wait for the first: it took %s", pick)
		default:
		}
		var waiting int
		require.NoError(t, db.Pool.QueryRow(ctx, `SELECT count(*) FROM pg_stat_activity
			WHERE datname = current_database() AND wait_event_type = 'Lock' AND query LIKE '%FROM users WHERE id = $1 FOR UPDATE%'`).Scan(&waiting))
		return waiting > 0, "the second decision never waited on ann's row"
	})
	releaseFirst()
	require.NoError(t, <-firstDone)
	require.Equal(t, "bob", <-second, "ann is full once the first commits")
	require.NoError(t, <-secondDone)

	w, err := db.Store.UserWorkload(ctx, "ann")
	require.NoError(t, err)
	require.Equal(t, 1, w.Open)
}

// A deactivation that commits after a decision read the turn, but before it
// gave the stage, must not leave the leaver holding it: the decision's hold
// waits for the deactivation and then sees them inactive (an unlimited person's
// row too), so the stage goes to someone else rather than to a leaver whose
// list of held stages was already taken.
func TestADeactivationDuringADecisionIsSeenByItsHold(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := batontest.New(t)
	_, err := loadDir(t, db.Store, `
users:
  - {id: ann, name: Ann, email: ann@example.com, permissions: [MakeClaimDecisions]}
  - {id: bob, name: Bob, email: bob@example.com, permissions: [MakeClaimDecisions]}
`)
	require.NoError(t, err)
	req := policy.Requirement{Stage: policy.StageCapture, Required: []string{"MakeClaimDecisions"}}

	leave, err := db.Pool.Begin(ctx)
	require.NoError(t, err)
	t.Cleanup(func() { _ = leave.Rollback(ctx) })
	_, err = leave.Exec(ctx, `UPDATE users SET active = false WHERE id = 'ann'`)
	require.NoError(t, err)

	held := make(chan policy.Workload, 1)
	done := make(chan error, 1)
	go func() {
		done <- db.Store.InTx(ctx, func(qs *store.Queries) error {
			v, err := qs.People().Turns(ctx, policy.StageScope(policy.StageCapture), req, policy.TurnOrder{Stage: policy.StageCapture})
			if err != nil {
				return err
			}
			if v.Next == nil || v.Next.User.ID != "ann" {
				return fmt.Errorf("the turn should still read ann, active until the deactivation commits: %+v", v.Next)
			}
			w, err := qs.People().Hold(ctx, "ann", policy.StageCapture)
			held <- w
			return err
		})
	}()
	batontest.Eventually(t, 20*time.Second, func() (bool, string) {
		select {
		case w := <-held:
			t.Fatalf("the hold did not wait for the deactivation: %+v", w)
		default:
		}
		var waiting int
		require.NoError(t, db.Pool.QueryRow(ctx, `SELECT count(*) FROM pg_stat_activity
			WHERE datname = current_database() AND wait_event_type = 'Lock' AND query LIKE '%FROM users u WHERE u.id = $1 FOR SHARE%'`).Scan(&waiting))
		return waiting > 0, "the decision's hold never waited on ann's row"
	})
	require.NoError(t, leave.Commit(ctx))
	w := <-held
	require.NoError(t, <-done)
	require.Equal(t, policy.Offline, w.Status, "ann left while the decision ran")
	require.NotEmpty(t, w.Refuse(policy.StageCapture), "and a leaver is passed over")
}
