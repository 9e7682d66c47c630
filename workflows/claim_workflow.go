package workflows

import (
	"slices"
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/batonhq/baton/policy"
)

// activityOptions retry decisions for as long as it takes: a database outage delays
// a stage but never loses it. Business failures are non-retryable errors.
var activityOptions = workflow.ActivityOptions{
	StartToCloseTimeout: 30 * time.Second,
	RetryPolicy: &temporal.RetryPolicy{
		InitialInterval:    time.Second,
		BackoffCoefficient: 2,
		MaximumInterval:    30 * time.Second,
	},
}

// localOptions run the bookkeeping a person waits on (an Update: assigning,
// claiming, completing, migrating) as local activities, retried with
// activityOptions' backoff for at most half a minute: through a connection cut
// or a database restart, and then an answer, so nobody waits on a claim the
// database cannot write; nothing was recorded, and they may try again.
var localOptions = workflow.LocalActivityOptions{
	StartToCloseTimeout:    10 * time.Second,
	ScheduleToCloseTimeout: 30 * time.Second,
	RetryPolicy:            activityOptions.RetryPolicy,
}

// durableOptions run the bookkeeping nobody waits on (pinning the policy at
// the start, a claim window's fallback, an escalation, a reassignment round's
// steps and timeline entries): a database outage delays it, it is never
// dropped. A local activity's ScheduleToCloseTimeout defaults to its
// StartToCloseTimeout, which would give up on such a write after ten seconds.
// Once the backoff passes the workflow task timeout (ten seconds), each retry
// is a server timer and a workflow task (about six history events), so the
// interval grows to five minutes: a day's outage costs a waiting claim under
// 2,000 events, and after a week it gives up, logged, with the stage left for a
// person.
var durableOptions = workflow.LocalActivityOptions{
	StartToCloseTimeout:    10 * time.Second,
	ScheduleToCloseTimeout: 7 * 24 * time.Hour,
	RetryPolicy: &temporal.RetryPolicy{
		InitialInterval:    time.Second,
		BackoffCoefficient: 2,
		MaximumInterval:    5 * time.Minute,
	},
}

// notifyOptions send e-mail and Slack messages in the background: retried with
// backoff for up to a day (a notification older than that is no use), never
// waited for by the claim.
var notifyOptions = workflow.ActivityOptions{
	StartToCloseTimeout:    5 * time.Minute, // a few messages, each bounded to 30s
	ScheduleToCloseTimeout: 24 * time.Hour,
	RetryPolicy: &temporal.RetryPolicy{
		InitialInterval:    time.Second,
		BackoffCoefficient: 2,
		MaximumInterval:    5 * time.Minute,
	},
}

// claim is the workflow's state and the logic of its handlers.
type claim struct {
	in        ClaimInput
	state     ClaimState
	seq       int
	decision  policy.Decision // the decision in force for the current stage
	completed bool            // the current stage has been completed
	busy      int             // changes of assignee being recorded; others wait
	// inflight counts timeline writes, notifications and backlog moves under
	// way: the claim does not continue as new while any is.
	inflight int
	// resumed says the current stage was decided in an earlier run (resume).
	resumed bool
	// dueAt is when the current stage escalates (zero: never, or done);
	// windowSince when its present wait in the queue began, while a claim
	// window runs; windowOver that its window gave up. They cross to the next
	// run as Continued.
	dueAt       time.Time
	windowSince time.Time
	windowOver  bool
	activities  workflow.Context
	// notifying is the workflow's root context with notifyOptions, so no stage's
	// cancellation stops a send; local and durable run the claim's local
	// activities, with localOptions and durableOptions (see bookkeeping).
	notifying workflow.Context
	local     workflow.Context
	durable   workflow.Context
}

