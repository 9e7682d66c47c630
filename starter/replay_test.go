package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	historypb "go.temporal.io/api/history/v1"
)

// runOffline runs the CLI with no configuration: file mode must contact no server.
func runOffline(args ...string) (code int, stdout, stderr string) {
	var out, errb bytes.Buffer
	code = run(context.Background(), args, &out, &errb, func(string) string { return "" })
	return code, out.String(), errb.String()
}

// historyShape reads a saved history's length and the id of its first scheduled
// activity, which `make histories` may move.
func historyShape(t *testing.T, file string) (events, firstActivity int) {
	t.Helper()
	data, err := os.ReadFile(file)
	require.NoError(t, err)
	var h struct {
		Events []struct {
			EventID   string `json:"eventId"`
			EventType string `json:"eventType"`
		} `json:"events"`
	}
	require.NoError(t, json.Unmarshal(data, &h))
	for _, e := range h.Events {
		if e.EventType == "EVENT_TYPE_ACTIVITY_TASK_SCHEDULED" && firstActivity == 0 {
			firstActivity, err = strconv.Atoi(e.EventID)
			require.NoError(t, err)
		}
	}
	return len(h.Events), firstActivity
}

func TestReplayFiles(t *testing.T) {
	t.Parallel()
	const claim = "baton-TestHistories-round_robin_finalised-1-001" // both files record this claim
	good, bad := "../workflows/testdata/round_robin_finalised.json", "../workflows/testdata/incompatible_activity_renamed.json"
	events, firstActivity := historyShape(t, good)

	code, out, errs := runOffline("replay", good, bad)
	require.Equal(t, 1, code, out+errs)
	lines := strings.Split(strings.TrimSpace(out), "\n")
	require.Len(t, lines, 3, out)
	require.Equal(t, fmt.Sprintf("ok    %s [%s]  (%d events)", claim, good, events), lines[0])
	require.True(t, strings.HasPrefix(lines[1], "FAIL  "+claim+" ["+bad+"]  "), lines[1])
	require.Contains(t, lines[1], fmt.Sprintf("non-deterministic at event %d ActivityTaskScheduled (ActivityType ResolveAssignmentV0): ", firstActivity)+
		"the code now does ScheduleActivityTask (ActivityType ResolveAssignment) [TMPRL1100]")
	require.Equal(t, "replayed 2 claims: 1 ok, 1 failed", lines[2])
	require.Contains(t, errs, "starter replay: 1 of 2 claims do not replay against this workflow code")

	files, err := filepath.Glob("../workflows/testdata/*.json")
	require.NoError(t, err)
	var compatible []string
	for _, f := range files {
		if !strings.HasPrefix(filepath.Base(f), "incompatible_") {
			compatible = append(compatible, f)
		}
	}
	require.GreaterOrEqual(t, len(compatible), 3)
	code, out, errs = runOffline(append([]string{"replay"}, compatible...)...)
	require.Equal(t, 0, code, out+errs)
	require.Len(t, regexp.MustCompile(`(?m)^ok    `).FindAllString(out, -1), len(compatible), out)
	require.NotContains(t, out, "FAIL")
	require.Contains(t, out, fmt.Sprintf("replayed %d claims: %d ok, 0 failed\n", len(compatible), len(compatible)))

	// A file that is not a history fails the gate; it is never passed over.
	junk := filepath.Join(t.TempDir(), "junk.json")
	require.NoError(t, os.WriteFile(junk, []byte("{not json"), 0o600))
	code, out, _ = runOffline("replay", good, junk)
	require.Equal(t, 1, code)
	require.Contains(t, out, "FAIL  "+junk+"  not an exported workflow history")
	code, out, _ = runOffline("replay", filepath.Join(t.TempDir(), "missing.json"))
	require.Equal(t, 1, code)
	require.Contains(t, out, "cannot read the history")

	// Usage errors exit 2 before anything is contacted.
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"replay", "--since", "last week"}, `--since "last week": want YYYY-MM-DD or RFC 3339`},
		{[]string{"replay", "--limit", "0"}, "--limit 0: want a positive number"},
		{[]string{"replay", "--query", " "}, "--query is empty"},
		{[]string{"replay", good, "--query", "WorkflowType = 'ClaimWorkflow'"}, "use one or the other"},
		{[]string{"replay", "--frobnicate"}, "flag provided but not defined"},
	} {
		code, _, errs := runOffline(tc.args...)
		require.Equal(t, 2, code, tc.args)
		require.Contains(t, errs, tc.want, tc.args)
	}
}

func TestExplainReplayError(t *testing.T) {
	t.Parallel()
	h := &historypb.History{}
	cases := []struct{ err, want string }{
		{"[TMPRL1100] nondeterministic workflow: missing replay command for TimerStarted: (TimerId:12, StartToFireTimeout:(Seconds:60, Nanos:0), WorkflowTaskCompletedEventId:10)",
			"non-deterministic at event TimerStarted (TimerId 12): the code no longer does this [TMPRL1100]"},
		{"[TMPRL1100] nondeterministic workflow: extra replay command for ScheduleActivityTask: (ActivityId:5, ActivityType:(Name:RecordEvent), TaskQueue:(Name:baton))",
			"non-deterministic: the code now does ScheduleActivityTask (ActivityType RecordEvent), which the history does not have [TMPRL1100]"},
		{"[TMPRL1100] nondeterministic workflow: history event is WorkflowExecutionUpdateAccepted: (EventId:14, EventType:WorkflowExecutionUpdateAccepted, Attributes:(AcceptedRequestSequencingEventId:13)), replay command is StartTimer: (TimerId:14, StartToFireTimeout:(Seconds:1, Nanos:0))",
			"non-deterministic at event 14 WorkflowExecutionUpdateAccepted: the code now does StartTimer (TimerId 14) [TMPRL1100]"},
		{"workflow panicked:\nboom", "replay failed: workflow panicked: boom"},
	}
	for _, tc := range cases {
		require.Equal(t, tc.want, explainReplayError(errors.New(tc.err), h))
	}
}
