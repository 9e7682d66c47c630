package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"

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
	u, err := qs.UserGet(ctx, assignee)
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

// ExplanationGet reads a decision's explanation header, or ErrNotFound, with
// the rules it tried: a decision that recorded its rules has its trace
// rendered from the record by re-evaluating its pinned policy version.
func (qs *Queries) ExplanationGet(ctx context.Context, k policy.DecisionKey) (Explained, error) {
	e, err := qs.ExplanationHead(ctx, k)
	if err != nil || e.RuleRecord == nil {
		return e, err
	}
	return e, qs.renderRules(ctx, k, &e)
}

// ExplanationHead is ExplanationGet without rendering the rules tried, which
// reads and parses a policy version: for readers that ask who could take the
// stage, not why a rule matched.
func (qs *Queries) ExplanationHead(ctx context.Context, k policy.DecisionKey) (Explained, error) {
	var req, trace, body, record []byte
	var n *int32
	err := qs.db.QueryRow(ctx, q("ExplanationGet"), k.WorkflowID, k.Stage, k.Seq).Scan(&req, &trace, &n, &body, &record)
	if errors.Is(err, pgx.ErrNoRows) {
		return Explained{}, fmt.Errorf("decision %s: %w", k, ErrNotFound)
	}
	if err != nil {
		return Explained{}, fmt.Errorf("get explanation %s: %w", k, err)
	}
	var e Explained
	if n != nil {
		e.Candidates = int(*n)
	}
	if err := json.Unmarshal(body, &e.Decision); err != nil {
		return Explained{}, fmt.Errorf("decode decision %s: %w", k, err)
	}
	if req != nil {
		e.Requirement = &policy.Requirement{}
		if err := json.Unmarshal(req, e.Requirement); err != nil {
			return Explained{}, fmt.Errorf("decode requirement %s: %w", k, err)
		}
	}
	if trace != nil {
		if err := json.Unmarshal(trace, &e.RuleTrace); err != nil {
			return Explained{}, fmt.Errorf("decode rule trace %s: %w", k, err)
		}
	}
	if record != nil {
		e.RuleRecord = &policy.RuleRecord{}
		if err := json.Unmarshal(record, e.RuleRecord); err != nil {
			return Explained{}, fmt.Errorf("decode rule record %s: %w", k, err)
		}
	}
	return e, nil
}

// ExplanationCandidates reads a page of a decision's candidates: limit from offset.
func (qs *Queries) ExplanationCandidates(ctx context.Context, k policy.DecisionKey, offset, limit int) ([]policy.User, error) {
	return collect(ctx, qs, "candidates of "+k.String(), q("ExplanationCandidates"),
		func(r pgx.CollectableRow) (policy.User, error) { return scanUser(r) }, k.WorkflowID, k.Stage, k.Seq, offset, limit)
}

// ExplanationIsCandidate reports whether a user was a candidate of a decision.
func (qs *Queries) ExplanationIsCandidate(ctx context.Context, k policy.DecisionKey, id string) (bool, error) {
	var ok bool
	err := qs.db.QueryRow(ctx, q("ExplanationIsCandidate"), k.WorkflowID, k.Stage, k.Seq, id).Scan(&ok)
	if errors.Is(err, pgx.ErrNoRows) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("candidate %q of %s: %w", id, k, err)
	}
	return ok, nil
}

// ExplanationExcluded reads a page of those who were not a decision's candidates,
// in directory order after position after, each with why they do not meet the
// requirement as the directory is now (or that they do now).
func (qs *Queries) ExplanationExcluded(ctx context.Context, k policy.DecisionKey, r policy.Requirement, after int64, limit int) (ExclusionPage, error) {
	rows, err := qs.db.Query(ctx, q("ExplanationExcluded"), k.WorkflowID, k.Stage, k.Seq, after, limit)
	if err != nil {
		return ExclusionPage{}, fmt.Errorf("exclusions of %s: %w", k, err)
	}
	defer rows.Close()
	var page ExclusionPage
	for rows.Next() {
		var u policy.User
		var pos int64
		var known, member bool
		if err := rows.Scan(&pos, &u.ID, &u.Name, &u.Email, &u.Role, &u.Active, &u.Permissions, &u.Tags, &u.Credentials,
			&u.TicketPriority, &u.EmailNotifications, &known, &member); err != nil {
			return ExclusionPage{}, err
		}
		why := r.Reject(u, known, member)
		if why == "" {
			why = "eligible now, but not when the stage was decided"
		}
		page.Excluded = append(page.Excluded, policy.Exclusion{UserID: u.ID, Reason: why})
		page.Next = pos
	}
	if len(page.Excluded) < limit {
		page.Next = 0
	}
	return page, rows.Err()
}
