package workflows_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"
	"go.temporal.io/sdk/workflow"

	"github.com/batonhq/baton/policy"
	"github.com/batonhq/baton/workflows"
)

// memActivities decides and authorises with the real policy functions over an
// in-memory directory and ledger, so the workflow's logic is tested without a
// database.
type memActivities struct {
	policy *policy.Policy
	users  []policy.User
	served map[string]map[string]int64
	// stages are the stage decisions' ledger entries, by seq.
	stages map[int]memStage
	seen   []workflows.ResolveAssignmentInput
	events []workflows.RecordEventInput
	record []workflows.RecordAssignmentInput
	groups map[string]policy.ReassignmentGroup
	offers []string
	notify fakeNotifier
	// noChannels: no e-mail or Slack configured, so decisions queue nothing.
	noChannels bool
	// down is how many of the next writes (assignments, events) fail as they
	// would while the database is unreachable: retryably.
	down int
}

// outage fails the write while the database is down.
func (m *memActivities) outage() error {
	if m.down == 0 {
		return nil
	}
	m.down--
	return errors.New("dial tcp 127.0.0.1:5432: connect: connection refused")
}

// memStage is a stage decision as the ledger keeps it: its requirement and the
// candidates it selected.
type memStage struct {
	req        policy.Requirement
	candidates []policy.User
}

func (s memStage) WasCandidate(_ context.Context, id string) (bool, error) {
	return slices.ContainsFunc(s.candidates, func(u policy.User) bool { return u.ID == id }), nil
}

func (s memStage) FirstCandidates(_ context.Context, n int) ([]policy.User, int, error) {
	return s.candidates[:min(n, len(s.candidates))], len(s.candidates), nil
}

// people is the directory as it is now (tests edit users between steps).
func (m *memActivities) people() *policy.MemDirectory {
	return &policy.MemDirectory{Users: m.users, Served: m.served}
}

func (m *memActivities) authority(seq int) policy.StageAuthority {
	st := m.stages[seq]
	return policy.StageAuthority{Requirement: st.req, Ledger: st}
}

// authorize is the real activities' check: policy.AuthorizeNow against the
// directory as it is now.
func (m *memActivities) authorize(seq int, act policy.Act) error {
	r, err := policy.AuthorizeNow(context.Background(), m.people(), m.authority(seq), act)
	if err != nil || r == nil {
		return err
	}
	return workflows.Rejection(r)
}

// eligible lists who meets the stage's requirement now.
func (m *memActivities) eligible(seq int) ([]string, error) {
	var out []string
	for _, u := range m.users {
		c, _, err := m.authority(seq).Check(context.Background(), m.people(), u.ID)
		if err != nil {
			return nil, err
		}
		if c.Eligible() {
			out = append(out, u.ID)
		}
	}
	return out, nil
}

func (m *memActivities) plan(_ context.Context, in workflows.PlanReassignmentInput) (workflows.ReassignmentPlan, error) {
	if err := m.authorize(in.DecidedSeq, policy.Act{Action: policy.DoStartReassignment, ClaimID: in.ClaimID, Stage: in.Stage,
		Actor: in.Actor, Owner: in.Owner, Assignee: in.Assignee, AssignmentsEnabled: true}); err != nil {
		return workflows.ReassignmentPlan{}, err
	}
	g, ok := m.groups[in.Group]
	if !ok {
		return workflows.ReassignmentPlan{}, temporal.NewNonRetryableApplicationError(
			fmt.Sprintf("unknown reassignment group %q", in.Group), workflows.ErrTypeInvalid, nil)
	}
	eligible, err := m.eligible(in.DecidedSeq)
	if err != nil {
		return workflows.ReassignmentPlan{}, err
	}
	p := workflows.ReassignmentPlan{Group: g.Name, Method: g.Method, DefaultAssignee: g.DefaultAssignee, OfferTimeout: g.OfferTimeout}
	for _, u := range g.Members {
		if slices.Contains(eligible, u) {
			p.Members = append(p.Members, u)
		}
	}
	return p, nil
}

