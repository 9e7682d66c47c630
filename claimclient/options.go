package claimclient

import (
	"errors"
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
var ErrStageNotReached = errors.New("stage not reached")

// OptionsFor derives a stage's assignment options from a claim's state: the users
// of the stage's decision, and its assignee (current, or final for a completed
// stage). Only capture, review and acknowledge have options.
func OptionsFor(s workflows.ClaimState, stage policy.Stage) (AssignmentOptions, error) {
	if !stage.Assignable() {
		return AssignmentOptions{}, fmt.Errorf("stage %s has no assignment options: want capture, review or acknowledge", stage)
	}
	var users []policy.Candidate
	found := false
	for _, d := range s.Decisions {
		if d.Stage == stage && d.Method != policy.MethodAssign {
			users, found = d.Candidates, true
		}
	}
	if !found {
		return AssignmentOptions{}, fmt.Errorf("claim %s is at %s: %s %w", s.ClaimID, s.Stage, stage, ErrStageNotReached)
	}
	assignee := s.Assignee
	if stage != s.Stage {
		assignee = ""
		for _, r := range s.Completed {
			if r.Stage == stage {
				assignee = r.Assignee
			}
		}
	}
	out := AssignmentOptions{Users: users}
	if out.Users == nil {
		out.Users = []policy.Candidate{}
	}
	if assignee != "" {
		for i := range out.Users {
			if out.Users[i].UserID == assignee {
				out.AssignedTo = &out.Users[i]
			}
		}
		if out.AssignedTo == nil {
			out.AssignedTo = &policy.Candidate{UserID: assignee}
		}
	}
	return out, nil
}
