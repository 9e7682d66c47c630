// Package claimclient is how a Go service drives Baton: start a claim, send the
// assign and complete_stage updates, read its state. It wraps a Temporal client
// and uses only the names in workflows/, which other SDKs can use directly.
//
// It imports policy, workflows and internal/actorauth, and links no Temporal
// server: a service that starts claims imports it alone.
package claimclient

import (
	"context"
	"errors"
	"fmt"
	"strings"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"

	"github.com/batonhq/baton/policy"
	"github.com/batonhq/baton/workflows"
)

// ErrClaimNotFound is returned for a claim id with no workflow.
var ErrClaimNotFound error = &policy.Error{Kind: policy.KindNotFound, Msg: "claim not found"}

// ErrClaimExists is returned when starting a claim id already used.
var ErrClaimExists error = &policy.Error{Kind: policy.KindConflict, Msg: "claim already exists"}

// Client drives claim workflows.
type Client struct {
	temporal  client.Client
	taskQueue string
}

// New wraps a Temporal client; taskQueue is where Baton's worker listens
// (workflows.TaskQueue unless configured otherwise).
func New(c client.Client, taskQueue string) *Client {
	if taskQueue == "" {
		taskQueue = workflows.TaskQueue
	}
	return &Client{temporal: c, taskQueue: taskQueue}
}

// Temporal returns the underlying Temporal client.
func (c *Client) Temporal() client.Client { return c.temporal }

// ValidateClaimID rejects ids that would make awkward workflow ids and URLs. It
// is workflows.ValidateClaimID, the rule the claim workflow itself applies to
// a start from any client.
func ValidateClaimID(id string) error { return workflows.ValidateClaimID(id) }

// startAttributes are a claim's search attributes from its start, so it is
// findable by stage and owner before its first task runs.
func startAttributes(in workflows.ClaimInput) []temporal.SearchAttributeUpdate {
	sa := []temporal.SearchAttributeUpdate{
		workflows.StageKey.ValueSet(string(policy.StageCapture)),
		workflows.StatusKey.ValueSet(workflows.StatusDeciding),
	}
	if in.Owner != "" {
		sa = append(sa, workflows.OwnerKey.ValueSet(in.Owner))
	}
	return sa
}

// Start starts a claim. A claim id is used once, ever: starting it again fails
// with ErrClaimExists rather than silently reopening a finalised claim.
func (c *Client) Start(ctx context.Context, in workflows.ClaimInput) (client.WorkflowRun, error) {
	if err := ValidateClaimID(in.ClaimID); err != nil {
		return nil, err
	}
	if in.Continued != nil {
		return nil, fmt.Errorf("start claim %s: field %q is set only by a claim continuing as new", in.ClaimID, "continued")
	}
	run, err := c.temporal.ExecuteWorkflow(ctx, client.StartWorkflowOptions{
		ID:                       workflows.WorkflowID(in.ClaimID),
		TaskQueue:                c.taskQueue,
		WorkflowIDReusePolicy:    enumspb.WORKFLOW_ID_REUSE_POLICY_REJECT_DUPLICATE,
		WorkflowIDConflictPolicy: enumspb.WORKFLOW_ID_CONFLICT_POLICY_FAIL,
		// Without this the SDK hands back the running claim as if it were new.
		WorkflowExecutionErrorWhenAlreadyStarted: true,
		// Set at start so a claim is findable by stage before its first task runs.
		TypedSearchAttributes: temporal.NewSearchAttributes(startAttributes(in)...),
	}, workflows.ClaimWorkflowName, in)
	var started *serviceerror.WorkflowExecutionAlreadyStarted
	if errors.As(err, &started) {
		return nil, fmt.Errorf("start claim %s: %w", in.ClaimID, ErrClaimExists)
	}
	if err != nil {
		return nil, fmt.Errorf("start claim %s: %w", in.ClaimID, err)
	}
	return run, nil
}

// Assign sends the assign update and returns the decision it recorded.
func (c *Client) Assign(ctx context.Context, claimID string, in workflows.AssignInput) (policy.Decision, error) {
	var d policy.Decision
	err := c.update(ctx, claimID, workflows.UpdateAssign, in, &d)
	return d, err
}

