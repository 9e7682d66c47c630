package policy

import (
	"fmt"
	"slices"
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
	// MatchedRule and RuleTrace explain a distribution decision: the rule that
	// matched, and for every rule tried whether it matched and why not.
	MatchedRule string      `json:"matchedRule,omitempty"`
	RuleTrace   []RuleTrace `json:"ruleTrace,omitempty"`
	// Priority is set by a rule's set_priority action.
	Priority string `json:"priority,omitempty"`
	// Outbox counts the e-mail and Slack messages queued with the decision; the
	// workflow schedules their sending only when there are some.
	Outbox int `json:"outbox,omitempty"`
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
	Teams   []Team  // the directory's teams (care teams, distribution teams)
	Claim   Claim
	// Steps are the earlier stages' results, for assignee expressions.
	Steps map[Stage]StepOutput
	// RecentHost is the user most recently recorded against the claim's subject.
	RecentHost string
	// Random is a random number drawn once for this decision (care team random);
	// the decision records the pick, so it is never drawn again.
	Random int
	// Cursor is the state of ScopeFor(in); zero when the method keeps none.
	Cursor Cursor
}

// ScopeFor names the round-robin cursor a decision reads and advances, or "" when
// its method keeps none. Callers lock that cursor before Decide.
func ScopeFor(in DecideInput) string {
	p := in.Policy
	if !p.AssignmentsEnabled || p.Stages[in.Stage].DefaultAlways {
		return ""
	}
	required := p.Required(in.Stage, in.Outcome)
	switch p.MethodFor(in.Stage) {
	case MethodRoundRobin:
		return CursorScope(in.Stage, required)
	case MethodWeightedRoundRobin:
		return "wrr/" + p.Name + "/" + CursorScope(in.Stage, required)
	case MethodDistribution:
		if r := MatchRules(p.Rules, in.Claim.Data); r != nil {
			for _, a := range r.Then {
				if a.Kind == ActionAssignTeam {
					return teamScope(p.Name, a.Team)
				}
			}
		}
	}
	return ""
}

// CursorScope is the round-robin scope of a stage: the stage and the exact set of
// permissions it requires. Every claim and every worker deciding the same stage
// under the same requirement shares one cursor; and a cursor only ever walks one
// eligible set, so an acknowledge of a goodwill (which fewer users may take) can
// never close a round on an approval-only user's pending turn.
func CursorScope(stage Stage, required []string) string {
	perms := slices.Clone(required)
	slices.Sort(perms)
	return "claims/" + string(stage) + "/" + strings.Join(perms, "+")
}

func teamScope(policy, team string) string { return "team/" + policy + "/" + team }

// Decide runs the stage's method. It returns the decision and the cursor to store
// under ScopeFor(in). Product modules are not built in: callers run the module and
// pass its answer to DecideFromModule.
func Decide(in DecideInput) (Decision, Cursor, error) {
	if !in.Stage.Assignable() {
		return Decision{}, in.Cursor, fmt.Errorf("stage %s is terminal and never assigned", in.Stage)
	}
	p := in.Policy
	sc := p.Stages[in.Stage]
	required := p.Required(in.Stage, in.Outcome)
	eligible, excluded := Eligible(in.Users, required)
	eligible, filtered := sc.Eligibility.Filter(eligible, in.Claim, in.Teams)
	excluded = append(excluded, filtered...)
	d := Decision{
		Stage:              in.Stage,
		AssignmentsEnabled: p.AssignmentsEnabled,
		Required:           required,
		Candidates:         candidates(eligible, describeEligible(in.Stage, required)),
		Excluded:           excluded,
		Admins:             admins(in.Users),
		PolicyVersion:      p.Version,
		Rules:              p.RulesFor(in.Stage),
	}
	if !p.AssignmentsEnabled {
		d.Method = MethodNone
		d.Reason = fmt.Sprintf("claim assignments are disabled: any of %d eligible users may complete %s", len(eligible), in.Stage)
		return d, in.Cursor, nil
	}
	d.Method = p.MethodFor(in.Stage)
	switch {
	case sc.DefaultAlways:
		return defaultAssignee(d, in.Users, "this stage always goes to its default assignee"), in.Cursor, nil
	case sc.Assignee != "":
		d.Method = MethodStatic
		return pickNamed(d, eligible, in.Users, sc, sc.Assignee, "the stage's fixed assignee"), in.Cursor, nil
	case sc.AssigneeExpression != nil:
		d.Method = MethodExpression
		id, ok := sc.AssigneeExpression.Resolve(in.Claim, in.Steps)
		if !ok {
			return fallback(d, in.Users, sc, fmt.Sprintf("%s resolved to nothing", sc.AssigneeExpression.Source)), in.Cursor, nil
		}
		return pickNamed(d, eligible, in.Users, sc, id, sc.AssigneeExpression.Source), in.Cursor, nil
	}
	if len(eligible) == 0 && d.Rules.DefaultAssignee != "" {
		return defaultAssignee(d, in.Users, noneEligible(required, filtered)), in.Cursor, nil
	}
	return decideByMethod(d, in, eligible)
}