// ClaimWorkflow moves a claim through capture, review and acknowledge, deciding
// each stage's assignee, and returns a summary at finalise.
func ClaimWorkflow(ctx workflow.Context, in ClaimInput) (ClaimSummary, error) {
	c := &claim{
		in: in,
		state: ClaimState{
			ClaimID:   in.ClaimID,
			Owner:     in.Owner,
			Data:      in.Data,
			Sample:    []string{},
			Completed: []StageResult{},
			Decisions: []policy.Decision{},
		},
		activities: workflow.WithActivityOptions(ctx, activityOptions),
		notifying:  workflow.WithActivityOptions(ctx, notifyOptions),
		local:      workflow.WithLocalActivityOptions(ctx, localOptions),
		durable:    workflow.WithLocalActivityOptions(ctx, durableOptions),
	}
	// An earlier run of this claim handed over (continueAsNew): only a run
	// Temporal continued takes up state, before any Update that waited for
	// the new run is validated (they are, as their handlers register). Its
	// policy is pinned.
	resumed := in.Continued != nil && workflow.GetInfo(ctx).ContinuedExecutionRunID != ""
	if resumed {
		c.resume(*in.Continued)
	}
	if err := c.register(ctx); err != nil {
		return ClaimSummary{}, err
	}
	if !resumed {
		// The claim keeps the policy version it started under for its whole
		// life, unless an admin migrates it. Pinning it also judges the start
		// input (see StartCheck) before anything is recorded: a claim Baton
		// cannot use fails here, typed. The verdict is in the local activity's
		// marker, so a claim replays as it was judged, whatever the checks
		// become.
		start := in.StartCheck(workflow.GetInfo(ctx).WorkflowExecution.ID)
		if in.Continued != nil && start.Undecodable == "" {
			start.Undecodable = `start input: field "continued" is set only by a claim continuing as new, never by a start`
		}
		if a := startAssertion(ctx); len(a) > 0 {
			start.Assertion = a
			start.Args, _ = ArgsDigest(StartAssertion, in) // a ClaimInput always encodes
		}
		if err := c.bookkeeping(ActivityPinPolicy, "", PinPolicyInput{Start: &start}).Get(ctx, &c.state.Policy); err != nil {
			return ClaimSummary{}, asRejection(err)
		}
	}
	for _, stage := range policy.AssignableStages {
		if c.finished(stage) {
			continue // completed in an earlier run
		}
		if err := c.runStage(ctx, stage); err != nil {
			return ClaimSummary{}, err
		}
	}
	c.state.Stage, c.state.Status, c.state.Assignee, c.state.Queue = policy.StageFinalise, StatusFinalised, "", ""
	c.setCandidates(policy.Decision{}, nil)
	if err := c.publish(ctx); err != nil {
		return ClaimSummary{}, err
	}
	// Let any update still finishing (an assignment being recorded) complete before
	// the workflow closes, so no caller sees its update abandoned.
	if err := workflow.Await(ctx, func() bool { return workflow.AllHandlersFinished(ctx) }); err != nil {
		return ClaimSummary{}, err
	}
	workflow.GetLogger(ctx).Info("claim finalised", "claim_id", in.ClaimID, "review_outcome", c.state.ReviewOutcome)
	return ClaimSummary{
		ClaimID:       in.ClaimID,
		ReviewOutcome: c.state.ReviewOutcome,
		Stages:        c.state.Completed,
		Decisions:     c.state.DecisionCount,
	}, nil
}

