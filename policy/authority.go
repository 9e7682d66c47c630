package policy

import (
	"context"
	"fmt"
	"strings"
)

// Who may act on a claim (interventions source), written once: the workflow's
// validators reject early from what the claim holds, and the activity that records
// an action calls Authorize with the directory as it is now, in the transaction
// that records it. Authority is never taken from a list captured earlier.

// Intervention is something a person does to a claim's current stage.
type Intervention string

// The actions.
const (
	DoAssign            Intervention = "assign" // assign, or reassign when the stage has an assignee
	DoClaim             Intervention = "claim"
	DoUnassign          Intervention = "unassign"
	DoComplete          Intervention = "complete"
	DoStartReassignment Intervention = "start_reassignment"
	DoMigratePolicy     Intervention = "migrate_policy"
)

// RefusalKind classifies a refusal; the workflow maps each to its error type.
type RefusalKind string

// The refusal kinds.
const (
	RefusedForbidden   RefusalKind = "forbidden"    // the actor may not do this
	RefusedInvalid     RefusalKind = "invalid"      // the request names someone who cannot take the stage
	RefusedUnknownUser RefusalKind = "unknown_user" // the new assignee has left or lost the right since
	RefusedConflict    RefusalKind = "conflict"     // the act conflicts with the state of things (a full person)
)

// Refusal is why an action may not be recorded.
type Refusal struct {
	Kind RefusalKind
	Msg  string
}

func (r *Refusal) Error() string { return r.Msg }

func refuse(kind RefusalKind, format string, args ...any) *Refusal {
	return &Refusal{Kind: kind, Msg: fmt.Sprintf(format, args...)}
}

// Act is an action with everything Authorize needs, read live.
type Act struct {
	Action  Intervention
	ClaimID string
	Stage   Stage
	Actor   string
	// ActorCheck is the actor's standing against the stage's requirement now;
	// ActorAdmin whether they are an active admin now.
	ActorCheck UserCheck
	ActorAdmin bool
	// Owner is the claim's owner; OwnerActive whether they are an active user now.
	Owner       string
	OwnerActive bool
	// Assignee is the stage's current assignee.
	Assignee string
	// Target is the user an assign names, TargetCheck their standing now, and
	// TargetWasCandidate whether they were eligible when the stage was decided.
	Target             string
	TargetCheck        UserCheck
	TargetWasCandidate bool
	// ActorWasCandidate is whether the actor was eligible when the stage was decided.
	ActorWasCandidate bool
	// AssigneeExempt: the assignee got the stage as its default assignee or
	// escalation target, who need not be eligible; completing asks only that they
	// are active.
	AssigneeExempt     bool
	AssignmentsEnabled bool
	// Reassigning is true while a reassignment group round offers the stage;
	// then only an offered member may claim it, and they must still be eligible.
	Reassigning bool
	// FourEyes are the people the stage's decision keeps from it
	// (excludeActorsOf): they may neither take nor complete it.
	FourEyes []string
	// FourEyesOf are the earlier stages the stage excludes the actors of.
	FourEyesOf []Stage
	// Eligible names who may take the stage now, for messages.
	Eligible string
}

// privileged reports whether the actor may reassign anything on the claim: an
// admin, or the claim's owner, while active.
func (a Act) privileged() bool {
	if !a.ActorCheck.Found || !a.ActorCheck.User.Active {
		return false
	}
	return a.ActorAdmin || (a.Owner != "" && a.Actor == a.Owner && a.OwnerActive)
}

// Authorize decides whether the act may be recorded, from live standings; nil
// means it may.
func Authorize(a Act) *Refusal {
	if r := a.actorPresent(); r != nil {
		return r
	}
	switch a.Action {
	case DoAssign:
		return a.assign()
	case DoClaim:
		if !a.ActorCheck.Eligible() {
			if a.ActorWasCandidate || a.Reassigning {
				return refuse(RefusedForbidden, "%q may not claim %s of claim %s: %s", a.Actor, a.Stage, a.ClaimID, a.ActorCheck.Why(a.Actor))
			}
			return refuse(RefusedForbidden, "%q may not claim %s of claim %s: they are not eligible (eligible are %s)",
				a.Actor, a.Stage, a.ClaimID, a.Eligible)
		}
	case DoUnassign:
		if a.Actor != a.Assignee && !a.privileged() {
			return refuse(RefusedForbidden, "%q may not unassign %s of claim %s: only the assignee (%s), admins and the owner may",
				a.Actor, a.Stage, a.ClaimID, a.Assignee)
		}
	case DoStartReassignment:
		if !a.privileged() && (a.Assignee == "" || a.Actor != a.Assignee) {
			who := "admins and the owner"
			if a.Assignee != "" {
				who = fmt.Sprintf("the assignee (%s), admins and the owner", a.Assignee)
			}
			return refuse(RefusedForbidden, "%q may not send %s of claim %s to a reassignment group: only %s may", a.Actor, a.Stage, a.ClaimID, who)
		}
	case DoComplete:
		return a.complete()
	case DoMigratePolicy:
		if !a.ActorAdmin {
			return refuse(RefusedForbidden, "%q may not migrate claim %s to another policy version: admins only", a.Actor, a.ClaimID)
		}
	default:
		return refuse(RefusedInvalid, "unknown action %q", a.Action)
	}
	return nil
}

