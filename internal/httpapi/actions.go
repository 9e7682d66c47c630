package httpapi

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/serviceerror"

	"github.com/batonhq/baton/claimclient"
	"github.com/batonhq/baton/policy"
	"github.com/batonhq/baton/workflows"
)

// MaxBodyBytes caps a request body; a bigger one is 413 too_large.
const MaxBodyBytes = 64 << 10

// UpdateTimeout bounds how long an action waits for the claim's workflow. An
// action that times out may still take effect: the answer says so.
const UpdateTimeout = 30 * time.Second

// Request bodies. The actor is never among their fields: it is the caller.
type (
	// Stage, in each, is optional: the stage the caller acts on, refused with
	// 409 if the claim has moved to another.
	assignBody struct {
		UserID   string       `json:"userId"`
		Comment  string       `json:"comment"`
		Override bool         `json:"override"` // past the assignee's capacity limit
		Stage    policy.Stage `json:"stage"`
	}
	claimBody struct {
		Override bool         `json:"override"` // past the caller's own capacity limit
		Stage    policy.Stage `json:"stage"`
	}
	unassignBody struct {
		Comment string       `json:"comment"`
		Stage   policy.Stage `json:"stage"`
	}
	completeBody struct {
		Outcome string       `json:"outcome"`
		Note    string       `json:"note"`
		Stage   policy.Stage `json:"stage"`
	}
	startReassignmentBody struct {
		Group   string `json:"group"`
		Comment string `json:"comment"`
	}
)

// assign serves both assign and reassign: the same update, which on an assigned
// stage is a reassignment.
func (s *Server) assign(w http.ResponseWriter, r *http.Request) {
	var b assignBody
	s.act(w, r, &b, true, "assignment", func(ctx context.Context, claimID, actor string) (any, error) {
		return s.claims.Assign(ctx, claimID, workflows.AssignInput{Actor: actor, UserID: b.UserID, Comment: b.Comment,
			Override: b.Override, Stage: b.Stage})
	})
}

func (s *Server) claim(w http.ResponseWriter, r *http.Request) {
	var b claimBody
	s.act(w, r, &b, false, "claiming", func(ctx context.Context, claimID, actor string) (any, error) {
		return s.claims.Claim(ctx, claimID, workflows.ClaimStageInput{Actor: actor, Override: b.Override, Stage: b.Stage})
	})
}

func (s *Server) unassign(w http.ResponseWriter, r *http.Request) {
	var b unassignBody
	s.act(w, r, &b, false, "unassigning", func(ctx context.Context, claimID, actor string) (any, error) {
		return s.claims.Unassign(ctx, claimID, workflows.UnassignInput{Actor: actor, Comment: b.Comment, Stage: b.Stage})
	})
}

func (s *Server) complete(w http.ResponseWriter, r *http.Request) {
	var b completeBody
	s.act(w, r, &b, false, "completion", func(ctx context.Context, claimID, actor string) (any, error) {
		return s.claims.Complete(ctx, claimID, workflows.CompleteInput{Actor: actor, Outcome: b.Outcome, Note: b.Note, Stage: b.Stage})
	})
}

func (s *Server) startReassignment(w http.ResponseWriter, r *http.Request) {
	var b startReassignmentBody
	s.act(w, r, &b, true, "reassignment", func(ctx context.Context, claimID, actor string) (any, error) {
		return s.claims.StartReassignment(ctx, claimID, workflows.StartReassignmentInput{Actor: actor, Group: b.Group, Comment: b.Comment})
	})
}

// act runs one action: it checks the claim id, decodes the body into dst (an
// empty body only where needsBody is false), sends the update as the caller and
// answers its result, or its rejection mapped to a status. action names it in
// messages the way the workflow does ("completion is not possible").
func (s *Server) act(w http.ResponseWriter, r *http.Request, dst any, needsBody bool, action string,
	send func(ctx context.Context, claimID, actor string) (any, error)) {
	claimID := r.PathValue("claim_id")
	if err := workflows.ValidateClaimID(claimID); err != nil {
		writeError(w, http.StatusBadRequest, "invalid_claim_id", err.Error())
		return
	}
	if !decodeBody(w, r, dst, needsBody) {
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), UpdateTimeout)
	defer cancel()
	result, err := send(ctx, claimID, caller(r).ID)
	if err != nil {
		s.updateError(w, r, claimID, action, err)
		return
	}
	// The caller's next look at the queue reads visibility afresh: their own
	// change is never hidden by a listing made before it.
	s.svc.QueueChanged()
	writeJSON(w, http.StatusOK, result)
}

