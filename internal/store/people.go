package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"

	"github.com/jackc/pgx/v5"

	"github.com/batonhq/baton/policy"
)

// People answers a decision's questions about the directory with indexed SQL, on
// the queries' connection (inside the decision's transaction, so what it reads is
// what the ledger row records). Every answer is bounded in size: a requirement's
// members are kept current by directory changes (requirements,
// requirement_members), so a decision reads a count and a head, and the turn
// orders read a few rows of one index. Nothing here scans everyone eligible
// except the first time a requirement is used, or a scope first decides under it.
type People struct {
	qs *Queries
	// reqs caches, by requirement key, the requirement this transaction read.
	reqs map[string]requirement
	// noWait: never wait for a person's row another transaction holds
	// (ErrPersonBusy instead): see NeverWait.
	noWait bool
	// users and teamPools cache, for the decisions of one transaction (a
	// batch), the users read for their notifications and the team pool
	// sizes read for their turns.
	users     map[string]policy.User
	unknown   map[string]bool // ids read and not in the directory
	teamPools map[string]int
	// workloads are the workloads Prefetch read, by id and stage, for Hold's
	// first read.
	workloads map[string]prefetched
	// applies are decisions' writes queued by Apply, sent with the next
	// statement.
	applies []DecisionWrite
	// known are the turn orders this transaction read, by scope, requirement
	// and stage, as the turns it took since moved them (see knownOrder);
	// expect is how many decisions the transaction expects to make.
	known  map[string]*knownOrder
	expect int
	// ready: the scopes (and requirements) this transaction has locked and
	// pooled; loaded: the people whose load rows it holds.
	ready  map[string]bool
	loaded map[string]bool
}

// LockLoads locks the rows a decision of stage k giving it to id (or, id
// empty, to no one) writes: the stage's, and the load rows of id and of the
// stage's present holder. After NeverWait it does not wait: ErrPersonBusy when
// another transaction holds one of them. reassigned is set when the stage may
// have a holder already: nothing to do when it has none and this transaction
// holds id's load row already, or id is empty.
func (p *People) LockLoads(ctx context.Context, k policy.DecisionKey, id string, reassigned bool) error {
	if (id == "" || p.loaded[id]) && !reassigned {
		return nil
	}
	var all bool
	if err := p.queryRow(ctx, q("LoadsLockSkip"), id, k.WorkflowID, string(k.Stage)).Scan(&all); err != nil {
		return fmt.Errorf("lock the loads of %s: %w", k, err)
	}
	if !all {
		return ErrPersonBusy
	}
	p.Loaded(id)
	return nil
}

// Loaded notes that this transaction holds id's load row (a decision gave
// them a stage).
func (p *People) Loaded(id string) {
	if p.loaded == nil {
		p.loaded = map[string]bool{}
	}
	p.loaded[id] = true
}

// User is UserGet, read once per transaction.
func (p *People) User(ctx context.Context, id string) (policy.User, error) {
	if u, ok := p.users[id]; ok {
		return u, nil
	}
	if p.unknown[id] {
		return policy.User{}, fmt.Errorf("user %q: %w", id, ErrNotFound)
	}
	u, err := scanUser(p.queryRow(ctx, q("UserGet"), id))
	if errors.Is(err, pgx.ErrNoRows) {
		return policy.User{}, fmt.Errorf("user %q: %w", id, ErrNotFound)
	}
	if err != nil {
		return policy.User{}, fmt.Errorf("get user %q: %w", id, err)
	}
	p.keep(u)
	return u, nil
}

// queryRow runs one statement that returns a row, the writes Apply queued
// sent before it in the same round trip.
func (p *People) queryRow(ctx context.Context, sql string, args ...any) pgx.Row {
	if len(p.applies) == 0 {
		return p.qs.db.QueryRow(ctx, sql, args...)
	}
	b := &pgx.Batch{}
	applied, err := p.queueApplies(b)
	if err != nil {
		return errRow{err}
	}
	b.Queue(sql, args...)
	br := p.qs.db.SendBatch(ctx, b)
	return batchRow{br, readApplies(br, applied)}
}

// batchRow is the row of a batch's last statement, read after the others
// (err, theirs).
type batchRow struct {
	br  pgx.BatchResults
	err error
}

// errRow is a row that was never read: err says why.
type errRow struct{ err error }

func (r errRow) Scan(...any) error { return r.err }

func (r batchRow) Scan(dest ...any) error {
	err := r.err
	if err == nil {
		err = r.br.QueryRow().Scan(dest...)
	}
	if cerr := r.br.Close(); err == nil {
		err = cerr
	}
	return err
}

func (p *People) keep(u policy.User) {
	if p.users == nil {
		p.users = map[string]policy.User{}
	}
	p.users[u.ID] = u
}

// workloadKey is where People.workloads keeps id's workload at stage.
func workloadKey(id string, stage policy.Stage) string { return id + "\x00" + string(stage) }

// prefetched is a workload Prefetch read.
type prefetched struct {
	w       policy.Workload
	limited bool
}

