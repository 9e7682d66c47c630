package policy

import (
	"slices"
	"strings"
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

// IsZero reports that the stage has no filters beyond its permissions.
func (e Eligibility) IsZero() bool {
	return len(e.TagsOneOf) == 0 && len(e.TagsAllOf) == 0 && !e.StateCredential && !e.CareTeam
}

func hasFold(list []string, s string) bool {
	return slices.ContainsFunc(list, func(x string) bool { return strings.EqualFold(x, s) })
}
