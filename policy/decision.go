package policy

import (
	"context"
	"fmt"
	"maps"
	"strings"
)

// DecisionKey names a decision in the ledger: the claim's workflow, the stage,
// and the workflow's own sequence number for it. The ledger's primary key, the
// claim state's pointer to its explanation, and the activities' idempotency
// key are this one type.
type DecisionKey struct {
	WorkflowID string `json:"workflowId"`
	Stage      Stage  `json:"stage"`
	Seq        int    `json:"seq"`
}

func (k DecisionKey) String() string { return fmt.Sprintf("%s/%s/%d", k.WorkflowID, k.Stage, k.Seq) }

// Decision is one assignment decision as the claim workflow keeps it: the pick,
// the method, the reason, the policy version, how many were eligible and
// excluded, a small fixed sample of candidates, and the ledger key (the claim's
// workflow, Stage and Seq). Its size does not grow with the directory, the
// candidates or the rules: the full explanation (every candidate, every exclusion
// with its reason, the rule trace) is the Explanation, kept in the ledger.
type Decision struct {
	Seq                int    `json:"seq"`
	Stage              Stage  `json:"stage"`
	Method             Method `json:"method"`
	AssignmentsEnabled bool   `json:"assignmentsEnabled"`
	Assignee           string `json:"assignee,omitempty"`
	Actor              string `json:"actor,omitempty"`
	// Required are the permissions the stage requires (a few, set by the policy).
	Required []string `json:"required,omitempty"`
	// Eligible and Excluded count the directory's users who could and could not take
	// the stage when it was decided.
	Eligible int `json:"eligible"`
	Excluded int `json:"excluded"`
	// Sample names the first few candidates (at most SampleSize), in directory
	// order: ids only, since the decision is copied into workflow history.
	Sample        []string `json:"sample,omitempty"`
	Reason        string   `json:"reason"`
	PolicyVersion string   `json:"policyVersion"`
	Comment       string   `json:"comment,omitempty"`
	// Rules are the stage's queue and timers as the policy set them when the stage
	// was decided; the workflow runs its timers from these.
	Rules StageRules `json:"rules"`
	// MatchedRule names the distribution rule that matched; RulesTried counts the
	// rules evaluated (the trace of each is in the explanation).
	MatchedRule string `json:"matchedRule,omitempty"`
	RulesTried  int    `json:"rulesTried,omitempty"`
	// Priority is set by a rule's set_priority action.
	Priority string `json:"priority,omitempty"`
	// Outbox counts the e-mail and Slack messages queued with the decision; the
	// workflow schedules their sending only when there are some.
	Outbox int `json:"outbox,omitempty"`
	// Warning is set when a person's assignment went to someone away or
	// offline, or past a capacity limit by override.
	Warning string `json:"warning,omitempty"`
	// FourEyes are the people the stage's excludeActorsOf keeps from it on
	// this claim (a few: the actors of earlier stages); every later assignment
	// of the stage is checked against them.
	FourEyes []string `json:"fourEyes,omitempty"`
	// Backlog is set when the stage waits because everyone eligible was away
	// or full: it is handed out when a slot frees or someone comes back.
	Backlog bool `json:"backlog,omitempty"`
}

// Explanation is the part of a decision that grows with the directory or the
// rules. It is written to the ledger with the decision and read back with
// pagination; it never enters workflow history.
type Explanation struct {
	// Requirement is who could take the stage; the store lists the candidates and
	// exclusions it selected at the time of the decision.
	Requirement Requirement `json:"requirement"`
	// Listed, when not nil, are the candidates a product module named, instead of
	// those meeting the requirement.
	Listed []string `json:"listed,omitempty"`
	// RuleRecord is what a rule-routed decision records of its rules: the
	// rule that matched, how many were tried and the claim's values they read.
	// The trace (every rule tried, whether it matched and why not) is rendered
	// from it when the explanation is read (RenderTrace), never written by the
	// decision; nil when no rules were evaluated.
	RuleRecord *RuleRecord `json:"ruleRecord,omitempty"`
	// Turn is the turn the decision took, to store with it; nil when none.
	Turn *Turn `json:"-"`
	// RequirementID and Generation are the store's record of who met the
	// requirement (its members at that directory generation), for the ledger
	// row to refer to; 0 when the directory is not the store's.
	RequirementID, Generation int64 `json:"-"`
	// PassedAway, PassedFull and PassedOther count who the decision passed over
	// as away or offline, at a limit, or for another reason (four eyes, a
	// leaver): for the metrics.
	PassedAway, PassedFull, PassedOther int `json:"-"`
}

