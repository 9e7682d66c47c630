package metrics_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/batonhq/baton/internal/metrics"
	"github.com/batonhq/baton/policy"
)

func scrape(t *testing.T, h http.Handler) string {
	t.Helper()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/metrics", nil))
	require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
	return rec.Body.String()
}

func quiet() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

func TestRecordingMovesCounters(t *testing.T) {
	t.Parallel()
	m := metrics.New()
	m.Decision(policy.Decision{Stage: policy.StageCapture, Method: policy.MethodRoundRobin, Assignee: "ann"})
	m.Decision(policy.Decision{Stage: policy.StageCapture, Method: policy.MethodManual})
	m.Decision(policy.Decision{Stage: policy.StageReview, Method: policy.MethodDefaultAssignee, Assignee: "gus"})
	m.Reassignment(policy.Decision{Stage: policy.StageReview, Method: policy.MethodAssign, Assignee: "ben"}, "ann")
	m.Reassignment(policy.Decision{Stage: policy.StageReview, Method: policy.MethodAssign, Assignee: "ben"}, "") // a first assignment
	m.Reassignment(policy.Decision{Stage: policy.StageReview, Method: policy.MethodUnassign}, "ben")
	m.Reassignment(policy.Decision{Stage: policy.StageCapture, Method: policy.MethodClaim, Assignee: "ann"}, "")
	m.Reassignment(policy.Decision{Stage: policy.StageCapture, Method: policy.MethodReassignmentGroup, Assignee: "ann"}, "ben")
	m.Reassignment(policy.Decision{Stage: policy.StageCapture, Method: policy.MethodEscalation, Assignee: "gus"}, "ann")
	m.Escalation(policy.StageReview)
	m.TimelineEvent(policy.EventEscalated)
	m.TimelineEvent(policy.EventEscalated)
	m.Notification(metrics.ChannelInbox, nil)
	m.Notification(metrics.ChannelInbox, errors.New("boom"))

	body := scrape(t, m.Handler())
	for _, want := range []string{
		`baton_decisions_total{method="round_robin",outcome="assigned",stage="capture"} 1`,
		`baton_decisions_total{method="manual",outcome="queued",stage="capture"} 1`,
		`baton_decisions_total{method="default_assignee",outcome="default_assignee",stage="review"} 1`,
		`baton_default_assignee_fallbacks_total{stage="review"} 1`,
		`baton_reassignments_total{kind="reassigned",stage="review"} 1`,
		`baton_reassignments_total{kind="reassigned",stage="capture"} 1`,
		`baton_reassignments_total{kind="unassigned",stage="review"} 1`,
		`baton_reassignments_total{kind="claimed",stage="capture"} 1`,
		`baton_reassignments_total{kind="group",stage="capture"} 1`,
		`baton_escalations_total{stage="review"} 1`,
		`baton_timeline_events_total{kind="escalated"} 2`,
		`baton_notifications_total{channel="inbox",result="sent"} 1`,
		`baton_notifications_total{channel="inbox",result="failed"} 1`,
	} {
		require.Contains(t, body, want+"\n")
	}
	require.Equal(t, 5, strings.Count(body, "\nbaton_reassignments_total{"), "a first assignment is not a reassignment")
}

func TestNilMetricsIsSafe(t *testing.T) {
	t.Parallel()
	var m *metrics.Metrics
	require.NotPanics(t, func() {
		m.Decision(policy.Decision{Stage: policy.StageCapture, Method: policy.MethodRoundRobin, Assignee: "ann"})
		m.Reassignment(policy.Decision{Method: policy.MethodClaim}, "")
		m.Escalation(policy.StageReview)
		m.TimelineEvent(policy.EventAssigned)
		m.Notification(metrics.ChannelInbox, nil)
		require.NoError(t, m.RegisterQueueDepth(nil, time.Second, nil))
		require.Nil(t, m.Registry())
		h := m.SDKHandler().WithTags(map[string]string{"a": "b"})
		h.Counter("temporal_request").Inc(1)
		h.Gauge("g").Update(1)
		h.Timer("t").Record(time.Second)
		scrape(t, m.Handler())
		stop, err := m.Serve(context.Background(), "", nil)
		require.NoError(t, err)
		stop()
	})
}

