package claimclient

import (
	"fmt"

	"github.com/batonhq/baton/policy"
	"github.com/batonhq/baton/workflows"
)

// AssignmentOptions is the body of the claim-assignment source's
// GET /claims/:claim_id/assignment-options/:stage, field for field.
type AssignmentOptions struct {
	AssignedTo *policy.Candidate  `json:"assignedTo"`
	Users      []policy.Candidate `json:"users"`
}

// ErrStageNotReached is returned for options of a stage the claim has not reached:
// its eligible users depend on decisions not yet made (acknowledge depends on the
// review outcome), so Baton does not guess.
var ErrStageNotReached error = &policy.Error{Kind: policy.KindConflict, Msg: "stage not reached"}

// OptionsSource finds where a stage's assignment options are: the ledger key of
// the stage's decision (its candidates are read from the ledger, page by page,
// since a stage may have thousands) and the stage's assignee (current, or final
// for a completed stage). Only capture, review and acknowledge have options.
func OptionsSource(s workflows.ClaimState, stage policy.Stage) (key policy.DecisionKey, assignee string, err error) {
	if !stage.Assignable() {
		return key, "", fmt.Errorf("stage %s has no assignment options: want capture, review or acknowledge", stage)
	}
	seq, found := s.StageDecisions[stage]
	key = policy.DecisionKey{WorkflowID: workflows.WorkflowID(s.ClaimID), Stage: stage, Seq: seq}
	if !found {
		return key, "", fmt.Errorf("claim %s is at %s: %s %w", s.ClaimID, s.Stage, stage, ErrStageNotReached)
	}
	assignee = s.Assignee
	if stage != s.Stage {
		assignee = ""
		for _, r := range s.Completed {
			if r.Stage == stage {
				assignee = r.Assignee
			}
		}
	}
	return key, assignee, nil
}
