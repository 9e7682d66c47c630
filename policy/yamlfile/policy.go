package yamlfile

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/batonhq/baton/policy"
)

// LoadPolicy reads and parses a policy file.
func LoadPolicy(path string) (*policy.Policy, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read policy file: %w", err)
	}
	return ParsePolicy(path, data)
}

// ParsePolicy parses a policy document (YAML, or JSON, which is YAML). Every problem
// found is reported, each naming the file, line and field; the result is nil unless
// the whole document is valid.
func ParsePolicy(file string, data []byte) (*policy.Policy, error) {
	doc, w, err := parseDocument(file, data, "empty policy file: want a mapping with a claims key")
	if err != nil {
		return nil, err
	}
	p := policy.DefaultPolicy()
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
		return nil, nil, &policy.FieldError{File: file, Msg: "not valid YAML or JSON: " + strings.TrimPrefix(err.Error(), "yaml: ")}
	}
	if root.Kind != yaml.DocumentNode || len(root.Content) != 1 {
		return nil, nil, &policy.FieldError{File: file, Msg: emptyMsg}
	}
	return root.Content[0], &walker{file: file}, nil
}

func (w *walker) claims(n *yaml.Node, field string, p *policy.Policy) {
	w.mapping(n, field, map[string]func(*yaml.Node, string){
		"enableClaimAssignments": func(v *yaml.Node, f string) { p.AssignmentsEnabled = w.boolean(v, f) },
		"claimAssignmentMethod": func(v *yaml.Node, f string) {
			if m, err := policy.ParseMethod(w.str(v, f)); err != nil {
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
			if err != nil || n < 1 || n > policy.MaxMaxAssigneeChanges {
				w.fail(v, f, fmt.Sprintf("want a whole number from 1 to %d, got %q", policy.MaxMaxAssigneeChanges, v.Value))
				return
			}
			p.MaxAssigneeChanges = n
		},
	})
}

func (w *walker) stages(n *yaml.Node, field string, p *policy.Policy) {
	if !w.isMapping(n, field) {
		return
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		key, val := n.Content[i], n.Content[i+1]
		f := field + "." + key.Value
		stage, err := policy.ParseStage(key.Value)
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

func (w *walker) stage(n *yaml.Node, field string, stage policy.Stage) policy.StageConfig {
	var sc policy.StageConfig
	user := func(v *yaml.Node, f, key string) string {
		if sc.Lines == nil {
			sc.Lines = map[string]int{}
		}
		sc.Lines[key] = v.Line
		return w.ident(v, f)
	}
	w.mapping(n, field, map[string]func(*yaml.Node, string){
		"method": func(v *yaml.Node, f string) {
			if m, err := policy.ParseMethod(w.str(v, f)); err != nil {
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
			if stage != policy.StageAcknowledge {
				w.fail(v, f, "only the acknowledge stage depends on the review outcome")
				return
			}
			if !w.isMapping(v, f) {
				return
			}
			sc.OutcomePermissions = map[policy.Outcome]string{}
			for i := 0; i+1 < len(v.Content); i += 2 {
				k, pv := v.Content[i], v.Content[i+1]
				of := f + "." + k.Value
				o, err := policy.ParseOutcome(k.Value)
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
			e, err := policy.ParseExpression(w.str(v, f))
			if err != nil {
				w.fail(v, f, err.Error())
				return
			}
			sc.AssigneeExpression = e
		},
		"fallback": func(v *yaml.Node, f string) {
			switch fb := w.str(v, f); fb {
			case policy.FallbackQueue, policy.FallbackDefault:
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
			before := policy.AssignableStages[:max(slices.Index(policy.AssignableStages, stage), 0)]
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
				st, err := policy.ParseStage(name)
				switch {
				case err != nil:
					w.fail(item, itf, fmt.Sprintf("unknown stage %q: %s%s", name, want, policy.Suggest(strings.ToLower(name), names)))
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
			switch a := policy.WhenNobodyAvailable(w.str(v, f)); a {
			case policy.NobodyAvailableQueue, policy.NobodyAvailableAssign:
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
	if sc.Fallback == policy.FallbackDefault && sc.Rules.DefaultAssignee == "" {
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
	d, err := policy.ParseDuration(s)
	if err != nil {
		w.fail(n, field, err.Error())
		return 0
	}
	return d
}

// walker collects every error in a document instead of stopping at the first, so an
// operator fixes a file in one pass.
type walker struct {
	file string
	errs []error
}

func (w *walker) fail(n *yaml.Node, field, msg string) {
	w.errs = append(w.errs, &policy.FieldError{File: w.file, Line: n.Line, Field: field, Msg: msg})
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
			w.fail(key, f, fmt.Sprintf("unknown field: want one of %s%s", strings.Join(known, ", "), policy.Suggest(key.Value, known)))
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
	perm, err := policy.NormalizePermission(w.str(n, field))
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

// checkMethods catches configurations that parse but cannot work: a distribution
// method with no rules.
func (w *walker) checkMethods(p *policy.Policy) {
	uses := p.Method == policy.MethodDistribution
	for _, sc := range p.Stages {
		uses = uses || sc.Method == policy.MethodDistribution
	}
	if uses && len(p.Rules) == 0 {
		w.errs = append(w.errs, &policy.FieldError{File: w.file, Field: "claims.distribution.rules",
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