// DecideInput is what a built-in method needs to decide a stage.
type DecideInput struct {
	Policy  *Policy
	Stage   Stage
	Outcome Outcome // the review outcome, for acknowledge
	// People answers who is eligible, bounded whatever its size.
	People People
	Claim  Claim
	// Steps are the earlier stages' results, for assignee expressions.
	Steps map[Stage]StepOutput
	// RecentHost is the user most recently recorded against the claim's subject.
	RecentHost string
	// Random is a random number drawn once for this decision (care team random);
	// the decision records the pick, so it is never drawn again.
	Random int
	// Without are people this decision may not pick, with why: the leaver whose
	// stage is being redistributed ("ann was deactivated"), who gets new work
	// again once back, but not this.
	Without map[string]string
	// Why, when set, starts the reason: what made the stage be decided again.
	Why string
}

// StageScope is the turn scope of a stage's round robin. Every claim deciding the
// stage shares it, whatever permissions its review outcome adds, so people whose
// eligibility overlaps share one notion of whose turn it is.
func StageScope(stage Stage) string { return "claims/" + string(stage) }

func weightedScope(policy string, stage Stage) string { return "wrr/" + policy + "/" + string(stage) }

func teamScope(policy, team string) string { return "team/" + policy + "/" + team }

// TurnScopeFor is the turn scope a decision of stage under p takes its turn
// in, or "" when its method takes none (manual, a queue, a fixed or named
// assignee, care team, a product module, a rule that assigns no team).
// Decisions of one scope take turns one at a time; a worker decides those that
// wait on the same scope together, in one transaction. It reads what Decide
// reads to choose the scope, so the two agree; a decision that ends up taking
// no turn (nobody eligible, a fallback) is decided under it all the same.
func (p *Policy) TurnScopeFor(stage Stage, claim Claim) string {
	if !p.AssignmentsEnabled || !stage.Assignable() {
		return ""
	}
	sc := p.Stages[stage]
	if sc.DefaultAlways || sc.Assignee != "" || sc.AssigneeExpression != nil {
		return ""
	}
	switch p.MethodFor(stage) {
	case MethodRoundRobin, MethodLeastLoaded:
		return StageScope(stage)
	case MethodWeightedRoundRobin:
		return weightedScope(p.Name, stage)
	case MethodDistribution:
		if r := p.RuleSet().Match(claim.Data); r != nil {
			for _, a := range r.Then {
				if a.Kind == ActionAssignTeam {
					return teamScope(p.Name, a.Team)
				}
			}
		}
	}
	return ""
}

// GroupScope is a reassignment group's turn scope.
func GroupScope(group string) string { return "group/" + group }

// decider carries one decision being made.
type decider struct {
	ctx context.Context
	in  DecideInput
	req Requirement
	sc  StageConfig
	ex  Explanation
	// fourEyes are who may not take the stage on this claim, with why.
	fourEyes map[string]string
	// without are fourEyes and the input's Without: who is passed over whatever
	// their turn.
	without map[string]string
	// waiting is set when a turn order found nobody because everyone eligible
	// was away or full: left unassigned, the stage joins the backlog.
	waiting bool
}

// Decide runs the stage's method. It returns the decision and its explanation,
// whose Turn (if any) the caller stores with the decision. Product modules are not
// built in: callers run the module and pass its answer to DecideFromModule.
func Decide(ctx context.Context, in DecideInput) (Decision, Explanation, error) {
	if !in.Stage.Assignable() {
		return Decision{}, Explanation{}, fmt.Errorf("stage %s is terminal and never assigned", in.Stage)
	}
	p := in.Policy
	x := &decider{ctx: ctx, in: in, req: p.RequirementFor(in.Stage, in.Outcome, in.Claim), sc: p.Stages[in.Stage],
		fourEyes: p.FourEyes(in.Stage, in.Steps)}
	x.without = map[string]string{}
	maps.Copy(x.without, x.fourEyes)
	maps.Copy(x.without, in.Without)
	x.ex.Requirement = x.req
	set, err := in.People.Eligible(ctx, x.req, SampleSize)
	if err != nil {
		return Decision{}, Explanation{}, err
	}
	d := Decision{
		Stage:              in.Stage,
		AssignmentsEnabled: p.AssignmentsEnabled,
		Required:           x.req.Required,
		Eligible:           set.Count,
		Excluded:           set.Excluded,
		Sample:             set.Sample,
		PolicyVersion:      p.Version,
		Rules:              p.RulesFor(in.Stage),
		FourEyes:           FourEyesIDs(x.fourEyes),
	}
	d, err = x.decide(d, set)
	d.Backlog = err == nil && d.Assignee == "" && x.waiting
	if in.Why != "" {
		d.Reason = in.Why + "; " + d.Reason
	}
	return d, x.ex, err
}

