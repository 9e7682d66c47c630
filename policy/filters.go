package policy

import (
	"fmt"
	"slices"
	"strings"

	"gopkg.in/yaml.v3"
)

// Claim data keys the care-team filters and methods read.
const (
	ClaimKeyState    = "state"     // the state a credential must cover
	ClaimKeyCareTeam = "care_team" // the id of the claim's care team (a directory team)
	ClaimKeySubject  = "subject"   // whom the claim is about, for recent host
)

// Eligibility narrows who may take a stage beyond its permissions (care-team
// source): tag matching one-of or all-of, a state credential for the claim's
// state, membership of the claim's care team.
type Eligibility struct {
	TagsOneOf       []string `json:"tagsOneOf,omitempty"`
	TagsAllOf       []string `json:"tagsAllOf,omitempty"`
	StateCredential bool     `json:"stateCredential,omitempty"`
	CareTeam        bool     `json:"careTeam,omitempty"`
}

func (w *walker) eligibility(n *yaml.Node, field string) Eligibility {
	var e Eligibility
	list := func(v *yaml.Node, f string) []string {
		var out []string
		if !w.isSequence(v, f) {
			return nil
		}
		for i, item := range v.Content {
			if s := w.ident(item, fmt.Sprintf("%s[%d]", f, i)); s != "" {
				out = append(out, s)
			}
		}
		return out
	}
	w.mapping(n, field, map[string]func(*yaml.Node, string){
		"tagsOneOf":       func(v *yaml.Node, f string) { e.TagsOneOf = list(v, f) },
		"tagsAllOf":       func(v *yaml.Node, f string) { e.TagsAllOf = list(v, f) },
		"stateCredential": func(v *yaml.Node, f string) { e.StateCredential = w.boolean(v, f) },
		"careTeam":        func(v *yaml.Node, f string) { e.CareTeam = w.boolean(v, f) },
	})
	return e
}

// IsZero reports that the stage has no filters beyond its permissions.
func (e Eligibility) IsZero() bool {
	return len(e.TagsOneOf) == 0 && len(e.TagsAllOf) == 0 && !e.StateCredential && !e.CareTeam
}

func hasFold(list []string, s string) bool {
	return slices.ContainsFunc(list, func(x string) bool { return strings.EqualFold(x, s) })
}
