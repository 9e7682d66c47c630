package policy

import (
	"context"
	"fmt"
	"slices"
)

// AssignmentOptions is what a product module returns, mirroring the source's
// {assigned_to, users}. AssignedTo nil means nobody is assigned yet.
type AssignmentOptions struct {
	AssignedTo *Candidate
	Users      []Candidate
}

// ProductModule is custom assignment logic, the Go form of the source's
// getClaimAssignmentOptions(policy, claim, currentUser, stage). currentUser is nil
// when the system starts the stage. Implementations may do I/O; Baton records their
// answer once, so a retried activity never asks twice for the same stage.
type ProductModule interface {
	GetClaimAssignmentOptions(ctx context.Context, policy *Policy, claim Claim, currentUser *User, stage Stage) (AssignmentOptions, error)
}

// DecideFromModule turns a product module's answer into a decision, rejecting users
// the directory does not know or has deactivated, and an assigned_to that is not
// among the module's users.
func DecideFromModule(p *Policy, stage Stage, users []User, opts AssignmentOptions) (Decision, error) {
	byID := make(map[string]User, len(users))
	for _, u := range users {
		byID[u.ID] = u
	}
	for i, c := range opts.Users {
		u, ok := byID[c.UserID]
		if !ok {
			return Decision{}, fmt.Errorf("product module: users[%d]: unknown user %q", i, c.UserID)
		}
		if !u.Active {
			return Decision{}, fmt.Errorf("product module: users[%d]: user %q is inactive", i, c.UserID)
		}
	}
	d := Decision{
		Stage:              stage,
		Method:             MethodProductModule,
		AssignmentsEnabled: true,
		Candidates:         slices.Clone(opts.Users),
		Admins:             admins(users),
		PolicyVersion:      p.Version,
		Reason:             fmt.Sprintf("product module: %d users, no default assignee", len(opts.Users)),
	}
	if d.Candidates == nil {
		d.Candidates = []Candidate{}
	}
	if opts.AssignedTo != nil {
		if !d.IsCandidate(opts.AssignedTo.UserID) {
			return Decision{}, fmt.Errorf("product module: assigned_to %q is not among its users", opts.AssignedTo.UserID)
		}
		d.Assignee = opts.AssignedTo.UserID
		d.Reason = fmt.Sprintf("product module: picked %s from %d users", d.Assignee, len(opts.Users))
	}
	return d, nil
}
