package policy

import (
	"bytes"
	"cmp"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"

	"gopkg.in/yaml.v3"
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

// Compile compiles the policy's rules for evaluation. ParsePolicy calls it; a
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

// LoadPolicyFile reads and parses a policy file.
func LoadPolicyFile(path string) (*Policy, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read policy file: %w", err)
	}
	return ParsePolicy(path, data)
}

// ParsePolicy parses a policy document (YAML, or JSON, which is YAML). Every problem
// found is reported, each naming the file, line and field; the result is nil unless
// the whole document is valid.
func ParsePolicy(file string, data []byte) (*Policy, error) {
	doc, w, err := parseDocument(file, data, "empty policy file: want a mapping with a claims key")
	if err != nil {
		return nil, err
	}
	p := DefaultPolicy()
	p.Version = ""
	w.mapping(doc, "", map[string]func(*yaml.Node, string){
		"name":    func(n *yaml.Node, f string) { p.Name = w.ident(n, f) },
		"version": func(n *yaml.Node, f string) { p.Version = w.str(n, f) },
		"claims":  func(n *yaml.Node, f string) { w.claims(n, f, p) },
	})
	w.checkMethods(p)
	if p.Name == "" {
		p.Name = "default"
	}
	if p.Version == "" {
		sum := sha256.Sum256(bytes.TrimSpace(data))
		p.Version = "sha256:" + hex.EncodeToString(sum[:6])
	}
	if err := problems(w.errs); err != nil {
		return nil, err
	}
	p.Compile()
	return p, nil
}

// parseDocument reads a YAML (or JSON) document and returns its top node and a
// walker for it; emptyMsg says what an empty file should have held.
func parseDocument(file string, data []byte, emptyMsg string) (*yaml.Node, *walker, error) {
	var root yaml.Node
	if err := yaml.Unmarshal(data, &root); err != nil {
		return nil, nil, &FieldError{File: file, Msg: "not valid YAML or JSON: " + strings.TrimPrefix(err.Error(), "yaml: ")}
	}
	if root.Kind != yaml.DocumentNode || len(root.Content) != 1 {
		return nil, nil, &FieldError{File: file, Msg: emptyMsg}
	}
	return root.Content[0], &walker{file: file}, nil
}

func (w *walker) claims(n *yaml.Node, field string, p *Policy) {
	w.mapping(n, field, map[string]func(*yaml.Node, string){
		"enableClaimAssignments": func(v *yaml.Node, f string) { p.AssignmentsEnabled = w.boolean(v, f) },
		"claimAssignmentMethod": func(v *yaml.Node, f string) {
			if m, err := ParseMethod(w.str(v, f)); err != nil {
				w.fail(v, f, err.Error())
			} else {
				p.Method = m
			}
		},
		"stages":                 func(v *yaml.Node, f string) { w.stages(v, f, p) },
		"distribution":           func(v *yaml.Node, f string) { w.distribution(v, f, p) },
		"requireReassignComment": func(v *yaml.Node, f string) { p.RequireReassignComment = w.boolean(v, f) },
		"maxAssigneeChanges": func(v *yaml.Node, f string) {
			n, err := strconv.Atoi(w.str(v, f))
			if err != nil || n < 1 || n > MaxMaxAssigneeChanges {
				w.fail(v, f, fmt.Sprintf("want a whole number from 1 to %d, got %q", MaxMaxAssigneeChanges, v.Value))
				return
			}
			p.MaxAssigneeChanges = n
		},
	})
}

func (w *walker) stages(n *yaml.Node, field string, p *Policy) {
	if !w.isMapping(n, field) {
		return
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		key, val := n.Content[i], n.Content[i+1]
		f := field + "." + key.Value
		stage, err := ParseStage(key.Value)
		if err != nil {
			w.fail(key, f, err.Error())
			continue
		}
		if !stage.Assignable() {
			w.fail(key, f, "finalise is terminal and cannot be configured")
			continue
		}
		if _, dup := p.Stages[stage]; dup {
			w.fail(key, f, "stage configured twice")
			continue
		}
		p.Stages[stage] = w.stage(val, f, stage)
	}
}

