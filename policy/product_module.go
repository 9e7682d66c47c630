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

// UsesProductModule says whether stage is decided by a product module under p.
func (p *Policy) UsesProductModule(stage Stage) bool {
	return p.AssignmentsEnabled && p.MethodFor(stage) == MethodProductModule
}

// Check rejects an answer whose assigned_to is not among its users.
func (o AssignmentOptions) Check() error {
	if o.AssignedTo == nil {
		return nil
	}
	for _, u := range o.Users {
		if u.UserID == o.AssignedTo.UserID {
			return nil
		}
	}
	return fmt.Errorf("product module: assigned_to %q is not among its users", o.AssignedTo.UserID)
}

// BuiltInModule is the built-in product module a deployment names in its
// configuration (product_module): "roles_by_stage", or "" for none (nil).
func BuiltInModule(name string, users UserLister) (ProductModule, error) {
	switch name {
	case "":
		return nil, nil
	case "roles_by_stage":
		return RolesByStage{Users: users}, nil
	}
	return nil, fmt.Errorf("product module %q: want empty or roles_by_stage", name)
}

// DecideFromModule turns a product module's answer into a decision, rejecting users
// the directory does not know or has deactivated, and an assigned_to that is not
// among the module's users. The module's users go to the explanation; the decision
// keeps their count and a sample.
func DecideFromModule(ctx context.Context, p *Policy, stage Stage, people People, opts AssignmentOptions) (Decision, Explanation, error) {
	ex := Explanation{Requirement: Requirement{Stage: stage}, Listed: make([]string, 0, len(opts.Users))}
	listed := make(map[string]bool, len(opts.Users))
	for i, c := range opts.Users {
		u, err := people.Check(ctx, c.UserID, ex.Requirement)
		if err != nil {
			return Decision{}, Explanation{}, err
		}
		if !u.Found {
			return Decision{}, Explanation{}, fmt.Errorf("product module: users[%d]: unknown user %q", i, c.UserID)
		}
		if !u.User.Active {
			return Decision{}, Explanation{}, fmt.Errorf("product module: users[%d]: user %q is inactive", i, c.UserID)
		}
		if !listed[c.UserID] {
			listed[c.UserID] = true
			ex.Listed = append(ex.Listed, c.UserID)
		}
	}
	d := Decision{
		Stage:              stage,
		Method:             MethodProductModule,
		AssignmentsEnabled: true,
		Eligible:           len(ex.Listed),
		Sample:             slices.Clone(ex.Listed[:min(len(ex.Listed), SampleSize)]),
		PolicyVersion:      p.Version,
		Reason:             fmt.Sprintf("product module: %d users, no default assignee", len(opts.Users)),
	}
	if opts.AssignedTo != nil {
		if !listed[opts.AssignedTo.UserID] {
			return Decision{}, Explanation{}, fmt.Errorf("product module: assigned_to %q is not among its users", opts.AssignedTo.UserID)
		}
		d.Assignee = opts.AssignedTo.UserID
		d.Reason = fmt.Sprintf("product module: picked %s from %d users", d.Assignee, len(opts.Users))
	}
	return d, ex, nil
}