// offerNext is the real activity's rule over in-memory turns.
func (m *memActivities) offerNext(_ context.Context, in workflows.OfferNextInput) (workflows.OfferNextResult, error) {
	eligible, err := m.eligible(in.DecidedSeq)
	if err != nil {
		return workflows.OfferNextResult{}, err
	}
	var members []string
	for _, u := range m.groups[in.Group].Members {
		if slices.Contains(eligible, u) {
			members = append(members, u)
		}
	}
	turn, entered, ok := policy.GroupTurn(in.Group, members, m.served[policy.GroupScope(in.Group)])
	if !ok || slices.Contains(in.Offered, turn.User.ID) {
		return workflows.OfferNextResult{Done: true}, nil
	}
	for _, t := range append(entered, turn) {
		m.people().Record(t)
	}
	m.offers = append(m.offers, turn.User.ID)
	return workflows.OfferNextResult{Member: turn.User.ID}, nil
}

func (m *memActivities) event(_ context.Context, in workflows.RecordEventInput) error {
	if err := m.outage(); err != nil {
		return err
	}
	m.events = append(m.events, in)
	return nil
}

// completion authorises as RecordCompletion does and records the timeline event.
func (m *memActivities) completion(_ context.Context, in workflows.RecordCompletionInput) error {
	if err := m.authorize(in.DecidedSeq, policy.Act{Action: policy.DoComplete, ClaimID: in.ClaimID, Stage: in.Stage, Actor: in.Actor,
		Assignee: in.Assignee, AssignmentsEnabled: in.AssignmentsEnabled, AssigneeExempt: in.AssigneeExempt, FourEyes: in.FourEyes}); err != nil {
		return err
	}
	m.events = append(m.events, workflows.RecordEventInput{TimelineEvent: policy.TimelineEvent{WorkflowID: in.WorkflowID, ClaimID: in.ClaimID, Stage: in.Stage, Seq: in.Seq,
		Kind: policy.EventCompleted, Actor: in.Actor,
		Reason: string(in.Outcome), Comment: in.Note, At: in.At}})
	return nil
}

// kinds lists the recorded timeline events' kinds, in order.
func (m *memActivities) kinds() []string {
	var out []string
	for _, e := range m.events {
		out = append(out, e.Kind)
	}
	return out
}

func (m *memActivities) resolve(ctx context.Context, in workflows.ResolveAssignmentInput) (policy.Decision, error) {
	m.seen = append(m.seen, in)
	people := m.people()
	d, ex, err := policy.Decide(ctx, policy.DecideInput{Policy: m.policy, Stage: in.Stage, Outcome: in.Outcome, People: people,
		Claim: in.Claim, Steps: in.Steps})
	if err != nil {
		return d, err
	}
	if ex.Turn != nil {
		people.Record(*ex.Turn)
	}
	st := memStage{req: ex.Requirement}
	for _, u := range m.users {
		if c, _ := people.Check(ctx, u.ID, ex.Requirement); c.Eligible() {
			st.candidates = append(st.candidates, u)
		}
	}
	m.stages[in.Seq] = st
	d.Seq = in.Seq
	d.Outbox = m.queued(d.Assignee)
	return d, nil
}

// queued is what the real activities report as queued e-mail and Slack messages:
// one (an e-mail) per assignment, unless the test turned channels off.
func (m *memActivities) queued(assignee string) int {
	if assignee == "" || m.noChannels {
		return 0
	}
	return 1
}

