package activities

import (
	"cmp"
	"context"
	"errors"
	"fmt"

	"go.temporal.io/sdk/temporal"

	"github.com/batonhq/baton/internal/store"
	"github.com/batonhq/baton/policy"
	"github.com/batonhq/baton/workflows"
)

// RecordAssignment records a change of assignee that the workflow, not a policy
// method, decided: a person assigning, reassigning, claiming or unassigning, or a
// timer giving the stage to its default assignee or escalation target. It writes
// the ledger row and the timeline event and notifies the new assignee, exactly once
// per (workflow, stage, seq). A person's action is authorised against the
// directory as it is now (policy.Authorize), in the transaction that records it;
// a timer's assignee must still be an active user.
func (a *Activities) RecordAssignment(ctx context.Context, in workflows.RecordAssignmentInput) (policy.Decision, error) {
	key := policy.DecisionKey{WorkflowID: in.WorkflowID, Stage: in.Stage, Seq: in.Seq}
	method := in.Method
	if method == "" {
		method = policy.MethodAssign
	}
	var drain []string
	var before bool // in.Before was written now, not by an earlier attempt
	d, err := a.recordOnce(ctx, key, in.ClaimID, "", func(qs *store.Queries, people *store.People) (pending, error) {
		// One round trip for whether a first attempt recorded this already
		// (then it is answered from the ledger, before anything is judged
		// again against a directory that may have changed since), the
		// assignee and their workload.
		if decided, err := people.Prefetch(ctx, key, in.Assignee, in.Stage); err != nil || decided {
			return pending{}, cmp.Or(err, errDecidedElsewhere)
		}
		if in.Before != nil {
			var err error
			if before, err = a.writeEvent(ctx, qs, *in.Before); err != nil {
				return pending{}, err
			}
		}
		if in.Action != "" {
			act := policy.Act{Action: in.Action, ClaimID: in.ClaimID, Stage: in.Stage, Actor: in.Actor, Owner: in.Owner,
				Assignee: in.Previous, AssignmentsEnabled: true, Reassigning: in.Reassigning}
			if in.Action == policy.DoAssign {
				act.Target = in.Assignee
			}
			if err := a.authorize(ctx, qs, act, in.DecidedSeq, in.WorkflowID); err != nil {
				return pending{}, err
			}
		} else if method != policy.MethodUnassign {
			if err := activeUser(ctx, people, in.Assignee); err != nil {
				return pending{}, err
			}
		}
		warning, err := a.checkWorkload(ctx, people, in, method)
		if err != nil {
			return pending{}, err
		}
		reason := assignmentReason(method, in)
		if warning != "" {
			reason += " (" + warning + ")"
		}
		if in.Previous != "" && in.Previous != in.Assignee {
			// The stage leaves its holder: a slot of theirs frees.
			if drain, err = qs.BacklogTake(ctx, in.Previous, 1); err != nil {
				return pending{}, err
			}
		}
		return pending{decision: policy.Decision{
			Seq:                in.Seq,
			Stage:              in.Stage,
			Method:             method,
			AssignmentsEnabled: true,
			Assignee:           in.Assignee,
			Actor:              in.Actor,
			Reason:             reason,
			PolicyVersion:      in.PolicyVersion,
			Comment:            in.Comment,
			Warning:            warning,
		}, decidedSeq: in.DecidedSeq, previous: in.Previous, at: in.At}, nil
	})
	if err == nil {
		if in.Before != nil {
			a.eventRecorded(ctx, *in.Before, before)
		}
		a.nudge(ctx, drain)
	}
	return d, err
}

// nudge asks the claims a freed slot may take to decide again. A failure is
// logged, not returned: the assignment is recorded, and the leased stage waits
// for the next freed slot once its lease ends.
func (a *Activities) nudge(ctx context.Context, workflowIDs []string) {
	if len(workflowIDs) == 0 || a.Nudge == nil {
		return
	}
	if err := a.Nudge(ctx, workflowIDs); err != nil {
		a.Log.WarnContext(ctx, "backlog nudge not sent", "workflows", workflowIDs, "error", err)
		return
	}
	a.Metrics.Nudges(len(workflowIDs))
}

// checkWorkload applies the workload rules to a recorded assignment, holding the
// assignee's workload until it commits. A person's (assign, reassign, claim) may
// go to someone away, with a warning, and past a limit only by override. A
// timer's default assignee is automatic: away, offline or full, the stage stays
// in its queue. An escalation is deliberate and is not held back.
func (a *Activities) checkWorkload(ctx context.Context, people *store.People, in workflows.RecordAssignmentInput, method policy.Method) (string, error) {
	if in.Assignee == "" {
		return "", nil
	}
	// Four eyes holds on every path: a person's, a timer's and an escalation.
	if r := policy.RefuseFourEyes(in.Assignee, in.Stage, in.ClaimID, in.FourEyes, in.FourEyesOf); r != nil {
		return "", workflows.Rejection(r)
	}
	if method == policy.MethodEscalation {
		return "", nil
	}
	w, err := people.Hold(ctx, in.Assignee, in.Stage)
	if err != nil {
		return "", err
	}
	if in.Action == "" {
		if why := w.Refuse(in.Stage); why != "" {
			return "", temporal.NewNonRetryableApplicationError(fmt.Sprintf("claim %s %s: default assignee %s is passed over (%s); the stage stays in its queue",
				in.ClaimID, in.Stage, in.Assignee, why), workflows.ErrTypeConflict, nil)
		}
		return "", nil
	}
	r, warning := policy.ManualRefusal(in.Actor, in.Assignee, in.Stage, in.ClaimID, w, in.Override)
	if r != nil {
		a.Metrics.CapacityRefusal(in.Stage)
		return "", workflows.Rejection(r)
	}
	return warning, nil
}

func activeUser(ctx context.Context, people *store.People, id string) error {
	u, err := people.User(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return temporal.NewNonRetryableApplicationError(
			fmt.Sprintf("user %q is not in the directory", id), workflows.ErrTypeUnknownUser, nil)
	}
	if err != nil {
		return err
	}
	if !u.Active {
		return temporal.NewNonRetryableApplicationError(
			fmt.Sprintf("user %q is inactive", id), workflows.ErrTypeUnknownUser, nil)
	}
	return nil
}

func assignmentReason(method policy.Method, in workflows.RecordAssignmentInput) string {
	reason := in.Reason
	if reason == "" {
		switch {
		case method == policy.MethodClaim:
			reason = fmt.Sprintf("claimed by %s", in.Actor)
		case method == policy.MethodUnassign:
			reason = fmt.Sprintf("returned to the queue by %s", in.Actor)
		case in.Previous != "":
			reason = fmt.Sprintf("reassigned from %s by %s", in.Previous, in.Actor)
		default:
			reason = fmt.Sprintf("assigned by %s", in.Actor)
		}
	}
	if in.Comment != "" {
		reason += ": " + in.Comment
	}
	return reason
}
