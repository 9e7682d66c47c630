package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"time"

	commonpb "go.temporal.io/api/common/v1"
	enumspb "go.temporal.io/api/enums/v1"
	historypb "go.temporal.io/api/history/v1"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/converter"
	sdklog "go.temporal.io/sdk/log"
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"

	"github.com/batonhq/baton/workflows"
)

// The replay gate: replay claims' histories against the workflow code compiled
// into this binary, before that code is deployed as a worker. A history the code
// cannot replay is a claim the new worker would leave stuck.

// defaultReplayQuery selects every open claim.
var defaultReplayQuery = fmt.Sprintf("WorkflowType = '%s' AND ExecutionStatus = 'Running'", workflows.ClaimWorkflowName)

const replayUsage = "want: replay [--query Q] [--since DATE] [--limit N], or replay FILE..."

// replayed is the outcome of one history.
type replayed struct {
	label  string // the claim id, and the file it came from in file mode
	events int
	reason string // empty when it replayed
}

func cmdReplay(ctx context.Context, c *cli, args []string) error {
	fs := flag.NewFlagSet("replay", flag.ContinueOnError)
	query := fs.String("query", defaultReplayQuery, "visibility query selecting the claims to replay")
	since := fs.String("since", "", "only claims started on or after this date (YYYY-MM-DD or RFC 3339)")
	limit := fs.Int("limit", 1000, "replay at most this many claims")
	files, err := parseVariadic(fs, args)
	if err != nil {
		return err
	}
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	if len(files) > 0 && (set["query"] || set["since"] || set["limit"]) {
		return usagef("FILE arguments replay saved histories and contact no server; --query, --since and --limit select claims on the server: use one or the other")
	}
	if *limit <= 0 {
		return usagef("--limit %d: want a positive number", *limit)
	}
	q := strings.TrimSpace(*query)
	if q == "" {
		return usagef("--query is empty; the default replays every open claim: %s", defaultReplayQuery)
	}
	if *since != "" {
		t, err := time.Parse(time.DateOnly, *since)
		if err != nil {
			if t, err = time.Parse(time.RFC3339, *since); err != nil {
				return usagef("--since %q: want YYYY-MM-DD or RFC 3339", *since)
			}
		}
		q = fmt.Sprintf("(%s) AND StartTime >= '%s'", q, t.UTC().Format(time.RFC3339))
	}

	r := newClaimReplayer(c.stderr)
	var results []replayed
	report := func(res replayed) {
		results = append(results, res)
		if res.reason == "" {
			fmt.Fprintf(c.stdout, "ok    %s  (%d events)\n", res.label, res.events)
		} else {
			fmt.Fprintf(c.stdout, "FAIL  %s  %s\n", res.label, res.reason)
		}
	}

	if len(files) > 0 {
		for _, f := range files {
			report(r.replayFile(f))
		}
	} else {
		if err := r.replayServer(ctx, c, q, *limit, report); err != nil {
			return err
		}
		if len(results) == 0 {
			fmt.Fprintf(c.stdout, "no claims to replay: nothing matches %s\n", q)
			return nil
		}
	}

	failed := 0
	for _, res := range results {
		if res.reason != "" {
			failed++
		}
	}
	fmt.Fprintf(c.stdout, "replayed %d claims: %d ok, %d failed\n", len(results), len(results)-failed, failed)
	if failed > 0 {
		return fmt.Errorf("%d of %d claims do not replay against this workflow code: do not deploy it (put the change behind workflow.GetVersion)", failed, len(results))
	}
	return nil
}

// parseVariadic parses flags anywhere among any number of positional arguments.
func parseVariadic(fs *flag.FlagSet, args []string) ([]string, error) {
	fs.SetOutput(io.Discard)
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				return nil, helpRequested{fs}
			}
			return nil, usagef("%v (%s)", flagError(fs, err), replayUsage)
		}
		args = fs.Args()
		if len(args) == 0 {
			return pos, nil
		}
		pos = append(pos, args[0])
		args = args[1:]
	}
}

type claimReplayer struct {
	replayer worker.WorkflowReplayer
	logger   sdklog.Logger
}

// newClaimReplayer registers the claim workflow compiled into this binary. Its
// logger keeps to errors: the SDK logs each failed replay's raw error there.
func newClaimReplayer(stderr io.Writer) *claimReplayer {
	r := worker.NewWorkflowReplayer()
	r.RegisterWorkflowWithOptions(workflows.ClaimWorkflow, workflow.RegisterOptions{Name: workflows.ClaimWorkflowName})
	logger := sdklog.NewStructuredLogger(slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelError})))
	return &claimReplayer{replayer: r, logger: logger}
}