func (m *memActivities) recordAssignment(_ context.Context, in workflows.RecordAssignmentInput) (_ policy.Decision, err error) {
	if err := m.outage(); err != nil {
		return policy.Decision{}, err
	}
	m.record = append(m.record, in)
	if in.Before != nil {
		// One transaction in the real activity: refused, neither is kept.
		defer func(n int) {
			if err != nil {
				m.events = m.events[:n]
			}
		}(len(m.events))
		m.events = append(m.events, *in.Before)
	}
	if in.Action != "" {
		act := policy.Act{Action: in.Action, ClaimID: in.ClaimID, Stage: in.Stage, Actor: in.Actor, Owner: in.Owner,
			Assignee: in.Previous, AssignmentsEnabled: true, Reassigning: in.Reassigning}
		if in.Action == policy.DoAssign {
			act.Target = in.Assignee
		}
		if err := m.authorize(in.DecidedSeq, act); err != nil {
			return policy.Decision{}, err
		}
	} else {
		for _, u := range m.users {
			if u.ID == in.Assignee && !u.Active {
				return policy.Decision{}, temporal.NewNonRetryableApplicationError(fmt.Sprintf("user %q is inactive", u.ID), workflows.ErrTypeUnknownUser, nil)
			}
		}
	}
	method := in.Method
	if method == "" {
		method = policy.MethodAssign
	}
	reason := in.Reason
	if reason == "" {
		reason = "assigned by " + in.Actor
	}
	if in.Comment != "" {
		reason += ": " + in.Comment
	}
	return policy.Decision{Seq: in.Seq, Stage: in.Stage, Method: method, AssignmentsEnabled: true,
		Assignee: in.Assignee, Actor: in.Actor, Reason: reason, Comment: in.Comment,
		Outbox: m.queued(in.Assignee)}, nil
}

var directory = []policy.User{
	{ID: "ann", Active: true, Permissions: []string{"MakeClaimDecisions", "AcknowledgeClaimDecisions", "AcknowledgeClaimApproval"}},
	{ID: "bob", Active: true, Permissions: []string{"MakeClaimDecisions", "AcknowledgeClaimDecisions", "AcknowledgeClaimApproval"}},
	{ID: "cat", Active: true, Permissions: []string{"MakeClaimDecisions"}},
	{ID: "root", Active: true, Permissions: []string{"Admin"}},
	{ID: "old", Active: false, Permissions: []string{"MakeClaimDecisions"}},
	{ID: "own", Active: true}, // owns claims; holds no permission
}

type harness struct {
	t       *testing.T
	env     *testsuite.TestWorkflowEnvironment
	acts    *memActivities
	step    time.Duration
	pending []func()
	ids     []string
}

func newHarness(t *testing.T, p *policy.Policy) *harness {
	var suite testsuite.WorkflowTestSuite
	env := suite.NewTestWorkflowEnvironment()
	env.SetTestTimeout(time.Minute)
	acts := &memActivities{policy: p, users: directory, served: map[string]map[string]int64{}, stages: map[int]memStage{},
		groups: map[string]policy.ReassignmentGroup{}}
	env.RegisterWorkflowWithOptions(workflows.ClaimWorkflow, workflow.RegisterOptions{Name: workflows.ClaimWorkflowName})
	env.RegisterActivityWithOptions(acts.resolve, activity.RegisterOptions{Name: workflows.ActivityResolveAssignment})
	env.RegisterActivityWithOptions(acts.recordAssignment, activity.RegisterOptions{Name: workflows.ActivityRecordAssignment})
	env.RegisterActivityWithOptions(acts.event, activity.RegisterOptions{Name: workflows.ActivityRecordEvent})
	env.RegisterActivityWithOptions(acts.plan, activity.RegisterOptions{Name: workflows.ActivityPlanReassignment})
	env.RegisterActivityWithOptions(acts.offerNext, activity.RegisterOptions{Name: workflows.ActivityOfferNext})
	env.RegisterActivityWithOptions(acts.completion, activity.RegisterOptions{Name: workflows.ActivityRecordCompletion})
	env.RegisterActivityWithOptions(func(_ context.Context, in workflows.PinPolicyInput) (workflows.PolicyRef, error) {
		if in.Start != nil {
			if err := in.Start.Check(); err != nil { // the directory's part is the store's (tools/e2e)
				return workflows.PolicyRef{}, temporal.NewNonRetryableApplicationError(err.Error(), workflows.ErrTypeInvalid, nil)
			}
		}
		return workflows.PolicyRef{}, nil // no stored policies: the worker's own
	}, activity.RegisterOptions{Name: workflows.ActivityPinPolicy})
	env.SetStartWorkflowOptions(client.StartWorkflowOptions{ID: workflows.WorkflowID("c1")})
	env.RegisterActivityWithOptions(acts.notify.send, activity.RegisterOptions{Name: workflows.ActivitySendNotifications})
	return &harness{t: t, env: env, acts: acts}
}

