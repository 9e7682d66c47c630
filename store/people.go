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
	sets map[string]eligibleSet
}

// People returns the directory as decisions read it.
func (qs *Queries) People() *People { return &People{qs: qs, sets: map[string]eligibleSet{}} }

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

// eligibleSet is an eligible set as a decision reads it: never the full list.
type eligibleSet struct {
	id, size, all int64 // all: the directory's size
	head          []string
}

// set finds, or makes once, the eligible set of a requirement at the directory's
// current generation; a transaction reads each set once.
func (p *People) set(ctx context.Context, r policy.Requirement) (eligibleSet, error) {
	key, doc, err := requirementKey(r)
	if err != nil {
		return eligibleSet{}, err
	}
	if s, ok := p.sets[key]; ok {
		return s, nil
	}
	var s eligibleSet
	get := func() error {
		return p.qs.db.QueryRow(ctx, q("EligibleSetGet"), key, policy.SampleSize).Scan(&s.id, &s.size, &s.head, &s.all)
	}
	err = get()
	if errors.Is(err, pgx.ErrNoRows) {
		args := append(append([]any{key, doc}, requirementArgs(r)...), policy.SampleSize)
		if _, err = p.qs.db.Exec(ctx, q("EligibleSetMake"), args...); err == nil {
			err = get()
		}
	}
	if err != nil {
		return eligibleSet{}, fmt.Errorf("eligible set for %s: %w", key, err)
	}
	p.sets[key] = s
	return s, nil
}

// SetID is the eligible set this transaction used for a requirement, for the
// ledger row to refer to; 0 when none was read.
func (p *People) SetID(r policy.Requirement) int64 {
	key, _, err := requirementKey(r)
	if err != nil {
		return 0
	}
	return p.sets[key].id
}

// Eligible implements policy.People: the count and head of the requirement's
// eligible set.
func (p *People) Eligible(ctx context.Context, r policy.Requirement, sample int) (policy.EligibleSet, error) {
	s, err := p.set(ctx, r)
	if err != nil {
		return policy.EligibleSet{}, err
	}
	return policy.EligibleSet{Count: int(s.size), Excluded: int(max(s.all-s.size, 0)), Sample: s.head[:min(len(s.head), max(sample, 0))]}, nil
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
	set, err := p.set(ctx, r)
	if err != nil {
		return policy.TurnView{}, err
	}
	// The lock, the pool and the first batch of the turn order in one round trip:
	// the scope is locked for as short a time as it can be. Each statement reads
	// after the one before, so the batch sees every turn committed before the
	// lock was granted. The pool's size is kept with it: a team's pool is its
	// eligible members, not the whole set.
	args := append(requirementArgs(r), scope, order.Team)
	b := &pgx.Batch{}
	b.Queue(q("TurnScopeLock"), scope)
	b.Queue(q("TurnPoolGet"), scope, set.id)
	b.Queue(q("TurnNext"), append(slices.Clone(args), 0, turnBatches[0], string(order.Stage))...)
	br := p.qs.db.SendBatch(ctx, b)
	var pool int64
	if _, err = br.Exec(); err == nil {
		err = br.QueryRow().Scan(&pool)
	}
	var first turnBatch
	entered := false
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		entered = true // nobody has a row yet: read the batch after entering them
		err = nil
	case err == nil:
		first, err = scanTurnBatch(order.Stage)(br.Query())
	}
	if cerr := br.Close(); err == nil {
		err = cerr
	}
	if err == nil && entered {
		pool, err = p.enter(ctx, scope, set.id, order)
		if err == nil {
			first, err = p.turnBatch(ctx, args, 0, turnBatches[0], order.Stage)
		}
	}
	if err != nil {
		return policy.TurnView{}, fmt.Errorf("turns %s: %w", scope, err)
	}
	v := policy.TurnView{Eligible: int(pool)}
	c, found, err := p.next(ctx, args, first, r, order, &v)
	if err != nil || !found {
		return v, err
	}
	v.Next = &c
	return v, nil
}

// turnBatches are how many of a scope's rows are read at a time: the first
// eligible is nearly always among the first few, so the first batch is small.
var turnBatches = []int{4, 64}