// Prefetch reads, in one round trip, what a recorded assignment reads before
// it writes: whether key holds a decision already (a retry whose first attempt
// committed) and, unless id is "", id's directory row and workload at stage,
// which User and Hold then answer from instead of reading them one at a time.
func (p *People) Prefetch(ctx context.Context, key policy.DecisionKey, id string, stage policy.Stage) (decided bool, err error) {
	if err := p.flush(ctx); err != nil {
		return false, err
	}
	b := &pgx.Batch{}
	b.Queue(q("DecisionExists"), key.WorkflowID, key.Stage, key.Seq)
	if id != "" {
		b.Queue(q("UserGet"), id)
		b.Queue(q("UserWorkload"), id, string(stage))
	}
	br := p.qs.db.SendBatch(ctx, b)
	defer br.Close() //nolint:errcheck // closed, and checked, below when it is read through
	if err := br.QueryRow().Scan(&decided); err != nil {
		return false, fmt.Errorf("whether %s is decided: %w", key, err)
	}
	if id == "" {
		return decided, br.Close()
	}
	u, err := scanUser(br.QueryRow())
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		if p.unknown == nil {
			p.unknown = map[string]bool{}
		}
		p.unknown[id] = true
	case err != nil:
		return false, fmt.Errorf("get user %q: %w", id, err)
	default:
		p.keep(u)
	}
	w, limited, err := scanWorkload(br.QueryRow(), id, stage)
	if err != nil {
		return false, err
	}
	if p.workloads == nil {
		p.workloads = map[string]prefetched{}
	}
	p.workloads[workloadKey(id, stage)] = prefetched{w, limited}
	return decided, br.Close()
}

// NeverWait makes every later lock on a person's rows skip a row another
// transaction holds and report ErrPersonBusy, leaving the transaction usable.
// A transaction that decides several stages takes people's rows in the order
// its turns name them, which no other transaction can know; waiting for a
// second person while holding a first could deadlock two such transactions,
// so after its first decision it never waits.
func (p *People) NeverWait() { p.noWait = true }

// Waits reports whether locks on people's rows wait (no NeverWait).
func (p *People) Waits() bool { return !p.noWait }

// People returns the directory as decisions read it.
func (qs *Queries) People() *People { return &People{qs: qs, reqs: map[string]requirement{}} }

var _ policy.People = (*People)(nil)

// requirementKey is a requirement in a canonical form: what requirements are
// made and found by. The stage is left out: two stages that require the same
// thing share one.
func requirementKey(r policy.Requirement) (policy.Requirement, string, error) {
	c := policy.Requirement{Required: slices.Sorted(slices.Values(r.Required)), Filter: r.Filter,
		Roles: slices.Sorted(slices.Values(r.Roles))}
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
		return c, "", fmt.Errorf("encode requirement: %w", err)
	}
	return c, string(key), nil
}

func lowerAll(s []string) []string {
	out := make([]string, len(s))
	for i, x := range s {
		out[i] = strings.ToLower(x)
	}
	return out
}

// requirement is a requirement as a decision reads it: never its members.
type requirement struct {
	id, size, gen, all int64 // all: the directory's size
	head               []string
}

// RequirementRef is what a stage decision's ledger row records of who could
// take the stage: the requirement and the directory generation it was read at.
type RequirementRef struct {
	ID, Generation int64
}

// set finds the requirement, making it (or making it live again) when needed:
// the one scan of everyone eligible, once per requirement. A transaction reads
// each requirement once.
func (p *People) set(ctx context.Context, r policy.Requirement) (requirement, error) {
	c, key, err := requirementKey(r)
	if err != nil {
		return requirement{}, err
	}
	if s, ok := p.reqs[key]; ok {
		return s, nil
	}
	if err := p.flush(ctx); err != nil {
		return requirement{}, err
	}
	var s requirement
	var live bool
	// The requirement and the note that it was used, in one round trip.
	get := func() error {
		b := &pgx.Batch{}
		b.Queue(q("RequirementGet"), key, policy.SampleSize)
		b.Queue(q("RequirementTouch"), key)
		br := p.qs.db.SendBatch(ctx, b)
		err := br.QueryRow().Scan(&s.id, &live, &s.size, &s.gen, &s.all, &s.head)
		if err == nil {
			_, err = br.Exec()
		}
		if cerr := br.Close(); err == nil {
			err = cerr
		}
		return err
	}
	err = get()
	if errors.Is(err, pgx.ErrNoRows) || (err == nil && !live) {
		if err = p.qs.requirementMake(ctx, c, key); err == nil {
			err = get()
		}
	}
	if err != nil {
		return requirement{}, fmt.Errorf("requirement %s: %w", key, err)
	}
	p.reqs[key] = s
	return s, nil
}

