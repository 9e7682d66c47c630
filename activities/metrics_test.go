package activities_test

import (
	"context"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/stretchr/testify/require"

	"github.com/batonhq/baton/activities"
	"github.com/batonhq/baton/internal/batontest"
	"github.com/batonhq/baton/internal/metrics"
	"github.com/batonhq/baton/policy"
	"github.com/batonhq/baton/policy/yamlfile"
	"github.com/batonhq/baton/workflows"
)

const metricsDirectory = `
users:
  - {id: ann, name: Ann, email: ann@example.com, role: Claims assessor, permissions: [MakeClaimDecisions]}
  - {id: ben, name: Ben, email: ben@example.com, role: Claims assessor, permissions: [MakeClaimDecisions]}
  - {id: gus, name: Gus, email: gus@example.com, role: Claims supervisor, permissions: [MakeClaimDecisions]}
`

// setupWithMetrics is the activities over a fresh schema with metricsDirectory
// loaded and a metrics registry.
func setupWithMetrics(t *testing.T, p *policy.Policy) (*activities.Activities, *metrics.Metrics) {
	t.Helper()
	db := batontest.New(t)
	d, err := yamlfile.ParseDirectory("directory.yaml", []byte(metricsDirectory))
	require.NoError(t, err)
	_, err = db.Store.LoadDirectory(context.Background(), d)
	require.NoError(t, err)
	a := activities.New(db.Store, p, nil, "", nil)
	a.Metrics = metrics.New()
	return a, a.Metrics
}

// counterValue is the value of the named counter's series with exactly these
// labels, 0 when it has none yet.
func counterValue(t *testing.T, m *metrics.Metrics, name string, labels map[string]string) float64 {
	t.Helper()
	return series(t, m, name, labels).GetCounter().GetValue()
}

// series is the named metric's series with exactly these labels, nil when none.
func series(t *testing.T, m *metrics.Metrics, name string, labels map[string]string) *dto.Metric {
	t.Helper()
	families, err := m.Registry().Gather()
	require.NoError(t, err)
	for _, f := range families {
		if f.GetName() != name {
			continue
		}
		for _, s := range f.GetMetric() {
			if sameLabels(s.GetLabel(), labels) {
				return s
			}
		}
	}
	return nil
}

func sameLabels(pairs []*dto.LabelPair, want map[string]string) bool {
	if len(pairs) != len(want) {
		return false
	}
	for _, p := range pairs {
		if v, ok := want[p.GetName()]; !ok || v != p.GetValue() {
			return false
		}
	}
	return true
}

// A decision is counted once when its transaction commits; a retried activity
// returns the recorded decision and counts nothing.
func TestMetricsCountEachDecisionOnce(t *testing.T) {
	t.Parallel()
	a, m := setupWithMetrics(t, &policy.Policy{Version: "v1", AssignmentsEnabled: true, Method: policy.MethodRoundRobin})
	in := workflows.ResolveAssignmentInput{WorkflowID: workflows.WorkflowID("m1"), Claim: policy.Claim{ID: "m1"},
		Stage: policy.StageCapture, Seq: 1}
	first, err := a.ResolveAssignment(context.Background(), in)
	require.NoError(t, err)
	again, err := a.ResolveAssignment(context.Background(), in)
	require.NoError(t, err)
	require.Equal(t, first, again)
	require.Equal(t, "ann", first.Assignee)

	decisions := map[string]string{"stage": "capture", "method": "round_robin", "outcome": "assigned"}
	require.Equal(t, 1.0, counterValue(t, m, "baton_decisions_total", decisions))
	require.Equal(t, 1.0, counterValue(t, m, "baton_timeline_events_total", map[string]string{"kind": policy.EventAssigned}))
	require.Equal(t, 1.0, counterValue(t, m, "baton_notifications_total", map[string]string{"channel": "inbox", "result": "sent"}))

	// Another claim is another decision.
	in.WorkflowID, in.Claim.ID = workflows.WorkflowID("m2"), "m2"
	_, err = a.ResolveAssignment(context.Background(), in)
	require.NoError(t, err)
	require.Equal(t, 2.0, counterValue(t, m, "baton_decisions_total", decisions))

	// A reassignment, recorded twice under one seq, counts once.
	re := workflows.RecordAssignmentInput{WorkflowID: workflows.WorkflowID("m1"), ClaimID: "m1", Stage: policy.StageCapture,
		Seq: 2, Assignee: "ben", Actor: "ann", Previous: "ann", PolicyVersion: first.PolicyVersion}
	for range 2 {
		_, err = a.RecordAssignment(context.Background(), re)
		require.NoError(t, err)
	}
	require.Equal(t, 1.0, counterValue(t, m, "baton_reassignments_total", map[string]string{"stage": "capture", "kind": "reassigned"}))
	require.Equal(t, 1.0, counterValue(t, m, "baton_decisions_total", map[string]string{"stage": "capture", "method": "assign", "outcome": "assigned"}))

	// An escalation event, retried, counts once, with one notification per user.
	ev := workflows.RecordEventInput{TimelineEvent: policy.TimelineEvent{WorkflowID: workflows.WorkflowID("m1"), ClaimID: "m1", Stage: policy.StageCapture, Seq: 3,
		Kind: policy.EventEscalated, Subject: "ben"},
		Notify: []string{"ben", "gus"}, Message: "overdue"}
	for range 2 {
		require.NoError(t, a.RecordEvent(context.Background(), ev))
	}
	require.Equal(t, 1.0, counterValue(t, m, "baton_escalations_total", map[string]string{"stage": "capture"}))
	require.Equal(t, 1.0, counterValue(t, m, "baton_timeline_events_total", map[string]string{"kind": policy.EventEscalated}))
	require.Equal(t, 5.0, counterValue(t, m, "baton_notifications_total", map[string]string{"channel": "inbox", "result": "sent"}),
		"ann on m1 and m2, ben on reassignment, ben and gus on escalation")
}