// decideByMethod runs the stage's assignment method over the eligible users.
func decideByMethod(d Decision, in DecideInput, eligible []User) (Decision, Cursor, error) {
	sc := in.Policy.Stages[in.Stage]
	switch d.Method {
	case MethodManual, MethodQueue:
		d.Reason = fmt.Sprintf("%s: %d eligible users; waiting in queue %s for someone to take it", d.Method, len(eligible), d.Rules.Queue)
	case MethodRoundRobin, MethodWeightedRoundRobin:
		rr := RoundRobin
		if d.Method == MethodWeightedRoundRobin {
			rr = WeightedRoundRobin
		}
		pick, next, reason, ok := rr(eligible, in.Cursor)
		if !ok {
			d.Reason = fmt.Sprintf("%s: nobody holds %s and passes the stage's filters; left in queue %s",
				d.Method, strings.Join(d.Required, ", "), d.Rules.Queue)
			return d, in.Cursor, nil
		}
		d.Assignee, d.Reason = pick.ID, reason
		return d, next, nil
	case MethodCareTeamPrimary, MethodCareTeamRandom:
		team := careTeamMembers(in, eligible)
		if len(team) == 0 {
			return fallback(d, in.Users, sc, "nobody eligible is on the claim's care team"), in.Cursor, nil
		}
		pick := team[0]
		d.Reason = fmt.Sprintf("care team primary: %s is first on care team %s among the eligible", pick, in.Claim.Data[ClaimKeyCareTeam])
		if d.Method == MethodCareTeamRandom {
			pick = team[abs(in.Random)%len(team)]
			d.Reason = fmt.Sprintf("care team random: %s drawn from %d eligible on care team %s", pick, len(team), in.Claim.Data[ClaimKeyCareTeam])
		}
		d.Assignee = pick
	case MethodFormSubmitter:
		return pickNamed(d, eligible, in.Users, sc, in.Claim.Owner, "the user who started the claim"), in.Cursor, nil
	case MethodRecentHost:
		if in.RecentHost == "" {
			return fallback(d, in.Users, sc, fmt.Sprintf("nobody is recorded against subject %q", in.Claim.Data[ClaimKeySubject])), in.Cursor, nil
		}
		return pickNamed(d, eligible, in.Users, sc, in.RecentHost, "the most recent host of the claim's subject"), in.Cursor, nil
	case MethodDistribution:
		return decideByRules(d, in, eligible)
	default:
		return Decision{}, in.Cursor, fmt.Errorf("method %s is not built in", d.Method)
	}
	return d, in.Cursor, nil
}

