package policy

import (
	"context"
	"fmt"
	"slices"
)

// UserLister is the directory as a product module sees it (the source's
// root.organizations.getUsers()).
type UserLister interface {
	ListUsers(ctx context.Context) ([]User, error)
}

// RolesByStage is the claim-assignment source's example product module: users whose
// role is allowed for the stage are available, and the current user (when one asks
// and is available) or else the first available user is the default assignee.
type RolesByStage struct {
	Users UserLister
	// Roles maps a stage to its allowed roles; nil uses the source's table.
	Roles map[Stage][]string
}

// DefaultRolesByStage is the source's rolesByStage table.
var DefaultRolesByStage = map[Stage][]string{
	StageCapture:     {"Admin", "Claims assessor", "Call center agent"},
	StageReview:      {"Claims assessor", "Admin", "Claims supervisor"},
	StageAcknowledge: {"Admin", "Claims supervisor", "Call center agent"},
}

// GetClaimAssignmentOptions implements ProductModule.
func (m RolesByStage) GetClaimAssignmentOptions(ctx context.Context, _ *Policy, _ Claim, currentUser *User, stage Stage) (AssignmentOptions, error) {
	users, err := m.Users.ListUsers(ctx)
	if err != nil {
		return AssignmentOptions{}, fmt.Errorf("list users: %w", err)
	}
	table := m.Roles
	if table == nil {
		table = DefaultRolesByStage
	}
	allowed, ok := table[stage]
	if !ok {
		allowed = table[StageReview] // the source falls back to review's roles
	}
	var out AssignmentOptions
	for _, u := range users {
		if u.Active && slices.Contains(allowed, u.Role) {
			out.Users = append(out.Users, CandidateOf(u, "Available for "+string(stage)))
		}
	}
	for i, c := range out.Users {
		if currentUser != nil && c.UserID == currentUser.ID {
			out.AssignedTo = &out.Users[i]
		}
	}
	if out.AssignedTo == nil && len(out.Users) > 0 {
		out.AssignedTo = &out.Users[0]
	}
	return out, nil
}
