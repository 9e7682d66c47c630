package policy

import (
	"context"
	"fmt"
)

// SampleClaim is a claim for a what-if run: its data, the stages to decide (all
// assignable stages when empty) and the review outcome acknowledge is decided with.
type SampleClaim struct {
	Claim
	Stages  []Stage
	Outcome Outcome
	// RecentHost stands in for the subject's recorded host.
	RecentHost string
}

// WhatIfResult is one sample decision.
type WhatIfResult struct {
	ClaimID     string      `json:"claimId"`
	Decision    Decision    `json:"decision"`
	Explanation Explanation `json:"explanation"`
}

// WhatIf decides every sample claim's stages under a policy, in order, with
// turn counts that start empty and live only in memory: it touches no
// live state, so an operator can test a policy before applying it. Product
// modules are not run; such stages are reported as undecided.
func WhatIf(p *Policy, users []User, teams []Team, samples []SampleClaim) ([]WhatIfResult, error) {
	people := &MemDirectory{Users: users, Teams: teams}
	var out []WhatIfResult
	for i, s := range samples {
		stages := s.Stages
		if len(stages) == 0 {
			stages = AssignableStages
		}
		for _, st := range stages {
			in := DecideInput{Policy: p, Stage: st, People: people, Claim: s.Claim, RecentHost: s.RecentHost, Random: i}
			if st == StageAcknowledge {
				in.Outcome = s.Outcome
				if in.Outcome == "" {
					in.Outcome = OutcomeApproval
				}
			}
			if p.AssignmentsEnabled && p.MethodFor(st) == MethodProductModule && p.Stages[st].Assignee == "" && p.Stages[st].AssigneeExpression == nil {
				out = append(out, WhatIfResult{ClaimID: s.ID, Decision: Decision{Stage: st, Method: MethodProductModule,
					Reason: "product modules run only in the worker; not evaluated", PolicyVersion: p.Version}})
				continue
			}
			d, ex, err := Decide(context.Background(), in)
			if err != nil {
				return out, fmt.Errorf("claim %s, %s: %w", s.ID, st, err)
			}
			if ex.Turn != nil {
				people.Record(*ex.Turn)
			}
			out = append(out, WhatIfResult{ClaimID: s.ID, Decision: d, Explanation: ex})
		}
	}
	return out, nil
}