// requirementMake records a requirement and makes it live from the directory as
// it is now, with the directory lock held shared, and lists the members its
// turn pools (if it had been retired) have not entered.
func (qs *Queries) requirementMake(ctx context.Context, c policy.Requirement, key string) error {
	if _, err := qs.db.Exec(ctx, q("DirectoryLockShared")); err != nil {
		return err
	}
	sql, args, err := named("RequirementMake", Args{"key": key, "requirement": []byte(key), "required": nonNil(c.Required),
		"tags_one_of": nonNil(c.Filter.TagsOneOf), "tags_all_of": nonNil(c.Filter.TagsAllOf),
		"state_credential": c.Filter.StateCredential, "state": c.State, "care_team_filter": c.Filter.CareTeam,
		"care_team": c.CareTeam, "roles": nonNil(c.Roles)})
	if err != nil {
		return err
	}
	if _, err := qs.db.Exec(ctx, sql, args...); err != nil {
		return err
	}
	var id int64
	err = qs.db.QueryRow(ctx, q("RequirementFill"), key).Scan(&id)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil // made live by a transaction that committed first
	}
	if err != nil {
		return err
	}
	_, err = qs.db.Exec(ctx, q("TurnPendingRepair"), id)
	return err
}

// Ref is the requirement this transaction read for r, for the ledger row to
// refer to; zero when none was read.
func (p *People) Ref(r policy.Requirement) RequirementRef {
	_, key, err := requirementKey(r)
	if err != nil {
		return RequirementRef{}
	}
	s := p.reqs[key]
	return RequirementRef{ID: s.id, Generation: s.gen}
}

// Eligible implements policy.People: the count and head of the requirement's
// members now.
func (p *People) Eligible(ctx context.Context, r policy.Requirement, sample int) (policy.EligibleSet, error) {
	s, err := p.set(ctx, r)
	if err != nil {
		return policy.EligibleSet{}, err
	}
	return policy.EligibleSet{Count: int(s.size), Excluded: int(max(s.all-s.size, 0)), Sample: s.head[:min(len(s.head), max(sample, 0))]}, nil
}