// actorPresent refuses an actor who is not an active user now.
func (a Act) actorPresent() *Refusal {
	switch {
	case !a.ActorCheck.Found, !a.ActorCheck.User.Active:
		return refuse(RefusedForbidden, "%q may not %s of claim %s: %s", a.Actor, a.verb(), a.ClaimID, a.ActorCheck.Why(a.Actor))
	}
	return nil
}

func (a Act) verb() string {
	switch a.Action {
	case DoAssign:
		return "assign " + string(a.Stage)
	case DoMigratePolicy:
		return "migrate the policy"
	}
	return strings.ReplaceAll(string(a.Action), "_", " ") + " " + string(a.Stage)
}

func (a Act) assign() *Refusal {
	if a.Assignee == "" {
		if a.Actor != a.Target && !a.privileged() {
			return refuse(RefusedForbidden, "%q may not assign %s of claim %s to %q: only admins and the owner assign others; eligible users may take it themselves",
				a.Actor, a.Stage, a.ClaimID, a.Target)
		}
	} else if a.Actor != a.Assignee && !a.privileged() {
		return refuse(RefusedForbidden, "%q may not reassign %s of claim %s: only the assignee (%s), admins and the owner may",
			a.Actor, a.Stage, a.ClaimID, a.Assignee)
	}
	if a.TargetCheck.Eligible() {
		return nil
	}
	if a.TargetWasCandidate && a.TargetCheck.Found {
		return refuse(RefusedUnknownUser, "%s since %s of claim %s was decided: they can no longer be given it (eligible now: %s)",
			a.TargetCheck.Why(a.Target), a.Stage, a.ClaimID, a.Eligible)
	}
	return refuse(RefusedInvalid, "%q is not eligible for %s of claim %s: eligible are %s", a.Target, a.Stage, a.ClaimID, a.Eligible)
}

func (a Act) complete() *Refusal {
	if r := refuseFourEyes(a.Actor, "complete", a.Stage, a.ClaimID, a.FourEyes, a.FourEyesOf); r != nil {
		return r // with assignments or without: whoever completes acts on the stage
	}
	if !a.AssignmentsEnabled {
		if !a.ActorCheck.Eligible() {
			return refuse(RefusedForbidden, "%q may not complete %s of claim %s: they do not hold %s",
				a.Actor, a.Stage, a.ClaimID, strings.Join(a.ActorCheck.missing(), ", "))
		}
		return nil
	}
	if a.Actor != a.Assignee {
		return refuse(RefusedForbidden, "%q may not complete %s of claim %s: only the assignee (%s) may", a.Actor, a.Stage, a.ClaimID, a.Assignee)
	}
	if !a.ActorCheck.Eligible() && !a.AssigneeExempt {
		return refuse(RefusedForbidden, "%q may not complete %s of claim %s: %s", a.Actor, a.Stage, a.ClaimID, a.ActorCheck.Why(a.Actor))
	}
	return nil
}

// missing is the permissions a check found missing, or its reason.
func (c UserCheck) missing() []string {
	if r, ok := strings.CutPrefix(c.Reason, "missing "); ok {
		return []string{r}
	}
	return []string{c.Reason}
}

// StageLedger is what the ledger holds of a stage's decision: who could take the
// stage then. The store reads it from the decision's row; tests keep it in memory.
type StageLedger interface {
	// WasCandidate reports whether the user was a candidate when the stage was decided.
	WasCandidate(ctx context.Context, id string) (bool, error)
	// FirstCandidates returns the first n candidates and how many there were.
	FirstCandidates(ctx context.Context, n int) ([]User, int, error)
}

// StageAuthority is who may take a stage: its decision's requirement, or (Listed)
// exactly the candidates a product module named, while active.
type StageAuthority struct {
	Requirement Requirement
	Listed      bool
	Ledger      StageLedger
}

