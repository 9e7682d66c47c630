package policy

import (
	"context"
	"fmt"
	"slices"
	"strings"
)

// ModuleDirectory is the directory as a product module reads it (the source's
// root.organizations.getUsers()), bounded: users matching a query a page at a
// time, or users by id. A module never reads the whole directory; to offer
// everyone matching a query it answers with a pool (AssignmentOptions.Pool) and
// Baton counts and pages them.
type ModuleDirectory interface {
	// UsersPage returns up to limit active users matching q, in directory
	// order after the position after (0: from the start), and where the next
	// page starts (0 at the end).
	UsersPage(ctx context.Context, q UserQuery, after int64, limit int) (UserPage, error)
	// UsersByID returns the users among ids the directory knows, active or not,
	// in the order given: one query, however many ids.
	UsersByID(ctx context.Context, ids []string) ([]User, error)
}

// UserQuery selects active users: every condition given must hold.
type UserQuery struct {
	// Roles: the user's role is one of these.
	Roles []string `json:"roles,omitempty"`
	// Permissions: the user holds all of these.
	Permissions []string `json:"permissions,omitempty"`
	// Tags: the user has at least one of these (any case).
	Tags []string `json:"tags,omitempty"`
	// Description is how the assignment-options endpoints describe each user
	// the query selects; empty: "Available for STAGE".
	Description string `json:"-"`
}

// Requirement is the query as a requirement of stage: what the store counts,
// samples and pages, and what Check words a refusal by.
func (q UserQuery) Requirement(stage Stage) Requirement {
	return Requirement{Stage: stage, Required: slices.Clone(q.Permissions), Roles: slices.Clone(q.Roles),
		Filter: Eligibility{TagsOneOf: slices.Clone(q.Tags)}}
}

// String is the query as a reason says it: "role Admin or Claims supervisor,
// holding MakeClaimDecisions".
func (q UserQuery) String() string {
	var parts []string
	if len(q.Roles) > 0 {
		parts = append(parts, "role "+strings.Join(q.Roles, " or "))
	}
	if len(q.Permissions) > 0 {
		parts = append(parts, "holding "+strings.Join(q.Permissions, ", "))
	}
	if len(q.Tags) > 0 {
		parts = append(parts, "tagged "+strings.Join(q.Tags, " or "))
	}
	if len(parts) == 0 {
		return "every active user"
	}
	return strings.Join(parts, ", ")
}

// UserPage is one page of users.
type UserPage struct {
	Users []User
	// Next is the position to pass as after for the next page; 0 at the end.
	Next int64
}

// RolesByStage is the claim-assignment source's example product module: users whose
// role is allowed for the stage are available, and the current user (when one asks
// and is available) or else the first available user is the default assignee. It
// answers with a pool of those roles, so it costs two small reads whatever the
// directory holds.
type RolesByStage struct {
	Users ModuleDirectory
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
	table := m.Roles
	if table == nil {
		table = DefaultRolesByStage
	}
	allowed, ok := table[stage]
	if !ok {
		allowed = table[StageReview] // the source falls back to review's roles
	}
	pool := UserQuery{Roles: allowed, Description: "Available for " + string(stage)}
	out := AssignmentOptions{Pool: &pool}
	if currentUser != nil && currentUser.Active && slices.Contains(allowed, currentUser.Role) {
		c := CandidateOf(*currentUser, pool.Description)
		out.AssignedTo = &c
		return out, nil
	}
	first, err := m.Users.UsersPage(ctx, pool, 0, 1)
	if err != nil {
		return AssignmentOptions{}, fmt.Errorf("users with roles %s: %w", strings.Join(allowed, ", "), err)
	}
	if len(first.Users) > 0 {
		c := CandidateOf(first.Users[0], pool.Description)
		out.AssignedTo = &c
	}
	return out, nil
}