// gaugeValue is the value of the named gauge's series with exactly these labels,
// and whether it has one.
func gaugeValue(t *testing.T, m *metrics.Metrics, name string, labels map[string]string) (float64, bool) {
	t.Helper()
	s := series(t, m, name, labels)
	return s.GetGauge().GetValue(), s != nil
}

// The workload figures: who was passed over and why, refusals at a limit, open
// stages (in all and for the most loaded), and the backlog.
func TestWorkloadMetrics(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	a, m := setupWithMetrics(t, &policy.Policy{Version: "v1", AssignmentsEnabled: true, Method: policy.MethodRoundRobin})
	require.NoError(t, m.RegisterWorkload(a.Store.WorkloadStats, 5*time.Second, nil))
	for _, id := range []string{"ann", "ben", "gus"} {
		_, _, err := a.Store.UserStatusSet(ctx, id, policy.Away)
		require.NoError(t, err)
	}
	in := workflows.ResolveAssignmentInput{WorkflowID: workflows.WorkflowID("w1"), Claim: policy.Claim{ID: "w1"},
		Stage: policy.StageCapture, Seq: 1}
	d, err := a.ResolveAssignment(ctx, in)
	require.NoError(t, err)
	require.Empty(t, d.Assignee)
	require.True(t, d.Backlog)
	require.Equal(t, 3.0, counterValue(t, m, "baton_passed_over_total", map[string]string{"stage": "capture", "why": "away"}))
	n, ok := gaugeValue(t, m, "baton_backlog", map[string]string{"queue": "default", "stage": "capture"})
	require.True(t, ok)
	require.Equal(t, 1.0, n)
	_, ok = gaugeValue(t, m, "baton_backlog_oldest_seconds", map[string]string{"queue": "default", "stage": "capture"})
	require.True(t, ok)

	// A person's assignment gives ann an open stage; past her limit it is refused.
	_, err = a.RecordAssignment(ctx, workflows.RecordAssignmentInput{WorkflowID: workflows.WorkflowID("w1"), ClaimID: "w1",
		Stage: policy.StageCapture, Seq: 2, Assignee: "ann", Actor: "ann", Action: policy.DoClaim, Method: policy.MethodClaim, DecidedSeq: 1})
	require.NoError(t, err)
	n, _ = gaugeValue(t, m, "baton_open_stages", map[string]string{"stage": "capture"})
	require.Equal(t, 1.0, n)
	n, _ = gaugeValue(t, m, "baton_open_stages_top", map[string]string{"user": "ann"})
	require.Equal(t, 1.0, n)
	_, ok = gaugeValue(t, m, "baton_backlog", map[string]string{"queue": "default", "stage": "capture"})
	require.False(t, ok, "claimed: no longer waiting")
}
