package claimclient

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"time"

	commonpb "go.temporal.io/api/common/v1"
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/converter"

	"github.com/batonhq/baton/workflows"
)

// ListFilter narrows a claim listing. Empty fields match everything.
type ListFilter struct {
	Queue  string
	Stage  string
	Status string
	// Since keeps claims started at or after it.
	Since time.Time
	// Limit caps the rows returned (default 500).
	Limit int
	// TaskQueue keeps claims of one Baton deployment; Client.List sets it to the
	// client's task queue, so deployments sharing a namespace never list each
	// other's claims.
	TaskQueue string
}

// Listed is one open claim as Temporal visibility sees it.
type Listed struct {
	ClaimID  string    `json:"claimId"`
	Stage    string    `json:"stage"`
	Status   string    `json:"status"`
	Queue    string    `json:"queue,omitempty"`
	Assignee string    `json:"assignee,omitempty"`
	Owner    string    `json:"owner,omitempty"`
	Policy   string    `json:"policy,omitempty"`
	Started  time.Time `json:"started"`
}

// Query builds the visibility query for the filter; operators can paste it into
// `temporal workflow list --query` or the Web UI.
func (f ListFilter) Query() string {
	q := []string{fmt.Sprintf("WorkflowType = '%s'", workflows.ClaimWorkflowName), "ExecutionStatus = 'Running'"}
	add := func(attr, v string) {
		if v != "" {
			q = append(q, fmt.Sprintf("%s = '%s'", attr, quoteEscaper.Replace(v)))
		}
	}
	add("TaskQueue", f.TaskQueue)
	add("BatonQueue", f.Queue)
	add("BatonStage", f.Stage)
	add("BatonStatus", f.Status)
	if !f.Since.IsZero() {
		q = append(q, fmt.Sprintf("StartTime >= '%s'", f.Since.UTC().Format(time.RFC3339)))
	}
	return strings.Join(q, " AND ")
}

// quoteEscaper keeps a value inside its visibility-query literal: a quote or a
// trailing backslash in a queue name must not end the literal early (a backslash
// once turned `queue=a\` into a query Temporal refused, answered as a 502).
var quoteEscaper = strings.NewReplacer(`\`, `\\`, `'`, `\'`)

// statusOrder puts work nobody has first: the queue view people work from.
var statusOrder = map[string]int{workflows.StatusUnassigned: 0, workflows.StatusReassigning: 1, workflows.StatusDeciding: 2}

// List returns open claims matching the filter: unassigned first, then the rest,
// oldest first within each.
func (c *Client) List(ctx context.Context, f ListFilter) ([]Listed, error) {
	if f.Limit <= 0 {
		f.Limit = 500
	}
	if f.TaskQueue == "" {
		f.TaskQueue = c.taskQueue
	}
	var out []Listed
	var token []byte
	for {
		resp, err := c.temporal.ListWorkflow(ctx, &workflowservice.ListWorkflowExecutionsRequest{
			Query: f.Query(), NextPageToken: token, PageSize: int32(min(f.Limit, 1000)),
		})
		if err != nil {
			return nil, fmt.Errorf("list claims (%s): %w", f.Query(), err)
		}
		for _, e := range resp.Executions {
			l := Listed{ClaimID: strings.TrimPrefix(e.GetExecution().GetWorkflowId(), workflows.WorkflowIDPrefix),
				Started: e.GetStartTime().AsTime()}
			fields := e.GetSearchAttributes().GetIndexedFields()
			l.Stage, l.Status = keyword(fields, "BatonStage"), keyword(fields, "BatonStatus")
			l.Queue, l.Assignee = keyword(fields, "BatonQueue"), keyword(fields, "BatonAssignee")
			l.Owner, l.Policy = keyword(fields, "BatonOwner"), keyword(fields, "BatonPolicy")
			out = append(out, l)
		}
		token = resp.NextPageToken
		if len(token) == 0 || len(out) >= f.Limit {
			break
		}
	}
	sort.SliceStable(out, func(i, j int) bool {
		oi, ok := statusOrder[out[i].Status]
		if !ok {
			oi = 3
		}
		oj, ok := statusOrder[out[j].Status]
		if !ok {
			oj = 3
		}
		if oi != oj {
			return oi < oj
		}
		return out[i].Started.Before(out[j].Started)
	})
	return out[:min(len(out), f.Limit)], nil
}

func keyword(fields map[string]*commonpb.Payload, name string) string {
	p, ok := fields[name]
	if !ok {
		return ""
	}
	var s string
	if err := converter.GetDefaultDataConverter().FromPayload(p, &s); err != nil {
		return ""
	}
	return s
}

// Closed is a claim whose workflow ended without finalising: terminated by
// hand, timed out, failed or cancelled, and when.
type Closed struct {
	WorkflowID string
	Status     string // "terminated", "timed out", "failed", "canceled"
	At         time.Time
}

// ClosedSince lists the claims of this client's task queue whose workflow
// closed at or after since any way but completing (finalise), at most limit,
// from Temporal's visibility store: what the worker's sweeper reconciles.
func (c *Client) ClosedSince(ctx context.Context, since time.Time, limit int) ([]Closed, error) {
	query := fmt.Sprintf("WorkflowType = %q AND TaskQueue = %q AND ExecutionStatus != 'Running' AND ExecutionStatus != 'Completed' AND ExecutionStatus != 'ContinuedAsNew' AND CloseTime >= %q",
		workflows.ClaimWorkflowName, c.taskQueue, since.UTC().Format(time.RFC3339Nano))
	var out []Closed
	var token []byte
	for len(out) < limit {
		resp, err := c.temporal.ListWorkflow(ctx, &workflowservice.ListWorkflowExecutionsRequest{
			Query: query, NextPageToken: token, PageSize: int32(min(limit, 1000)),
		})
		if err != nil {
			return nil, fmt.Errorf("list closed claims (%s): %w", query, err)
		}
		for _, e := range resp.Executions {
			out = append(out, Closed{WorkflowID: e.GetExecution().GetWorkflowId(), Status: ClosedStatus(e.GetStatus()),
				At: e.GetCloseTime().AsTime()})
		}
		if token = resp.NextPageToken; len(token) == 0 {
			break
		}
	}
	return out, nil
}

// ClosedStatus names how a workflow ended, as people say it: "finalised" for
// a claim that completed, "terminated", "timed out", "failed", "canceled",
// and "" while it runs.
func ClosedStatus(s enumspb.WorkflowExecutionStatus) string {
	switch s {
	case enumspb.WORKFLOW_EXECUTION_STATUS_RUNNING, enumspb.WORKFLOW_EXECUTION_STATUS_UNSPECIFIED:
		return ""
	case enumspb.WORKFLOW_EXECUTION_STATUS_COMPLETED:
		return "finalised"
	case enumspb.WORKFLOW_EXECUTION_STATUS_TIMED_OUT:
		return "timed out"
	case enumspb.WORKFLOW_EXECUTION_STATUS_CONTINUED_AS_NEW:
		return "continued"
	}
	return strings.ToLower(strings.TrimPrefix(s.String(), "WORKFLOW_EXECUTION_STATUS_"))
}
