package workflows_test

import (
	"context"
	"errors"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/batonhq/baton/policy"
	"github.com/batonhq/baton/workflows"
)

// fakeNotifier stands in for SendNotifications: it records each run's key and
// fails every run while fail is set.
type fakeNotifier struct {
	mu   sync.Mutex
	runs []workflows.SendNotificationsInput
	fail error
}

func (f *fakeNotifier) send(_ context.Context, in workflows.SendNotificationsInput) (workflows.SendNotificationsResult, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.runs = append(f.runs, in)
	if f.fail != nil {
		return workflows.SendNotificationsResult{Failed: 1}, f.fail
	}
	return workflows.SendNotificationsResult{Sent: 1}, nil
}

// keys are the distinct (stage, seq) keys sent for, in order of first run.
func (f *fakeNotifier) keys() []workflows.SendNotificationsInput {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []workflows.SendNotificationsInput
	seen := map[workflows.SendNotificationsInput]bool{}
	for _, r := range f.runs {
		if !seen[r] {
			seen[r] = true
			out = append(out, r)
		}
	}
	return out
}

func (f *fakeNotifier) count() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.runs)
}

// Each decision that names a new assignee, by the stage's method or by a person,
// sends its notifications under its own ledger key; a decision naming nobody sends
// none.
func TestNotificationsScheduledPerAssignment(t *testing.T) {
	t.Parallel()
	h := newHarness(t, &policy.Policy{Version: "v1", AssignmentsEnabled: true, Method: policy.MethodManual})
	h.then(func() { require.Empty(t, h.acts.notify.keys(), "manual: nobody assigned, nobody notified") })
	h.assign("root", "bob", ok(t))
	h.assign("root", "cat", ok(t))
	h.complete("cat", "", ok(t))
	h.assign("root", "ann", ok(t))
	h.complete("ann", "approval", ok(t))
	h.start("")
	var want []workflows.SendNotificationsInput
	for _, r := range h.acts.record {
		want = append(want, workflows.SendNotificationsInput{WorkflowID: r.WorkflowID, Stage: r.Stage, Seq: r.Seq})
	}
	require.Len(t, want, 3)
	require.Equal(t, want, h.acts.notify.keys())
	require.Equal(t, 3, h.acts.notify.count(), "each sent once: the fake never fails")
}

// A notification that cannot be sent is retried in the background and never holds
// up the claim: round robin assigns every stage and the claim is finalised while
// every send fails.
func TestNotificationFailureNeverBlocksTheClaim(t *testing.T) {
	t.Parallel()
	h := newHarness(t, &policy.Policy{Version: "v1", AssignmentsEnabled: true, Method: policy.MethodRoundRobin})
	h.acts.notify.fail = errors.New("smtp: connection refused")
	h.then(func() {
		s := h.state()
		require.Equal(t, "ann", s.Assignee)
		require.Equal(t, workflows.StatusAssigned, s.Status)
	})
	h.complete("ann", "", ok(t))
	h.complete("ann", "approval", ok(t))
	h.complete("ann", "", ok(t))
	h.start("")
	sum := h.summary()
	require.Len(t, sum.Stages, 3)
	require.Len(t, h.acts.notify.keys(), 3, "one key per stage decision")
	require.Greater(t, h.acts.notify.count(), 3, "failed sends were retried")
}

// With no e-mail or Slack configured a decision queues nothing, and the claim
// schedules no SendNotifications at all (changeLean): the in-app inbox entry is
// written with the decision itself.
func TestNoChannelsNoNotificationActivity(t *testing.T) {
	t.Parallel()
	h := newHarness(t, &policy.Policy{Version: "v1", AssignmentsEnabled: true, Method: policy.MethodRoundRobin})
	h.acts.noChannels = true
	h.complete("ann", "", ok(t))
	h.complete("ann", "approval", ok(t))
	h.complete("ann", "", ok(t))
	h.start("")
	require.Len(t, h.summary().Stages, 3)
	require.Empty(t, h.acts.notify.keys())
}