func (x *decider) decide(d Decision, set EligibleSet) (Decision, error) {
	p, sc := x.in.Policy, x.sc
	if !p.AssignmentsEnabled {
		d.Method = MethodNone
		d.Reason = fmt.Sprintf("claim assignments are disabled: any of %d eligible users may complete %s", set.Count, x.in.Stage)
		return d, nil
	}
	d.Method = p.MethodFor(x.in.Stage)
	switch {
	case sc.DefaultAlways:
		return x.defaultAssignee(d, "this stage always goes to its default assignee")
	case sc.Assignee != "":
		d.Method = MethodStatic
		return x.pickNamed(d, sc.Assignee, "the stage's fixed assignee")
	case sc.AssigneeExpression != nil:
		d.Method = MethodExpression
		id, ok := sc.AssigneeExpression.Resolve(x.in.Claim, x.in.Steps)
		if !ok {
			return x.fallback(d, fmt.Sprintf("%s resolved to nothing", sc.AssigneeExpression.Source))
		}
		return x.pickNamed(d, id, sc.AssigneeExpression.Source)
	}
	if set.Count == 0 && d.Rules.DefaultAssignee != "" {
		why, err := x.noneEligible()
		if err != nil {
			return d, err
		}
		return x.defaultAssignee(d, why)
	}
	return x.byMethod(d, set)
}

// byMethod runs the stage's assignment method over the eligible users.
func (x *decider) byMethod(d Decision, set EligibleSet) (Decision, error) {
	in := x.in
	switch d.Method {
	case MethodManual, MethodQueue:
		d.Reason = fmt.Sprintf("%s: %d eligible users; waiting in queue %s for someone to take it", d.Method, set.Count, d.Rules.Queue)
		return d, nil
	case MethodRoundRobin, MethodWeightedRoundRobin, MethodLeastLoaded:
		scope, order := StageScope(in.Stage), TurnOrder{}
		if d.Method == MethodWeightedRoundRobin {
			scope, order = weightedScope(in.Policy.Name, in.Stage), TurnOrder{Weighted: true}
		}
		v, ok, err := x.takeTurn(&d, scope, strings.ReplaceAll(string(d.Method), "_", " "), order)
		if err != nil || ok {
			return d, err
		}
		if v.PassedCount > 0 {
			return x.fallback(d, fmt.Sprintf("%s: everyone eligible was passed over: %s", d.Method, v.PassedList()))
		}
		d.Reason = fmt.Sprintf("%s: nobody holds %s and passes the stage's filters; left in queue %s",
			d.Method, strings.Join(d.Required, ", "), d.Rules.Queue)
		return d, nil
	case MethodCareTeamPrimary, MethodCareTeamRandom:
		id := in.Claim.Data[ClaimKeyCareTeam]
		team, _, err := in.People.Team(x.ctx, id, x.req)
		if err != nil {
			return d, err
		}
		if len(team) == 0 {
			return x.fallback(d, "nobody eligible is on the claim's care team")
		}
		// The random draw is made once, over everyone eligible; from there the
		// team is walked in order, passing over whoever cannot take new work.
		start, what := 0, "is first on care team %s among the eligible"
		if d.Method == MethodCareTeamRandom {
			start, what = abs(in.Random)%len(team), "drawn from %d eligible on care team %s"
		}
		var v TurnView
		for i := range team {
			u := team[(start+i)%len(team)]
			why, err := x.refuse(u.ID)
			if err != nil {
				return d, err
			}
			if why != "" {
				v.Pass(u.ID, why)
				continue
			}
			d.Assignee = u.ID
			if d.Method == MethodCareTeamRandom {
				d.Reason = fmt.Sprintf("care team random: %s "+what, u.ID, len(team), id)
			} else {
				d.Reason = fmt.Sprintf("care team primary: %s "+what, u.ID, id)
			}
			if v.PassedCount > 0 {
				d.Reason += "; passed over " + v.PassedList()
			}
			return d, nil
		}
		return x.fallback(d, fmt.Sprintf("everyone eligible on care team %s was passed over: %s", id, v.PassedList()))
	case MethodFormSubmitter:
		return x.pickNamed(d, in.Claim.Owner, "the user who started the claim")
	case MethodRecentHost:
		if in.RecentHost == "" {
			return x.fallback(d, fmt.Sprintf("nobody is recorded against subject %q", in.Claim.Data[ClaimKeySubject]))
		}
		return x.pickNamed(d, in.RecentHost, "the most recent host of the claim's subject")
	case MethodDistribution:
		return x.byRules(d)
	}
	return Decision{}, fmt.Errorf("method %s is not built in", d.Method)
}

