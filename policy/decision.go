package policy

import (
	"fmt"
	"strings"
)

// Decision is one assignment decision: everything needed to explain it later. It is
// the ledger row, the activity result and what the workflow keeps in its state.
type Decision struct {
	Seq                int         `json:"seq"`
	Stage              Stage       `json:"stage"`
	Method             Method      `json:"method"`
	AssignmentsEnabled bool        `json:"assignmentsEnabled"`
	Assignee           string      `json:"assignee,omitempty"`
	Actor              string      `json:"actor,omitempty"`
	Required           []string    `json:"required,omitempty"`
	Candidates         []Candidate `json:"candidates"`
	Excluded           []Exclusion `json:"excluded,omitempty"`
	// Admins are the users who may reassign when this decision was made; the workflow
	// keeps them so its update validators need no I/O.
	Admins        []string `json:"admins,omitempty"`
	Reason        string   `json:"reason"`
	PolicyVersion string   `json:"policyVersion"`
	Comment       string   `json:"comment,omitempty"`
	// Rules are the stage's queue and timers as the policy set them when the stage
	// was decided; the workflow runs its timers from these.
	Rules StageRules `json:"rules"`
}

// IsCandidate reports whether the user is among the decision's candidates.
func (d Decision) IsCandidate(userID string) bool {
	for _, c := range d.Candidates {
		if c.UserID == userID {
			return true
		}
	}
	return false
}

// DecideInput is what a built-in method needs to decide a stage.
type DecideInput struct {
	Policy  *Policy
	Stage   Stage
	Outcome Outcome // the review outcome, for acknowledge
	Users   []User  // the whole directory, in directory order
	Cursor  Cursor  // the stage's round-robin cursor; unused by other methods
}

// Decide runs the stage's configured built-in method. It returns the decision and,
// for round robin, the cursor to store. Product modules are not built in: callers
// run the module and pass its answer to DecideFromModule.
func Decide(in DecideInput) (Decision, Cursor, error) {
	if !in.Stage.Assignable() {
		return Decision{}, in.Cursor, fmt.Errorf("stage %s is terminal and never assigned", in.Stage)
	}
	required := in.Policy.Required(in.Stage, in.Outcome)
	eligible, excluded := Eligible(in.Users, required)
	d := Decision{
		Stage:              in.Stage,
		AssignmentsEnabled: in.Policy.AssignmentsEnabled,
		Required:           required,
		Candidates:         candidates(eligible, describeEligible(in.Stage, required)),
		Excluded:           excluded,
		Admins:             admins(in.Users),
		PolicyVersion:      in.Policy.Version,
		Rules:              in.Policy.RulesFor(in.Stage),
	}
	if !in.Policy.AssignmentsEnabled {
		d.Method = MethodNone
		d.Reason = fmt.Sprintf("claim assignments are disabled: any of %d users holding %s may complete %s",
			len(eligible), strings.Join(required, ", "), in.Stage)
		return d, in.Cursor, nil
	}
	d.Method = in.Policy.MethodFor(in.Stage)
	if len(eligible) == 0 && d.Rules.DefaultAssignee != "" {
		return defaultAssignee(d, in.Users, fmt.Sprintf("nobody holds %s", strings.Join(required, ", "))), in.Cursor, nil
	}
	switch d.Method {
	case MethodManual:
		d.Reason = fmt.Sprintf("manual: %d eligible users; waiting for someone to assign one", len(eligible))
		return d, in.Cursor, nil
	case MethodRoundRobin:
		pick, next, reason, ok := RoundRobin(eligible, in.Cursor)
		if !ok {
			d.Reason = fmt.Sprintf("round robin: nobody holds %s; left unassigned", strings.Join(required, ", "))
			return d, in.Cursor, nil
		}
		d.Assignee, d.Reason = pick.ID, reason
		return d, next, nil
	default:
		return Decision{}, in.Cursor, fmt.Errorf("method %s is not built in", d.Method)
	}
}

// defaultAssignee gives the decision to the stage's default assignee, who need not
// be eligible (the care-team source: "if no user meets the criteria, this person
// is assigned"), but must be an active user.
func defaultAssignee(d Decision, users []User, why string) Decision {
	id := d.Rules.DefaultAssignee
	for _, u := range users {
		if u.ID == id && u.Active {
			d.Method, d.Assignee = MethodDefaultAssignee, id
			d.Reason = fmt.Sprintf("%s; default assignee %s", why, id)
			return d
		}
	}
	d.Reason = fmt.Sprintf("%s; default assignee %q is not an active user, so it is left unassigned in queue %s",
		why, id, d.Rules.Queue)
	return d
}

func candidates(users []User, description string) []Candidate {
	out := make([]Candidate, 0, len(users))
	for _, u := range users {
		out = append(out, CandidateOf(u, description))
	}
	return out
}

func admins(users []User) []string {
	var out []string
	for _, u := range users {
		if u.IsAdmin() {
			out = append(out, u.ID)
		}
	}
	return out
}