// Check implements policy.People.
func (p *People) Check(ctx context.Context, id string, r policy.Requirement) (policy.UserCheck, error) {
	if err := p.flush(ctx); err != nil {
		return policy.UserCheck{}, err
	}
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

// Lookup implements policy.People: the users among ids, in one query.
func (p *People) Lookup(ctx context.Context, ids []string) ([]policy.User, error) {
	if err := p.flush(ctx); err != nil {
		return nil, err
	}
	return p.qs.UsersByID(ctx, ids)
}

var _ policy.ModuleDirectory = (*Queries)(nil)

// Team implements policy.People: the eligible members carry their ids only,
// all a care-team decision reads of them (the one it picks is held and read
// whole).
func (p *People) Team(ctx context.Context, team string, r policy.Requirement) ([]policy.User, bool, error) {
	if err := p.flush(ctx); err != nil {
		return nil, false, err
	}
	var found bool
	if err := p.qs.db.QueryRow(ctx, q("TeamExists"), team).Scan(&found); err != nil {
		return nil, false, fmt.Errorf("find team %q: %w", team, err)
	}
	if !found {
		return nil, false, nil
	}
	s, err := p.set(ctx, r)
	if err != nil {
		return nil, true, err
	}
	users, err := collect(ctx, p.qs, "eligible members of "+team, q("TeamEligible"),
		func(r pgx.CollectableRow) (policy.User, error) {
			var u policy.User
			err := r.Scan(&u.ID)
			return u, err
		}, s.id, team)
	return users, true, err
}

// turnQuery is how a turn order reads its scope: TurnNext (round robin) or
// TurnLeastLoaded.
type turnQuery struct {
	name string
	// read binds the query to a batch's arguments (turnArgs.at).
	read func(Args) (string, []any, error)
	// loads: the rows carry the load they are ordered by, to check against
	// the live load.
	loads bool
	// known: the plain round-robin order, which a batch's later decisions
	// may take from what its first read (knownOrder).
	known bool
}

var (
	turnNext = turnQuery{name: "turn order", known: true,
		read: func(a Args) (string, []any, error) { return named("TurnNext", a) }}
	turnNextEvenIfAway = turnQuery{name: "turn order",
		read: func(a Args) (string, []any, error) { return named("TurnNextEvenIfAway", a) }}
	turnLeastLoaded = turnQuery{name: "least loaded", loads: true,
		read: func(a Args) (string, []any, error) { return named("TurnLeastLoaded", a) }}
)

// Turns implements policy.People. It locks the scope, enters the people the
// scope has not counted yet (everyone in the requirement the first time the
// scope decides under it; after that only those listed in turn_pending by the
// directory changes since), and reads whose turn it is from the scope's index.
func (p *People) Turns(ctx context.Context, scope string, r policy.Requirement, order policy.TurnOrder) (policy.TurnView, error) {
	if order.EvenIfAway {
		return p.turns(ctx, scope, r, order, turnNextEvenIfAway)
	}
	return p.turns(ctx, scope, r, order, turnNext)
}

// LeastLoaded implements policy.People: Turns, read in least_loaded's order
// (fewest open stages, most spare capacity, then turn order) from the scope's
// index over the counts each assignment and completion moves.
func (p *People) LeastLoaded(ctx context.Context, scope string, r policy.Requirement, order policy.TurnOrder) (policy.TurnView, error) {
	return p.turns(ctx, scope, r, order, turnLeastLoaded)
}

func (p *People) turns(ctx context.Context, scope string, r policy.Requirement, order policy.TurnOrder, tq turnQuery) (policy.TurnView, error) {
	set, err := p.set(ctx, r)
	if err != nil {
		return policy.TurnView{}, err
	}
	// Everything that does not depend on the turn is read before this. The
	// lock, the pool, the newcomers and the first batch of the turn order in
	// one round trip: each statement reads after the one before, so the batch
	// sees every turn committed before the lock was granted.
	stage := string(order.Stage)
	if order.Team != "" {
		stage = "" // a team's scope serves every stage
	}
	args := turnArgs{scope: scope, req: set.id, team: order.Team, stage: string(order.Stage)}
	// A later decision of the same transaction (a batch) holds the scope's
	// lock already, has expired its ended absences and knows it pooled.
	ready := fmt.Sprint(scope, "\x00", set.id)
	again := p.ready[ready]
	mem := fmt.Sprint(ready, "\x00", args.stage)
	firstSize := p.firstSize()
	var first turnBatch
	known, hit := p.known[mem]
	hit = hit && tq.known
	if hit {
		// A later decision of a batch: the order as the batch's first
		// decision read it, moved by the turns taken since (People.Apply),
		// is not read again; the writes that moved it wait to go with the
		// batch's next statement.
		args.outOfTurn = known.outOfTurn
		first = turnBatch{rows: slices.Clone(known.rows)}
		firstSize = len(known.rows)
		if known.complete {
			firstSize++ // nobody is past these rows
		}
	} else if first, err = p.readTurns(ctx, set, stage, &args, order, tq, again, firstSize); err != nil {
		return policy.TurnView{}, err
	}
	if p.ready == nil {
		p.ready = map[string]bool{}
	}
	p.ready[ready] = true
	v := policy.TurnView{Eligible: int(set.size)}
	if order.Team != "" {
		key := fmt.Sprint(set.id, "/", order.Team)
		n, ok := p.teamPools[key]
		if !ok {
			err := p.qs.db.QueryRow(ctx, q("TeamPoolSize"), set.id, order.Team).Scan(&n)
			if errors.Is(err, pgx.ErrNoRows) {
				err = p.qs.db.QueryRow(ctx, q("TeamEligibleCount"), set.id, order.Team).Scan(&n)
			}
			if err != nil {
				return v, fmt.Errorf("%s %s: pool of team %s: %w", tq.name, scope, order.Team, err)
			}
			if p.teamPools == nil {
				p.teamPools = map[string]int{}
			}
			p.teamPools[key] = n
		}
		v.Eligible = n
	}
	c, found, err := p.next(ctx, tq, args, first, firstSize, r, order, &v)
	if err != nil || !found {
		return v, err
	}
	if !hit && tq.known && p.expect > 1 {
		if p.known == nil {
			p.known = map[string]*knownOrder{}
		}
		p.known[mem] = &knownOrder{scope: scope, stage: args.stage, rows: first.rows,
			complete: len(first.rows) < firstSize, outOfTurn: args.outOfTurn}
	}
	v.Next = &c
	return v, nil
}

// readTurns reads the first firstSize rows of the scope's turn order (args),
// with, in the same round trip, the writes People.Apply queued and, the first
// time this transaction reads the scope, its lock, its ended absences and
// whether it pooled the requirement's members; it enters those it has not
// counted yet. It sets args.outOfTurn.
func (p *People) readTurns(ctx context.Context, set requirement, stage string, args *turnArgs, order policy.TurnOrder,
	tq turnQuery, again bool, firstSize int) (turnBatch, error) {
	scope := args.scope
	b := &pgx.Batch{}
	applied, err := p.queueApplies(b)
	if err != nil {
		return turnBatch{}, err
	}
	if !again {
		b.Queue(q("TurnScopeLock"), scope)
		b.Queue(q("TurnAwayExpire"), scope)
		b.Queue(q("TurnPoolHas"), scope, set.id)
	}
	pendingQ := q("TurnPendingTake")
	if p.noWait {
		pendingQ = q("TurnPendingPeek")
	}
	b.Queue(pendingQ, scope, set.id)
	b.Queue(q("TurnOutOfTurnAny"), scope)
	if tq.loads {
		b.Queue(q("TurnScopeWithoutLoads"), scope)
	}
	sql, read, err := tq.read(args.at(0, firstSize))
	if err != nil {
		return turnBatch{}, err
	}
	b.Queue(sql, read...)
	br := p.qs.db.SendBatch(ctx, b)
	pooled := again
	var pending []string
	var first turnBatch
	err = readApplies(br, applied)
	if !again && err == nil {
		if _, err = br.Exec(); err == nil {
			if _, err = br.Exec(); err == nil {
				err = br.QueryRow().Scan(&pooled)
			}
		}
	}
	if err == nil {
		var rows pgx.Rows
		if rows, err = br.Query(); err == nil {
			pending, err = pgx.CollectRows(rows, pgx.RowTo[string])
		}
	}
	if err == nil {
		err = br.QueryRow().Scan(&args.outOfTurn)
	}
	var copyLoads bool
	if err == nil && tq.loads {
		err = br.QueryRow().Scan(&copyLoads)
	}
	if err == nil {
		first, err = scanTurnBatch(order.Stage)(br.Query())
	}
	if cerr := br.Close(); err == nil {
		err = cerr
	}
	if err == nil && copyLoads {
		// A round robin entered this scope: least_loaded orders by counts
		// its rows do not keep yet.
		if p.noWait {
			return turnBatch{}, ErrPersonBusy
		}
		if _, err = p.qs.db.Exec(ctx, q("TurnScopeLoadsOn"), scope); err == nil {
			first, err = p.turnBatch(ctx, tq, *args, 0, firstSize, order.Stage)
		}
	}
	if err == nil && (!pooled || len(pending) > 0) {
		if p.noWait {
			// Entering people locks their load rows, which may be held by
			// another decision: left, with the list, to a decision that
			// may wait.
			return turnBatch{}, ErrPersonBusy
		}
		if !pooled {
			pending = nil // everyone
		}
		args.outOfTurn = true // those entering may be away or full
		if err = p.enter(ctx, scope, set.id, stage, pending, order, tq.loads); err == nil && !pooled {
			_, err = p.qs.db.Exec(ctx, q("TurnPoolMark"), scope, set.id)
		}
		if err == nil {
			first, err = p.turnBatch(ctx, tq, *args, 0, firstSize, order.Stage)
		}
	}
	if err != nil {
		return turnBatch{}, fmt.Errorf("%s %s: %w", tq.name, scope, err)
	}
	return first, nil
}

// turnArgs are the turn queries' parameters.
type turnArgs struct {
	scope       string
	req         int64
	team, stage string
	// outOfTurn: the scope has rows out of turn (away or full), to name when
	// ahead of a pick; when it has none, they are not looked for.
	outOfTurn bool
}

// at are the arguments of a turn order's read of size rows from offset.
func (a turnArgs) at(offset, size int) Args {
	return Args{"scope": a.scope, "requirement_id": a.req, "team": a.team, "stage": a.stage, "offset": offset, "limit": size}
}

// turnBatches are how many of a scope's rows are read at a time: the first
// eligible is nearly always among the first few, so the first batch is small.
var turnBatches = []int{4, 64}

// Expect tells a transaction that will make n decisions: its first read of a
// round-robin scope reads enough rows for them all, and the later ones take
// their turns from what it read (knownOrder) instead of reading again.
func (p *People) Expect(n int) { p.expect = n }

// firstSize is how many rows a scope's first read takes.
func (p *People) firstSize() int {
	return max(turnBatches[0], min(p.expect+turnBatches[0], turnBatches[len(turnBatches)-1]))
}

// knownOrder is the head of a scope's round-robin order as a transaction read
// it, moved by the turns it took since: the rows are the first rows of the
// order as it now is (all of it when complete), because a turn taken moves
// one row back, by its new count, and a row moved past the last one known is
// dropped rather than guessed at. A later decision of the transaction takes
// its turn from them exactly as from a read, and its own writes go with the
// next statement (People.Apply). What other transactions commit meanwhile,
// which a read would see, is what a decision made a moment earlier would not
// have seen: the stage goes to whom the order named at the batch's start, and
// the write's check of the assignee (active, row share-locked) still holds.
type knownOrder struct {
	scope, stage string
	rows         []turnRow
	complete     bool
	outOfTurn    bool
}

// took moves the order by the turn t taken, and the stage given to assignee.
// It reports false when it cannot: the turn's row is not among those known.
func (k *knownOrder) took(t *policy.Turn, assignee string, stage policy.Stage) bool {
	i := slices.IndexFunc(k.rows, func(r turnRow) bool { return r.c.User.ID == t.User.ID })
	if i < 0 {
		return false
	}
	r := k.rows[i]
	k.rows = slices.Delete(k.rows, i, i+1)
	r.c.Served = t.Served
	switch {
	case k.complete || (len(k.rows) > 0 && r.key(false).compare(k.rows[len(k.rows)-1].key(false)) < 0):
		at, _ := slices.BinarySearchFunc(k.rows, r, func(a, b turnRow) int { return a.key(false).compare(b.key(false)) })
		k.rows = slices.Insert(k.rows, at, r)
	case len(k.rows) == 0:
		return false // nothing known is left
	}
	for j := range k.rows {
		if k.rows[j].c.User.ID == assignee {
			// OpenStageSet gave them the stage: their counts moved.
			k.rows[j].work.Open.Total++
			if string(stage) == k.stage {
				k.rows[j].work.Open.Stage++
			}
		}
	}
	return true
}

// moved keeps the known orders right after the write w: the order of w's turn
// moves; every other is forgotten, since w moved its assignee's counts, and
// all of them when w took the stage from someone (their counts moved too).
func (p *People) moved(w DecisionWrite) {
	if len(p.known) == 0 {
		return
	}
	var t *policy.Turn
	if w.Explanation != nil {
		t = w.Explanation.Turn
	}
	for key, k := range p.known {
		if t == nil || w.Key.Seq > 1 || k.scope != t.Scope || !k.took(t, w.Decision.Assignee, w.Key.Stage) {
			delete(p.known, key)
		}
	}
}

// turnRow is one row of a scope's turn order as TurnNext reads it.
type turnRow struct {
	c        policy.TurnCandidate
	eligible bool
	work     policy.Workload
	// rowOpen and rowSpare are the load the row is ordered by (least_loaded).
	rowOpen, rowSpare int
}

// turnBatch is one batch of a scope's turn order.
type turnBatch struct {
	rows []turnRow
}

// scanTurnBatch reads a turn batch for stage.
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
		if err := rows.Scan(&r.c.User.ID, &r.c.Served, &r.c.Weight, &r.c.Order, &r.rowOpen, &r.rowSpare, &r.eligible,
			&status, &r.work.Delegate, &r.work.Capacity.Total, &capStage, &r.work.Open.Total, &r.work.Open.Stage); err != nil {
			return turnBatch{}, err
		}
		r.c.Counted = true
		r.work.Status = policy.Availability(status)
		if capStage > 0 {
			r.work.Capacity.PerStage = map[policy.Stage]int{stage: capStage}
		}
		b.rows = append(b.rows, r)
	}
	return b, rows.Err()
}