// turnRow is one row of a scope's turn order as TurnNext reads it.
type turnRow struct {
	c        policy.TurnCandidate
	eligible bool
	work     policy.Workload
}

// turnBatch is one batch of a scope's turn order.
type turnBatch struct {
	rows []turnRow
}

// scanTurnBatch reads a TurnNext batch for stage.
func scanTurnBatch(stage policy.Stage) func(pgx.Rows, error) (turnBatch, error) {
	return func(rows pgx.Rows, err error) (turnBatch, error) {
		if err != nil {
			return turnBatch{}, err
		}
		defer rows.Close()
		return readTurnBatch(rows, stage)
	}
}

func readTurnBatch(rows pgx.Rows, stage policy.Stage) (turnBatch, error) {
	var b turnBatch
	for rows.Next() {
		var r turnRow
		var status string
		var capStage int
		if err := rows.Scan(&r.c.User.ID, &r.c.Served, &r.c.Weight, &r.c.Order, &r.eligible,
			&status, &r.work.Delegate, &r.work.Capacity.Total, &capStage, &r.work.Open.Total, &r.work.Open.Stage); err != nil {
			return turnBatch{}, err
		}
		r.c.Counted = true
		r.work.Status = policy.Availability(status)
		b.rows = append(b.rows, r)
		if capStage > 0 {
			b.rows[len(b.rows)-1].work.Capacity.PerStage = map[policy.Stage]int{stage: capStage}
		}
	}
	return b, rows.Err()
}

func (p *People) turnBatch(ctx context.Context, args []any, offset, size int, stage policy.Stage) (turnBatch, error) {
	return scanTurnBatch(stage)(p.qs.db.Query(ctx, q("TurnNext"), append(slices.Clone(args), offset, size, string(stage))...))
}

// next finds the first eligible row of the scope's turn order whom the workload
// rules do not pass over, reading further batches after the first when it held
// nobody. A person with a limit at the stage is held (Hold) and checked again
// before being named, so two decisions never both fill their last slot.
func (p *People) next(ctx context.Context, args []any, b turnBatch, req policy.Requirement, order policy.TurnOrder,
	v *policy.TurnView) (policy.TurnCandidate, bool, error) {
	offset, size := 0, turnBatches[0]
	for i := 1; ; i = min(i+1, len(turnBatches)-1) {
		for _, r := range b.rows {
			if !r.eligible {
				continue
			}
			why, del, err := order.Take(ctx, p, req, r.c.User.ID, r.work)
			switch {
			case err != nil:
				return policy.TurnCandidate{}, false, err
			case del != nil:
				r.c.Delegated = del // away on an absence: their delegate takes the work
				return r.c, true, nil
			case why != "":
				v.Pass(r.c.User.ID, why)
				continue
			}
			if r.work.Capacity.Limits(order.Stage) {
				held, err := p.Hold(ctx, r.c.User.ID, order.Stage)
				if err != nil {
					return policy.TurnCandidate{}, false, err
				}
				if why := order.Refuse(r.c.User.ID, held); why != "" {
					v.Pass(r.c.User.ID, why)
					continue
				}
			}
			return r.c, true, nil
		}
		if len(b.rows) < size {
			return policy.TurnCandidate{}, false, nil
		}
		offset, size = offset+size, turnBatches[i]
		var err error
		if b, err = p.turnBatch(ctx, args, offset, size, order.Stage); err != nil {
			return policy.TurnCandidate{}, false, err
		}
	}
}

// Delegate implements policy.People: the chain of delegates from an away
// person (from) to the first who meets req and may take new work, holding
// their workload.
func (p *People) Delegate(ctx context.Context, from, first string, req policy.Requirement, order policy.TurnOrder) (policy.Delegation, error) {
	return policy.FollowDelegates(from, first, order.Stage, func(id string) (bool, policy.Workload, error) {
		if _, excluded := order.Exclude[id]; excluded {
			return false, policy.Workload{}, nil
		}
		c, err := p.Check(ctx, id, req)
		if err != nil || !c.Eligible() {
			return false, policy.Workload{}, err
		}
		w, err := p.Hold(ctx, id, order.Stage)
		return true, w, err
	})
}