// then runs fn a (skipped) minute after the previous step, once the workflow has
// processed that step's updates and is waiting again; the previous step's update
// results are checked first.
func (h *harness) then(fn func()) { h.at(h.step+time.Minute, fn) }

// at runs fn at offset d from the workflow's start (after the previous step).
func (h *harness) at(d time.Duration, fn func()) {
	require.Greater(h.t, d, h.step, "steps run in order")
	h.step = d
	h.env.RegisterDelayedCallback(func() {
		h.flush()
		fn()
	}, d)
}

func (h *harness) flush() {
	checks := h.pending
	h.pending = nil
	for _, c := range checks {
		c()
	}
}

// do sends an update in its own step; check gets its error (nil when it
// completed) at the start of the next step.
func (h *harness) do(name string, arg any, check func(err error)) {
	h.then(func() { h.send(name, arg, check) })
}

// send sends an update from inside a step; several may go in one step.
func (h *harness) send(name string, arg any, check func(err error)) {
	id := fmt.Sprintf("u%d", len(h.ids))
	h.ids = append(h.ids, id)
	var out error
	done := false
	h.env.UpdateWorkflow(name, id, &testsuite.TestUpdateCallback{
		OnAccept:   func() {},
		OnReject:   func(err error) { out, done = err, true },
		OnComplete: func(_ interface{}, err error) { out, done = err, true },
	}, arg)
	h.pending = append(h.pending, func() {
		require.True(h.t, done, "update %s did not finish", name)
		check(out)
	})
}

func (h *harness) complete(actor, outcome string, check func(error)) {
	h.do(workflows.UpdateCompleteStage, workflows.CompleteInput{Actor: actor, Outcome: outcome}, check)
}

func (h *harness) assign(actor, user string, check func(error)) {
	h.do(workflows.UpdateAssign, workflows.AssignInput{Actor: actor, UserID: user}, check)
}

func (h *harness) state() workflows.ClaimState {
	v, err := h.env.QueryWorkflow(workflows.QueryState)
	require.NoError(h.t, err)
	var s workflows.ClaimState
	require.NoError(h.t, v.Get(&s))
	return s
}

// start runs the workflow until it completes or blocks with nothing left to do.
func (h *harness) start(owner string) {
	h.env.ExecuteWorkflow(workflows.ClaimWorkflowName, workflows.ClaimInput{ClaimID: "c1", Owner: owner})
	h.flush()
}

func (h *harness) summary() workflows.ClaimSummary {
	require.True(h.t, h.env.IsWorkflowCompleted())
	require.NoError(h.t, h.env.GetWorkflowError())
	var sum workflows.ClaimSummary
	require.NoError(h.t, h.env.GetWorkflowResult(&sum))
	return sum
}

func ok(t *testing.T) func(error) { return func(err error) { require.NoError(t, err) } }

// rejected expects an application error of the kind whose message holds want.
func rejected(t *testing.T, kind, want string) func(error) {
	return func(err error) {
		t.Helper()
		requireType(t, err, kind)
		require.Contains(t, err.Error(), want)
	}
}

func requireType(t *testing.T, err error, kind string) {
	t.Helper()
	var app *temporal.ApplicationError
	require.True(t, errors.As(err, &app), "want an application error, got %v", err)
	require.Equal(t, kind, app.Type(), app.Error())
}