// Check is a user's standing against the stage now, and whether they were a
// candidate when it was decided. The second answer only words a refusal (or, for
// a product module's list, is the test itself), so for a user eligible now it is
// not looked up and reads false: one lookup, not two, on the common path.
func (s StageAuthority) Check(ctx context.Context, people People, id string) (UserCheck, bool, error) {
	if id == "" {
		return UserCheck{}, false, nil
	}
	c, err := people.Check(ctx, id, s.Requirement)
	if err != nil || (c.Eligible() && !s.Listed) {
		return c, false, err
	}
	was, err := s.Ledger.WasCandidate(ctx, id)
	if err != nil {
		return c, false, err
	}
	if s.Listed && c.Reason == "" && !was {
		c.Reason = "not among the product module's users"
	}
	return c, was, nil
}

// eligibleNow names who may take the stage now, for a refusal's message.
func (s StageAuthority) eligibleNow(ctx context.Context, people People) (string, error) {
	if s.Listed {
		users, n, err := s.Ledger.FirstCandidates(ctx, SampleSize)
		if err != nil {
			return "", err
		}
		return SampleList(ids(users), n), nil
	}
	set, err := people.Eligible(ctx, s.Requirement, SampleSize)
	if err != nil {
		return "", err
	}
	return SampleList(set.Sample, set.Count), nil
}

// AuthorizeNow reads everything Authorize needs from the directory as it is now
// (people) and the stage's decision (s), and decides. The store calls it inside
// the transaction that records the act.
func AuthorizeNow(ctx context.Context, people People, s StageAuthority, act Act) (*Refusal, error) {
	var err error
	if act.ActorCheck, act.ActorWasCandidate, err = s.Check(ctx, people, act.Actor); err != nil {
		return nil, err
	}
	act.ActorAdmin = act.ActorCheck.User.IsAdmin()
	if act.Owner != "" {
		oc := act.ActorCheck
		if act.Owner != act.Actor {
			if oc, err = people.Check(ctx, act.Owner, s.Requirement); err != nil {
				return nil, err
			}
		}
		act.OwnerActive = oc.Found && oc.User.Active
	}
	if act.Target != "" {
		if act.TargetCheck, act.TargetWasCandidate, err = s.Check(ctx, people, act.Target); err != nil {
			return nil, err
		}
	}
	if Authorize(act) == nil {
		return nil, nil
	}
	// Word the refusal with who may take the stage now.
	if act.Eligible, err = s.eligibleNow(ctx, people); err != nil {
		return nil, err
	}
	return Authorize(act), nil
}

// present refuses an actor who is not an active user now, for an act described
// by what ("edit reassignment groups").
func present(actor string, u *User, what string) *Refusal {
	switch {
	case u == nil:
		return refuse(RefusedForbidden, "%s may not %s: user %q is not in the directory", actor, what, actor)
	case !u.Active:
		return refuse(RefusedForbidden, "%s may not %s: user %q is inactive", actor, what, actor)
	}
	return nil
}

// AuthorizeGroupEdit decides whether actor may edit reassignment groups: an
// active user holding ManageReassignmentGroups. u is the actor's directory entry
// now, nil when the directory does not know them; nil means they may.
func AuthorizeGroupEdit(actor string, u *User) *Refusal {
	const what = "edit reassignment groups"
	if r := present(actor, u, what); r != nil {
		return r
	}
	if !u.Has(PermManageReassignmentGroups) {
		return refuse(RefusedForbidden, "%s may not %s: it needs the %s permission", actor, what, PermManageReassignmentGroups)
	}
	return nil
}

// AuthorizeStatusChange decides whether actor may set target's status: anyone
// active may set their own, and an active admin anyone's. u is the actor's
// directory entry now, nil when the directory does not know them.
func AuthorizeStatusChange(actor string, u *User, target string) *Refusal {
	return selfOrAdmin(actor, u, target, "set "+target+"'s status")
}

// AuthorizeAbsence decides whether actor may record an absence for target: as
// for a status, themselves or an admin.
func AuthorizeAbsence(actor string, u *User, target string) *Refusal {
	return selfOrAdmin(actor, u, target, "record an absence for "+target)
}

// AuthorizeWorkloadRead decides whether actor may read target's status, limits
// and open stages: themselves, or an admin.
func AuthorizeWorkloadRead(actor string, u *User, target string) *Refusal {
	return selfOrAdmin(actor, u, target, "read "+target+"'s workload")
}

func selfOrAdmin(actor string, u *User, target, what string) *Refusal {
	if r := present(actor, u, what); r != nil {
		return r
	}
	if actor != target && !u.IsAdmin() {
		return refuse(RefusedForbidden, "%s may not %s: only %s and admins may", actor, what, target)
	}
	return nil
}

// AuthorizeUserAdmin decides whether actor may change who is in the directory
// (what: "deactivate ann"): active admins only.
func AuthorizeUserAdmin(actor string, u *User, what string) *Refusal {
	if r := present(actor, u, what); r != nil {
		return r
	}
	if !u.IsAdmin() {
		return refuse(RefusedForbidden, "%s may not %s: admins only", actor, what)
	}
	return nil
}