// Complete sends the complete_stage update.
func (c *Client) Complete(ctx context.Context, claimID string, in workflows.CompleteInput) (workflows.StageResult, error) {
	var r workflows.StageResult
	err := c.update(ctx, claimID, workflows.UpdateCompleteStage, in, &r)
	return r, err
}

func (c *Client) update(ctx context.Context, claimID, name string, arg, out any) error {
	h, err := c.temporal.UpdateWorkflow(ctx, client.UpdateWorkflowOptions{
		WorkflowID:   workflows.WorkflowID(claimID),
		UpdateName:   name,
		Args:         []any{arg},
		WaitForStage: client.WorkflowUpdateStageCompleted,
	})
	if err == nil {
		err = h.Get(ctx, out)
	}
	if err != nil {
		if closed := c.closed(ctx, claimID, name, err); closed != nil {
			return closed
		}
		return c.wrap(claimID, name, err)
	}
	return nil
}

// updateActions names each update the way the workflow's own rejections do
// ("claim C-1 is finalised: assignment is not possible").
var updateActions = map[string]string{
	workflows.UpdateAssign:            "assignment",
	workflows.UpdateClaim:             "claiming",
	workflows.UpdateUnassign:          "unassigning",
	workflows.UpdateCompleteStage:     "completion",
	workflows.UpdateStartReassignment: "reassignment",
	workflows.UpdateMigratePolicy:     "policy migration",
}

// closed tells a closed claim from a missing one. Temporal answers an update to
// a workflow that has completed with NotFound ("workflow execution already
// completed"), which would read "claim not found" for a claim that exists and is
// finalised; such an update is a BatonConflict, as the workflow itself rejects
// actions on a finalised claim. nil: not a closed claim (missing, running, or
// its description could not be read).
func (c *Client) closed(ctx context.Context, claimID, op string, err error) error {
	var nf *serviceerror.NotFound
	if !errors.As(err, &nf) {
		return nil
	}
	desc, derr := c.temporal.DescribeWorkflowExecution(ctx, workflows.WorkflowID(claimID), "")
	if derr != nil {
		return nil
	}
	action := updateActions[op]
	var msg string
	switch status := desc.GetWorkflowExecutionInfo().GetStatus(); status {
	case enumspb.WORKFLOW_EXECUTION_STATUS_UNSPECIFIED, enumspb.WORKFLOW_EXECUTION_STATUS_RUNNING:
		return nil
	case enumspb.WORKFLOW_EXECUTION_STATUS_COMPLETED:
		msg = fmt.Sprintf("claim %s is finalised: %s is not possible", claimID, action)
	default:
		msg = fmt.Sprintf("claim %s is closed (%s): %s is not possible", claimID, strings.ToLower(status.String()), action)
	}
	return &Error{Op: op, ClaimID: claimID, Type: workflows.ErrTypeConflict, Message: msg, cause: err}
}

// State queries a claim's state. A claim whose workflow ended any way but
// finalising (terminated by hand, timed out, failed) answers its last state
// with Closed saying how it ended: one round trip for any other claim, two
// for those.
func (c *Client) State(ctx context.Context, claimID string) (workflows.ClaimState, error) {
	var s workflows.ClaimState
	resp, err := c.temporal.QueryWorkflowWithOptions(ctx, &client.QueryWorkflowWithOptionsRequest{
		WorkflowID: workflows.WorkflowID(claimID), QueryType: workflows.QueryState,
		QueryRejectCondition: enumspb.QUERY_REJECT_CONDITION_NOT_COMPLETED_CLEANLY,
	})
	if err != nil {
		return s, c.wrap(claimID, "state", err)
	}
	if rej := resp.QueryRejected; rej != nil {
		v, err := c.temporal.QueryWorkflow(ctx, workflows.WorkflowID(claimID), "", workflows.QueryState)
		if err != nil {
			return s, c.wrap(claimID, "state", err)
		}
		if err := v.Get(&s); err != nil {
			return s, err
		}
		s.Closed = ClosedStatus(rej.GetStatus())
		return s, nil
	}
	return s, resp.QueryResult.Get(&s)
}

// Summary waits for a claim to be finalised and returns its summary.
func (c *Client) Summary(ctx context.Context, claimID string) (workflows.ClaimSummary, error) {
	var s workflows.ClaimSummary
	err := c.temporal.GetWorkflow(ctx, workflows.WorkflowID(claimID), "").Get(ctx, &s)
	if err != nil {
		return s, c.wrap(claimID, "summary", err)
	}
	return s, nil
}