func (c *claim) register(ctx workflow.Context) error {
	if err := workflow.SetQueryHandler(ctx, QueryState, func() (ClaimState, error) { return c.state, nil }); err != nil {
		return err
	}
	// Each validator first rejects an argument that could not be decoded
	// (strictly: an unknown field is named). Validators do not run on replay, so
	// an update accepted before decoding was strict still replays.
	if err := workflow.SetUpdateHandlerWithOptions(ctx, UpdateAssign, c.assign,
		workflow.UpdateHandlerOptions{Validator: func(_ workflow.Context, in AssignInput) error {
			return strictly(UpdateAssign, in.undecodable, in.texts(), func() error { return c.validateAssign(in) })
		}}); err != nil {
		return err
	}
	if err := workflow.SetUpdateHandlerWithOptions(ctx, UpdateClaim, c.claim,
		workflow.UpdateHandlerOptions{Validator: func(_ workflow.Context, in ClaimStageInput) error {
			return strictly(UpdateClaim, in.undecodable, in.texts(), func() error { return c.validateClaim(in) })
		}}); err != nil {
		return err
	}
	if err := workflow.SetUpdateHandlerWithOptions(ctx, UpdateUnassign, c.unassign,
		workflow.UpdateHandlerOptions{Validator: func(_ workflow.Context, in UnassignInput) error {
			return strictly(UpdateUnassign, in.undecodable, in.texts(), func() error { return c.validateUnassign(in) })
		}}); err != nil {
		return err
	}
	if err := workflow.SetUpdateHandlerWithOptions(ctx, UpdateStartReassignment, c.startReassignment,
		workflow.UpdateHandlerOptions{Validator: func(_ workflow.Context, in StartReassignmentInput) error {
			return strictly(UpdateStartReassignment, in.undecodable, in.texts(), func() error { return c.validateStartReassignment(in) })
		}}); err != nil {
		return err
	}
	if err := workflow.SetUpdateHandlerWithOptions(ctx, UpdateMigratePolicy, c.migratePolicy,
		workflow.UpdateHandlerOptions{Validator: func(_ workflow.Context, in MigratePolicyInput) error {
			return strictly(UpdateMigratePolicy, in.undecodable, in.texts(), func() error { return c.validateMigrate(in) })
		}}); err != nil {
		return err
	}
	return workflow.SetUpdateHandlerWithOptions(ctx, UpdateCompleteStage, c.complete,
		workflow.UpdateHandlerOptions{Validator: func(_ workflow.Context, in CompleteInput) error {
			return strictly(UpdateCompleteStage, in.undecodable, in.texts(), func() error { return c.validateComplete(in) })
		}})
}

// runStage decides the stage's assignee, runs its timers, and waits until someone
// completes it.
//
// When the run's history has grown large, it waits until the claim is quiet
// and continues as new (continue.go); the next run takes the stage up where
// this one left it, decided, with its timers.
func (c *claim) runStage(ctx workflow.Context, stage policy.Stage) error {
	c.completed = false
	if c.resumed {
		c.resumed = false
		if err := c.publish(ctx); err != nil {
			return err
		}
	} else {
		c.state.Stage, c.state.Status, c.state.Assignee = stage, StatusDeciding, ""
		c.setCandidates(policy.Decision{}, nil)
		c.state.Reassignment = nil
		c.dueAt, c.windowSince, c.windowOver = time.Time{}, time.Time{}, false
		if err := c.decideStage(ctx, stage, RedistributeInput{}); err != nil {
			return err
		}
		if r := c.state.Rules; r.DueIn > 0 {
			c.dueAt = workflow.Now(ctx).Add(r.DueIn)
		}
	}
	timers, cancel := workflow.WithCancel(ctx)
	defer cancel() // the stage is over: its timers with it
	c.startTimers(timers)
	workflow.Go(timers, func(ctx workflow.Context) { c.watchBacklog(ctx, stage) })
	// The completion's timeline entry is written by the complete_stage handler,
	// in the transaction that authorises it.
	for {
		if err := workflow.Await(ctx, func() bool { return c.completed && c.busy == 0 || c.quiet(ctx) }); err != nil {
			return err
		}
		if c.completed && c.busy == 0 {
			return nil
		}
		if c.settled(ctx) {
			return c.continueAsNew(ctx)
		}
	}
}

// decideStage runs the stage's method (ResolveAssignment) and puts its decision
// in force: at the stage's start, again when its stage waits in the backlog and a
// slot frees, and again without its holder when they leave (off.User).
func (c *claim) decideStage(ctx workflow.Context, stage policy.Stage, off RedistributeInput) error {
	in := ResolveAssignmentInput{
		WorkflowID: workflow.GetInfo(ctx).WorkflowExecution.ID,
		Claim:      policy.Claim{ID: c.in.ClaimID, Owner: c.in.Owner, Data: c.in.Data},
		Stage:      stage,
		Seq:        c.nextSeq(),
		At:         workflow.Now(ctx),
		Policy:     c.state.Policy,
		Steps:      c.steps(),
	}
	if stage == policy.StageAcknowledge {
		in.Outcome = c.state.ReviewOutcome
	}
	if off.User != "" {
		in.Without, in.Why = map[string]string{off.User: off.Reason}, off.Reason
	}
	var d policy.Decision
	if err := workflow.ExecuteActivity(c.activities, ActivityResolveAssignment, in).Get(ctx, &d); err != nil {
		return err
	}
	c.state.Rules, c.state.Queue = d.Rules, d.Rules.Queue
	if d.Priority != "" {
		c.state.Priority = d.Priority
	}
	c.apply(ctx, d)
	workflow.GetLogger(ctx).Info("stage decided", "claim_id", c.in.ClaimID, "stage", stage,
		"method", d.Method, "assignee", d.Assignee, "reason", d.Reason)
	if err := c.publish(ctx); err != nil {
		return err
	}
	c.notifyDecision(ctx, d, stage, in.Seq)
	return nil
}

