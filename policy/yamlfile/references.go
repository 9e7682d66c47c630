package yamlfile

import (
	"fmt"

	"github.com/batonhq/baton/policy"
)

// CheckReferences checks a policy against the directory: every team and user a
// rule or stage names must exist. Errors name the rule id and field; it is run
// before a policy version is stored, so nothing half-valid is applied.
func CheckReferences(file string, p *policy.Policy, users []policy.User, teams []policy.Team) error {
	known := map[string]bool{}
	for _, u := range users {
		known["user:"+u.ID] = true
	}
	for _, t := range teams {
		known["team:"+t.ID] = true
	}
	w := &walker{file: file}
	for _, r := range p.Rules {
		for i, a := range r.Then {
			f := fmt.Sprintf("claims.distribution.rules[%s].then[%d]", r.ID, i)
			switch {
			case a.Kind == policy.ActionAssignTeam && !known["team:"+a.Team]:
				w.errs = append(w.errs, &policy.FieldError{File: file, Line: a.Line, Field: f + ".team", Msg: fmt.Sprintf("unknown team %q", a.Team)})
			case a.Kind == policy.ActionAssignUser && !known["user:"+a.User]:
				w.errs = append(w.errs, &policy.FieldError{File: file, Line: a.Line, Field: f + ".user", Msg: fmt.Sprintf("unknown user %q", a.User)})
			}
		}
	}
	for _, s := range policy.AssignableStages {
		sc := p.Stages[s]
		ids := map[string]string{"assignee": sc.Assignee, "defaultAssignee": sc.Rules.DefaultAssignee, "escalateTo": sc.Rules.EscalateTo}
		for _, key := range []string{"assignee", "defaultAssignee", "escalateTo"} { // in a stable order
			if id := ids[key]; id != "" && !known["user:"+id] {
				w.errs = append(w.errs, &policy.FieldError{File: file, Line: sc.Lines[key], Field: fmt.Sprintf("claims.stages.%s.%s", s, key),
					Msg: fmt.Sprintf("unknown user %q", id)})
			}
		}
	}
	return problems(w.errs)
}