func (c *Client) wrap(claimID, op string, err error) error {
	var nf *serviceerror.NotFound
	if errors.As(err, &nf) {
		return fmt.Errorf("%s: claim %s: %w", op, claimID, ErrClaimNotFound)
	}
	return asError(op, claimID, err)
}

// ErrorType returns the Baton error type of a rejected update (workflows.ErrType*),
// or "" for other errors.
func ErrorType(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.Type
	}
	var app *temporal.ApplicationError
	if errors.As(err, &app) {
		return app.Type()
	}
	return ""
}

// Message returns the human message of a rejected update without the SDK's
// wrapping, or err.Error() for other errors.
func Message(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.Message
	}
	var app *temporal.ApplicationError
	if errors.As(err, &app) {
		return app.Message()
	}
	return strings.TrimSpace(err.Error())
}

// DecideAgain nudges the claim workflows named (workflow ids, as the store's
// backlog hands them out) to decide their waiting stage again. A claim that has
// ended is skipped; the first other failure is returned.
func (c *Client) DecideAgain(ctx context.Context, workflowIDs []string) error {
	return c.signalAll(ctx, workflowIDs, workflows.SignalDecideAgain, nil)
}

// Redistribute asks the claim workflows named to move their current stage off
// user, deciding it again by each claim's own policy and method; reason starts
// each new decision's reason ("ann was deactivated"). A claim whose stage user no
// longer holds ignores it, so sending it again moves nothing twice. A claim
// that has ended is skipped; the first other failure is returned.
func (c *Client) Redistribute(ctx context.Context, workflowIDs []string, user, reason string) error {
	return c.signalAll(ctx, workflowIDs, workflows.SignalRedistribute, workflows.RedistributeInput{User: user, Reason: reason})
}

// RedistributeAbsent asks the claims named to move their current stage off
// user, whose absence has begun, where the stage's policy says onAbsence:
// redistribute; the others keep it with them.
func (c *Client) RedistributeAbsent(ctx context.Context, workflowIDs []string, user, reason string) error {
	return c.signalAll(ctx, workflowIDs, workflows.SignalRedistribute,
		workflows.RedistributeInput{User: user, Reason: reason, Absence: true})
}

// signalAll sends a signal to each workflow, skipping those that have ended.
func (c *Client) signalAll(ctx context.Context, workflowIDs []string, name string, arg any) error {
	for _, id := range workflowIDs {
		err := c.temporal.SignalWorkflow(ctx, id, "", name, arg)
		var notFound *serviceerror.NotFound
		if err != nil && !errors.As(err, &notFound) {
			return fmt.Errorf("signal %s to %s: %w", name, id, err)
		}
	}
	return nil
}

// Claim takes the current stage for the actor: from its queue, or when a
// reassignment group offers it to them.
func (c *Client) Claim(ctx context.Context, claimID string, in workflows.ClaimStageInput) (policy.Decision, error) {
	var d policy.Decision
	err := c.update(ctx, claimID, workflows.UpdateClaim, in, &d)
	return d, err
}

// Unassign returns the current stage to its queue.
func (c *Client) Unassign(ctx context.Context, claimID string, in workflows.UnassignInput) (policy.Decision, error) {
	var d policy.Decision
	err := c.update(ctx, claimID, workflows.UpdateUnassign, in, &d)
	return d, err
}

// StartReassignment sends the current stage to a reassignment group; it returns
// once the round has started.
func (c *Client) StartReassignment(ctx context.Context, claimID string, in workflows.StartReassignmentInput) (workflows.Reassignment, error) {
	var r workflows.Reassignment
	err := c.update(ctx, claimID, workflows.UpdateStartReassignment, in, &r)
	return r, err
}

// MigratePolicy moves a claim to another stored policy version (admins only); it
// applies from the claim's next decision.
func (c *Client) MigratePolicy(ctx context.Context, claimID string, in workflows.MigratePolicyInput) (workflows.PolicyRef, error) {
	var r workflows.PolicyRef
	err := c.update(ctx, claimID, workflows.UpdateMigratePolicy, in, &r)
	return r, err
}
