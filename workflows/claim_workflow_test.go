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
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"
	"go.temporal.io/sdk/workflow"

	"github.com/batonhq/baton/policy"
	"github.com/batonhq/baton/workflows"
)

// memActivities decides with the real policy functions over an in-memory
// directory, so the workflow's logic is tested without a database.
type memActivities struct {
	policy *policy.Policy
	users  []policy.User
	cursor map[string]policy.Cursor
	seen   []workflows.ResolveAssignmentInput
	events []workflows.RecordEventInput
	record []workflows.RecordAssignmentInput
	groups map[string]policy.ReassignmentGroup
	offers []string
	notify fakeNotifier
	// noChannels: no e-mail or Slack configured, so decisions queue nothing.
	noChannels bool
}

func (m *memActivities) plan(_ context.Context, in workflows.PlanReassignmentInput) (workflows.ReassignmentPlan, error) {
	g, ok := m.groups[in.Group]
	if !ok {
		return workflows.ReassignmentPlan{}, temporal.NewNonRetryableApplicationError(
			fmt.Sprintf("unknown reassignment group %q", in.Group), workflows.ErrTypeInvalid, nil)
	}
	p := workflows.ReassignmentPlan{Group: g.Name, Method: g.Method, DefaultAssignee: g.DefaultAssignee, OfferTimeout: g.OfferTimeout}
	for _, u := range g.Members {
		if slices.Contains(in.Candidates, u) {
			p.Members = append(p.Members, u)
		}
	}
	return p, nil
}

// offerNext is the real activity's rule over an in-memory cursor.
func (m *memActivities) offerNext(_ context.Context, in workflows.OfferNextInput) (workflows.OfferNextResult, error) {
	var users []policy.User
	for _, u := range m.groups[in.Group].Members {
		if slices.Contains(in.Candidates, u) {
			users = append(users, policy.User{ID: u})
		}
	}
	pick, next, _, ok := policy.RoundRobin(users, m.cursor["group/"+in.Group])
	if !ok || slices.Contains(in.Offered, pick.ID) {
		return workflows.OfferNextResult{Done: true}, nil
	}
	m.cursor["group/"+in.Group] = next
	m.offers = append(m.offers, pick.ID)
	return workflows.OfferNextResult{Member: pick.ID}, nil
}

func (m *memActivities) event(_ context.Context, in workflows.RecordEventInput) error {
	m.events = append(m.events, in)
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

func (m *memActivities) resolve(_ context.Context, in workflows.ResolveAssignmentInput) (policy.Decision, error) {
	m.seen = append(m.seen, in)
	d, next, err := policy.Decide(policy.DecideInput{Policy: m.policy, Stage: in.Stage, Outcome: in.Outcome, Users: m.users, Cursor: m.cursor[string(in.Stage)]})
	m.cursor[string(in.Stage)] = next
	d.Seq = in.Seq
	d.Outbox = m.queued(d.Assignee)
	return d, err
}

// queued is what the real activities report as queued e-mail and Slack messages:
// one (an e-mail) per assignment, unless the test turned channels off.
func (m *memActivities) queued(assignee string) int {
	if assignee == "" || m.noChannels {
		return 0
	}
	return 1
}

func (m *memActivities) recordAssignment(_ context.Context, in workflows.RecordAssignmentInput) (policy.Decision, error) {
	m.record = append(m.record, in)
	for _, u := range m.users {
		if u.ID == in.Assignee && !u.Active {
			return policy.Decision{}, temporal.NewNonRetryableApplicationError(fmt.Sprintf("user %q is inactive", u.ID), workflows.ErrTypeUnknownUser, nil)
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
		Assignee: in.Assignee, Actor: in.Actor, Candidates: in.Candidates, Reason: reason, Comment: in.Comment,
		Outbox: m.queued(in.Assignee)}, nil
}

var directory = []policy.User{
	{ID: "ann", Active: true, Permissions: []string{"MakeClaimDecisions", "AcknowledgeClaimDecisions", "AcknowledgeClaimApproval"}},
	{ID: "bob", Active: true, Permissions: []string{"MakeClaimDecisions", "AcknowledgeClaimDecisions", "AcknowledgeClaimApproval"}},
	{ID: "cat", Active: true, Permissions: []string{"MakeClaimDecisions"}},
	{ID: "root", Active: true, Permissions: []string{"Admin"}},
	{ID: "old", Active: false, Permissions: []string{"MakeClaimDecisions"}},
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
	acts := &memActivities{policy: p, users: directory, cursor: map[string]policy.Cursor{}, groups: map[string]policy.ReassignmentGroup{}}
	env.RegisterWorkflowWithOptions(workflows.ClaimWorkflow, workflow.RegisterOptions{Name: workflows.ClaimWorkflowName})
	env.RegisterActivityWithOptions(acts.resolve, activity.RegisterOptions{Name: workflows.ActivityResolveAssignment})
	env.RegisterActivityWithOptions(acts.recordAssignment, activity.RegisterOptions{Name: workflows.ActivityRecordAssignment})
	env.RegisterActivityWithOptions(acts.event, activity.RegisterOptions{Name: workflows.ActivityRecordEvent})
	env.RegisterActivityWithOptions(acts.plan, activity.RegisterOptions{Name: workflows.ActivityPlanReassignment})
	env.RegisterActivityWithOptions(acts.offerNext, activity.RegisterOptions{Name: workflows.ActivityOfferNext})
	env.RegisterActivityWithOptions(func(context.Context, workflows.PinPolicyInput) (workflows.PolicyRef, error) {
		return workflows.PolicyRef{}, nil // no stored policies: the worker's own
	}, activity.RegisterOptions{Name: workflows.ActivityPinPolicy})
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
		require.Len(t, before.Candidates, 3) // ann, bob, cat; old is inactive, root lacks the permission
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
		require.Len(t, s.Candidates, 2, "acknowledge of an approval needs AcknowledgeClaimApproval")
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
		require.Len(t, s.Candidates, 3, "reassigning keeps the stage's candidates")
		require.Len(t, s.Decisions, 4)
		require.Equal(t, policy.MethodAssign, s.Decisions[3].Method)
		require.Equal(t, "own", s.Decisions[3].Actor)
	})
	h.complete("bob", "", ok(t))
	h.assign("root", "cat", ok(t))
	h.complete("cat", "goodwill", ok(t))
	h.then(func() { require.Empty(t, h.state().Candidates, "nobody holds AcknowledgeClaimGoodwill") })
	h.assign("root", "ann", rejected(t, workflows.ErrTypeInvalid, "eligible are nobody"))
	h.start("own")
	// The test environment ends a workflow that is still waiting with a timeout:
	// acknowledge waited for someone to become able to take it.
	var timeout *temporal.TimeoutError
	require.True(t, errors.As(h.env.GetWorkflowError(), &timeout), "want still waiting, got %v", h.env.GetWorkflowError())
	require.Equal(t, policy.StageAcknowledge, h.state().Stage)
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