// takeTurn gives the stage to whoever's turn it is in scope (for least_loaded,
// the least loaded), passing over whoever cannot take new work. When everyone
// eligible is away and the stage says to assign anyway, the next in turn who is
// under their limits gets it, and the reason says so.
func (x *decider) takeTurn(d *Decision, scope, method string, order TurnOrder) (TurnView, bool, error) {
	order.Stage, order.Exclude = x.in.Stage, x.without
	read := x.in.People.Turns
	if d.Method == MethodLeastLoaded {
		read = x.in.People.LeastLoaded
	}
	v, err := read(x.ctx, scope, x.req, order)
	if err != nil {
		return v, false, err
	}
	x.count(v)
	anyway := ""
	if v.Next == nil && v.Away > 0 && x.sc.WhenNobodyAvailable == NobodyAvailableAssign {
		passed := v
		order.EvenIfAway = true
		if v, err = read(x.ctx, scope, x.req, order); err != nil {
			return v, false, err
		}
		x.count(v)
		anyway = "nobody eligible is available (" + passed.PassedList() + "), so assigned anyway: "
	}
	t, ok := NextTurn(scope, method, v)
	if !ok {
		x.waiting = x.waiting || v.Away+v.Full > 0
		return v, false, nil
	}
	if d.Method == MethodLeastLoaded {
		t.Reason = fmt.Sprintf("least loaded: %s has the fewest open stages (%d) of the %d eligible",
			t.User.ID, v.Next.Open, v.Eligible)
		if v.PassedCount > 0 {
			t.Reason += "; passed over " + v.PassedList()
		}
	}
	d.Assignee, d.Reason = t.User.ID, anyway+t.Reason
	if del := v.Next.Delegated; del != nil {
		d.Assignee = del.To
		d.Reason += fmt.Sprintf("; %s is away: %s", t.User.ID, del)
	}
	x.ex.Turn = &t
	return v, true, nil
}

// take decides, as the turn order would, whether a named pick takes id: "" and
// no delegation when it does, their delegate when they are away on an absence
// and the delegate can take it, else why they are passed over.
func (x *decider) take(id string) (string, *Delegation, error) {
	if why, ok := x.without[id]; ok {
		return why, nil, nil
	}
	w, err := x.in.People.Hold(x.ctx, id, x.in.Stage)
	if err != nil {
		return "", nil, err
	}
	return TurnOrder{Stage: x.in.Stage, Exclude: x.without}.Take(x.ctx, x.in.People, x.req, id, w)
}

// count adds a turn view's passed over to the explanation's tallies.
func (x *decider) count(v TurnView) {
	x.ex.PassedAway += v.Away
	x.ex.PassedFull += v.Full
	x.ex.PassedOther += v.PassedCount - v.Away - v.Full
}

// refuse says why the person may not be given new work at the stage now (away,
// offline, at a limit), holding their workload when they have a limit.
func (x *decider) refuse(id string) (string, error) {
	if why, ok := x.without[id]; ok {
		return why, nil
	}
	w, err := x.in.People.Hold(x.ctx, id, x.in.Stage)
	if err != nil {
		return "", err
	}
	return w.Refuse(x.in.Stage), nil
}

// byRules applies the first matching distribution rule's actions.
func (x *decider) byRules(d Decision) (Decision, error) {
	in := x.in
	rule, rec := in.Policy.RecordRules(in.Claim.Data)
	x.ex.RuleRecord, d.RulesTried = &rec, rec.Tried
	if rule == nil {
		d.Reason = fmt.Sprintf("no distribution rule matched; left in queue %s", d.Rules.Queue)
		return d, nil
	}
	d.MatchedRule = rule.ID
	d.Reason = fmt.Sprintf("rule %s matched; it assigns nobody, so the claim waits in queue %s", rule.ID, d.Rules.Queue)
	var err error
	for _, a := range rule.Then {
		switch a.Kind {
		case ActionSetPriority:
			d.Priority = a.Priority
		case ActionAssignUser:
			d, err = x.pickNamed(d, a.User, "rule "+rule.ID)
		case ActionAssignTeam:
			var ok bool
			var v TurnView
			if v, ok, err = x.takeTurn(&d, teamScope(in.Policy.Name, a.Team), "round robin", TurnOrder{Team: a.Team}); err == nil {
				switch {
				case ok:
					d.Reason = fmt.Sprintf("rule %s: team %s, %s", rule.ID, a.Team, d.Reason)
				case v.PassedCount > 0:
					d, err = x.fallback(d, fmt.Sprintf("rule %s: everyone eligible in team %s was passed over: %s",
						rule.ID, a.Team, v.PassedList()))
				default:
					d, err = x.fallback(d, fmt.Sprintf("rule %s: nobody eligible in team %s", rule.ID, a.Team))
				}
			}
		}
		if err != nil {
			return d, err
		}
	}
	return d, nil
}

