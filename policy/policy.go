package policy

import (
	"cmp"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"
)

// Policy is a parsed, validated policy file: the claim-assignment configuration of
// the source, with optional per-stage overrides.
//
//	version: "2026-11"            # optional label; defaults to a content hash
//	claims:
//	  enableClaimAssignments: true
//	  claimAssignmentMethod: round_robin
//	  stages:
//	    review: {method: manual}
//	    acknowledge:
//	      permissions: [AcknowledgeClaimDecisions]
//	      outcomePermissions: {approval: AcknowledgeClaimApproval}
type Policy struct {
	// Name identifies the policy (the care-team source's journey): weighted round
	// robin keeps its counts per policy name. Default "default".
	Name string
	// Version names this policy in every decision it makes.
	Version string
	// Rules is the distribution policy (claims.distribution.rules), in order:
	// the source of truth, compiled once into compiled (Compile).
	Rules []Rule
	// AssignmentsEnabled is claims.enableClaimAssignments.
	AssignmentsEnabled bool
	// Method is claims.claimAssignmentMethod, manual when omitted.
	Method Method
	// Stages holds per-stage overrides; a stage absent here uses the defaults.
	Stages map[Stage]StageConfig
	// RequireReassignComment is claims.requireReassignComment: a reassignment
	// without a comment is rejected (the source only recommends one).
	RequireReassignComment bool
	// MaxAssigneeChanges is claims.maxAssigneeChanges: how many times people
	// may change a stage's assignee (assign, claim, unassign) before further
	// changes are refused; 0 means DefaultMaxAssigneeChanges.
	MaxAssigneeChanges int
	// Stored names the stored version the policy was read from, set by the
	// store; zero for a file read directly. A rule-routed decision records it,
	// so its explanation re-reads the same rules.
	Stored StoredVersion

	compiled *RuleSet
}

// Compile compiles the policy's rules for evaluation. yamlfile.ParsePolicy calls it; a
// policy built in Go calls it once its rules are set, and must not change them
// afterwards.
func (p *Policy) Compile() { p.compiled = CompileRules(p.Rules) }

// RuleSet returns the policy's compiled rules. A policy whose rules were not
// compiled, or were replaced since, has them compiled for this call only:
// correct, but each decision pays for compiling.
func (p *Policy) RuleSet() *RuleSet {
	if p.compiled.compiledFrom(p.Rules) {
		return p.compiled
	}
	return CompileRules(p.Rules)
}

// StageConfig overrides one stage. Zero fields fall back to the policy defaults.
type StageConfig struct {
	Method             Method
	Permissions        []string
	OutcomePermissions map[Outcome]string
	// Assignee names a fixed user (static assignment, interventions source).
	Assignee string
	// AssigneeExpression picks the user from the claim's data or an earlier
	// stage's result (dynamic assignment), e.g. {{claim.data.assigned_reviewer}}.
	AssigneeExpression *Expression
	// Fallback says what happens when a static, dynamic, host or submitter pick
	// is not a known, eligible user: "queue" (default) or "default" (the default
	// assignee).
	Fallback string
	// Eligibility narrows who may take the stage beyond its permissions.
	Eligibility Eligibility
	// DefaultAlways gives every claim to the default assignee ("or always").
	DefaultAlways bool
	// WhenNobodyAvailable says what an automatic method does when everyone
	// eligible is away or offline: queue (the default) or assign.
	WhenNobodyAvailable WhenNobodyAvailable
	// ExcludeActorsOf are earlier stages whose assignee and completer may not
	// take this one (four eyes): review may not be done by whoever captured.
	ExcludeActorsOf []Stage
	// Rules are the stage's queue and timers.
	Rules StageRules
	// Lines are the lines of the fields naming users (assignee, defaultAssignee,
	// escalateTo), for the checks against the directory made after parsing.
	Lines map[string]int `json:"-"`
}

// StageRules are what happens to a stage over time. They are copied into each
// decision, so a claim's timers keep the rules it was decided under even if the
// policy file changes while it waits.
type StageRules struct {
	// Queue names the queue unassigned work waits in ("default" when empty).
	Queue string `json:"queue,omitempty"`
	// ClaimWindow: if nobody has the stage this long after it became unassigned,
	// DefaultAssignee gets it.
	ClaimWindow time.Duration `json:"claimWindow,omitempty"`
	// DefaultAssignee gets the stage when nobody is eligible at all, or when the
	// claim window passes with nobody assigned.
	DefaultAssignee string `json:"defaultAssignee,omitempty"`
	// DueIn: if the stage is not completed this long after it started, it escalates.
	DueIn time.Duration `json:"dueIn,omitempty"`
	// EscalateTo is notified on escalation (with the assignee).
	EscalateTo string `json:"escalateTo,omitempty"`
	// EscalationReassign also makes EscalateTo the assignee on escalation.
	EscalationReassign bool `json:"escalationReassign,omitempty"`
	// RequireReassignComment is the policy's requireReassignComment.
	RequireReassignComment bool `json:"requireReassignComment,omitempty"`
	// MaxAssigneeChanges is the policy's maxAssigneeChanges (0: the default,
	// as in rules recorded before it existed): read it with ChangeBudget.
	MaxAssigneeChanges int `json:"maxAssigneeChanges,omitempty"`
	// RedistributeOnAbsence moves the stage off its holder when an absence of
	// theirs starts (onAbsence: redistribute); by default it stays with them.
	RedistributeOnAbsence bool `json:"redistributeOnAbsence,omitempty"`
	// ExcludeActorsOf are the earlier stages whose actors four eyes keeps from
	// this one (the stage's excludeActorsOf): a refusal names them.
	ExcludeActorsOf []Stage `json:"excludeActorsOf,omitempty"`
}

