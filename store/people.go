package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/jackc/pgx/v5"

	"github.com/batonhq/baton/policy"
)

// People answers a decision's questions about the directory with indexed SQL, on
// the queries' connection (inside the decision's transaction, so what it reads is
// what the ledger row records). Every answer is bounded in size, and none scans
// everyone eligible except once per requirement and directory generation, when
// that requirement's eligible set is made.
type People struct {
	qs *Queries
	// sets caches, by requirement key, the eligible set this transaction read.
	sets map[string]int64
}

// People returns the directory as decisions read it.
func (qs *Queries) People() *People { return &People{qs: qs, sets: map[string]int64{}} }

var _ policy.People = (*People)(nil)

// requirementArgs are the eligibility fragment's seven parameters.
func requirementArgs(r policy.Requirement) []any {
	return []any{nonNil(r.Required), lowerAll(r.Filter.TagsOneOf), lowerAll(r.Filter.TagsAllOf),
		r.Filter.StateCredential, strings.ToLower(r.State), r.Filter.CareTeam, r.CareTeam}
}

// requirementKey is a requirement in a canonical form: what eligible sets are
// made and found by. The stage is left out: two stages that require the same
// thing have one set.
func requirementKey(r policy.Requirement) (string, []byte, error) {
	c := policy.Requirement{Required: slices.Sorted(slices.Values(r.Required)), Filter: r.Filter}
	c.Filter.TagsOneOf = slices.Sorted(slices.Values(lowerAll(r.Filter.TagsOneOf)))
	c.Filter.TagsAllOf = slices.Sorted(slices.Values(lowerAll(r.Filter.TagsAllOf)))
	if r.Filter.StateCredential {
		c.State = strings.ToLower(r.State)
	}
	if r.Filter.CareTeam {
		c.CareTeam = r.CareTeam
	}
	key, err := json.Marshal(c)
	if err != nil {
		return "", nil, fmt.Errorf("encode requirement: %w", err)
	}
	return string(key), key, nil
}

func lowerAll(s []string) []string {
	out := make([]string, len(s))
	for i, x := range s {
		out[i] = strings.ToLower(x)
	}
	return out
}

// set finds, or makes once, the eligible set of a requirement at the directory's
// current generation.
func (p *People) set(ctx context.Context, r policy.Requirement, sample int) (id int64, size, all int64, first []string, err error) {
	key, doc, err := requirementKey(r)
	if err != nil {
		return 0, 0, 0, nil, err
	}
	get := func() error {
		return p.qs.db.QueryRow(ctx, q("EligibleSetGet"), key, sample).Scan(&id, &size, &first, &all)
	}
	err = get()
	if errors.Is(err, pgx.ErrNoRows) {
		args := append(append([]any{key, doc}, requirementArgs(r)...), policy.SampleSize)
		if _, err = p.qs.db.Exec(ctx, q("EligibleSetMake"), args...); err == nil {
			err = get()
		}
	}
	if err != nil {
		return 0, 0, 0, nil, fmt.Errorf("eligible set for %s: %w", key, err)
	}
	p.sets[key] = id
	return id, size, all, first, nil
}

// SetID is the eligible set this transaction used for a requirement, for the
// ledger row to refer to; 0 when none was read.
func (p *People) SetID(r policy.Requirement) int64 {
	key, _, err := requirementKey(r)
	if err != nil {
		return 0
	}
	return p.sets[key]
}

// Eligible implements policy.People: the count and sample of the requirement's
// eligible set.
func (p *People) Eligible(ctx context.Context, r policy.Requirement, sample int) (policy.EligibleSet, error) {
	_, n, all, first, err := p.set(ctx, r, max(sample, 0))
	if err != nil {
		return policy.EligibleSet{}, err
	}
	set := policy.EligibleSet{Count: int(n), Excluded: int(max(all-n, 0))}
	if sample > 0 && len(first) > 0 {
		// In the set's (directory) order; a user deleted since is simply absent.
		users, err := collect(ctx, p.qs, "sample eligible", q("UsersByID"), func(r pgx.CollectableRow) (policy.User, error) { return scanUser(r) }, first)
		if err != nil {
			return policy.EligibleSet{}, err
		}
		set.Sample = users
	}
	return set, nil
}