func (w *walker) stage(n *yaml.Node, field string, stage Stage) StageConfig {
	var sc StageConfig
	user := func(v *yaml.Node, f, key string) string {
		if sc.Lines == nil {
			sc.Lines = map[string]int{}
		}
		sc.Lines[key] = v.Line
		return w.ident(v, f)
	}
	w.mapping(n, field, map[string]func(*yaml.Node, string){
		"method": func(v *yaml.Node, f string) {
			if m, err := ParseMethod(w.str(v, f)); err != nil {
				w.fail(v, f, err.Error())
			} else {
				sc.Method = m
			}
		},
		"permissions": func(v *yaml.Node, f string) {
			sc.Permissions = []string{}
			if !w.isSequence(v, f) {
				return
			}
			for i, item := range v.Content {
				if perm, ok := w.permission(item, fmt.Sprintf("%s[%d]", f, i)); ok {
					sc.Permissions = append(sc.Permissions, perm)
				}
			}
		},
		"outcomePermissions": func(v *yaml.Node, f string) {
			if stage != StageAcknowledge {
				w.fail(v, f, "only the acknowledge stage depends on the review outcome")
				return
			}
			if !w.isMapping(v, f) {
				return
			}
			sc.OutcomePermissions = map[Outcome]string{}
			for i := 0; i+1 < len(v.Content); i += 2 {
				k, pv := v.Content[i], v.Content[i+1]
				of := f + "." + k.Value
				o, err := ParseOutcome(k.Value)
				if err != nil {
					w.fail(k, of, err.Error())
					continue
				}
				if perm, ok := w.permission(pv, of); ok {
					sc.OutcomePermissions[o] = perm
				}
			}
		},
		"queue":              func(v *yaml.Node, f string) { sc.Rules.Queue = w.ident(v, f) },
		"claimWindow":        func(v *yaml.Node, f string) { sc.Rules.ClaimWindow = w.duration(v, f) },
		"defaultAssignee":    func(v *yaml.Node, f string) { sc.Rules.DefaultAssignee = user(v, f, "defaultAssignee") },
		"dueIn":              func(v *yaml.Node, f string) { sc.Rules.DueIn = w.duration(v, f) },
		"escalateTo":         func(v *yaml.Node, f string) { sc.Rules.EscalateTo = user(v, f, "escalateTo") },
		"escalationReassign": func(v *yaml.Node, f string) { sc.Rules.EscalationReassign = w.boolean(v, f) },
		"assignee":           func(v *yaml.Node, f string) { sc.Assignee = user(v, f, "assignee") },
		"assigneeExpression": func(v *yaml.Node, f string) {
			e, err := ParseExpression(w.str(v, f))
			if err != nil {
				w.fail(v, f, err.Error())
				return
			}
			sc.AssigneeExpression = e
		},
		"fallback": func(v *yaml.Node, f string) {
			switch fb := w.str(v, f); fb {
			case FallbackQueue, FallbackDefault:
				sc.Fallback = fb
			default:
				w.fail(v, f, fmt.Sprintf("unknown fallback %q: want queue or default", fb))
			}
		},
		"eligibility":   func(v *yaml.Node, f string) { sc.Eligibility = w.eligibility(v, f) },
		"defaultAlways": func(v *yaml.Node, f string) { sc.DefaultAlways = w.boolean(v, f) },
		"excludeActorsOf": func(v *yaml.Node, f string) {
			if !w.isSequence(v, f) {
				return
			}
			// Only the stages before this one can be named: the choices offered
			// are those, never finalise or a later stage.
			before := AssignableStages[:max(slices.Index(AssignableStages, stage), 0)]
			names := make([]string, len(before))
			for i, b := range before {
				names[i] = string(b)
			}
			want := "want " + strings.Join(names, " or ")
			if len(before) == 0 {
				want = string(stage) + " is the first stage: no stage comes before it"
			}
			for i, item := range v.Content {
				itf := fmt.Sprintf("%s[%d]", f, i)
				name := w.str(item, itf)
				st, err := ParseStage(name)
				switch {
				case err != nil:
					w.fail(item, itf, fmt.Sprintf("unknown stage %q: %s%s", name, want, suggest(strings.ToLower(name), names)))
				case !slices.Contains(before, st):
					w.fail(item, itf, fmt.Sprintf("%s is not a stage before %s: %s", st, stage, want))
				default:
					sc.ExcludeActorsOf = append(sc.ExcludeActorsOf, st)
				}
			}
		},
		"onAbsence": func(v *yaml.Node, f string) {
			switch a := w.str(v, f); a {
			case "keep":
			case "redistribute":
				sc.Rules.RedistributeOnAbsence = true
			default:
				w.fail(v, f, fmt.Sprintf("unknown choice %q: want keep or redistribute", a))
			}
		},
		"whenNobodyAvailable": func(v *yaml.Node, f string) {
			switch a := WhenNobodyAvailable(w.str(v, f)); a {
			case NobodyAvailableQueue, NobodyAvailableAssign:
				sc.WhenNobodyAvailable = a
			default:
				w.fail(v, f, fmt.Sprintf("unknown choice %q: want queue or assign", a))
			}
		},
	})
	if sc.Assignee != "" && sc.AssigneeExpression != nil {
		w.fail(n, field+".assignee", "set assignee or assigneeExpression, not both")
	}
	if (sc.Assignee != "" || sc.AssigneeExpression != nil) && sc.Method != "" {
		w.fail(n, field+".method", "a stage with an assignee or assigneeExpression has no method")
	}
	if sc.Fallback == FallbackDefault && sc.Rules.DefaultAssignee == "" {
		w.fail(n, field+".fallback", "fallback: default needs a defaultAssignee")
	}
	if sc.DefaultAlways && sc.Rules.DefaultAssignee == "" {
		w.fail(n, field+".defaultAlways", "needs a defaultAssignee")
	}
	if sc.Rules.ClaimWindow > 0 && sc.Rules.DefaultAssignee == "" {
		w.fail(n, field+".claimWindow", "a claim window needs a defaultAssignee to fall back to")
	}
	if sc.Rules.EscalationReassign && sc.Rules.EscalateTo == "" {
		w.fail(n, field+".escalationReassign", "needs escalateTo: whom to reassign to")
	}
	if sc.Rules.EscalateTo != "" && sc.Rules.DueIn == 0 {
		w.fail(n, field+".escalateTo", "needs dueIn: when to escalate")
	}
	return sc
}