func TestRoundRobinClaimThroughAllStages(t *testing.T) {
	t.Parallel()
	h := newHarness(t, &policy.Policy{Version: "v1", AssignmentsEnabled: true, Method: policy.MethodRoundRobin})
	var before workflows.ClaimState
	h.then(func() {
		before = h.state()
		require.Equal(t, policy.StageCapture, before.Stage)
		require.Equal(t, "ann", before.Assignee)
		require.Equal(t, workflows.StatusAssigned, before.Status)
		require.Equal(t, 3, before.Eligible) // ann, bob, cat; old is inactive, root and own lack the permission
	})
	// A non-assignee is rejected and nothing changes.
	h.complete("bob", "", rejected(t, workflows.ErrTypeForbidden, `"bob" may not complete capture of claim c1: only the assignee (ann) may`))
	h.complete("ann", "approval", rejected(t, workflows.ErrTypeInvalid, "outcome is only recorded at review"))
	h.then(func() { require.Equal(t, before, h.state()) })
	h.complete("ann", "", ok(t))
	h.then(func() {
		s := h.state()
		require.Equal(t, policy.StageReview, s.Stage)
		require.Equal(t, "ann", s.Assignee, "each stage has its own round-robin cursor")
	})
	h.complete("ann", "", rejected(t, workflows.ErrTypeInvalid, "outcome is required at review"))
	h.complete("ann", "aproval", rejected(t, workflows.ErrTypeInvalid, `did you mean "approval"`))
	h.complete("ann", "approval", ok(t))
	h.then(func() {
		s := h.state()
		require.Equal(t, policy.StageAcknowledge, s.Stage)
		require.Equal(t, 2, s.Eligible, "acknowledge of an approval needs AcknowledgeClaimApproval")
		require.Equal(t, "ann", s.Assignee)
	})
	h.complete("ann", "", ok(t))
	h.start("")

	sum := h.summary()
	require.Equal(t, policy.OutcomeApproval, sum.ReviewOutcome)
	require.Len(t, sum.Stages, 3)
	require.Equal(t, 3, sum.Decisions)
	require.Equal(t, policy.OutcomeApproval, h.acts.seen[2].Outcome, "acknowledge is decided with the review outcome")
	for i, in := range h.acts.seen {
		if i > 0 {
			require.Greater(t, in.Seq, h.acts.seen[i-1].Seq, "each decision has its own, later, seq")
		}
		require.Empty(t, in.CurrentUser, "the system starts stages")
	}
	require.Equal(t, []string{"completed", "completed", "completed"}, h.acts.kinds())
	s := h.state()
	require.Equal(t, policy.StageFinalise, s.Stage)
	require.Equal(t, workflows.StatusFinalised, s.Status)
}

func TestManualAssignAndReassignRules(t *testing.T) {
	t.Parallel()
	h := newHarness(t, &policy.Policy{Version: "v1", AssignmentsEnabled: true, Method: policy.MethodManual})
	var before workflows.ClaimState
	h.then(func() {
		before = h.state()
		require.Equal(t, workflows.StatusUnassigned, before.Status)
		require.Empty(t, before.Assignee)
	})
	h.complete("ann", "", rejected(t, workflows.ErrTypeConflict, "capture has no assignee yet"))
	h.assign("ann", "bob", rejected(t, workflows.ErrTypeForbidden, "only admins and the owner assign others"))
	h.assign("root", "old", rejected(t, workflows.ErrTypeInvalid, `"old" is not eligible for capture of claim c1: eligible are ann, bob, cat`))
	h.then(func() { require.Equal(t, before, h.state(), "rejections change nothing") })
	h.assign("cat", "cat", ok(t)) // an eligible user takes it
	h.assign("bob", "bob", rejected(t, workflows.ErrTypeForbidden, "only the assignee (cat), admins and the owner may"))
	h.assign("cat", "cat", rejected(t, workflows.ErrTypeConflict, "already assigned to cat"))
	h.assign("root", "ann", ok(t)) // an admin reassigns
	h.assign("own", "bob", ok(t))  // so does the owner
	h.assign("ann", "cat", rejected(t, workflows.ErrTypeForbidden, `"ann" may not reassign`))
	h.then(func() {
		s := h.state()
		require.Equal(t, "bob", s.Assignee)
		require.Equal(t, 3, s.Eligible, "reassigning keeps the stage's candidates")
		require.Len(t, s.Decisions, 4)
		require.Equal(t, policy.MethodAssign, s.Decisions[3].Method)
		require.Equal(t, "own", s.Decisions[3].Actor)
	})
	h.complete("bob", "", ok(t))
	h.assign("root", "cat", ok(t))
	h.complete("cat", "goodwill", ok(t))
	h.then(func() { require.Zero(t, h.state().Eligible, "nobody holds AcknowledgeClaimGoodwill") })
	h.assign("root", "ann", rejected(t, workflows.ErrTypeInvalid, "eligible are nobody"))
	h.start("own")
	// The test environment ends a workflow that is still waiting with a timeout:
	// acknowledge waited for someone to become able to take it.
	var timeout *temporal.TimeoutError
	require.True(t, errors.As(h.env.GetWorkflowError(), &timeout), "want still waiting, got %v", h.env.GetWorkflowError())
	require.Equal(t, policy.StageAcknowledge, h.state().Stage)
}

