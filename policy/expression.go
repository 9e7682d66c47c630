package policy

import (
	"fmt"
	"regexp"
	"strings"
)

// Expression is a dynamic assignee (interventions source: "Assignment:
// {{steps.extract.assigned_reviewer}}"): one reference, resolved when the stage is
// decided. Supported: {{claim.data.KEY}}, {{claim.owner}}, and an earlier stage's
// result, {{steps.STAGE.assignee}}, {{steps.STAGE.completed_by}} or
// {{steps.STAGE.outcome}}.
type Expression struct {
	Source string
	path   []string
}

var expressionPattern = regexp.MustCompile(`^\{\{\s*([A-Za-z0-9_.\-]+)\s*\}\}$`)

// ParseExpression checks an expression's syntax and path.
func ParseExpression(s string) (*Expression, error) {
	m := expressionPattern.FindStringSubmatch(strings.TrimSpace(s))
	if m == nil {
		return nil, fmt.Errorf("invalid expression %q: want one reference such as {{claim.data.assigned_reviewer}}", s)
	}
	path := strings.Split(m[1], ".")
	switch {
	case len(path) == 3 && path[0] == "claim" && path[1] == "data" && path[2] != "":
	case len(path) == 2 && path[0] == "claim" && path[1] == "owner":
	case len(path) == 3 && path[0] == "steps":
		if st, err := ParseStage(path[1]); err != nil || !st.Assignable() {
			return nil, fmt.Errorf("invalid expression %q: steps.%s: want capture, review or acknowledge", s, path[1])
		}
		switch path[2] {
		case "assignee", "completed_by", "outcome":
		default:
			return nil, fmt.Errorf("invalid expression %q: steps.%s.%s: want assignee, completed_by or outcome", s, path[1], path[2])
		}
	default:
		return nil, fmt.Errorf("invalid expression %q: want {{claim.data.KEY}}, {{claim.owner}} or {{steps.STAGE.assignee|completed_by|outcome}}", s)
	}
	return &Expression{Source: strings.TrimSpace(s), path: path}, nil
}

// StepOutput is what an earlier stage recorded, for expressions.
type StepOutput struct {
	Assignee    string  `json:"assignee,omitempty"`
	CompletedBy string  `json:"completedBy,omitempty"`
	Outcome     Outcome `json:"outcome,omitempty"`
}

// Resolve evaluates the expression; ok is false when what it names is empty.
func (e *Expression) Resolve(claim Claim, steps map[Stage]StepOutput) (string, bool) {
	var v string
	switch e.path[0] {
	case "claim":
		if e.path[1] == "owner" {
			v = claim.Owner
		} else {
			v = claim.Data[e.path[2]]
		}
	case "steps":
		s := steps[Stage(e.path[1])]
		switch e.path[2] {
		case "assignee":
			v = s.Assignee
		case "completed_by":
			v = s.CompletedBy
		case "outcome":
			v = string(s.Outcome)
		}
	}
	v = strings.TrimSpace(v)
	return v, v != ""
}

// MarshalText keeps an expression's source in JSON.
func (e *Expression) MarshalText() ([]byte, error) { return []byte(e.Source), nil }

// UnmarshalText parses an expression from JSON.
func (e *Expression) UnmarshalText(b []byte) error {
	x, err := ParseExpression(string(b))
	if err != nil {
		return err
	}
	*e = *x
	return nil
}
