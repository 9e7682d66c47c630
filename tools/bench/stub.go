package bench

import (
	"context"
	"fmt"
	"sync/atomic"

	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"

	"github.com/batonhq/baton/policy"
	"github.com/batonhq/baton/workflows"
)

// stubActivities stands in for every one of Baton's activities, under their
// contract names, so Baton's own claim workflow runs unchanged (the same
// stages, Updates, local activities, markers and search-attribute upserts)
// with none of Baton's work behind it: Temporal's cost for the same
// orchestration. ResolveAssignment answers round robin over Users from a
// counter, with a decision of the real one's shape and size; the rest return
// at once.
type stubActivities struct {
	policy *policy.Policy
	turn   atomic.Int64
}

func (s *stubActivities) ResolveAssignment(_ context.Context, in workflows.ResolveAssignmentInput) (policy.Decision, error) {
	who := Users[int(s.turn.Add(1)-1)%len(Users)]
	req := s.policy.RequirementFor(in.Stage, in.Outcome, in.Claim)
	return policy.Decision{
		Seq: in.Seq, Stage: in.Stage, Method: policy.MethodRoundRobin, AssignmentsEnabled: true, Assignee: who,
		Required: req.Required, Eligible: len(Users), Sample: Users[:policy.SampleSize],
		Reason:        fmt.Sprintf("round robin: %s is next in turn of %d eligible", who, len(Users)),
		PolicyVersion: s.policy.Version, Rules: s.policy.RulesFor(in.Stage),
	}, nil
}

func (s *stubActivities) RecordAssignment(_ context.Context, in workflows.RecordAssignmentInput) (policy.Decision, error) {
	return policy.Decision{Seq: in.Seq, Stage: in.Stage, Method: policy.MethodManual, AssignmentsEnabled: true,
		Assignee: in.Assignee, Actor: in.Actor, Reason: "assigned by " + in.Actor, PolicyVersion: s.policy.Version,
		Rules: s.policy.RulesFor(in.Stage)}, nil
}

func (s *stubActivities) RecordEvent(context.Context, workflows.RecordEventInput) error { return nil }

func (s *stubActivities) RecordCompletion(context.Context, workflows.RecordCompletionInput) error {
	return nil
}

func (s *stubActivities) PinPolicy(context.Context, workflows.PinPolicyInput) (workflows.PolicyRef, error) {
	return workflows.PolicyRef{}, nil
}

func (s *stubActivities) PlanReassignment(context.Context, workflows.PlanReassignmentInput) (workflows.ReassignmentPlan, error) {
	return workflows.ReassignmentPlan{}, nil
}

func (s *stubActivities) OfferNext(context.Context, workflows.OfferNextInput) (workflows.OfferNextResult, error) {
	return workflows.OfferNextResult{}, nil
}

func (s *stubActivities) SendNotifications(context.Context, workflows.SendNotificationsInput) (workflows.SendNotificationsResult, error) {
	return workflows.SendNotificationsResult{}, nil
}

// registerStubbed registers Baton's claim workflow with the stubs.
func registerStubbed(w worker.Registry, p *policy.Policy) {
	s := &stubActivities{policy: p}
	w.RegisterWorkflowWithOptions(workflows.ClaimWorkflow, workflow.RegisterOptions{Name: workflows.ClaimWorkflowName})
	for name, f := range map[string]any{
		workflows.ActivityResolveAssignment: s.ResolveAssignment,
		workflows.ActivityRecordAssignment:  s.RecordAssignment,
		workflows.ActivityRecordEvent:       s.RecordEvent,
		workflows.ActivityRecordCompletion:  s.RecordCompletion,
		workflows.ActivityPinPolicy:         s.PinPolicy,
		workflows.ActivityPlanReassignment:  s.PlanReassignment,
		workflows.ActivityOfferNext:         s.OfferNext,
		workflows.ActivitySendNotifications: s.SendNotifications,
	} {
		w.RegisterActivityWithOptions(f, activity.RegisterOptions{Name: name})
	}
}
