package bench

import (
	"context"
	"errors"
	"time"

	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"
)

// The baselines: Temporal doing the same amount of waiting and talking with none
// of Baton's work. Registered under their own names on their own task queue.
const (
	noopWorkflowName  = "bench.NoopClaim"
	noopActivityName  = "bench.NoopActivity"
	sleepWorkflowName = "bench.Sleep"
	noopQuery         = "state"
	noopUpdate        = "complete"

	// noopStages is the no-op claim's shape: four activities, four Updates.
	noopStages = 4
)

// noopState is what the no-op claim's query answers.
type noopState struct {
	Stage    int  `json:"stage"`
	Assigned bool `json:"assigned"`
}

// noopClaim has a claim's shape and nothing else: per stage one activity that
// does nothing, then one Update that completes the stage once it is "assigned".
func noopClaim(ctx workflow.Context, stages int) error {
	ctx = workflow.WithActivityOptions(ctx, workflow.ActivityOptions{StartToCloseTimeout: time.Minute})
	var st noopState
	done := false
	if err := workflow.SetQueryHandler(ctx, noopQuery, func() (noopState, error) { return st, nil }); err != nil {
		return err
	}
	err := workflow.SetUpdateHandlerWithOptions(ctx, noopUpdate,
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
		if err := workflow.ExecuteActivity(ctx, noopActivityName).Get(ctx, nil); err != nil {
			return err
		}
		st.Assigned = true
		if err := workflow.Await(ctx, func() bool { return done }); err != nil {
			return err
		}
	}
	return workflow.Await(ctx, func() bool { return workflow.AllHandlersFinished(ctx) })
}

func noopActivity(context.Context) error { return nil }

// sleepOnly is the timer baseline: a workflow that sleeps and ends.
func sleepOnly(ctx workflow.Context, d time.Duration) error { return workflow.Sleep(ctx, d) }

func registerBaselines(w worker.Registry) {
	w.RegisterWorkflowWithOptions(noopClaim, workflow.RegisterOptions{Name: noopWorkflowName})
	w.RegisterWorkflowWithOptions(sleepOnly, workflow.RegisterOptions{Name: sleepWorkflowName})
	w.RegisterActivityWithOptions(noopActivity, activity.RegisterOptions{Name: noopActivityName})
}