// pickNamed assigns a named user if they are eligible, and otherwise falls back
// as the stage says, saying why.
func (x *decider) pickNamed(d Decision, id, source string) (Decision, error) {
	c, err := x.in.People.Check(x.ctx, id, x.req)
	if err != nil {
		return d, err
	}
	if c.Eligible() {
		why, del, err := x.take(id)
		switch {
		case err != nil:
			return d, err
		case del != nil:
			d.Assignee = del.To
			d.Reason = fmt.Sprintf("%s: %s, who is away: %s", source, id, del)
			return d, nil
		case why != "":
			return x.fallback(d, fmt.Sprintf("%s names %s, who is passed over (%s)", source, id, why))
		}
		d.Assignee = id
		d.Reason = fmt.Sprintf("%s: %s", source, id)
		return d, nil
	}
	why := fmt.Sprintf("%s names %q, who is not eligible for %s (%s)", source, id, d.Stage, c.Reason)
	if !c.Found {
		why = fmt.Sprintf("%s names %q, who is not in the directory", source, id)
	}
	return x.fallback(d, why)
}

// fallback leaves the stage in its queue, or gives it to the default assignee when
// the stage says so, recording why.
func (x *decider) fallback(d Decision, why string) (Decision, error) {
	d.Assignee = ""
	x.ex.Turn = nil
	if x.sc.Fallback == FallbackDefault && d.Rules.DefaultAssignee != "" {
		return x.defaultAssignee(d, why)
	}
	d.Reason = fmt.Sprintf("%s; left in queue %s", why, d.Rules.Queue)
	return d, nil
}

// noneEligible says why nobody is eligible: nobody holds the permissions, or the
// filters removed everyone who does.
func (x *decider) noneEligible() (string, error) {
	perms := strings.Join(x.req.Required, ", ")
	if x.req.Filter.IsZero() {
		return "nobody holds " + perms, nil
	}
	holders := x.req
	holders.Filter = Eligibility{}
	set, err := x.in.People.Eligible(x.ctx, holders, 0)
	if err != nil || set.Count == 0 {
		return "nobody holds " + perms, err
	}
	return fmt.Sprintf("nobody holding %s passes the eligibility filters", perms), nil
}

// defaultAssignee gives the decision to the stage's default assignee, who need not
// be eligible (the care-team source: "if no user meets the criteria, this person
// is assigned"), but must be an active user.
func (x *decider) defaultAssignee(d Decision, why string) (Decision, error) {
	id := d.Rules.DefaultAssignee
	x.ex.Turn = nil
	c, err := x.in.People.Check(x.ctx, id, x.req)
	if err != nil {
		return d, err
	}
	if c.Found && c.User.Active {
		busy, err := x.refuse(id)
		if err != nil {
			return d, err
		}
		if busy != "" {
			d.Assignee = ""
			d.Reason = fmt.Sprintf("%s; default assignee %s is passed over (%s), so it is left unassigned in queue %s",
				why, id, busy, d.Rules.Queue)
			return d, nil
		}
		d.Method, d.Assignee = MethodDefaultAssignee, id
		d.Reason = fmt.Sprintf("%s; default assignee %s", why, id)
		return d, nil
	}
	d.Assignee = ""
	d.Reason = fmt.Sprintf("%s; default assignee %q is not an active user, so it is left unassigned in queue %s",
		why, id, d.Rules.Queue)
	return d, nil
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

func ids(users []User) []string {
	out := make([]string, len(users))
	for i, u := range users {
		out[i] = u.ID
	}
	return out
}

// SampleList names a decision's sample for a message: "ann, bob, cat", or with
// "… (12 in all)" when there are more than the sample holds.
func SampleList(sample []string, total int) string {
	if len(sample) == 0 {
		return "nobody"
	}
	s := strings.Join(sample, ", ")
	if total > len(sample) {
		s += fmt.Sprintf(", … (%d in all)", total)
	}
	return s
}

// CandidatesOf presents users as candidates with one description.
func CandidatesOf(users []User, description string) []Candidate {
	return candidates(users, description)
}
