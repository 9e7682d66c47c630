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

// Filter keeps the users who pass every filter, in order, and says why each other
// one was removed. Tags and states compare without case.
func (e Eligibility) Filter(users []User, claim Claim, teams []Team) (kept []User, removed []Exclusion) {
	if len(e.TagsOneOf) == 0 && len(e.TagsAllOf) == 0 && !e.StateCredential && !e.CareTeam {
		return users, nil
	}
	kept = make([]User, 0, len(users))
	state := claim.Data[ClaimKeyState]
	var careTeam *Team
	if id := claim.Data[ClaimKeyCareTeam]; id != "" {
		for i := range teams {
			if teams[i].ID == id {
				careTeam = &teams[i]
			}
		}
	}
	for _, u := range users {
		if why := e.reject(u, state, claim.Data[ClaimKeyCareTeam], careTeam); why != "" {
			removed = append(removed, Exclusion{UserID: u.ID, Reason: why})
			continue
		}
		kept = append(kept, u)
	}
	return kept, removed
}

func (e Eligibility) reject(u User, state, careTeamID string, careTeam *Team) string {
	if len(e.TagsOneOf) > 0 && !slices.ContainsFunc(e.TagsOneOf, func(t string) bool { return hasFold(u.Tags, t) }) {
		return "has none of the tags " + strings.Join(e.TagsOneOf, ", ")
	}
	for _, t := range e.TagsAllOf {
		if !hasFold(u.Tags, t) {
			return "lacks tag " + t + " (all of " + strings.Join(e.TagsAllOf, ", ") + " required)"
		}
	}
	if e.StateCredential {
		switch {
		case state == "":
			return "the claim has no state to check a credential against"
		case !hasFold(u.Credentials, state):
			return "no credential for state " + state
		}
	}
	if e.CareTeam {
		switch {
		case careTeamID == "":
			return "the claim has no care team"
		case careTeam == nil:
			return "the claim's care team " + careTeamID + " is not in the directory"
		case !slices.Contains(careTeam.Members, u.ID):
			return "not on care team " + careTeamID
		}
	}
	return ""
}

func hasFold(list []string, s string) bool {
	return slices.ContainsFunc(list, func(x string) bool { return strings.EqualFold(x, s) })
}

// NeedsTeams reports whether deciding the stage reads the directory's teams (care
// teams, distribution teams), so callers load them only then.
func (p *Policy) NeedsTeams(s Stage) bool {
	switch p.MethodFor(s) {
	case MethodCareTeamPrimary, MethodCareTeamRandom, MethodDistribution:
		return true
	}
	return p.Stages[s].Eligibility.CareTeam
}