func (p *People) turnBatch(ctx context.Context, tq turnQuery, args turnArgs, offset, size int, stage policy.Stage) (turnBatch, error) {
	if err := p.flush(ctx); err != nil {
		return turnBatch{}, err
	}
	sql, read, err := tq.read(args.at(offset, size))
	if err != nil {
		return turnBatch{}, err
	}
	return scanTurnBatch(stage)(p.qs.db.Query(ctx, sql, read...))
}

// maxResync bounds how often one least_loaded read puts a row's load right and
// reads again.
const maxResync = 3

// next finds the first eligible row of the scope's order whom the workload
// rules do not pass over, reading further batches after the first when it held
// nobody. A person with a limit at the stage is held (Hold) and checked again
// before being named, so two decisions never both fill their last slot. Those
// passed over on the way, and those out of turn ahead of the pick (read from
// their own index, outOfTurn), are the view's passed over, in the order's
// order.
func (p *People) next(ctx context.Context, tq turnQuery, args turnArgs, b turnBatch, firstSize int, req policy.Requirement, order policy.TurnOrder,
	v *policy.TurnView) (policy.TurnCandidate, bool, error) {
	offset, size, resynced := 0, firstSize, 0
	var passed []passing
	// restart puts the rows of stale right and reads the order again from
	// the start.
	restart := func(stale string) error {
		if p.noWait {
			return ErrPersonBusy // putting their row right locks their load row
		}
		if err := p.flush(ctx); err != nil {
			return err
		}
		if _, err := p.qs.db.Exec(ctx, q("TurnLoadSync"), []string{stale}); err != nil {
			return fmt.Errorf("resync the load of %q: %w", stale, err)
		}
		resynced++
		offset, size, passed = 0, turnBatches[0], nil
		var err error
		b, err = p.turnBatch(ctx, tq, args, 0, turnBatches[0], order.Stage)
		return err
	}
	// found ends the search at pick (nil: nobody), unless someone out of turn
	// ahead of it could take the stage after all: their row was out of step.
	found := func(pick *turnRow) (stale string, err error) {
		if !args.outOfTurn {
			v.PassInOrder(inOrder(passed, nil))
			return "", nil
		}
		outs, stale, err := p.outOfTurn(ctx, tq, args, order, pick, resynced < maxResync)
		if err != nil || stale != "" {
			return stale, err
		}
		v.PassInOrder(inOrder(passed, outs))
		return "", nil
	}
outer:
	for i := 1; ; i = min(i+1, len(turnBatches)-1) {
		for _, r := range b.rows {
			if !r.eligible {
				continue
			}
			if tq.loads && resynced < maxResync && !inStep(r, order.Stage) {
				// The row's copy of the load is not the load.
				if err := restart(r.c.User.ID); err != nil {
					return policy.TurnCandidate{}, false, err
				}
				i = 0
				continue outer
			}
			// A turn order gives an away person's turn to their delegate;
			// least_loaded weighs people, not turns, and passes them over.
			why, del, err := order.Refuse(r.c.User.ID, r.work), (*policy.Delegation)(nil), error(nil)
			if !tq.loads {
				why, del, err = order.Take(ctx, p, req, r.c.User.ID, r.work)
			}
			switch {
			case err != nil:
				return policy.TurnCandidate{}, false, err
			case del != nil:
				r.c.Delegated = del // away on an absence: their delegate takes the work
			case why != "":
				passed = append(passed, passing{r.key(tq.loads), policy.Passing{ID: r.c.User.ID, Why: why}})
				continue
			}
			if del == nil && r.work.Capacity.Limits(order.Stage) {
				held, err := p.Hold(ctx, r.c.User.ID, order.Stage)
				if err != nil {
					return policy.TurnCandidate{}, false, err
				}
				if why := order.Refuse(r.c.User.ID, held); why != "" {
					passed = append(passed, passing{r.key(tq.loads), policy.Passing{ID: r.c.User.ID, Why: why}})
					continue
				}
			}
			stale, err := found(&r)
			if err != nil {
				return policy.TurnCandidate{}, false, err
			}
			if stale != "" {
				if err := restart(stale); err != nil {
					return policy.TurnCandidate{}, false, err
				}
				i = 0
				continue outer
			}
			r.c.Open = r.work.Open.Total
			return r.c, true, nil
		}
		if len(b.rows) < size {
			stale, err := found(nil)
			if err != nil || stale == "" {
				return policy.TurnCandidate{}, false, err
			}
			if err := restart(stale); err != nil {
				return policy.TurnCandidate{}, false, err
			}
			i = 0
			continue
		}
		offset, size = offset+size, turnBatches[i]
		var err error
		if b, err = p.turnBatch(ctx, tq, args, offset, size, order.Stage); err != nil {
			return policy.TurnCandidate{}, false, err
		}
	}
}

