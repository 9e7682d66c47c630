package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5"

	"github.com/batonhq/baton/policy"
)

// People answers a decision's questions about the directory with indexed SQL, on
// the queries' connection (inside the decision's transaction, so what it reads is
// what the ledger row records). Every answer is bounded in size.
type People struct{ qs *Queries }

// People returns the directory as decisions read it.
func (qs *Queries) People() People { return People{qs: qs} }

var _ policy.People = People{}

// requirementArgs are the eligibility fragment's seven parameters.
func requirementArgs(r policy.Requirement) []any {
	return []any{nonNil(r.Required), lowerAll(r.Filter.TagsOneOf), lowerAll(r.Filter.TagsAllOf),
		r.Filter.StateCredential, strings.ToLower(r.State), r.Filter.CareTeam, r.CareTeam}
}

func lowerAll(s []string) []string {
	out := make([]string, len(s))
	for i, x := range s {
		out[i] = strings.ToLower(x)
	}
	return out
}

// Eligible implements policy.People.
func (p People) Eligible(ctx context.Context, r policy.Requirement, sample int) (policy.EligibleSet, error) {
	args := requirementArgs(r)
	var n, all int64
	if err := p.qs.db.QueryRow(ctx, q("EligibleCount"), args...).Scan(&n, &all); err != nil {
		return policy.EligibleSet{}, fmt.Errorf("count eligible for %s: %w", r.Stage, err)
	}
	set := policy.EligibleSet{Count: int(n), Excluded: int(max(all-n, 0))}
	if sample > 0 && n > 0 {
		users, err := collect(ctx, p.qs, "sample eligible", q("EligibleSample"), func(r pgx.CollectableRow) (policy.User, error) { return scanUser(r) },
			append(args, sample)...)
		if err != nil {
			return policy.EligibleSet{}, err
		}
		set.Sample = users
	}
	return set, nil
}

// Check implements policy.People.
func (p People) Check(ctx context.Context, id string, r policy.Requirement) (policy.UserCheck, error) {
	var u policy.User
	var known, member bool
	err := p.qs.db.QueryRow(ctx, q("UserCheck"), id, r.CareTeam).Scan(&u.ID, &u.Name, &u.Email, &u.Role, &u.Active, &u.Permissions,
		&u.Tags, &u.Credentials, &u.TicketPriority, &u.EmailNotifications, &known, &member)
	if errors.Is(err, pgx.ErrNoRows) {
		return policy.UserCheck{}, nil
	}
	if err != nil {
		return policy.UserCheck{}, fmt.Errorf("check user %q: %w", id, err)
	}
	return policy.UserCheck{User: u, Found: true, Reason: r.Reject(u, known, member)}, nil
}

// Team implements policy.People.
func (p People) Team(ctx context.Context, team string, r policy.Requirement) ([]policy.User, bool, error) {
	var found bool
	if err := p.qs.db.QueryRow(ctx, q("TeamExists"), team).Scan(&found); err != nil {
		return nil, false, fmt.Errorf("find team %q: %w", team, err)
	}
	if !found {
		return nil, false, nil
	}
	users, err := collect(ctx, p.qs, "eligible members of "+team, q("TeamEligible"),
		func(r pgx.CollectableRow) (policy.User, error) { return scanUser(r) }, append(requirementArgs(r), team)...)
	return users, true, err
}

