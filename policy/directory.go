package policy

import (
	"context"
	"fmt"
	"slices"
	"strings"
)

// Directory is a parsed directory file: users with their permissions, and teams with
// their members in order. Each row keeps its line so later checks (a team member the
// database does not know) can still point at the file.
type Directory struct {
	File  string
	Users []DirectoryUser
	Teams []DirectoryTeam
}

// DirectoryUser is one user row of a directory file.
type DirectoryUser struct {
	User
	Line int
}

// DirectoryTeam is one team row of a directory file.
type DirectoryTeam struct {
	Team
	Line        int
	MemberLines []int
}

// Requirement is who may take a stage of one claim: the permissions the stage
// requires and its eligibility filters, with the claim's own values the filters
// compare against. It is small and fixed in size whatever the directory holds, so
// a decision can record it and any later action can check a user against it as the
// directory is now.
type Requirement struct {
	Stage    Stage       `json:"stage"`
	Required []string    `json:"required"`
	Filter   Eligibility `json:"filter,omitzero"`
	// State and CareTeam are the claim's values the stateCredential and careTeam
	// filters read.
	State    string `json:"state,omitempty"`
	CareTeam string `json:"careTeam,omitempty"`
	// Roles, when set, limits the requirement to users whose role is one of
	// them: a product module's pool (PoolByRoles), never a policy's stage.
	Roles []string `json:"roles,omitempty"`
}

// RequirementFor is the requirement of a claim's stage under the policy; for
// acknowledge the review outcome adds its permission.
func (p *Policy) RequirementFor(s Stage, outcome Outcome, claim Claim) Requirement {
	return Requirement{
		Stage:    s,
		Required: p.Required(s, outcome),
		Filter:   p.Stages[s].Eligibility,
		State:    claim.Data[ClaimKeyState],
		CareTeam: claim.Data[ClaimKeyCareTeam],
	}
}

// Reject says why a user does not meet the requirement, or "" when they do.
// careTeamMember reports whether the user is on the claim's care team, and
// careTeamKnown whether that team is in the directory; both are read only when the
// careTeam filter is on. The store's SQL applies the same rules to the whole
// directory; this is the one place the reasons are worded.
func (r Requirement) Reject(u User, careTeamKnown, careTeamMember bool) string {
	if !u.Active {
		return "inactive"
	}
	var missing []string
	for _, p := range r.Required {
		if !u.Has(p) {
			missing = append(missing, p)
		}
	}
	if len(missing) > 0 {
		return "missing " + strings.Join(missing, ", ")
	}
	if len(r.Roles) > 0 && !slices.Contains(r.Roles, u.Role) {
		return fmt.Sprintf("role %q is not one of %s", u.Role, strings.Join(r.Roles, ", "))
	}
	e := r.Filter
	if len(e.TagsOneOf) > 0 && !slices.ContainsFunc(e.TagsOneOf, func(t string) bool { return hasFold(u.Tags, t) }) {
		return "has none of the tags " + strings.Join(e.TagsOneOf, ", ")
	}
	for _, t := range e.TagsAllOf {
		if !hasFold(u.Tags, t) {
			return "lacks tag " + t + " (all of " + strings.Join(e.TagsAllOf, ", ") + " required)"
		}
	}
	if e.StateCredential {
		switch {
		case r.State == "":
			return "the claim has no state to check a credential against"
		case !hasFold(u.Credentials, r.State):
			return "no credential for state " + r.State
		}
	}
	if e.CareTeam {
		switch {
		case r.CareTeam == "":
			return "the claim has no care team"
		case !careTeamKnown:
			return "the claim's care team " + r.CareTeam + " is not in the directory"
		case !careTeamMember:
			return "not on care team " + r.CareTeam
		}
	}
	return ""
}

// Describe is how the assignment-options endpoints describe an eligible user.
func (r Requirement) Describe() string { return describeEligible(r.Stage, r.Required) }

