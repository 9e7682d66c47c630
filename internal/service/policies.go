package service

import (
	"context"
	"time"

	"github.com/batonhq/baton/internal/store"
	"github.com/batonhq/baton/policy"
	"github.com/batonhq/baton/policy/yamlfile"
)

// PolicyApplied is what ApplyPolicy did: the version the policy is at, whether
// this call stored it, and, against the version before, what changed.
type PolicyApplied struct {
	Name    string
	Version int
	Changed bool
	// First: no version was stored before this one.
	First bool
	// Changes are the differences from the previous version (policy.Diff);
	// none when only comments or formatting changed.
	Changes []string
}

// ApplyPolicy reads a policy file's document, checks the teams and users it
// names against the directory, and stores it as the next version of its
// policy when it changed: new claims use it, running claims keep theirs.
// actor is recorded. Anything wrong stores nothing, and the error names the
// file, line and field.
func (s *Service) ApplyPolicy(ctx context.Context, file string, body []byte, actor string) (PolicyApplied, error) {
	p, err := yamlfile.ParsePolicy(file, body)
	if err != nil {
		return PolicyApplied{}, err
	}
	res, err := s.store.PolicyApply(ctx, file, body, p, actor)
	if err != nil {
		return PolicyApplied{}, err
	}
	out := PolicyApplied{Name: p.Name, Version: res.Version, Changed: res.Changed, First: res.Changed && res.Previous == nil}
	if res.Changed && res.Previous != nil {
		out.Changes = policy.Diff(res.Previous, p)
	}
	return out, nil
}

// TestPolicy decides sample claims under a policy without touching live
// state: against dir, or, nil, the live directory (read, never written), with
// turn counts that start empty and live in memory. The policy's references
// are checked against the same directory first.
func (s *Service) TestPolicy(ctx context.Context, file string, p *policy.Policy, samples []policy.SampleClaim,
	dir *policy.Directory) ([]policy.WhatIfResult, error) {
	var users []policy.User
	var teams []policy.Team
	if dir != nil {
		for _, u := range dir.Users {
			users = append(users, u.User)
		}
		for _, t := range dir.Teams {
			teams = append(teams, t.Team)
		}
	} else {
		var err error
		if users, err = s.store.UserList(ctx); err != nil {
			return nil, err
		}
		if teams, err = s.store.TeamList(ctx); err != nil {
			return nil, err
		}
	}
	if err := yamlfile.CheckReferences(file, p, users, teams); err != nil {
		return nil, err
	}
	return policy.WhatIf(p, users, teams, samples)
}

// CreateToken makes an API token for user, valid for ttl (at most
// store.MaxTokenTTL), labelled for token lists. The token is returned once:
// only its hash is kept.
func (s *Service) CreateToken(ctx context.Context, user, label string, ttl time.Duration) (token string, id int64, err error) {
	return s.store.TokenCreateTTL(ctx, user, label, ttl) // which refuses a lifetime out of bounds
}

// Tokens lists a known user's API tokens, revoked and expired ones included.
func (s *Service) Tokens(ctx context.Context, user string) ([]store.APIToken, error) {
	if _, err := s.store.UserGet(ctx, user); err != nil {
		return nil, err
	}
	return s.store.TokenList(ctx, user)
}

// RevokeToken revokes one API token by its id.
func (s *Service) RevokeToken(ctx context.Context, id int64) error {
	return s.store.TokenRevoke(ctx, id)
}

// RevokeTokens revokes every API token of a known user and says how many.
func (s *Service) RevokeTokens(ctx context.Context, user string) (int, error) {
	if _, err := s.store.UserGet(ctx, user); err != nil {
		return 0, err
	}
	return s.store.TokenRevokeUser(ctx, user)
}