// watchBacklog decides the stage again each time a drain nudges it while it
// waits in the backlog (everyone eligible was away or full), and when the person
// holding it leaves (redistribute). A signal that finds the stage taken, being
// changed, no longer waiting or no longer theirs is dropped.
func (c *claim) watchBacklog(ctx workflow.Context, stage policy.Stage) {
	nudges := workflow.GetSignalChannel(ctx, SignalDecideAgain)
	moves := workflow.GetSignalChannel(ctx, SignalRedistribute)
	for {
		nudged := false
		var move RedistributeInput
		sel := workflow.NewSelector(ctx)
		sel.AddReceive(nudges, func(r workflow.ReceiveChannel, _ bool) { r.Receive(ctx, nil); nudged = true })
		sel.AddReceive(moves, func(r workflow.ReceiveChannel, _ bool) { r.Receive(ctx, &move) })
		sel.AddReceive(ctx.Done(), func(workflow.ReceiveChannel, bool) {})
		sel.Select(ctx)
		if ctx.Err() != nil || (!nudged && move.User == "") {
			return
		}
		if c.handleBacklog(ctx, stage, nudged, move, nudges) {
			return
		}
	}
}

// handleBacklog answers one nudge or move (watchBacklog); it reports whether
// the stage is over.
func (c *claim) handleBacklog(ctx workflow.Context, stage policy.Stage, nudged bool, move RedistributeInput, nudges workflow.ReceiveChannel) (over bool) {
	c.inflight++
	defer func() { c.inflight-- }()
	if nudged {
		for nudges.ReceiveAsync(nil) {
		} // one decision answers every nudge so far
	}
	if err := workflow.Await(ctx, func() bool { return c.completed || c.busy == 0 }); err != nil || c.completed {
		return true
	}
	switch {
	case move.User != "":
		if c.state.Assignee != move.User || c.state.Status != StatusAssigned {
			return false // moved already, or never theirs
		}
		if move.Absence && !c.state.Rules.RedistributeOnAbsence {
			return false // the stage's policy keeps open work with someone absent
		}
	case !c.waitingInQueue() || !c.decision.Backlog:
		return false
	}
	c.busy++
	err := c.decideStage(ctx, stage, move)
	c.busy--
	if err != nil {
		workflow.GetLogger(ctx).Warn("stage not decided again", "claim_id", c.in.ClaimID, "stage", stage, "error", err)
	}
	return false
}

// steps are the completed stages' results, for assignee expressions.
func (c *claim) steps() map[policy.Stage]policy.StepOutput {
	out := map[policy.Stage]policy.StepOutput{}
	for _, r := range c.state.Completed {
		out[r.Stage] = policy.StepOutput{Assignee: r.Assignee, CompletedBy: r.CompletedBy, Outcome: r.Outcome}
	}
	return out
}

func (c *claim) nextSeq() int {
	c.seq++
	return c.seq
}

