package bench

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	enumspb "go.temporal.io/api/enums/v1"

	"github.com/batonhq/baton/workflows"
)

// The throughput baseline is worth its name only while it is Baton's own
// orchestration: one claim through Baton and one through the stubbed workflow
// must record the same commands (activities, local-activity markers,
// search-attribute upserts, timers, Updates) in the same numbers, and both
// drivers must see every stage's assignee; so must the minimal claim's.
func TestStubbedClaimIsBatonsOrchestration(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	s, err := StartStackWith(ctx, StackConfig{DataDir: t.TempDir(), Schema: "baton_bench_flowtest"})
	require.NoError(t, err)
	defer s.Close()
	w, err := s.startWorkers("shape", mustPolicy("bench-rr.yaml", roundRobinPolicy))
	require.NoError(t, err)
	defer w.stop()

	counts := map[string]map[enumspb.EventType]int{}
	for side, claims := range map[string]func(context.Context, string) ([]time.Duration, error){
		"baton": driveBaton(w.claims, flowPoll), "stubbed": driveBaton(w.stubbed, flowPoll),
	} {
		lat, err := claims(ctx, "shape-"+side)
		require.NoError(t, err, side)
		require.Len(t, lat, 3, "%s: a latency per stage", side)
		events, err := history(ctx, s.Client, workflows.WorkflowID("shape-"+side))
		require.NoError(t, err)
		counts[side] = map[enumspb.EventType]int{}
		for _, ev := range events {
			switch ev.GetEventType() {
			case enumspb.EVENT_TYPE_WORKFLOW_TASK_SCHEDULED, enumspb.EVENT_TYPE_WORKFLOW_TASK_STARTED,
				enumspb.EVENT_TYPE_WORKFLOW_TASK_COMPLETED:
				// How tasks batch depends on timing, not on the orchestration.
			default:
				counts[side][ev.GetEventType()]++
			}
		}
	}
	require.Equal(t, counts["baton"], counts["stubbed"])
	require.Equal(t, 3, counts["baton"][enumspb.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED], "one decision per stage")
	require.Positive(t, counts["baton"][enumspb.EVENT_TYPE_MARKER_RECORDED], "local activities")
	require.Positive(t, counts["baton"][enumspb.EVENT_TYPE_UPSERT_WORKFLOW_SEARCH_ATTRIBUTES])

	lat, err := driveMinimal(s.Client, w.noop, flowPoll)(ctx, "minimal-1")
	require.NoError(t, err, "the minimal claim finishes its stages under its driver")
	require.Len(t, lat, 3)
}