// Hold implements policy.People: the person's workload at stage, their row
// locked until the transaction ends (alone when they have a limit there, so
// decisions filling their last slot go one at a time; shared otherwise), and
// offline when they were deactivated after their turn was read.
func (p *People) Hold(ctx context.Context, id string, stage policy.Stage) (policy.Workload, error) {
	w, limited, err := p.qs.workload(ctx, q("UserWorkload"), id, stage)
	if err != nil {
		return w, err
	}
	// The turn was read before this: a deactivation or a status change may have
	// committed since. Locking the row, with or without a limit, orders this
	// decision with them, and what it reads after the lock is what they wrote.
	var active bool
	if limited {
		err = p.qs.db.QueryRow(ctx, q("UserWorkloadLock"), id).Scan(&active)
		if err == nil {
			w, _, err = p.qs.workload(ctx, q("UserWorkload"), id, stage)
		}
	} else {
		var status string
		err = p.qs.db.QueryRow(ctx, q("UserHoldShare"), id).Scan(&active, &status)
		w.Status = policy.Availability(status)
	}
	if errors.Is(err, pgx.ErrNoRows) {
		return policy.Workload{}, nil // not in the directory: the caller's check refuses them
	}
	if err != nil {
		return policy.Workload{}, fmt.Errorf("hold the workload of %q: %w", id, err)
	}
	if !active {
		w.Status = policy.Offline // deactivated since their turn was read
	}
	return w, nil
}

// LeastLoaded implements policy.People: the scope's pool entered as for Turns,
// then every eligible member weighed by open stages and spare capacity.
func (p *People) LeastLoaded(ctx context.Context, scope string, r policy.Requirement, order policy.TurnOrder) (policy.TurnView, error) {
	set, err := p.set(ctx, r)
	if err != nil {
		return policy.TurnView{}, err
	}
	if err := p.qs.TurnsLock(ctx, scope); err != nil {
		return policy.TurnView{}, err
	}
	var pool int64
	err = p.qs.db.QueryRow(ctx, q("TurnPoolGet"), scope, set.id).Scan(&pool)
	if errors.Is(err, pgx.ErrNoRows) {
		pool, err = p.enter(ctx, scope, set.id, order)
	}
	if err != nil {
		return policy.TurnView{}, fmt.Errorf("least loaded %s: %w", scope, err)
	}
	rows, err := p.qs.db.Query(ctx, q("TurnLoads"), append(requirementArgs(r), scope, set.id, string(order.Stage))...)
	if err != nil {
		return policy.TurnView{}, fmt.Errorf("least loaded %s: %w", scope, err)
	}
	var cs []policy.LoadCandidate
	for rows.Next() {
		var c policy.LoadCandidate
		var status string
		var capStage int
		if err := rows.Scan(&c.Turn.User.ID, &c.Turn.Served, &c.Turn.Weight, &c.Turn.Order, &status, &c.Work.Delegate,
			&c.Work.Capacity.Total, &capStage, &c.Work.Open.Total, &c.Work.Open.Stage); err != nil {
			rows.Close()
			return policy.TurnView{}, err
		}
		c.Turn.Counted, c.Work.Status = true, policy.Availability(status)
		if capStage > 0 {
			c.Work.Capacity.PerStage = map[policy.Stage]int{order.Stage: capStage}
		}
		cs = append(cs, c)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return policy.TurnView{}, fmt.Errorf("least loaded %s: %w", scope, err)
	}
	v := policy.TurnView{Eligible: int(pool)}
	for len(cs) > 0 {
		best, ok := policy.PickLeastLoaded(cs, order, &v)
		if !ok {
			break
		}
		if best.Work.Capacity.Limits(order.Stage) {
			held, err := p.Hold(ctx, best.Turn.User.ID, order.Stage)
			if err != nil {
				return policy.TurnView{}, err
			}
			if why := order.Refuse(best.Turn.User.ID, held); why != "" {
				// Filled by a decision that committed since the read: weigh the rest.
				cs = slices.DeleteFunc(cs, func(c policy.LoadCandidate) bool { return c.Turn.User.ID == best.Turn.User.ID })
				v = policy.TurnView{Eligible: int(pool)}
				continue
			}
		}
		v.Next = &best.Turn
		break
	}
	return v, nil
}