func (r *claimReplayer) replay(label string, h *historypb.History) replayed {
	res := replayed{label: label, events: len(h.GetEvents())}
	if err := r.replayer.ReplayWorkflowHistory(r.logger, h); err != nil {
		res.reason = explainReplayError(err, h)
	}
	return res
}

// replayFile replays an exported history (temporal workflow show --output json,
// or workflows/testdata).
func (r *claimReplayer) replayFile(path string) replayed {
	label := path
	f, err := os.Open(path)
	if err != nil {
		return replayed{label: label, reason: fmt.Sprintf("cannot read the history: %v", err)}
	}
	defer f.Close()
	h, err := client.HistoryFromJSON(f, client.HistoryJSONOptions{})
	if err != nil {
		return replayed{label: label, reason: fmt.Sprintf("not an exported workflow history: %v", err)}
	}
	claim := claimIDOf(h)
	if claim == "" {
		claim = strings.TrimSuffix(filepath.Base(path), filepath.Ext(path))
	}
	return r.replay(claim+" ["+path+"]", h)
}

// claimIDOf reads the claim id from the WorkflowExecutionStarted event: the
// workflow id, or (in histories too old to carry it) the claim input.
func claimIDOf(h *historypb.History) string {
	if len(h.GetEvents()) == 0 {
		return ""
	}
	a := h.Events[0].GetWorkflowExecutionStartedEventAttributes()
	if a == nil {
		return ""
	}
	if id := a.GetWorkflowId(); id != "" {
		return strings.TrimPrefix(id, workflows.WorkflowIDPrefix)
	}
	var in workflows.ClaimInput
	if p := a.GetInput().GetPayloads(); len(p) > 0 && converter.GetDefaultDataConverter().FromPayload(p[0], &in) == nil {
		return in.ClaimID
	}
	return ""
}

// replayServer lists the claims the query selects and replays each one's history.
func (r *claimReplayer) replayServer(ctx context.Context, c *cli, query string, limit int, report func(replayed)) error {
	claims, err := c.claims(ctx)
	if err != nil {
		return err
	}
	tc := claims.Temporal()
	var execs []*commonpb.WorkflowExecution
	var token []byte
	more := false
	for {
		resp, err := tc.ListWorkflow(ctx, &workflowservice.ListWorkflowExecutionsRequest{
			Query: query, NextPageToken: token, PageSize: int32(min(limit, 1000)),
		})
		if err != nil {
			var bad *serviceerror.InvalidArgument
			if errors.As(err, &bad) {
				return usagef("--query %q: %s", query, bad.Message)
			}
			return fmt.Errorf("list claims (%s): %w", query, err)
		}
		for _, e := range resp.GetExecutions() {
			if len(execs) == limit {
				more = true
				break
			}
			execs = append(execs, e.GetExecution())
		}
		token = resp.GetNextPageToken()
		if len(token) == 0 || more {
			break
		}
		if len(execs) == limit {
			more = true
			break
		}
	}
	for _, e := range execs {
		claim := strings.TrimPrefix(e.GetWorkflowId(), workflows.WorkflowIDPrefix)
		h, err := fetchHistory(ctx, tc, e)
		if err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			// Unchecked is not ok: the gate passes only what it replayed.
			report(replayed{label: claim, reason: fmt.Sprintf("cannot fetch the history (run %s): %v", e.GetRunId(), err)})
			continue
		}
		report(r.replay(claim, h))
	}
	if more {
		fmt.Fprintf(c.stdout, "stopped at --limit %d: more claims may match %s\n", limit, query)
	}
	return nil
}