// Check implements policy.People.
func (p *People) Check(ctx context.Context, id string, r policy.Requirement) (policy.UserCheck, error) {
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
func (p *People) Team(ctx context.Context, team string, r policy.Requirement) ([]policy.User, bool, error) {
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

// Turns implements policy.People. It locks the scope, makes sure everyone in the
// requirement's eligible set has a count there (once per scope and set: the
// newcomers enter at the scope's level), and reads whose turn it is from the
// scope's index.
func (p *People) Turns(ctx context.Context, scope string, r policy.Requirement, order policy.TurnOrder) (policy.TurnView, error) {
	if _, err := p.qs.db.Exec(ctx, q("TurnScopeLock"), scope); err != nil {
		return policy.TurnView{}, fmt.Errorf("lock turns %s: %w", scope, err)
	}
	set, size, _, _, err := p.set(ctx, r, 0)
	if err != nil {
		return policy.TurnView{}, err
	}
	tag, err := p.qs.db.Exec(ctx, q("TurnPoolMark"), scope, set)
	if err != nil {
		return policy.TurnView{}, fmt.Errorf("turn pool %s: %w", scope, err)
	}
	if tag.RowsAffected() == 1 {
		if err := p.enter(ctx, scope, set, order); err != nil {
			return policy.TurnView{}, err
		}
	}
	v := policy.TurnView{Eligible: int(size)}
	c, found, err := p.next(ctx, scope, r, order)
	if err != nil || !found {
		return v, err
	}
	c.Counted = true
	v.Next = &c
	if order.Team != "" {
		// A team's pool is its eligible members, not the whole set.
		v.Eligible = 0
		if members, _, err := p.Team(ctx, order.Team, r); err == nil {
			v.Eligible = len(members)
		}
	}
	return v, nil
}

// turnBatch is how many of a scope's rows next reads at a time: the first
// eligible is nearly always among the first few.
const turnBatch = 64

// next finds the first eligible row of the scope's turn order, batch by batch.
func (p *People) next(ctx context.Context, scope string, r policy.Requirement, order policy.TurnOrder) (policy.TurnCandidate, bool, error) {
	args := append(requirementArgs(r), scope, order.Team)
	for offset := 0; ; offset += turnBatch {
		rows, err := p.qs.db.Query(ctx, q("TurnNext"), append(args, offset, turnBatch)...)
		if err != nil {
			return policy.TurnCandidate{}, false, fmt.Errorf("next turn %s: %w", scope, err)
		}
		n := 0
		var pick *policy.TurnCandidate
		for rows.Next() {
			var c policy.TurnCandidate
			var eligible bool
			if err := rows.Scan(&c.User.ID, &c.Served, &c.Weight, &c.Order, &eligible); err != nil {
				rows.Close()
				return policy.TurnCandidate{}, false, fmt.Errorf("next turn %s: %w", scope, err)
			}
			n++
			if eligible && pick == nil {
				c.Counted = true
				pick = &c
			}
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return policy.TurnCandidate{}, false, fmt.Errorf("next turn %s: %w", scope, err)
		}
		if pick != nil {
			return *pick, true, nil
		}
		if n < turnBatch {
			return policy.TurnCandidate{}, false, nil
		}
	}
}

// enter gives the set's members without a count in scope one at the scope's
// entry level (policy.TurnLevels.EntryLevel).
func (p *People) enter(ctx context.Context, scope string, set int64, order policy.TurnOrder) error {
	var l policy.TurnLevels
	var counted, missing int64
	if err := p.qs.db.QueryRow(ctx, q("TurnPoolLevels"), scope, set, order.Team).Scan(&counted, &l.MinLevel, &l.MaxLevel,
		&l.Complete, &missing); err != nil {
		return fmt.Errorf("turn levels %s: %w", scope, err)
	}
	if missing == 0 {
		return nil
	}
	l.Counted = int(counted)
	if _, err := p.qs.db.Exec(ctx, q("TurnPoolEnter"), scope, set, order.Team, l.EntryLevel(), order.Weighted); err != nil {
		return fmt.Errorf("enter newcomers in %s: %w", scope, err)
	}
	return nil
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
func (qs *Queries) TurnRecord(ctx context.Context, t policy.Turn) error {
	if _, err := qs.db.Exec(ctx, q("TurnSet"), t.Scope, t.User.ID, t.Served, max(t.Weight, 1), t.Order); err != nil {
		return fmt.Errorf("record turn %s of %s: %w", t.Scope, t.User.ID, err)
	}
	return nil
}