// passing is someone passed over, with their place in the order.
type passing struct {
	key turnKey
	policy.Passing
}

// turnKey is a row's place in a scope's order: level, weight (descending) and
// order for a turn order; open stages and spare capacity (descending) first,
// and the user last, for least_loaded.
type turnKey struct {
	n    [5]int64
	user string
}

func (r turnRow) key(loads bool) turnKey {
	level := r.c.Served / max(r.c.Weight, 1)
	if loads {
		return turnKey{[5]int64{int64(r.rowOpen), -int64(r.rowSpare), level, -r.c.Weight, r.c.Order}, r.c.User.ID}
	}
	return turnKey{n: [5]int64{level, -r.c.Weight, r.c.Order}}
}

func (k turnKey) compare(o turnKey) int {
	if c := slices.Compare(k.n[:], o.n[:]); c != 0 {
		return c
	}
	return strings.Compare(k.user, o.user)
}

// inOrder merges two lists, each in the order's order, into one.
func inOrder(a, b []passing) []policy.Passing {
	out := make([]policy.Passing, 0, len(a)+len(b))
	for len(a) > 0 || len(b) > 0 {
		if len(b) == 0 || (len(a) > 0 && a[0].key.compare(b[0].key) <= 0) {
			out, a = append(out, a[0].Passing), a[1:]
		} else {
			out, b = append(out, b[0].Passing), b[1:]
		}
	}
	return out
}