// People is the directory as a decision reads it. Every answer is bounded in
// size whatever the directory holds: counts, a few users, one user's standing, the
// next turn. The store answers from indexed SQL inside the decision's transaction;
// MemDirectory answers from a slice, for what-if runs and tests.
type People interface {
	// Eligible counts the users who meet req and the directory's other users, and
	// returns the first sample eligible users in directory order.
	Eligible(ctx context.Context, req Requirement, sample int) (EligibleSet, error)
	// Check looks one user up against req.
	Check(ctx context.Context, id string, req Requirement) (UserCheck, error)
	// Lookup returns the users among ids the directory knows, active or not, in
	// the order given, in one read (a product module's listed candidates).
	Lookup(ctx context.Context, ids []string) ([]User, error)
	// Team returns a team's members who meet req, in team order; found is false
	// when the directory has no such team. A decision reads only their ids, so
	// an implementation may return nothing else.
	Team(ctx context.Context, team string, req Requirement) (members []User, found bool, err error)
	// Turns reads the turn state of scope for the users who meet req (and, for a
	// team order, belong to the team): see TurnView. Next is the first in turn
	// order whom order.Refuse does not pass over; a person with a limit at the
	// stage is held (see Hold) before being named.
	Turns(ctx context.Context, scope string, req Requirement, order TurnOrder) (TurnView, error)
	// LeastLoaded is Turns for the least_loaded method: Next is the person, of
	// those meeting req whom order.Refuse does not pass over, with the fewest
	// open stages, then the most spare capacity, then first in scope's turn order.
	LeastLoaded(ctx context.Context, scope string, req Requirement, order TurnOrder) (TurnView, error)
	// Hold reads a person's workload at a stage and, when they have a limit
	// there, holds it until the decision is recorded, so concurrent decisions
	// cannot both fill their last slot.
	Hold(ctx context.Context, id string, stage Stage) (Workload, error)
	// Delegate follows the delegates of from, away on an absence, starting at
	// first, to someone who meets req, is not excluded and may take new work
	// (FollowDelegates); Turns does the same for whoever's turn it is.
	Delegate(ctx context.Context, from, first string, req Requirement, order TurnOrder) (Delegation, error)
}

// EligibleSet is a bounded view of who meets a requirement.
type EligibleSet struct {
	Count    int
	Excluded int
	// Sample names the first few eligible users, in directory order.
	Sample []string
}

// UserCheck is one user's standing against a requirement.
type UserCheck struct {
	User  User
	Found bool
	// Reason is why the user does not meet the requirement; "" when they do.
	Reason string
}

// Eligible reports whether the user is in the directory and meets the requirement.
func (c UserCheck) Eligible() bool { return c.Found && c.Reason == "" }

// Why says, in a sentence's words, why a user may not take the stage.
func (c UserCheck) Why(id string) string {
	switch {
	case !c.Found:
		return fmt.Sprintf("%q is not in the directory", id)
	case c.Reason == "inactive":
		return fmt.Sprintf("user %q is inactive", id)
	case strings.HasPrefix(c.Reason, "missing "):
		return fmt.Sprintf("%q no longer holds %s", id, strings.TrimPrefix(c.Reason, "missing "))
	default:
		return fmt.Sprintf("%q is not eligible: %s", id, c.Reason)
	}
}

// SampleSize is how many candidates a decision carries into the workflow: enough to
// show who could take it, fixed so a claim's history never grows with the
// directory. The full list is in the ledger.
const SampleSize = 5

// MemDirectory is People over users and teams held in memory, with turn counts
// kept in the struct: what-if runs and table tests. Users are in directory order.
type MemDirectory struct {
	Users []User
	Teams []Team
	// Served is each scope's turn counts by user; Record updates it.
	Served map[string]map[string]int64
	// Open is each user's open stages by stage; Record adds the assignee's.
	Open map[string]map[Stage]int
}

// Workload implements the workload a decision reads: the user's status and
// limits with their open stages.
func (m *MemDirectory) workload(u User, stage Stage) Workload {
	open := Open{Stage: m.Open[u.ID][stage]}
	for _, n := range m.Open[u.ID] {
		open.Total += n
	}
	return WorkloadOf(u, open)
}

// Hold implements People; a slice needs no lock.
func (m *MemDirectory) Hold(_ context.Context, id string, stage Stage) (Workload, error) {
	for _, u := range m.Users {
		if u.ID == id {
			return m.workload(u, stage), nil
		}
	}
	return Workload{}, nil
}

// OpenStage records that a user holds one more open stage.
func (m *MemDirectory) OpenStage(id string, stage Stage) {
	if m.Open == nil {
		m.Open = map[string]map[Stage]int{}
	}
	if m.Open[id] == nil {
		m.Open[id] = map[Stage]int{}
	}
	m.Open[id][stage]++
}

func (m *MemDirectory) careTeam(req Requirement) (known bool, members []string) {
	for _, t := range m.Teams {
		if t.ID == req.CareTeam {
			return true, t.Members
		}
	}
	return false, nil
}

func (m *MemDirectory) reject(u User, req Requirement) string {
	known, members := m.careTeam(req)
	return req.Reject(u, known, slices.Contains(members, u.ID))
}

// Eligible implements People.
func (m *MemDirectory) Eligible(_ context.Context, req Requirement, sample int) (EligibleSet, error) {
	var s EligibleSet
	for _, u := range m.Users {
		if m.reject(u, req) != "" {
			s.Excluded++
			continue
		}
		s.Count++
		if len(s.Sample) < sample {
			s.Sample = append(s.Sample, u.ID)
		}
	}
	return s, nil
}

