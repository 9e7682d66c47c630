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
// line nobody covers, offers every active user and assigns nobody, so it waits
// in its queue for someone to claim it.
//
// It names its candidates by a query (a pool) rather than listing them: Baton
// counts and pages them from the directory, so the module reads one user at
// most, however many cover the line.
type ByLine struct {
	Users batonfx.Directory
}

// GetClaimAssignmentOptions implements batonfx.ProductModule.
func (m ByLine) GetClaimAssignmentOptions(ctx context.Context, _ *batonfx.Policy, claim batonfx.Claim,
	currentUser *batonfx.User, stage batonfx.Stage) (batonfx.AssignmentOptions, error) {
	everyone := batonfx.AssignmentOptions{Pool: &batonfx.UserQuery{Description: "Available for " + string(stage)}}
	line := claim.Data["line"]
	if line == "" {
		return everyone, nil
	}
	covers := batonfx.UserQuery{Tags: []string{line}, Description: "Covers " + line + " claims"}
	if currentUser != nil && currentUser.Active && slices.Contains(currentUser.Tags, line) {
		c := batonfx.CandidateOf(*currentUser, covers.Description)
		return batonfx.AssignmentOptions{Pool: &covers, AssignedTo: &c}, nil
	}
	first, err := m.Users.UsersPage(ctx, covers, 0, 1)
	if err != nil {
		return batonfx.AssignmentOptions{}, fmt.Errorf("users covering %s: %w", line, err)
	}
	if len(first.Users) == 0 {
		return everyone, nil
	}
	c := batonfx.CandidateOf(first.Users[0], covers.Description)
	return batonfx.AssignmentOptions{Pool: &covers, AssignedTo: &c}, nil
}