// Turns implements policy.People. It locks the scope first, so the view it reads
// is the one the decision's turn is recorded against.
func (p People) Turns(ctx context.Context, scope string, r policy.Requirement, order policy.TurnOrder) (policy.TurnView, error) {
	if _, err := p.qs.db.Exec(ctx, q("TurnScopeLock"), scope); err != nil {
		return policy.TurnView{}, fmt.Errorf("lock turns %s: %w", scope, err)
	}
	var v policy.TurnView
	var n, counted int64
	var cID, nID *string
	var cOrd, cW, cServed, nOrd, nW *int64
	err := p.qs.db.QueryRow(ctx, q("TurnView"), append(requirementArgs(r), scope, order.Weighted, order.Team)...).Scan(
		&n, &counted, &v.MinLevel, &v.MaxLevel, &v.Complete, &cID, &cOrd, &cW, &cServed, &nID, &nOrd, &nW)
	if err != nil {
		return v, fmt.Errorf("read turns %s: %w", scope, err)
	}
	v.Eligible, v.Counted = int(n), int(counted)
	if cID != nil {
		v.BestCounted = &policy.TurnCandidate{User: policy.User{ID: *cID}, Order: *cOrd, Weight: *cW, Served: *cServed, Counted: true}
	}
	if nID != nil {
		v.BestNew = &policy.TurnCandidate{User: policy.User{ID: *nID}, Order: *nOrd, Weight: *nW}
	}
	return v, nil
}

// TurnCounts returns each person's turns in a scope.
func (qs *Queries) TurnCounts(ctx context.Context, scope string) (map[string]int64, error) {
	rows, err := qs.db.Query(ctx, q("TurnCounts"), scope)
	if err != nil {
		return nil, fmt.Errorf("turn counts %s: %w", scope, err)
	}
	defer rows.Close()
	out := map[string]int64{}
	for rows.Next() {
		var id string
		var n int64
		if err := rows.Scan(&id, &n); err != nil {
			return nil, err
		}
		out[id] = n
	}
	return out, rows.Err()
}

// Explained is a recorded decision with the size of its explanation.
type Explained struct {
	Decision    policy.Decision
	Requirement *policy.Requirement
	RuleTrace   []policy.RuleTrace
	// Candidates is how many candidates the ledger holds for it.
	Candidates int
}

// ExplanationGet reads a decision's explanation header, or ErrNotFound.
func (qs *Queries) ExplanationGet(ctx context.Context, k DecisionKey) (Explained, error) {
	var req, trace, body []byte
	var n *int32
	err := qs.db.QueryRow(ctx, q("ExplanationGet"), k.WorkflowID, k.Stage, k.Seq).Scan(&req, &trace, &n, &body)
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
	return e, nil
}

// ExplanationCandidates reads a page of a decision's candidates: limit from offset.
func (qs *Queries) ExplanationCandidates(ctx context.Context, k DecisionKey, offset, limit int) ([]policy.User, error) {
	return collect(ctx, qs, "candidates of "+k.String(), q("ExplanationCandidates"),
		func(r pgx.CollectableRow) (policy.User, error) { return scanUser(r) }, k.WorkflowID, k.Stage, k.Seq, offset, limit)
}

// ExplanationIsCandidate reports whether a user was a candidate of a decision.
func (qs *Queries) ExplanationIsCandidate(ctx context.Context, k DecisionKey, id string) (bool, error) {
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

// ExclusionPage is a page of the directory's users who were not candidates.
type ExclusionPage struct {
	Excluded []policy.Exclusion
	// Next is the position to pass as after for the next page; 0 at the end.
	Next int64
}

// ExplanationExcluded reads a page of those who were not a decision's candidates,
// in directory order after position after, each with why they do not meet the
// requirement as the directory is now (or that they do now).
func (qs *Queries) ExplanationExcluded(ctx context.Context, k DecisionKey, r policy.Requirement, after int64, limit int) (ExclusionPage, error) {
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

// TurnsLock locks a scope's turns until the transaction ends, for a caller that
// computes its view itself (a reassignment group, whose members are few).
func (qs *Queries) TurnsLock(ctx context.Context, scope string) error {
	if _, err := qs.db.Exec(ctx, q("TurnScopeLock"), scope); err != nil {
		return fmt.Errorf("lock turns %s: %w", scope, err)
	}
	return nil
}

// TurnRecord stores a turn taken.
func (qs *Queries) TurnRecord(ctx context.Context, turn policy.Turn) error {
	for _, t := range turn.Turns() {
		if _, err := qs.db.Exec(ctx, q("TurnSet"), t.Scope, t.User.ID, t.Served); err != nil {
			return fmt.Errorf("record turn %s of %s: %w", t.Scope, t.User.ID, err)
		}
	}
	return nil
}
