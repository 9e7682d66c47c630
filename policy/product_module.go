package policy

import (
	"context"
	"errors"
	"fmt"
	"slices"
)

// AssignmentOptions is what a product module returns, mirroring the source's
// {assigned_to, users}. AssignedTo nil means nobody is assigned yet. The
// candidates are either listed (Users, at most MaxListed) or named by a query
// (Pool: the active users matching it), which Baton counts, samples and pages
// from the directory: an answer with a pool costs the same whether it holds ten
// people or ten thousand.
type AssignmentOptions struct {
	AssignedTo *Candidate
	Users      []Candidate
	Pool       *UserQuery
}

// MaxListed bounds the users a module may list one by one; past it, a module
// answers with a pool.
const MaxListed = 1000

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

// Check rejects an answer that lists more than MaxListed users, lists users and
// a pool both, or whose assigned_to is not among its listed users (a pool's
// members are checked against the directory: DecideFromModule).
func (o AssignmentOptions) Check() error {
	if len(o.Users) > MaxListed {
		return fmt.Errorf("product module: %d users listed, at most %d: answer with a pool (AssignmentOptions.Pool) instead",
			len(o.Users), MaxListed)
	}
	if o.Pool != nil && len(o.Users) > 0 {
		return errors.New("product module: answer lists users and a pool: give one or the other")
	}
	if o.AssignedTo == nil || o.Pool != nil {
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
func BuiltInModule(name string, users ModuleDirectory) (ProductModule, error) {
	switch name {
	case "":
		return nil, nil
	case "roles_by_stage":
		return RolesByStage{Users: users}, nil
	}
	return nil, fmt.Errorf("product module %q: want empty or roles_by_stage", name)
}

// DecideFromModule turns a product module's answer into a decision. Listed
// users are looked up in one read (People.Lookup); one the directory does not
// know or has deactivated, or an assigned_to not among them, rejects the
// answer. A pool is counted and sampled as a requirement (its members are the
// decision's candidates, kept by the store like any stage's), and its
// assigned_to must be an active member. The decision keeps a count and a
// sample; the explanation keeps the list, or the pool's requirement.
func DecideFromModule(ctx context.Context, p *Policy, stage Stage, people People, opts AssignmentOptions) (Decision, Explanation, error) {
	if err := opts.Check(); err != nil {
		return Decision{}, Explanation{}, err
	}
	d := Decision{Stage: stage, Method: MethodProductModule, AssignmentsEnabled: true, PolicyVersion: p.Version}
	if opts.Pool != nil {
		return decideFromPool(ctx, d, people, opts)
	}
	ex := Explanation{Requirement: Requirement{Stage: stage}, Listed: make([]string, 0, len(opts.Users))}
	listed := make(map[string]bool, len(opts.Users))
	for _, c := range opts.Users {
		if !listed[c.UserID] {
			listed[c.UserID] = true
			ex.Listed = append(ex.Listed, c.UserID)
		}
	}
	known, err := people.Lookup(ctx, ex.Listed)
	if err != nil {
		return Decision{}, Explanation{}, err
	}
	byID := make(map[string]User, len(known))
	for _, u := range known {
		byID[u.ID] = u
	}
	for i, c := range opts.Users {
		u, ok := byID[c.UserID]
		switch {
		case !ok:
			return Decision{}, Explanation{}, fmt.Errorf("product module: users[%d]: unknown user %q", i, c.UserID)
		case !u.Active:
			return Decision{}, Explanation{}, fmt.Errorf("product module: users[%d]: user %q is inactive", i, c.UserID)
		}
	}
	d.Eligible = len(ex.Listed)
	d.Sample = slices.Clone(ex.Listed[:min(len(ex.Listed), SampleSize)])
	d.Reason = fmt.Sprintf("product module: %d users, no default assignee", len(opts.Users))
	if opts.AssignedTo != nil {
		d.Assignee = opts.AssignedTo.UserID
		d.Reason = fmt.Sprintf("product module: picked %s from %d users", d.Assignee, len(opts.Users))
	}
	return d, ex, nil
}

// decideFromPool decides from an answer that names its candidates by a query.
func decideFromPool(ctx context.Context, d Decision, people People, opts AssignmentOptions) (Decision, Explanation, error) {
	req := opts.Pool.Requirement(d.Stage)
	ex := Explanation{Requirement: req}
	set, err := people.Eligible(ctx, req, SampleSize)
	if err != nil {
		return Decision{}, Explanation{}, err
	}
	d.Eligible, d.Excluded, d.Sample = set.Count, set.Excluded, set.Sample
	d.Reason = fmt.Sprintf("product module: %d users (%s), no default assignee", set.Count, opts.Pool)
	if opts.AssignedTo == nil {
		return d, ex, nil
	}
	id := opts.AssignedTo.UserID
	c, err := people.Check(ctx, id, req)
	if err != nil {
		return Decision{}, Explanation{}, err
	}
	if !c.Eligible() {
		why := c.Reason
		if !c.Found {
			why = "not in the directory"
		}
		return Decision{}, Explanation{}, fmt.Errorf("product module: assigned_to %q is not in its pool (%s): %s", id, opts.Pool, why)
	}
	d.Assignee = id
	d.Reason = fmt.Sprintf("product module: picked %s from %d users (%s)", id, set.Count, opts.Pool)
	return d, ex, nil
}