// Check implements People.
func (m *MemDirectory) Check(_ context.Context, id string, req Requirement) (UserCheck, error) {
	for _, u := range m.Users {
		if u.ID == id {
			return UserCheck{User: u, Found: true, Reason: m.reject(u, req)}, nil
		}
	}
	return UserCheck{}, nil
}

// Lookup implements People.
func (m *MemDirectory) Lookup(_ context.Context, ids []string) ([]User, error) {
	var out []User
	for _, id := range ids {
		for _, u := range m.Users {
			if u.ID == id {
				out = append(out, u)
			}
		}
	}
	return out, nil
}

// Team implements People.
func (m *MemDirectory) Team(_ context.Context, id string, req Requirement) ([]User, bool, error) {
	for _, t := range m.Teams {
		if t.ID != id {
			continue
		}
		var out []User
		for _, mid := range t.Members {
			for _, u := range m.Users {
				if u.ID == mid && m.reject(u, req) == "" {
					out = append(out, u)
				}
			}
		}
		return out, true, nil
	}
	return nil, false, nil
}

// Turns implements People, the same way the store's SQL does: newcomers enter,
// then the first in turn order whom order does not pass over is named.
func (m *MemDirectory) Turns(ctx context.Context, scope string, req Requirement, order TurnOrder) (TurnView, error) {
	cs := m.turnCandidates(ctx, scope, req, order)
	ordered, entered := EnterAndOrder(cs)
	for _, c := range entered {
		m.record(scope, c.User.ID, c.Served)
	}
	v := TurnView{Eligible: len(cs)}
	var ahead []Passing
	for _, c := range ordered {
		w := m.workload(c.User, order.Stage)
		if order.OutOfTurn(w) {
			ahead = append(ahead, Passing{ID: c.User.ID, Why: order.Refuse(c.User.ID, w), Out: true})
			continue
		}
		why, del, err := order.Take(ctx, m, req, c.User.ID, w)
		if err != nil {
			return v, err
		}
		if why != "" {
			ahead = append(ahead, Passing{ID: c.User.ID, Why: why})
			continue
		}
		v.PassInOrder(ahead)
		c.Delegated = del
		v.Next = &c
		return v, nil
	}
	v.PassInOrder(ahead)
	return v, nil
}

// Delegate implements People.
func (m *MemDirectory) Delegate(ctx context.Context, from, first string, req Requirement, order TurnOrder) (Delegation, error) {
	return FollowDelegates(from, first, order.Stage, func(id string) (bool, Workload, error) {
		if _, excluded := order.Exclude[id]; excluded {
			return false, Workload{}, nil
		}
		c, _ := m.Check(ctx, id, req)
		return c.Eligible(), m.workload(c.User, order.Stage), nil
	})
}

// LeastLoaded implements People.
func (m *MemDirectory) LeastLoaded(ctx context.Context, scope string, req Requirement, order TurnOrder) (TurnView, error) {
	cs := m.turnCandidates(ctx, scope, req, order)
	ordered, entered := EnterAndOrder(cs)
	for _, c := range entered {
		m.record(scope, c.User.ID, c.Served)
	}
	v := TurnView{Eligible: len(cs)}
	lc := make([]LoadCandidate, len(ordered))
	for i, c := range ordered {
		lc[i] = LoadCandidate{Turn: c, Work: m.workload(c.User, order.Stage)}
	}
	if best, ok := PickLeastLoaded(lc, order, &v); ok {
		v.Next = &best.Turn
	}
	return v, nil
}

// turnCandidates are the eligible users (of the team, for a team order) with
// their counts in scope.
func (m *MemDirectory) turnCandidates(ctx context.Context, scope string, req Requirement, order TurnOrder) []TurnCandidate {
	var pool []User
	if order.Team != "" {
		pool, _, _ = m.Team(ctx, order.Team, req)
	} else {
		for _, u := range m.Users {
			if m.reject(u, req) == "" {
				pool = append(pool, u)
			}
		}
	}
	served := m.Served[scope]
	cs := make([]TurnCandidate, len(pool))
	for i, u := range pool {
		cs[i] = TurnCandidate{User: u, Order: int64(i), Weight: order.weight(u)}
		cs[i].Served, cs[i].Counted = served[u.ID]
	}
	return cs
}

// Record stores a turn taken, as the store does with the decision's ledger row.
func (m *MemDirectory) Record(t Turn) { m.record(t.Scope, t.User.ID, t.Served) }

func (m *MemDirectory) record(scope, user string, served int64) {
	if m.Served == nil {
		m.Served = map[string]map[string]int64{}
	}
	if m.Served[scope] == nil {
		m.Served[scope] = map[string]int64{}
	}
	m.Served[scope][user] = served
}
