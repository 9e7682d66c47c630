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

// describeEligible is the description the assignment-options endpoints show.
func describeEligible(stage Stage, required []string) string {
	return fmt.Sprintf("Available for %s (holds %s)", stage, strings.Join(required, ", "))
}