// workload reads a person's status, limits and open stages at stage with sql
// (UserWorkload), and whether any limit applies there.
func (qs *Queries) workload(ctx context.Context, sql, id string, stage policy.Stage) (policy.Workload, bool, error) {
	var w policy.Workload
	var status string
	var capCapture, capReview, capAck int
	err := qs.db.QueryRow(ctx, sql, id, string(stage)).Scan(&status, &w.Delegate, &w.Capacity.Total, &capCapture, &capReview, &capAck,
		&w.Open.Total, &w.Open.Stage)
	if errors.Is(err, pgx.ErrNoRows) {
		return policy.Workload{}, false, nil
	}
	if err != nil {
		return policy.Workload{}, false, fmt.Errorf("workload of %q: %w", id, err)
	}
	w.Status = policy.Availability(status)
	w.Capacity.PerStage = perStage(capCapture, capReview, capAck)
	return w, w.Capacity.Limits(stage), nil
}

// perStage is the per-stage limits set (nil when none).
func perStage(capture, review, acknowledge int) map[policy.Stage]int {
	var m map[policy.Stage]int
	for s, n := range map[policy.Stage]int{policy.StageCapture: capture, policy.StageReview: review, policy.StageAcknowledge: acknowledge} {
		if n > 0 {
			if m == nil {
				m = map[policy.Stage]int{}
			}
			m[s] = n
		}
	}
	return m
}

// enter gives the set's members without a count in scope one at the scope's
// entry level (policy.TurnLevels.EntryLevel), records the pool and returns its
// size.
func (p *People) enter(ctx context.Context, scope string, set int64, order policy.TurnOrder) (int64, error) {
	var l policy.TurnLevels
	var counted, missing int64
	if err := p.qs.db.QueryRow(ctx, q("TurnPoolLevels"), scope, set, order.Team).Scan(&counted, &l.MinLevel, &l.MaxLevel,
		&l.Complete, &missing); err != nil {
		return 0, fmt.Errorf("turn levels %s: %w", scope, err)
	}
	l.Counted = int(counted)
	if missing > 0 {
		if _, err := p.qs.db.Exec(ctx, q("TurnPoolEnter"), scope, set, order.Team, l.EntryLevel(), order.Weighted); err != nil {
			return 0, fmt.Errorf("enter newcomers in %s: %w", scope, err)
		}
	}
	if _, err := p.qs.db.Exec(ctx, q("TurnPoolMark"), scope, set, counted+missing); err != nil {
		return 0, fmt.Errorf("record turn pool %s: %w", scope, err)
	}
	return counted + missing, nil
}

// TurnCounts returns each person's turns in a scope.
func (qs *Queries) TurnCounts(ctx context.Context, scope string) (map[string]int64, error) {
	return countsBy[int64](ctx, qs, "turn counts "+scope, q("TurnCounts"), scope)
}

// Explained is a recorded decision with the size of its explanation.
type Explained struct {
	Decision    policy.Decision
	Requirement *policy.Requirement
	// RuleTrace is every distribution rule tried: as the decision stored it,
	// or, for a decision that stored its RuleRecord, rendered from that
	// (ExplanationGet; ExplanationHead leaves it empty).
	RuleTrace  []policy.RuleTrace
	RuleRecord *policy.RuleRecord
	// RuleDrift says when the rendered trace may not be the one the decision
	// saw: re-evaluation picked differently, or the rules could not be re-read.
	RuleDrift policy.RuleDrift
	// Candidates is how many candidates the ledger holds for it.
	Candidates int
}

// ExplanationGet reads a decision's explanation header, or ErrNotFound, with
// the rules it tried: a decision that recorded its rules has its trace
// rendered from the record by re-evaluating its pinned policy version.
func (qs *Queries) ExplanationGet(ctx context.Context, k DecisionKey) (Explained, error) {
	e, err := qs.ExplanationHead(ctx, k)
	if err != nil || e.RuleRecord == nil {
		return e, err
	}
	return e, qs.renderRules(ctx, k, &e)
}

// ExplanationHead is ExplanationGet without rendering the rules tried, which
// reads and parses a policy version: for readers that ask who could take the
// stage, not why a rule matched.
func (qs *Queries) ExplanationHead(ctx context.Context, k DecisionKey) (Explained, error) {
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
