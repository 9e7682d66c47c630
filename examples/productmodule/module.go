package main

import (
	"context"
	"fmt"
	"slices"

	"github.com/batonhq/baton/batonfx"
)

// ByLine is a custom product module: a claim goes to the active users tagged
// with its line of business (the claim's "line" attribute, e.g. motor or home).
// A user who asks and is among them is their own default assignee, as in the
// source's example; otherwise the first of them is. A claim with no line, or a
// line nobody covers, lists every active user and assigns nobody, so it waits
// in its queue for someone to claim it.
type ByLine struct {
	Users batonfx.Directory
}

// GetClaimAssignmentOptions implements batonfx.ProductModule.
func (m ByLine) GetClaimAssignmentOptions(ctx context.Context, _ *batonfx.Policy, claim batonfx.Claim,
	currentUser *batonfx.User, stage batonfx.Stage) (batonfx.AssignmentOptions, error) {
	users, err := m.Users.ListUsers(ctx)
	if err != nil {
		return batonfx.AssignmentOptions{}, fmt.Errorf("list users: %w", err)
	}
	line := claim.Data["line"]
	var out, everyone batonfx.AssignmentOptions
	for _, u := range users {
		if !u.Active {
			continue
		}
		everyone.Users = append(everyone.Users, batonfx.CandidateOf(u, "Available for "+string(stage)))
		if line != "" && slices.Contains(u.Tags, line) {
			out.Users = append(out.Users, batonfx.CandidateOf(u, "Covers "+line+" claims"))
		}
	}
	if len(out.Users) == 0 {
		return everyone, nil
	}
	out.AssignedTo = &out.Users[0]
	for i, c := range out.Users {
		if currentUser != nil && c.UserID == currentUser.ID {
			out.AssignedTo = &out.Users[i]
		}
	}
	return out, nil
}