// apply records a decision in the state. A stage decision becomes the one in force
// (its requirement and candidates, in the ledger, govern the stage); a person's or
// a timer's decision changes only the assignee.
func (c *claim) apply(ctx workflow.Context, d policy.Decision) {
	if last := c.lastDecision(); c.state.DecisionCount > 0 && last.Stage == d.Stage {
		c.state.Changes++
	} else {
		c.state.Changes = 0 // the stage's own decision
	}
	if IsStageDecision(d.Method) {
		c.decision = d
		c.setCandidates(d, &policy.DecisionKey{WorkflowID: workflow.GetInfo(ctx).WorkflowExecution.ID, Stage: d.Stage, Seq: d.Seq})
		if c.state.StageDecisions == nil {
			c.state.StageDecisions = map[policy.Stage]int{}
		}
		c.state.StageDecisions[d.Stage] = d.Seq
	}
	c.state.DecisionCount++
	c.state.Decisions = append(c.state.Decisions, d)
	if n := len(c.state.Decisions) - MaxStateDecisions; n > 0 {
		c.state.Decisions = slices.Delete(c.state.Decisions, 0, n)
	}
	c.state.AssignmentsEnabled = d.AssignmentsEnabled
	c.state.Assignee = d.Assignee
	switch {
	case !d.AssignmentsEnabled:
		c.state.Status = StatusOpen
	case d.Assignee != "":
		c.state.Status = StatusAssigned
	default:
		c.state.Status = StatusUnassigned
	}
}

// setCandidates shows a stage decision's counts and sample in the state, and
// where its full explanation is; the zero decision clears them.
func (c *claim) setCandidates(d policy.Decision, key *policy.DecisionKey) {
	c.state.Eligible, c.state.Excluded, c.state.Explain = d.Eligible, d.Excluded, key
	c.state.Sample = slices.Clone(d.Sample)
	if c.state.Sample == nil {
		c.state.Sample = []string{}
	}
}

// IsStageDecision reports whether a decision came from the stage's method, and so
// sets the stage's candidates, rather than from a person or a timer.
func IsStageDecision(m policy.Method) bool {
	switch m {
	case policy.MethodAssign, policy.MethodClaim, policy.MethodUnassign, policy.MethodDefaultAssignee,
		policy.MethodEscalation, policy.MethodReassignmentGroup:
		return false
	}
	return true
}

// publish keeps the search attributes operators filter on current.
func (c *claim) publish(ctx workflow.Context) error {
	assignee := AssigneeKey.ValueUnset()
	if c.state.Assignee != "" {
		assignee = AssigneeKey.ValueSet(c.state.Assignee)
	}
	queue := QueueKey.ValueUnset()
	if c.state.Status == StatusUnassigned && c.state.Queue != "" {
		queue = QueueKey.ValueSet(c.state.Queue)
	}
	updates := []temporal.SearchAttributeUpdate{
		StageKey.ValueSet(string(c.state.Stage)), StatusKey.ValueSet(c.state.Status), assignee, queue,
	}
	if c.state.Priority != "" {
		updates = append(updates, PriorityKey.ValueSet(c.state.Priority))
	}
	if c.in.Owner != "" {
		updates = append(updates, OwnerKey.ValueSet(c.in.Owner))
	}
	if c.state.Policy.Name != "" {
		updates = append(updates, PolicyKey.ValueSet(c.state.Policy.Name))
	}
	return workflow.UpsertTypedSearchAttributes(ctx, updates...)
}

// record writes a change of assignee through RecordAssignment, then makes it the
// state. While it runs, other changes are rejected (busy), so the first of two
// concurrent changes wins and the state never names an assignee the ledger lacks.
func (c *claim) record(ctx workflow.Context, rec RecordAssignmentInput) (policy.Decision, error) {
	c.busy++
	defer func() { c.busy-- }()
	rec.WorkflowID = workflow.GetInfo(ctx).WorkflowExecution.ID
	rec.ClaimID = c.in.ClaimID
	rec.Stage = c.state.Stage
	if rec.Before != nil {
		e := c.numbered(ctx, *rec.Before)
		rec.Before = &e
	}
	rec.Seq = c.nextSeq()
	rec.Previous = c.state.Assignee
	rec.PolicyVersion = c.decision.PolicyVersion
	rec.DecidedSeq = c.decision.Seq
	rec.FourEyes, rec.FourEyesOf = c.decision.FourEyes, c.decision.Rules.ExcludeActorsOf
	rec.Owner = c.in.Owner
	rec.At = workflow.Now(ctx)
	var d policy.Decision
	if err := c.bookkeeping(ActivityRecordAssignment, rec.Actor, rec).Get(ctx, &d); err != nil {
		if rec.Before != nil {
			c.write(ctx, *rec.Before) // what ran out is still so, whatever the change
		}
		return policy.Decision{}, asRejection(err)
	}
	if e := rec.Before; e != nil && len(e.Notify) > 0 {
		c.notify(ctx, e.Stage, e.Seq)
	}
	c.apply(ctx, d)
	workflow.GetLogger(ctx).Info("assignee changed", "claim_id", c.in.ClaimID, "stage", c.state.Stage,
		"method", d.Method, "assignee", d.Assignee, "actor", rec.Actor)
	c.notifyDecision(ctx, d, rec.Stage, rec.Seq)
	return d, c.publish(ctx)
}