// outOfTurn reads the members out of turn (away, or full:
// policy.TurnOrder.OutOfTurn) ahead of pick in the order's order (everyone
// when pick is nil), at most policy.OutOfTurnCounted and one more, from the
// index of those out of turn. When check is set and one of them could take
// the stage after all (their row out of step), it returns them as stale.
func (p *People) outOfTurn(ctx context.Context, tq turnQuery, args turnArgs, order policy.TurnOrder, pick *turnRow, check bool) ([]passing, string, error) {
	if err := p.flush(ctx); err != nil {
		return nil, "", err
	}
	// Ahead of the pick, or, with none, of everyone: the largest key.
	var sql string
	var read []any
	var err error
	if tq.loads {
		var open, spare, level, weight, ord, user any = math.MaxInt32, math.MinInt32 + 1, int64(math.MaxInt64), int64(0), int64(0), ""
		if pick != nil {
			k := pick.key(true)
			open, spare, level, weight, ord, user = pick.rowOpen, pick.rowSpare, k.n[2], pick.c.Weight, pick.c.Order, pick.c.User.ID
		}
		sql, read, err = named("TurnOutOfTurnLeastLoaded", Args{"scope": args.scope, "requirement_id": args.req,
			"team": args.team, "stage": args.stage, "offset": 0, "limit": policy.OutOfTurnCounted + 1,
			"even_if_away": order.EvenIfAway, "open": open, "spare": spare, "level": level, "weight": weight, "ord": ord,
			"user_id": user})
	} else {
		var level, weight, ord any = int64(math.MaxInt64), int64(0), int64(0)
		if pick != nil {
			level, weight, ord = pick.key(false).n[0], pick.c.Weight, pick.c.Order
		}
		sql, read, err = named("TurnOutOfTurn", Args{"scope": args.scope, "requirement_id": args.req, "team": args.team,
			"stage": args.stage, "offset": 0, "limit": policy.OutOfTurnCounted + 1, "even_if_away": order.EvenIfAway,
			"level": level, "weight": weight, "ord": ord})
	}
	var rows pgx.Rows
	if err == nil {
		rows, err = p.qs.db.Query(ctx, sql, read...)
	}
	b, err := scanTurnBatch(order.Stage)(rows, err)
	if err != nil {
		return nil, "", fmt.Errorf("out of turn in %s: %w", args.scope, err)
	}
	out := make([]passing, len(b.rows))
	for i, r := range b.rows {
		why := order.Refuse(r.c.User.ID, r.work)
		if why == "" && check {
			return nil, r.c.User.ID, nil
		}
		out[i] = passing{r.key(tq.loads), policy.Passing{ID: r.c.User.ID, Why: why, Out: true}}
	}
	return out, "", nil
}