func TestHealthz(t *testing.T) {
	t.Parallel()
	rec := httptest.NewRecorder()
	metrics.New().Handler().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/healthz", nil))
	require.Equal(t, http.StatusOK, rec.Code)
	require.Equal(t, "ok", rec.Body.String())
}

func TestSDKHandler(t *testing.T) {
	t.Parallel()
	m := metrics.New()
	h := m.SDKHandler().WithTags(map[string]string{"namespace": "default", "task_queue": "baton"})
	h.Counter("temporal_request").Inc(2)
	h.Counter("temporal_request").Inc(1)
	h.Counter("temporal_request").Inc(-5) // ignored: counters only go up
	h.WithTags(map[string]string{"worker_type": "ActivityWorker"}).Gauge("temporal_worker_task_slots_available").Update(7)
	h.WithTags(map[string]string{"activity_type": "ResolveAssignment"}).Timer("temporal_activity_execution_latency").Record(30 * time.Millisecond)
	// The same name with other tag keys is a separate series of the same family.
	m.SDKHandler().WithTags(map[string]string{"operation": "Poll"}).Counter("temporal_request").Inc(1)
	// The same name with another type is dropped, and names and tags are sanitized.
	h.Gauge("temporal_request").Update(3)
	m.SDKHandler().WithTags(map[string]string{"odd-key.x": "v", "__internal": "w"}).Counter("temporal.odd-name").Inc(1)

	body := scrape(t, m.Handler())
	for _, want := range []string{
		`temporal_request{namespace="default",task_queue="baton"} 3`,
		`temporal_request{operation="Poll"} 1`,
		`temporal_worker_task_slots_available{namespace="default",task_queue="baton",worker_type="ActivityWorker"} 7`,
		`temporal_activity_execution_latency_bucket{activity_type="ResolveAssignment",namespace="default",task_queue="baton",le="0.05"} 1`,
		`temporal_activity_execution_latency_count{activity_type="ResolveAssignment",namespace="default",task_queue="baton"} 1`,
		`temporal_odd_name{odd_key_x="v",taginternal="w"} 1`,
	} {
		require.Contains(t, body, want+"\n")
	}
	require.Equal(t, 1, strings.Count(body, "# TYPE temporal_request "), body)
	require.Contains(t, body, "# TYPE temporal_request counter")
}

func TestQueueDepth(t *testing.T) {
	t.Parallel()
	m := metrics.New()
	fail := false
	require.NoError(t, m.RegisterQueueDepth(func(ctx context.Context) ([]metrics.QueueDepth, error) {
		if _, ok := ctx.Deadline(); !ok {
			return nil, errors.New("no deadline")
		}
		if fail {
			return nil, errors.New("visibility down")
		}
		return []metrics.QueueDepth{{Queue: "intake", Stage: "capture", Count: 2}, {Queue: "intake", Stage: "capture", Count: 1},
			{Queue: "default", Stage: "review", Count: 4}}, nil
	}, time.Second, quiet()))
	body := scrape(t, m.Handler())
	require.Contains(t, body, `baton_queue_depth{queue="intake",stage="capture"} 3`+"\n")
	require.Contains(t, body, `baton_queue_depth{queue="default",stage="review"} 4`+"\n")

	fail = true
	body = scrape(t, m.Handler())
	require.NotContains(t, body, "baton_queue_depth{", "a failed count exports nothing")
	require.Contains(t, body, "go_goroutines", "and the rest still serves")
}

func TestServe(t *testing.T) {
	t.Parallel()
	m := metrics.New()
	m.TimelineEvent(policy.EventQueued)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := ln.Addr().String()
	defer ln.Close()

	_, err = m.Serve(context.Background(), addr, quiet())
	require.ErrorContains(t, err, "serve metrics on "+addr, "a taken address is an error naming it")
	ln.Close()

	stop, err := m.Serve(context.Background(), addr, quiet())
	require.NoError(t, err)
	resp, err := http.Get("http://" + addr + "/metrics")
	require.NoError(t, err)
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	require.Contains(t, string(body), `baton_timeline_events_total{kind="queued"} 1`)
	resp, err = http.Get("http://" + addr + "/healthz")
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	stop()
	stop() // idempotent
	_, err = http.Get("http://" + addr + "/healthz")
	require.Error(t, err, "stopped")
}