// duration accepts Go durations ("90s", "4h30m") and whole days ("2d").
func (w *walker) duration(n *yaml.Node, field string) time.Duration {
	s := w.str(n, field)
	if s == "" {
		return 0
	}
	d, err := ParseDuration(s)
	if err != nil {
		w.fail(n, field, err.Error())
		return 0
	}
	return d
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

// walker collects every error in a document instead of stopping at the first, so an
// operator fixes a file in one pass.
type walker struct {
	file string
	errs []error
}

func (w *walker) fail(n *yaml.Node, field, msg string) {
	w.errs = append(w.errs, &FieldError{File: w.file, Line: n.Line, Field: field, Msg: msg})
}

func (w *walker) isMapping(n *yaml.Node, field string) bool {
	if n.Kind != yaml.MappingNode {
		w.fail(n, field, "want a mapping")
		return false
	}
	return true
}

func (w *walker) isSequence(n *yaml.Node, field string) bool {
	if n.Kind != yaml.SequenceNode {
		w.fail(n, field, "want a list")
		return false
	}
	return true
}

// mapping visits the known keys of a mapping and reports unknown or repeated ones,
// so a misspelt key is an error rather than a silently ignored setting.
func (w *walker) mapping(n *yaml.Node, field string, keys map[string]func(*yaml.Node, string)) {
	if !w.isMapping(n, fieldOrRoot(field)) {
		return
	}
	seen := map[string]bool{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		key, val := n.Content[i], n.Content[i+1]
		f := joinField(field, key.Value)
		visit, ok := keys[key.Value]
		switch {
		case !ok:
			known := make([]string, 0, len(keys))
			for k := range keys {
				known = append(known, k)
			}
			slices.Sort(known)
			w.fail(key, f, fmt.Sprintf("unknown field: want one of %s%s", strings.Join(known, ", "), suggest(key.Value, known)))
		case seen[key.Value]:
			w.fail(key, f, "field given twice")
		default:
			seen[key.Value] = true
			visit(val, f)
		}
	}
}

func (w *walker) str(n *yaml.Node, field string) string {
	if n.Kind != yaml.ScalarNode || n.Tag == "!!null" {
		w.fail(n, field, "want a string")
		return ""
	}
	return n.Value
}

func (w *walker) boolean(n *yaml.Node, field string) bool {
	if n.Kind != yaml.ScalarNode || n.Tag != "!!bool" {
		w.fail(n, field, fmt.Sprintf("want true or false, got %q", n.Value))
		return false
	}
	return strings.EqualFold(n.Value, "true")
}

func (w *walker) permission(n *yaml.Node, field string) (string, bool) {
	perm, err := NormalizePermission(w.str(n, field))
	if err != nil {
		w.fail(n, field, err.Error())
		return "", false
	}
	return perm, true
}

func joinField(parent, key string) string {
	if parent == "" {
		return key
	}
	return parent + "." + key
}

func fieldOrRoot(f string) string {
	if f == "" {
		return "(top level)"
	}
	return f
}

// Fallbacks for a pick that is not a known, eligible user.
const (
	FallbackQueue   = "queue"
	FallbackDefault = "default"
)

// checkMethods catches configurations that parse but cannot work: a distribution
// method with no rules.
func (w *walker) checkMethods(p *Policy) {
	uses := p.Method == MethodDistribution
	for _, sc := range p.Stages {
		uses = uses || sc.Method == MethodDistribution
	}
	if uses && len(p.Rules) == 0 {
		w.errs = append(w.errs, &FieldError{File: w.file, Field: "claims.distribution.rules",
			Msg: "the distribution method needs at least one rule"})
	}
}

// MaxProblems is how many problems a file's error lists: past it, the count
// of the rest, so a file of 100,000 bad rows (or a 64 KB groups body) gives
// an error a person can read, not one larger than the file.
const MaxProblems = 50

// problems joins a file's problems, at most MaxProblems and the count of the
// rest.
func problems(errs []error) error {
	if len(errs) > MaxProblems {
		errs = append(errs[:MaxProblems:MaxProblems], fmt.Errorf("… and %d more problems", len(errs)-MaxProblems))
	}
	return errors.Join(errs...)
}
