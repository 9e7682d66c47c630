package policy

import (
	"context"
	"fmt"
	"os"

	"gopkg.in/yaml.v3"
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

// LoadSampleClaimsFile reads a what-if claims file:
//
//	claims:
//	  - id: c1
//	    owner: ava
//	    data: {customer_group: VIP, state: CA}
//	    stages: [capture, review]   # default: every assignable stage
//	    outcome: approval           # for acknowledge
//	    recentHost: ben             # stands in for the subject's recorded host
func LoadSampleClaimsFile(path string) ([]SampleClaim, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read claims file: %w", err)
	}
	return ParseSampleClaims(path, data)
}

// ParseSampleClaims parses a what-if claims document (see LoadSampleClaimsFile).
// Every problem is reported with file, line and field; nothing is returned unless
// the whole document is valid.
func ParseSampleClaims(file string, data []byte) ([]SampleClaim, error) {
	doc, w, err := parseDocument(file, data, "empty claims file: want a mapping with a claims list")
	if err != nil {
		return nil, err
	}
	var out []SampleClaim
	w.mapping(doc, "", map[string]func(*yaml.Node, string){
		"claims": func(n *yaml.Node, f string) {
			w.rows(n, f, func(row *yaml.Node, rf string) { out = append(out, w.sample(row, rf)) })
		},
	})
	if err := problems(w.errs); err != nil {
		return nil, err
	}
	return out, nil
}

func (w *walker) sample(n *yaml.Node, field string) SampleClaim {
	s := SampleClaim{Claim: Claim{Data: map[string]string{}}}
	w.mapping(n, field, map[string]func(*yaml.Node, string){
		"id":         func(v *yaml.Node, f string) { s.ID = w.ident(v, f) },
		"owner":      func(v *yaml.Node, f string) { s.Owner = w.ident(v, f) },
		"recentHost": func(v *yaml.Node, f string) { s.RecentHost = w.ident(v, f) },
		"outcome": func(v *yaml.Node, f string) {
			o, err := ParseOutcome(w.str(v, f))
			if err != nil {
				w.fail(v, f, err.Error())
			}
			s.Outcome = o
		},
		"stages": func(v *yaml.Node, f string) {
			for i, st := range w.identList(v, f) {
				stage, err := ParseStage(st)
				if err != nil || !stage.Assignable() {
					w.fail(v, fmt.Sprintf("%s[%d]", f, i), fmt.Sprintf("want capture, review or acknowledge, got %q", st))
					continue
				}
				s.Stages = append(s.Stages, stage)
			}
		},
		"data": func(v *yaml.Node, f string) {
			if !w.isMapping(v, f) {
				return
			}
			for i := 0; i+1 < len(v.Content); i += 2 {
				s.Data[v.Content[i].Value] = w.str(v.Content[i+1], f+"."+v.Content[i].Value)
			}
		},
	})
	if s.ID == "" && n.Kind == yaml.MappingNode {
		w.fail(n, field+".id", "required")
	}
	return s
}
