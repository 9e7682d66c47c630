package policy

import "context"

// mem is an in-memory directory for table tests.
func mem(dir []User, teams []Team) *MemDirectory { return &MemDirectory{Users: dir, Teams: teams} }

// eligible lists who meets a bare permission requirement, and why the rest do not.
func eligible(dir []User, required []string) ([]User, []Exclusion) {
	req := Requirement{Required: required}
	var in []User
	var out []Exclusion
	for _, u := range dir {
		if why := req.Reject(u, false, false); why != "" {
			out = append(out, Exclusion{UserID: u.ID, Reason: why})
			continue
		}
		in = append(in, u)
	}
	return in, out
}

// turns runs one scope's turns over whatever eligible set each call passes.
type turns struct{ m MemDirectory }

func (s *turns) pick(dir []User, weighted bool) (User, bool) {
	s.m.Users = make([]User, len(dir))
	for i, u := range dir {
		u.Active = true // the list passed is the eligible set
		s.m.Users[i] = u
	}
	v, _ := s.m.Turns(context.Background(), "scope", Requirement{}, TurnOrder{Weighted: weighted})
	t, ok := NextTurn("scope", "round robin", v)
	if ok {
		s.m.Record(t)
	}
	return t.User, ok
}

// filterWith applies a stage's filters (and no permissions) to a directory.
func filterWith(e Eligibility, dir []User, claim Claim, teams []Team) ([]User, []Exclusion) {
	m := mem(dir, teams)
	req := Requirement{Filter: e, State: claim.Data[ClaimKeyState], CareTeam: claim.Data[ClaimKeyCareTeam]}
	var kept []User
	var removed []Exclusion
	for _, u := range dir {
		c, _ := m.Check(context.Background(), u.ID, req)
		if c.Reason != "" {
			removed = append(removed, Exclusion{UserID: u.ID, Reason: c.Reason})
			continue
		}
		kept = append(kept, u)
	}
	return kept, removed
}

// policyOf is a policy with assignments on, method m, and the stages
// configured as given (nil: none), as a policy file saying so would parse.
func policyOf(m Method, stages map[Stage]StageConfig) *Policy {
	p := DefaultPolicy()
	p.AssignmentsEnabled, p.Method = true, m
	if stages != nil {
		p.Stages = stages
	}
	return p
}
