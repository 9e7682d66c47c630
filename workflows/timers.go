package workflows

import (
	"fmt"
	"time"

	"go.temporal.io/sdk/workflow"

	"github.com/batonhq/baton/policy"
)

// Stage timers are Temporal durable timers: they fire after a worker crash or a
// server restart, exactly once, because firing is an event in the claim's history.
// Each runs in a workflow goroutine cancelled when the stage ends.

// startTimers starts the stage's timers under ctx, which the stage cancels.
func (c *claim) startTimers(ctx workflow.Context) {
	r := c.state.Rules
	if r.ClaimWindow > 0 && r.DefaultAssignee != "" && !c.windowOver {
		workflow.Go(ctx, c.watchClaimWindow)
	}
	if r.DueIn > 0 && !c.dueAt.IsZero() {
		workflow.Go(ctx, c.watchDue)
	}
}

// waitingInQueue reports whether the stage sits unassigned with nothing in flight.
func (c *claim) waitingInQueue() bool {
	return !c.completed && c.busy == 0 && c.state.Status == StatusUnassigned
}

// changeWindowInOneWrite is the change after which a claim window's expiry and
// its fallback are one write (RecordAssignmentInput.Before), not two.
const changeWindowInOneWrite = "claim-window-one-write"

// watchClaimWindow gives the stage to its default assignee when it has waited in
// its queue for the whole claim window. The window starts whenever the stage
// becomes unassigned, so work returned to the queue gets a full window again. A
// claim recorded before the window closes wins; after, the default assignee has it.
func (c *claim) watchClaimWindow(ctx workflow.Context) {
	r := c.state.Rules
	for {
		if err := workflow.Await(ctx, func() bool { return c.completed || c.waitingInQueue() }); err != nil || c.completed {
			return
		}
		// The window runs from when the wait began: now, or when an earlier
		// run's wait began (continueAsNew).
		if c.windowSince.IsZero() {
			c.windowSince = workflow.Now(ctx)
		}
		window := until(ctx, c.windowSince.Add(r.ClaimWindow))
		taken := !c.waitingInQueue()
		var err error
		if window > 0 {
			taken, err = workflow.AwaitWithTimeout(ctx, window, func() bool { return !c.waitingInQueue() })
		}
		if err != nil || c.completed {
			return
		}
		if taken {
			c.windowSince = time.Time{}
			continue
		}
		c.busy++ // from here until the default assignee is recorded, claims wait
		why := fmt.Sprintf("nobody claimed %s within the claim window of %s", c.state.Stage, r.ClaimWindow)
		expired := RecordEventInput{TimelineEvent: policy.TimelineEvent{Kind: policy.EventWindowExpired, Reason: why}}
		fallback := RecordAssignmentInput{Method: policy.MethodDefaultAssignee, Assignee: r.DefaultAssignee,
			Reason: why + "; default assignee " + r.DefaultAssignee}
		if workflow.GetVersion(ctx, changeWindowInOneWrite, workflow.DefaultVersion, 1) == workflow.DefaultVersion {
			c.event(ctx, expired) // a claim whose window ran out before the change replays as it ran
		} else {
			fallback.Before = &expired
		}
		_, err = c.record(ctx, fallback)
		c.busy--
		c.windowSince = time.Time{}
		if err != nil {
			c.windowOver = true
			// The default assignee left the directory: the stage stays queued, and
			// the ledger and log say why. Another window would fail the same way.
			workflow.GetLogger(ctx).Warn("default assignee not recorded", "claim_id", c.in.ClaimID, "error", err)
			return
		}
	}
}

// watchDue escalates a stage not completed within its due time: the assignee and
// the escalation target are notified, and with escalationReassign the target
// becomes the assignee. It fires once per stage.
func (c *claim) watchDue(ctx workflow.Context) {
	r := c.state.Rules
	// Until the stage's due time: its start plus dueIn, set as it was
	// decided, or as an earlier run handed it over (continueAsNew).
	if wait := until(ctx, c.dueAt); wait > 0 {
		if err := workflow.Sleep(ctx, wait); err != nil || c.completed {
			return
		}
	}
	c.dueAt = time.Time{}
	if err := workflow.Await(ctx, func() bool { return c.completed || c.busy == 0 }); err != nil || c.completed {
		return
	}
	c.busy++
	defer func() { c.busy-- }()
	assignee := c.state.Assignee
	var notify []string
	for _, u := range []string{assignee, r.EscalateTo} {
		if u != "" && (len(notify) == 0 || notify[0] != u) {
			notify = append(notify, u)
		}
	}
	why := fmt.Sprintf("%s not completed within %s", c.state.Stage, r.DueIn)
	c.event(ctx, RecordEventInput{TimelineEvent: policy.TimelineEvent{Kind: policy.EventEscalated, Subject: assignee, Reason: why},
		Notify: notify, Message: fmt.Sprintf("Claim %s is overdue: %s", c.in.ClaimID, why)})
	if r.EscalationReassign && r.EscalateTo != "" && r.EscalateTo != assignee && c.state.Status != StatusReassigning {
		if _, err := c.record(ctx, RecordAssignmentInput{Method: policy.MethodEscalation, Assignee: r.EscalateTo,
			Reason: "escalated: " + why}); err != nil {
			workflow.GetLogger(ctx).Warn("escalation reassignment not recorded", "claim_id", c.in.ClaimID, "error", err)
		}
	}
}