// event records a timeline event (and its notifications). A failure is logged, not
// returned: the activity retries until the database answers, and a timeline entry
// never holds up the claim itself.
func (c *claim) event(ctx workflow.Context, e RecordEventInput) { c.write(ctx, c.numbered(ctx, e)) }

// numbered is e for the claim's current stage, with the next seq and now.
func (c *claim) numbered(ctx workflow.Context, e RecordEventInput) RecordEventInput {
	e.WorkflowID = workflow.GetInfo(ctx).WorkflowExecution.ID
	e.ClaimID = c.in.ClaimID
	e.Stage = c.state.Stage
	e.Seq = c.nextSeq()
	e.At = workflow.Now(ctx)
	return e
}

// write records a numbered event (event).
func (c *claim) write(ctx workflow.Context, e RecordEventInput) {
	c.inflight++
	defer func() { c.inflight-- }()
	if err := c.bookkeeping(ActivityRecordEvent, e.Actor, e).Get(ctx, nil); err != nil {
		workflow.GetLogger(ctx).Warn("timeline event not recorded", "claim_id", c.in.ClaimID, "kind", e.Kind, "error", err)
		return
	}
	if len(e.Notify) > 0 {
		c.notify(ctx, e.Stage, e.Seq)
	}
}

// bookkeeping runs one of the claim's own short database writes (pinning the
// policy, a timeline event, recording an assignee a person or a timer chose, a
// completion) as a local activity, so it costs the server no task of its own and
// a claim window's fallback lands in the same workflow task as its timer. All are
// keyed by the claim's seq, so a local activity run again after a crash writes
// nothing twice. ResolveAssignment stays an activity: it may ask a product module.
//
// actor is the person on whose behalf it is written, who waits for the answer
// of their Update: their write is retried for half a minute (localOptions).
// One with no actor is a timer's or the claim's own, which nobody waits on, and
// is retried through an outage (durableOptions).
func (c *claim) bookkeeping(name, actor string, arg any) workflow.Future {
	if actor == "" {
		return workflow.ExecuteLocalActivity(c.durable, name, arg)
	}
	return workflow.ExecuteLocalActivity(c.local, name, arg)
}

// notifyDecision notifies a decision's assignee, if it names one. It schedules
// nothing when the decision queued no e-mail or Slack message (the in-app inbox
// entry is already written, with the decision).
func (c *claim) notifyDecision(ctx workflow.Context, d policy.Decision, stage policy.Stage, seq int) {
	if d.Assignee == "" || d.Outbox == 0 {
		return
	}
	c.notify(ctx, stage, seq)
}

// notify sends the e-mail and Slack messages that the decision or event recorded
// under (stage, seq) queued in the outbox. It schedules SendNotifications and
// returns at once: the claim goes on while the activity sends and retries, so a
// failure to send never holds up or undoes an assignment.
func (c *claim) notify(ctx workflow.Context, stage policy.Stage, seq int) {
	in := SendNotificationsInput{WorkflowID: workflow.GetInfo(ctx).WorkflowExecution.ID, Stage: stage, Seq: seq}
	sent := workflow.ExecuteActivity(c.notifying, ActivitySendNotifications, in)
	c.inflight++
	workflow.Go(c.notifying, func(ctx workflow.Context) {
		defer func() { c.inflight-- }()
		if err := sent.Get(ctx, nil); err != nil {
			workflow.GetLogger(ctx).Warn("notifications not sent", "claim_id", c.in.ClaimID, "stage", stage, "seq", seq, "error", err)
		}
	})
}
