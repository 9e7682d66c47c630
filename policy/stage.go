package policy

import (
	"fmt"
	"strings"
)

// Stage is one step of a claim's life. Claims move capture → review → acknowledge →
// finalise; finalise is terminal and never assigned.
type Stage string

// The stages, in order.
const (
	StageCapture     Stage = "capture"
	StageReview      Stage = "review"
	StageAcknowledge Stage = "acknowledge"
	StageFinalise    Stage = "finalise"
)

// Stages lists every stage in the order a claim moves through them.
var Stages = []Stage{StageCapture, StageReview, StageAcknowledge, StageFinalise}

// AssignableStages are the stages someone is assigned to; finalise is terminal.
var AssignableStages = []Stage{StageCapture, StageReview, StageAcknowledge}

// Next returns the stage after s, or "" after finalise.
func (s Stage) Next() Stage {
	for i, st := range Stages {
		if st == s && i+1 < len(Stages) {
			return Stages[i+1]
		}
	}
	return ""
}

// Assignable reports whether someone is assigned at this stage.
func (s Stage) Assignable() bool {
	for _, st := range AssignableStages {
		if st == s {
			return true
		}
	}
	return false
}

// ParseStage accepts a stage name, case-insensitively, and names the nearest valid
// stage when it is a typo.
func ParseStage(name string) (Stage, error) {
	n := Stage(strings.ToLower(strings.TrimSpace(name)))
	for _, s := range Stages {
		if s == n {
			return s, nil
		}
	}
	return "", fmt.Errorf("unknown stage %q: want one of capture, review, acknowledge, finalise%s",
		name, Suggest(string(n), stageNames()))
}

func stageNames() []string {
	out := make([]string, len(Stages))
	for i, s := range Stages {
		out[i] = string(s)
	}
	return out
}

// Outcome is the decision recorded when the review stage completes. It selects the
// extra permission the acknowledge stage requires.
type Outcome string

// The review outcomes of the claim-assignment source.
const (
	OutcomeApproval    Outcome = "approval"
	OutcomeGoodwill    Outcome = "goodwill"
	OutcomeRepudiation Outcome = "repudiation"
	OutcomeNoClaim     Outcome = "no_claim"
)

// Outcomes lists the valid review outcomes.
var Outcomes = []Outcome{OutcomeApproval, OutcomeGoodwill, OutcomeRepudiation, OutcomeNoClaim}

// ParseOutcome accepts a review outcome name.
func ParseOutcome(name string) (Outcome, error) {
	n := Outcome(strings.ToLower(strings.TrimSpace(name)))
	for _, o := range Outcomes {
		if o == n {
			return o, nil
		}
	}
	names := make([]string, len(Outcomes))
	for i, o := range Outcomes {
		names[i] = string(o)
	}
	return "", fmt.Errorf("unknown review outcome %q: want one of %s%s",
		name, strings.Join(names, ", "), Suggest(string(n), names))
}

// Suggest returns ` (did you mean "x"?)` when a candidate is within two edits.
func Suggest(got string, candidates []string) string {
	best, bestDist := "", 3
	for _, c := range candidates {
		if d := EditDistance(got, c); d < bestDist {
			best, bestDist = c, d
		}
	}
	if best == "" {
		return ""
	}
	return fmt.Sprintf(" (did you mean %q?)", best)
}

// EditDistance is the Levenshtein distance between two short names, for
// "did you mean" suggestions.
func EditDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}
