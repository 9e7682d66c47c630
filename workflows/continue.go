package workflows

import (
	"time"

	"go.temporal.io/sdk/workflow"

	"github.com/batonhq/baton/policy"
)

// A claim outlives any sequence of actions: when its run's history grows large
// it continues as new, carrying only its state (Continued). Temporal suggests
// it at 4,096 events or 4 MB by default (limit.historyCount.suggestContinueAsNew,
// limit.historySize.suggestContinueAsNew) and after 90 % of its 2,000 Updates a
// run may take; the claim also goes on its own past these bounds, whatever the
// server says, well inside Temporal's hard limits (51,200 events, 50 MB).
const (
	maxRunEvents = 10_000
	maxRunBytes  = 6 << 20
)

// quiet reports whether the claim may hand over to a new run now: its run has
// grown large, and nothing is half done. No change is being recorded, no
// Update handler runs, no timeline write or notification is in flight, no
// reassignment round is offering, no signal waits to be read, and no stage
// timer is due (a timer that fired in this very task is handled first).
func (c *claim) quiet(ctx workflow.Context) bool {
	info := workflow.GetInfo(ctx)
	if !info.GetContinueAsNewSuggested() && info.GetCurrentHistoryLength() < maxRunEvents && info.GetCurrentHistorySize() < maxRunBytes {
		return false
	}
	if c.completed || c.busy > 0 || c.inflight > 0 || c.state.Status == StatusReassigning || !workflow.AllHandlersFinished(ctx) {
		return false
	}
	if workflow.GetSignalChannel(ctx, SignalDecideAgain).Len() > 0 || workflow.GetSignalChannel(ctx, SignalRedistribute).Len() > 0 {
		return false
	}
	now := workflow.Now(ctx)
	if !c.dueAt.IsZero() && !now.Before(c.dueAt) {
		return false
	}
	if w := c.state.Rules.ClaimWindow; !c.windowSince.IsZero() && !now.Before(c.windowSince.Add(w)) {
		return false
	}
	return true
}

// settled yields once, so every other coroutine that the task woke (a timer's,
// a signal's) runs before the claim decides to hand over, then asks quiet
// again.
func (c *claim) settled(ctx workflow.Context) bool {
	turn := workflow.NewChannel(ctx)
	workflow.Go(ctx, func(ctx workflow.Context) { turn.Send(ctx, true) })
	turn.Receive(ctx, nil)
	return c.quiet(ctx)
}

// continueAsNew ends this run and starts the next with the claim's state.
func (c *claim) continueAsNew(ctx workflow.Context) error {
	next := c.in
	next.Continued = &Continued{
		State:       c.state,
		Seq:         c.seq,
		Decision:    c.decision,
		DueAt:       c.dueAt,
		WindowSince: c.windowSince,
		WindowOver:  c.windowOver,
	}
	next.Continued.State.Runs++
	info := workflow.GetInfo(ctx)
	workflow.GetLogger(ctx).Info("claim continues as new", "claim_id", c.in.ClaimID, "stage", c.state.Stage,
		"events", info.GetCurrentHistoryLength(), "bytes", info.GetCurrentHistorySize(), "runs", next.Continued.State.Runs)
	return workflow.NewContinueAsNewError(ctx, ClaimWorkflowName, next)
}

// resume takes up the state an earlier run handed over. The current stage is
// decided already: the run goes on waiting for it, with its timers where they
// were.
func (c *claim) resume(from Continued) {
	c.state, c.seq, c.decision = from.State, from.Seq, from.Decision
	c.dueAt, c.windowSince, c.windowOver = from.DueAt, from.WindowSince, from.WindowOver
	c.resumed = true
	if c.state.Sample == nil {
		c.state.Sample = []string{}
	}
	if c.state.Completed == nil {
		c.state.Completed = []StageResult{}
	}
	if c.state.Decisions == nil {
		c.state.Decisions = []policy.Decision{}
	}
}

// finished reports a stage completed in an earlier run.
func (c *claim) finished(stage policy.Stage) bool {
	for _, r := range c.state.Completed {
		if r.Stage == stage {
			return true
		}
	}
	return false
}

// until is how long from now to t, never negative.
func until(ctx workflow.Context, t time.Time) time.Duration {
	return max(t.Sub(workflow.Now(ctx)), 0)
}