// decodeBody reads one JSON object of at most MaxBodyBytes into dst, rejecting
// fields dst does not have. An empty body leaves dst as it is, unless needsBody.
func decodeBody(w http.ResponseWriter, r *http.Request, dst any, needsBody bool) bool {
	r.Body = http.MaxBytesReader(w, r.Body, MaxBodyBytes)
	dec := json.NewDecoder(r.Body)
	dec.DisallowUnknownFields()
	err := dec.Decode(dst)
	if errors.Is(err, io.EOF) {
		if needsBody {
			writeError(w, http.StatusBadRequest, "invalid_body", "a JSON body is required: "+fields(dst))
			return false
		}
		return true
	}
	if err == nil {
		// Exactly one value: anything after it is a mistake, not something to ignore.
		if err = dec.Decode(&json.RawMessage{}); err == nil {
			writeError(w, http.StatusBadRequest, "invalid_body", "the body must be a single JSON object")
			return false
		} else if errors.Is(err, io.EOF) {
			return true
		}
	}
	var tooBig *http.MaxBytesError
	var syntax *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.As(err, &tooBig):
		writeError(w, http.StatusRequestEntityTooLarge, "too_large", fmt.Sprintf("the body is larger than %d bytes", MaxBodyBytes))
	case errors.As(err, &syntax):
		writeError(w, http.StatusBadRequest, "invalid_body", fmt.Sprintf("malformed JSON at byte %d: %v", syntax.Offset, err))
	case errors.As(err, &typ):
		if typ.Field == "" {
			writeError(w, http.StatusBadRequest, "invalid_body", "the body must be a JSON object: "+fields(dst))
		} else {
			writeError(w, http.StatusBadRequest, "invalid_body", fmt.Sprintf("field %q must be a JSON %s, not %s", typ.Field, typ.Type.Kind(), typ.Value))
		}
	case errors.Is(err, io.ErrUnexpectedEOF):
		writeError(w, http.StatusBadRequest, "invalid_body", "malformed JSON: the body ends too soon")
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		field := strings.TrimPrefix(err.Error(), "json: unknown field ")
		msg := "unknown field " + field + ": want " + fields(dst)
		if field == `"actor"` {
			msg = `unknown field "actor": the actor is always the caller (the bearer token's user); want ` + fields(dst)
		}
		writeError(w, http.StatusBadRequest, "invalid_body", msg)
	default:
		writeError(w, http.StatusBadRequest, "invalid_body", err.Error())
	}
	return false
}

// fields lists a body's JSON fields, for messages.
func fields(dst any) string {
	if f := workflows.JSONFields(dst); f != "{}" {
		return f
	}
	return "{} (no fields)"
}

// updateError answers a failed update. Baton's typed rejections carry the
// workflow's own message; an update sent to a claim whose workflow has closed is
// a conflict, not a missing claim.
func (s *Server) updateError(w http.ResponseWriter, r *http.Request, claimID, action string, err error) {
	msg := claimclient.Message(err)
	switch a, ok := kindAnswers[policy.KindOf(err)]; {
	case ok && claimclient.ErrorType(err) != "":
		// The workflow's typed rejection, in its own words.
		writeError(w, a.status, a.code, msg)
	case claimclient.ErrorType(err) == "AcceptedUpdateCompletedWorkflow":
		// The server's failure for an update accepted just as the workflow closed.
		writeError(w, http.StatusConflict, "conflict", fmt.Sprintf("claim %s is finalised: %s is not possible", claimID, action))
	case errors.Is(err, claimclient.ErrClaimNotFound):
		s.notFoundOrClosed(w, r, claimID, action)
	case errors.Is(err, context.DeadlineExceeded), isServiceError[*serviceerror.DeadlineExceeded](err):
		writeError(w, http.StatusGatewayTimeout, "timeout", fmt.Sprintf(
			"claim %s did not answer within %s; the %s may still take effect: read the claim before retrying", claimID, UpdateTimeout, action))
	case claimclient.ErrorType(err) != "":
		s.log.ErrorContext(r.Context(), "update failed", "claim_id", claimID, "action", action, "error", err)
		writeError(w, http.StatusInternalServerError, "update_failed", msg)
	default:
		s.log.ErrorContext(r.Context(), "send update", "claim_id", claimID, "action", action, "error", err)
		writeError(w, http.StatusBadGateway, "temporal_unavailable", "could not reach claim "+claimID+" in Temporal")
	}
}

// notFoundOrClosed tells a missing claim from a closed one. Temporal answers an
// update to a completed workflow with NotFound ("workflow execution already
// completed"), which claimclient reports as ErrClaimNotFound; the workflow's
// description says which it is.
func (s *Server) notFoundOrClosed(w http.ResponseWriter, r *http.Request, claimID, action string) {
	desc, err := s.claims.Temporal().DescribeWorkflowExecution(r.Context(), workflows.WorkflowID(claimID), "")
	if isServiceError[*serviceerror.NotFound](err) {
		writeError(w, http.StatusNotFound, "claim_not_found", "claim "+claimID+" not found")
		return
	}
	if err != nil {
		s.log.ErrorContext(r.Context(), "describe claim", "claim_id", claimID, "error", err)
		writeError(w, http.StatusBadGateway, "temporal_unavailable", "could not read claim "+claimID+" from Temporal")
		return
	}
	switch status := desc.GetWorkflowExecutionInfo().GetStatus(); status {
	case enumspb.WORKFLOW_EXECUTION_STATUS_COMPLETED:
		writeError(w, http.StatusConflict, "conflict", fmt.Sprintf("claim %s is finalised: %s is not possible", claimID, action))
	case enumspb.WORKFLOW_EXECUTION_STATUS_RUNNING:
		// Not found a moment ago, running now: a race with Temporal; retrying is safe.
		writeError(w, http.StatusConflict, "conflict", fmt.Sprintf("claim %s did not take the %s; try again", claimID, action))
	default:
		name := strings.ToLower(status.String()) // "terminated", "failed", …
		writeError(w, http.StatusConflict, "conflict", fmt.Sprintf("claim %s is closed (%s): %s is not possible", claimID, name, action))
	}
}

func isServiceError[T error](err error) bool {
	var target T
	return err != nil && errors.As(err, &target)
}
