// Package baseline holds the workflows Baton's figures are measured against:
// Temporal doing the same waiting and talking with none of Baton's work. It
// imports nothing but the SDK, so the no-op worker built from it is as lean as
// Baton's own worker binary and the two can be compared byte for byte.
package baseline

import (
	"context"
	"errors"
	"fmt"
	"time"

	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"
)

// Names the baselines are registered under, on their own task queues.
const (
	ClaimWorkflow = "bench.NoopClaim"
	Activity      = "bench.NoopActivity"
	SleepWorkflow = "bench.SleepUntil"
	Query         = "state"
	Update        = "complete"
)

// Stages is the minimal claim's shape: three stages, as Baton's claim has
// (capture, review, acknowledge), each one activity and one Update.
const Stages = 3

// State is what the minimal claim's query answers.
type State struct {
	Stage    int  `json:"stage"`
	Assigned bool `json:"assigned"`
}

// Claim has a claim's shape and nothing else: per stage one activity that does
// nothing (the "decision"), then one Update that completes the stage once it
// is "assigned". No local activities, markers or search attributes.
func Claim(ctx workflow.Context, stages int) error {
	ctx = workflow.WithActivityOptions(ctx, workflow.ActivityOptions{StartToCloseTimeout: time.Minute})
	var st State
	done := false
	if err := workflow.SetQueryHandler(ctx, Query, func() (State, error) { return st, nil }); err != nil {
		return err
	}
	err := workflow.SetUpdateHandlerWithOptions(ctx, Update,
		func(_ workflow.Context, _ int) error { done = true; return nil },
		workflow.UpdateHandlerOptions{Validator: func(_ workflow.Context, stage int) error {
			if stage != st.Stage || !st.Assigned || done {
				return errors.New("not this stage's turn")
			}
			return nil
		}})
	if err != nil {
		return err
	}
	for st.Stage = 0; st.Stage < stages; st.Stage++ {
		st.Assigned, done = false, false
		if err := workflow.ExecuteActivity(ctx, Activity).Get(ctx, nil); err != nil {
			return err
		}
		st.Assigned = true
		if err := workflow.Await(ctx, func() bool { return done }); err != nil {
			return err
		}
	}
	return workflow.Await(ctx, func() bool { return workflow.AllHandlersFinished(ctx) })
}

func noop(context.Context) error { return nil }

// DeadlinePassed is the error type SleepUntil fails with when it starts after
// its deadline.
const DeadlinePassed = "DeadlinePassed"

// SleepUntil is the timer baseline: a workflow that sleeps until deadline, a
// wall-clock time, and ends. Its timer's length is worked out from the
// workflow's own clock as the timer starts, so a twin started after a claim's
// timer fires at that claim's deadline. A deadline already passed fails it
// with DeadlinePassed, starting no timer: the pair would not share one.
func SleepUntil(ctx workflow.Context, deadline time.Time) error {
	d := deadline.Sub(workflow.Now(ctx))
	if d <= 0 {
		return temporal.NewNonRetryableApplicationError(fmt.Sprintf("sleep until %s: already %s past it at the start",
			deadline.Format(time.RFC3339Nano), -d), DeadlinePassed, nil)
	}
	return workflow.Sleep(ctx, d)
}

// Register registers the baselines.
func Register(w worker.Registry) {
	w.RegisterWorkflowWithOptions(Claim, workflow.RegisterOptions{Name: ClaimWorkflow})
	w.RegisterWorkflowWithOptions(SleepUntil, workflow.RegisterOptions{Name: SleepWorkflow})
	w.RegisterActivityWithOptions(noop, activity.RegisterOptions{Name: Activity})
}