// inStep reports whether a least_loaded row's copy of the load (what its index
// orders by) is the person's load now.
func inStep(r turnRow, stage policy.Stage) bool {
	if r.rowOpen != r.work.Open.Total {
		return false
	}
	spare, limited := r.work.Spare(stage)
	if !limited {
		spare = math.MaxInt32
	}
	return r.rowSpare == spare
}

// Delegate implements policy.People: the chain of delegates from an away
// person (from) to the first who meets req and may take new work, holding
// their workload.
func (p *People) Delegate(ctx context.Context, from, first string, req policy.Requirement, order policy.TurnOrder) (policy.Delegation, error) {
	if err := p.flush(ctx); err != nil {
		return policy.Delegation{}, err
	}
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
	if err := p.flush(ctx); err != nil {
		return policy.Workload{}, err
	}
	// What the lock is chosen by: read now, or by Prefetch (once: a later
	// hold reads again).
	key := workloadKey(id, stage)
	pre, ok := p.workloads[key]
	w, limited, err := pre.w, pre.limited, error(nil)
	if ok {
		delete(p.workloads, key)
	} else if w, limited, err = p.qs.workload(ctx, q("UserWorkload"), id, stage); err != nil {
		return w, err
	}
	// The turn was read before this: a deactivation or a status change may have
	// committed since. Locking the row, with or without a limit, orders this
	// decision with them, and what it reads after the lock is what they wrote.
	var active bool
	lock, share := q("UserWorkloadLock"), q("UserHoldShare")
	if p.noWait {
		lock, share = q("UserWorkloadLockSkip"), q("UserHoldShareSkip")
	}
	if limited {
		err = p.qs.db.QueryRow(ctx, lock, id).Scan(&active)
		if err == nil {
			w, _, err = p.qs.workload(ctx, q("UserWorkload"), id, stage)
		}
	} else {
		var status string
		err = p.qs.db.QueryRow(ctx, share, id).Scan(&active, &status)
		w.Status = policy.Availability(status)
	}
	if errors.Is(err, pgx.ErrNoRows) {
		if p.noWait {
			var known bool
			if err := p.qs.db.QueryRow(ctx, q("UserExists"), id).Scan(&known); err != nil {
				return policy.Workload{}, fmt.Errorf("hold the workload of %q: %w", id, err)
			}
			if known {
				return policy.Workload{}, ErrPersonBusy
			}
		}
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

// workload reads a person's status, limits and open stages at stage with sql
// (UserWorkload), and whether any limit applies there.
func (qs *Queries) workload(ctx context.Context, sql, id string, stage policy.Stage) (policy.Workload, bool, error) {
	return scanWorkload(qs.db.QueryRow(ctx, sql, id, string(stage)), id, stage)
}

// scanWorkload reads a UserWorkload row of id.
func scanWorkload(row pgx.Row, id string, stage policy.Stage) (policy.Workload, bool, error) {
	var w policy.Workload
	var status string
	var capCapture, capReview, capAck int
	err := row.Scan(&status, &w.Delegate, &w.Capacity.Total, &capCapture, &capReview, &capAck,
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

// enter gives the requirement's members with no count in scope (only those in
// who, unless nil) one at the scope's entry level (policy.TurnLevels.EntryLevel),
// worked out from the two ends of the scope's index: a few rows, not everyone.
func (p *People) enter(ctx context.Context, scope string, req int64, stage string, who []string, order policy.TurnOrder, loads bool) error {
	var lo, hi *int64
	sql, args, err := named("TurnLevels", Args{"scope": scope, "requirement_id": req, "team": order.Team})
	if err == nil {
		err = p.qs.db.QueryRow(ctx, sql, args...).Scan(&lo, &hi)
	}
	if err != nil {
		return fmt.Errorf("turn levels %s: %w", scope, err)
	}
	l := policy.TurnLevels{Complete: true}
	if lo != nil {
		l.Counted, l.MinLevel, l.MaxLevel = 1, *lo, *hi
		if *lo == *hi {
			var partWay bool
			sql, args, err := named("TurnPartWay", Args{"scope": scope, "requirement_id": req, "team": order.Team, "level": *lo})
			if err == nil {
				err = p.qs.db.QueryRow(ctx, sql, args...).Scan(&partWay)
			}
			if err != nil {
				return fmt.Errorf("turn levels %s: %w", scope, err)
			}
			l.Complete = !partWay
		}
	}
	sql, args, err = named("TurnEnter", Args{"scope": scope, "requirement_id": req, "team": order.Team,
		"level": l.EntryLevel(), "weighted": order.Weighted, "only": who, "stage": stage, "loads": loads})
	if err == nil {
		_, err = p.qs.db.Exec(ctx, sql, args...)
	}
	if err != nil {
		return fmt.Errorf("enter newcomers in %s: %w", scope, err)
	}
	return nil
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

// ExclusionPage is a page of the directory's users who were not candidates.
type ExclusionPage struct {
	Excluded []policy.Exclusion
	// Next is the position to pass as after for the next page; 0 at the end.
	Next int64
}
