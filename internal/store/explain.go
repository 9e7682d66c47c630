package store

import (
	"context"
	"errors"
	"fmt"

	"github.com/batonhq/baton/policy"
)

// CandidatePage is a page of a stage decision's candidates as the
// assignment-options endpoints present them.
type CandidatePage struct {
	Users []policy.Candidate
	// AssignedTo is the assignee as a candidate, or nil when nobody is assigned.
	AssignedTo *policy.Candidate
	// Total is how many candidates the decision recorded; Next is the offset of the
	// next page, 0 when this is the last.
	Total, Next int
}

// MaxPage bounds one page of candidates or exclusions.
const MaxPage = 1000

// CandidatesPage reads limit candidates of decision k from offset, with assignee
// presented as a candidate (looked up when not on the page).
func (qs *Queries) CandidatesPage(ctx context.Context, k policy.DecisionKey, assignee string, offset, limit int) (CandidatePage, error) {
	if limit <= 0 || limit > MaxPage {
		return CandidatePage{}, fmt.Errorf("limit %d: want 1 to %d", limit, MaxPage)
	}
	if offset < 0 {
		return CandidatePage{}, fmt.Errorf("offset %d: want 0 or more", offset)
	}
	e, err := qs.ExplanationHead(ctx, k)
	if err != nil {
		return CandidatePage{}, err
	}
	desc := ""
	if e.Requirement != nil && len(e.Requirement.Required) > 0 {
		desc = e.Requirement.Describe()
	}
	users, err := qs.ExplanationCandidates(ctx, k, offset, limit)
	if err != nil {
		return CandidatePage{}, err
	}
	page := CandidatePage{Users: policy.CandidatesOf(users, desc), Total: e.Candidates}
	if offset+len(users) < e.Candidates {
		page.Next = offset + len(users)
	}
	if assignee == "" {
		return page, nil
	}
	for i := range page.Users {
		if page.Users[i].UserID == assignee {
			page.AssignedTo = &page.Users[i]
			return page, nil
		}
	}
	u, err := qs.GetUser(ctx, assignee)
	switch {
	case errors.Is(err, ErrNotFound):
		page.AssignedTo = &policy.Candidate{UserID: assignee}
	case err != nil:
		return CandidatePage{}, err
	default:
		c := policy.CandidateOf(u, desc)
		page.AssignedTo = &c
	}
	return page, nil
}