func fetchHistory(ctx context.Context, tc client.Client, e *commonpb.WorkflowExecution) (*historypb.History, error) {
	it := tc.GetWorkflowHistory(ctx, e.GetWorkflowId(), e.GetRunId(), false, enumspb.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
	h := &historypb.History{}
	for it.HasNext() {
		ev, err := it.Next()
		if err != nil {
			return nil, err
		}
		h.Events = append(h.Events, ev)
	}
	return h, nil
}

// The SDK reports a history the code cannot replay as one of (internal
// historyMismatchError, see the SDK's internal_task_handlers.go):
//
//	[TMPRL1100] nondeterministic workflow: history event is EVENT, replay command is COMMAND
//	[TMPRL1100] nondeterministic workflow: missing replay command for EVENT
//	[TMPRL1100] nondeterministic workflow: extra replay command for COMMAND
//
// where EVENT is "ActivityTaskScheduled: (ActivityId:9, ActivityType:(Name:X), …)"
// and COMMAND is "ScheduleActivityTask: (ActivityId:9, ActivityType:(Name:Y), …)".
const nondeterministic = "nondeterministic workflow: "

// explainReplayError names the event a failed replay stopped at, falling back to
// the SDK's error (on one line) when its text is not one it knows.
func explainReplayError(err error, h *historypb.History) string {
	raw := strings.Join(strings.Fields(err.Error()), " ")
	code := ""
	if m := regexp.MustCompile(`\[(TMPRL\d+)\]`).FindStringSubmatch(raw); m != nil {
		code = " [" + m[1] + "]"
	}
	i := strings.Index(raw, nondeterministic)
	if i < 0 {
		return "replay failed: " + raw
	}
	rest := raw[i+len(nondeterministic):]
	const eventIs, commandIs, missing, extra = "history event is ", ", replay command is ", "missing replay command for ", "extra replay command for "
	switch {
	case strings.HasPrefix(rest, eventIs) && strings.Contains(rest, commandIs):
		ev, cmd, _ := strings.Cut(strings.TrimPrefix(rest, eventIs), commandIs)
		return fmt.Sprintf("non-deterministic at %s: the code now does %s%s", describeEvent(ev, h), describeEntry(cmd), code)
	case strings.HasPrefix(rest, missing):
		return fmt.Sprintf("non-deterministic at %s: the code no longer does this%s", describeEvent(strings.TrimPrefix(rest, missing), h), code)
	case strings.HasPrefix(rest, extra):
		return fmt.Sprintf("non-deterministic: the code now does %s, which the history does not have%s", describeEntry(strings.TrimPrefix(rest, extra)), code)
	}
	return "non-deterministic: " + raw
}

// entryNames are the fields of an event or command that name what it does.
var entryNames = []struct{ field, label string }{
	{"ActivityType:(Name:", "ActivityType"},
	{"WorkflowType:(Name:", "WorkflowType"},
	{"TimerId:", "TimerId"},
	{"MarkerName:", "MarkerName"},
	{"SignalName:", "SignalName"},
}

// describeEntry turns the SDK's "Type: (Field:Value, …)" into "Type (ActivityType X)".
func describeEntry(s string) string {
	typ, body, _ := strings.Cut(s, ": ")
	typ = strings.TrimSpace(typ)
	if v, label := entryName(body); v != "" {
		return fmt.Sprintf("%s (%s %s)", typ, label, v)
	}
	return typ
}

func entryName(body string) (value, label string) {
	for _, n := range entryNames {
		if v := field(body, n.field); v != "" {
			return v, n.label
		}
	}
	return "", ""
}

// field returns the value after key, up to the next ',' or ')'. The key must
// start a field: "EventId:" is not the end of "ScheduledEventId:".
func field(body, key string) string {
	i := 0
	for {
		j := strings.Index(body[i:], key)
		if j < 0 {
			return ""
		}
		i += j
		if i == 0 || body[i-1] == '(' || body[i-1] == ' ' {
			break
		}
		i += len(key)
	}
	v := body[i+len(key):]
	if j := strings.IndexAny(v, ",)"); j >= 0 {
		v = v[:j]
	}
	return strings.TrimSpace(v)
}

// describeEvent is describeEntry with the event id: from the text when the SDK
// printed it, else the one event of that type in the history with the same
// activity or timer id. Without a single match it names no id rather than guess.
func describeEvent(s string, h *historypb.History) string {
	d := "event " + describeEntry(s)
	typ, body, _ := strings.Cut(s, ": ")
	typ = strings.TrimSpace(typ)
	if id := field(body, "EventId:"); id != "" {
		return "event " + id + " " + strings.TrimPrefix(d, "event ")
	}
	activityID, timerID := field(body, "ActivityId:"), field(body, "TimerId:")
	var match []int64
	for _, ev := range h.GetEvents() {
		if ev.GetEventType().String() != typ {
			continue
		}
		if a := ev.GetActivityTaskScheduledEventAttributes(); a != nil && activityID != "" && a.GetActivityId() != activityID {
			continue
		}
		if a := ev.GetTimerStartedEventAttributes(); a != nil && timerID != "" && a.GetTimerId() != timerID {
			continue
		}
		match = append(match, ev.GetEventId())
	}
	if len(match) == 1 {
		return "event " + strconv.FormatInt(match[0], 10) + " " + strings.TrimPrefix(d, "event ")
	}
	return d
}