// decideByRules applies the first matching distribution rule's actions.
func decideByRules(d Decision, in DecideInput, eligible []User) (Decision, Cursor, error) {
	sc := in.Policy.Stages[in.Stage]
	rule, trace := EvaluateRules(in.Policy.Rules, in.Claim.Data)
	d.RuleTrace = trace
	if rule == nil {
		d.Reason = fmt.Sprintf("no distribution rule matched; left in queue %s", d.Rules.Queue)
		return d, in.Cursor, nil
	}
	d.MatchedRule = rule.ID
	d.Reason = fmt.Sprintf("rule %s matched; it assigns nobody, so the claim waits in queue %s", rule.ID, d.Rules.Queue)
	next := in.Cursor
	for _, a := range rule.Then {
		switch a.Kind {
		case ActionSetPriority:
			d.Priority = a.Priority
		case ActionAssignUser:
			d = pickNamed(d, eligible, in.Users, sc, a.User, "rule "+rule.ID)
		case ActionAssignTeam:
			members := teamMembers(in.Teams, a.Team, eligible)
			pick, n, reason, ok := RoundRobin(members, in.Cursor)
			if !ok {
				d = fallback(d, in.Users, sc, fmt.Sprintf("rule %s: nobody eligible in team %s", rule.ID, a.Team))
				continue
			}
			d.Assignee, next = pick.ID, n
			d.Reason = fmt.Sprintf("rule %s: team %s, %s", rule.ID, a.Team, reason)
		}
	}
	return d, next, nil
}

// pickNamed assigns a named user if they are eligible, and otherwise falls back
// as the stage says, saying why.
func pickNamed(d Decision, eligible, users []User, sc StageConfig, id, source string) Decision {
	if slices.ContainsFunc(eligible, func(u User) bool { return u.ID == id }) {
		d.Assignee = id
		d.Reason = fmt.Sprintf("%s: %s", source, id)
		return d
	}
	why := fmt.Sprintf("%s names %q, who is not eligible for %s", source, id, d.Stage)
	if !slices.ContainsFunc(users, func(u User) bool { return u.ID == id }) {
		why = fmt.Sprintf("%s names %q, who is not in the directory", source, id)
	}
	for _, e := range d.Excluded {
		if e.UserID == id {
			why += " (" + e.Reason + ")"
		}
	}
	return fallback(d, users, sc, why)
}

// fallback leaves the stage in its queue, or gives it to the default assignee when
// the stage says so, recording why.
func fallback(d Decision, users []User, sc StageConfig, why string) Decision {
	d.Assignee = ""
	if sc.Fallback == FallbackDefault && d.Rules.DefaultAssignee != "" {
		return defaultAssignee(d, users, why)
	}
	d.Reason = fmt.Sprintf("%s; left in queue %s", why, d.Rules.Queue)
	return d
}

func noneEligible(required []string, filtered []Exclusion) string {
	if len(filtered) > 0 {
		return fmt.Sprintf("nobody holding %s passes the eligibility filters", strings.Join(required, ", "))
	}
	return fmt.Sprintf("nobody holds %s", strings.Join(required, ", "))
}

// careTeamMembers lists the eligible members of the claim's care team in team
// order (its primary first).
func careTeamMembers(in DecideInput, eligible []User) []string {
	var out []string
	for _, u := range teamMembers(in.Teams, in.Claim.Data[ClaimKeyCareTeam], eligible) {
		out = append(out, u.ID)
	}
	return out
}

// teamMembers returns the eligible members of a team in the order they were added.
func teamMembers(teams []Team, id string, eligible []User) []User {
	var out []User
	for _, t := range teams {
		if t.ID != id {
			continue
		}
		for _, m := range t.Members {
			if i := slices.IndexFunc(eligible, func(u User) bool { return u.ID == m }); i >= 0 {
				out = append(out, eligible[i])
			}
		}
	}
	return out
}

func abs(n int) int {
	if n < 0 {
		return -n
	}
	return n
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
	d.Assignee = ""
	d.Reason = fmt.Sprintf("%s; default assignee %q is not an active user, so it is left unassigned in queue %s",
		why, id, d.Rules.Queue)
	return d
}
