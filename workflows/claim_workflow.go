package workflows

import (
	"errors"
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

// claim is the workflow's state and the logic of its handlers.
type claim struct {
	in         ClaimInput
	state      ClaimState
	seq        int
	decision   policy.Decision // the decision in force for the current stage
	completed  bool            // the current stage has been completed
	recording  bool            // an assign update is writing its ledger row
	activities workflow.Context
}

// ClaimWorkflow moves a claim through capture, review and acknowledge, deciding
// each stage's assignee, and returns a summary at finalise.
func ClaimWorkflow(ctx workflow.Context, in ClaimInput) (ClaimSummary, error) {
	c := &claim{
		in: in,
		state: ClaimState{
			ClaimID:    in.ClaimID,
			Owner:      in.Owner,
			Candidates: []policy.Candidate{},
			Completed:  []StageResult{},
			Decisions:  []policy.Decision{},
		},
		activities: workflow.WithActivityOptions(ctx, activityOptions),
	}
	if err := c.register(ctx); err != nil {
		return ClaimSummary{}, err
	}
	for _, stage := range policy.AssignableStages {
		if err := c.runStage(ctx, stage); err != nil {
			return ClaimSummary{}, err
		}
	}
	c.state.Stage, c.state.Status, c.state.Assignee = policy.StageFinalise, StatusFinalised, ""
	c.state.Candidates = []policy.Candidate{}
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
		Decisions:     len(c.state.Decisions),
	}, nil
}

func (c *claim) register(ctx workflow.Context) error {
	if err := workflow.SetQueryHandler(ctx, QueryState, func() (ClaimState, error) { return c.state, nil }); err != nil {
		return err
	}
	if err := workflow.SetUpdateHandlerWithOptions(ctx, UpdateAssign, c.assign,
		workflow.UpdateHandlerOptions{Validator: func(_ workflow.Context, in AssignInput) error { return c.validateAssign(in) }}); err != nil {
		return err
	}
	return workflow.SetUpdateHandlerWithOptions(ctx, UpdateCompleteStage, c.complete,
		workflow.UpdateHandlerOptions{Validator: func(_ workflow.Context, in CompleteInput) error { return c.validateComplete(in) }})
}

// runStage decides the stage's assignee and waits until someone completes it.
func (c *claim) runStage(ctx workflow.Context, stage policy.Stage) error {
	c.state.Stage, c.state.Status, c.state.Assignee = stage, StatusDeciding, ""
	c.state.Candidates = []policy.Candidate{}
	c.completed = false
	if err := c.publish(ctx); err != nil {
		return err
	}
	in := ResolveAssignmentInput{
		WorkflowID: workflow.GetInfo(ctx).WorkflowExecution.ID,
		Claim:      policy.Claim{ID: c.in.ClaimID, Owner: c.in.Owner, Data: c.in.Data},
		Stage:      stage,
		Seq:        c.nextSeq(),
	}
	if stage == policy.StageAcknowledge {
		in.Outcome = c.state.ReviewOutcome
	}
	var d policy.Decision
	if err := workflow.ExecuteActivity(c.activities, ActivityResolveAssignment, in).Get(ctx, &d); err != nil {
		return err
	}
	c.apply(d)
	workflow.GetLogger(ctx).Info("stage decided", "claim_id", c.in.ClaimID, "stage", stage,
		"method", d.Method, "assignee", d.Assignee, "reason", d.Reason)
	if err := c.publish(ctx); err != nil {
		return err
	}
	return workflow.Await(ctx, func() bool { return c.completed })
}

func (c *claim) nextSeq() int {
	c.seq++
	return c.seq
}

// apply makes a decision the one in force for the current stage.
func (c *claim) apply(d policy.Decision) {
	c.decision = d
	c.state.Decisions = append(c.state.Decisions, d)
	c.state.AssignmentsEnabled = d.AssignmentsEnabled
	c.state.Assignee = d.Assignee
	if d.Method != policy.MethodAssign {
		c.state.Candidates = slices.Clone(d.Candidates)
	}
	switch {
	case !d.AssignmentsEnabled:
		c.state.Status = StatusOpen
	case d.Assignee != "":
		c.state.Status = StatusAssigned
	default:
		c.state.Status = StatusUnassigned
	}
}

// publish keeps the search attributes operators filter on current.
func (c *claim) publish(ctx workflow.Context) error {
	assignee := AssigneeKey.ValueUnset()
	if c.state.Assignee != "" {
		assignee = AssigneeKey.ValueSet(c.state.Assignee)
	}
	return workflow.UpsertTypedSearchAttributes(ctx,
		StageKey.ValueSet(string(c.state.Stage)), StatusKey.ValueSet(c.state.Status), assignee)
}

// assign records a person's choice of assignee. The ledger row is written before
// the state changes, so the state never names an assignee the ledger lacks.
func (c *claim) assign(ctx workflow.Context, in AssignInput) (policy.Decision, error) {
	// Validators of concurrent updates all ran against the state before this
	// handler; checking again here makes the first one win.
	if err := c.validateAssign(in); err != nil {
		return policy.Decision{}, err
	}
	c.recording = true
	defer func() { c.recording = false }()
	rec := RecordAssignmentInput{
		WorkflowID:    workflow.GetInfo(ctx).WorkflowExecution.ID,
		ClaimID:       c.in.ClaimID,
		Stage:         c.state.Stage,
		Seq:           c.nextSeq(),
		Assignee:      in.UserID,
		Previous:      c.state.Assignee,
		Actor:         in.Actor,
		Comment:       in.Comment,
		PolicyVersion: c.decision.PolicyVersion,
		Candidates:    c.state.Candidates,
	}
	var d policy.Decision
	if err := workflow.ExecuteActivity(c.activities, ActivityRecordAssignment, rec).Get(ctx, &d); err != nil {
		var app *temporal.ApplicationError
		if errors.As(err, &app) {
			return policy.Decision{}, temporal.NewNonRetryableApplicationError(app.Message(), app.Type(), nil)
		}
		return policy.Decision{}, err
	}
	d.Admins = c.decision.Admins
	c.apply(d)
	workflow.GetLogger(ctx).Info("assigned", "claim_id", c.in.ClaimID, "stage", c.state.Stage,
		"assignee", d.Assignee, "actor", in.Actor)
	return d, c.publish(ctx)
}

// complete finishes the current stage; the main loop then moves to the next one.
func (c *claim) complete(_ workflow.Context, in CompleteInput) (StageResult, error) {
	if err := c.validateComplete(in); err != nil {
		return StageResult{}, err
	}
	r := StageResult{Stage: c.state.Stage, Assignee: c.state.Assignee, CompletedBy: in.Actor, Note: in.Note}
	if c.state.Stage == policy.StageReview {
		r.Outcome, _ = policy.ParseOutcome(in.Outcome) // validated above
		c.state.ReviewOutcome = r.Outcome
	}
	c.state.Completed = append(c.state.Completed, r)
	c.completed = true
	return r, nil
}
