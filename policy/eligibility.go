package policy

import (
	"fmt"
	"strings"
)

// Exclusion records why a user was not eligible, so a decision can explain itself.
type Exclusion struct {
	UserID string `json:"userId"`
	Reason string `json:"reason"`
}

// Eligible filters users, in their given (directory) order, to those who are active
// and hold every required permission. The rest come back with the reason.
func Eligible(users []User, required []string) (eligible []User, excluded []Exclusion) {
	eligible = make([]User, 0, len(users))
	for _, u := range users {
		if !u.Active {
			excluded = append(excluded, Exclusion{UserID: u.ID, Reason: "inactive"})
			continue
		}
		var missing []string
		for _, p := range required {
			if !u.Has(p) {
				missing = append(missing, p)
			}
		}
		if len(missing) > 0 {
			excluded = append(excluded, Exclusion{UserID: u.ID, Reason: "missing " + strings.Join(missing, ", ")})
			continue
		}
		eligible = append(eligible, u)
	}
	return eligible, excluded
}

// describeEligible is the description the assignment-options endpoints show.
func describeEligible(stage Stage, required []string) string {
	return fmt.Sprintf("Available for %s (holds %s)", stage, strings.Join(required, ", "))
}