// An action that names the stage it means is refused once the claim has moved
// on: an operator acting on a stale view never reassigns the next stage.
func TestActionsMeantForAnotherStageAreRefused(t *testing.T) {
	t.Parallel()
	h := newHarness(t, &policy.Policy{Version: "v1", AssignmentsEnabled: true, Method: policy.MethodManual})
	var before workflows.ClaimState
	h.then(func() { before = h.state() })
	refused := rejected(t, workflows.ErrTypeConflict, "claim c1 is at capture, not review")
	h.do(workflows.UpdateAssign, workflows.AssignInput{Actor: "root", UserID: "ann", Stage: policy.StageReview}, refused)
	h.do(workflows.UpdateClaim, workflows.ClaimStageInput{Actor: "ann", Stage: policy.StageReview}, refused)
	h.then(func() { require.Equal(t, before, h.state(), "refusals change nothing") })
	h.do(workflows.UpdateAssign, workflows.AssignInput{Actor: "root", UserID: "ann", Stage: policy.StageCapture}, ok(t))
	h.do(workflows.UpdateUnassign, workflows.UnassignInput{Actor: "root", Stage: policy.StageReview}, refused)
	h.do(workflows.UpdateCompleteStage, workflows.CompleteInput{Actor: "ann", Stage: policy.StageReview}, refused)
	h.do(workflows.UpdateCompleteStage, workflows.CompleteInput{Actor: "ann", Stage: policy.StageCapture}, ok(t))
	h.do(workflows.UpdateAssign, workflows.AssignInput{Actor: "root", UserID: "bob", Stage: policy.StageCapture},
		rejected(t, workflows.ErrTypeConflict, "claim c1 is at review, not capture"))
	h.then(func() {
		s := h.state()
		require.Equal(t, policy.StageReview, s.Stage)
		require.Empty(t, s.Assignee, "the stale assignment did not land on review")
	})
	h.start("own")
}

func TestAssignmentsDisabled(t *testing.T) {
	t.Parallel()
	h := newHarness(t, &policy.Policy{Version: "v1", AssignmentsEnabled: false, Method: policy.MethodRoundRobin})
	h.then(func() {
		s := h.state()
		require.Equal(t, workflows.StatusOpen, s.Status)
		require.Empty(t, s.Assignee)
	})
	h.assign("root", "ann", rejected(t, workflows.ErrTypeConflict, "claim assignments are disabled"))
	h.complete("root", "", rejected(t, workflows.ErrTypeForbidden, "they do not hold MakeClaimDecisions"))
	h.complete("cat", "", ok(t))
	h.complete("bob", "approval", ok(t))
	h.complete("cat", "", rejected(t, workflows.ErrTypeForbidden, "AcknowledgeClaimApproval"))
	h.complete("ann", "", ok(t))
	h.start("")
	sum := h.summary()
	require.Equal(t, "cat", sum.Stages[0].CompletedBy)
	require.Empty(t, sum.Stages[0].Assignee)
}

func TestAssignInactiveUserRejectedByActivity(t *testing.T) {
	t.Parallel()
	h := newHarness(t, &policy.Policy{Version: "v1", AssignmentsEnabled: true, Method: policy.MethodManual})
	// bob is deactivated after the stage was decided: the candidate snapshot still
	// lists him, the activity refuses, and the state does not change.
	h.acts.users = append([]policy.User{}, directory...)
	var before workflows.ClaimState
	h.then(func() {
		h.acts.users[1].Active = false
		before = h.state()
	})
	h.assign("root", "bob", rejected(t, workflows.ErrTypeUnknownUser, `user "bob" is inactive`))
	h.then(func() { require.Equal(t, before, h.state()) })
	h.assign("ann", "ann", ok(t))
	h.complete("ann", "", ok(t))
	h.start("")
	require.Equal(t, policy.StageReview, h.state().Stage)
}