// RulesFor returns the stage's rules, with the policy-wide settings folded in.
func (p *Policy) RulesFor(s Stage) StageRules {
	r := p.Stages[s].Rules
	r.ExcludeActorsOf = p.Stages[s].ExcludeActorsOf
	if r.Queue == "" {
		r.Queue = DefaultQueue
	}
	r.RequireReassignComment = p.RequireReassignComment
	r.MaxAssigneeChanges = p.MaxAssigneeChanges
	return r
}

// ChangeBudget is how many times people may change a stage's assignee.
func (r StageRules) ChangeBudget() int {
	return cmp.Or(r.MaxAssigneeChanges, DefaultMaxAssigneeChanges)
}

// DefaultMaxAssigneeChanges is how many times people may change one stage's
// assignee (assign, claim, unassign) unless claims.maxAssigneeChanges says
// otherwise, and MaxMaxAssigneeChanges the most it may say. Each change costs
// the claim's history a few events and the state answer a decision, so a
// budget is what keeps one user repeating unassign and claim from growing a
// claim until Temporal terminates it; real work changes hands a few times.
const (
	DefaultMaxAssigneeChanges = 100
	MaxMaxAssigneeChanges     = 300
)

// DefaultQueue is where unassigned work waits when a stage names no queue.
const DefaultQueue = "default"

// DefaultPolicy is what a missing policy file means: the source's defaults.
func DefaultPolicy() *Policy {
	return &Policy{Name: "default", Version: "default", Method: MethodManual, Stages: map[Stage]StageConfig{}}
}

// MethodFor returns the method that assigns the stage.
func (p *Policy) MethodFor(s Stage) Method {
	if sc, ok := p.Stages[s]; ok && sc.Method != "" {
		return sc.Method
	}
	return p.Method
}

// Required returns the permissions a user needs for the stage. For acknowledge the
// review outcome adds its own permission.
func (p *Policy) Required(s Stage, outcome Outcome) []string {
	sc := p.Stages[s]
	req := slices.Clone(DefaultStagePermissions[s])
	if sc.Permissions != nil {
		req = slices.Clone(sc.Permissions)
	}
	if s == StageAcknowledge && outcome != "" {
		perm := DefaultOutcomePermissions[outcome]
		if o, ok := sc.OutcomePermissions[outcome]; ok {
			perm = o
		}
		if perm != "" && !slices.Contains(req, perm) {
			req = append(req, perm)
		}
	}
	return req
}

// FieldError locates one problem in a file: which file, which line, which field.
type FieldError struct {
	File  string
	Line  int
	Field string
	Msg   string
}

func (e *FieldError) Error() string {
	var b strings.Builder
	b.WriteString(e.File)
	if e.Line > 0 {
		fmt.Fprintf(&b, ":%d", e.Line)
	}
	if e.Field != "" {
		// A key may hold a line break or another control character (YAML folds a
		// lone \r into one); quoted, the error stays on one line and says so.
		field := e.Field
		if strings.IndexFunc(field, unicode.IsControl) >= 0 {
			field = strconv.Quote(field)
		}
		b.WriteString(": " + field)
	}
	b.WriteString(": " + e.Msg)
	return b.String()
}

// ParseDuration reads a positive Go duration ("90s", "4h30m") or a whole
// number of days ("2d"), as policy files and the CLI write them.
func ParseDuration(s string) (time.Duration, error) {
	var d time.Duration
	var err error
	if days, ok := strings.CutSuffix(s, "d"); ok {
		var k int
		k, err = strconv.Atoi(days)
		d = time.Duration(k) * 24 * time.Hour
	} else {
		d, err = time.ParseDuration(s)
	}
	if err != nil || d <= 0 {
		return 0, fmt.Errorf("invalid duration %q: want e.g. 90s, 30m, 4h or 2d", s)
	}
	return d, nil
}

// Fallbacks for a pick that is not a known, eligible user.
const (
	FallbackQueue   = "queue"
	FallbackDefault = "default"
)
