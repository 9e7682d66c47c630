package store

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/batonhq/baton/policy"
)

// DecisionGet returns a recorded decision, or ErrNotFound.
func (qs *Queries) DecisionGet(ctx context.Context, k policy.DecisionKey) (policy.Decision, error) {
	var body []byte
	err := qs.db.QueryRow(ctx, q("DecisionGet"), k.WorkflowID, k.Stage, k.Seq).Scan(&body)
	if errors.Is(err, pgx.ErrNoRows) {
		return policy.Decision{}, fmt.Errorf("decision %s: %w", k, ErrNotFound)
	}
	if err != nil {
		return policy.Decision{}, fmt.Errorf("get decision %s: %w", k, err)
	}
	var d policy.Decision
	if err := json.Unmarshal(body, &d); err != nil {
		return policy.Decision{}, fmt.Errorf("decode decision %s: %w", k, err)
	}
	return d, nil
}

// DecisionsGet returns the decisions already recorded among keys, by key.
func (qs *Queries) DecisionsGet(ctx context.Context, keys []policy.DecisionKey) (map[policy.DecisionKey]policy.Decision, error) {
	wf, st, seq := make([]string, len(keys)), make([]string, len(keys)), make([]int32, len(keys))
	for i, k := range keys {
		wf[i], st[i], seq[i] = k.WorkflowID, string(k.Stage), int32(k.Seq)
	}
	rows, err := qs.db.Query(ctx, q("DecisionGetMany"), wf, st, seq)
	if err != nil {
		return nil, fmt.Errorf("get decisions: %w", err)
	}
	defer rows.Close()
	out := map[policy.DecisionKey]policy.Decision{}
	for rows.Next() {
		var k policy.DecisionKey
		var body []byte
		if err := rows.Scan(&k.WorkflowID, &k.Stage, &k.Seq, &body); err != nil {
			return nil, fmt.Errorf("get decisions: %w", err)
		}
		var d policy.Decision
		if err := json.Unmarshal(body, &d); err != nil {
			return nil, fmt.Errorf("decode decision %s: %w", k, err)
		}
		out[k] = d
	}
	return out, rows.Err()
}

// decisionInsert is DecisionInsert with its arguments for ws, a column each.
// A write's Explanation is a stage decision's (nil for a person's or a
// timer's, which refer to DecidedSeq, the stage's decision they act on).
func decisionInsert(ws ...DecisionWrite) (string, []any, error) {
	n := len(ws)
	wf, stage, claim, method, assignee, actor, reason, version := make([]string, n), make([]string, n), make([]string, n),
		make([]string, n), make([]string, n), make([]string, n), make([]string, n), make([]string, n)
	body, req, rules, listed := make([]string, n), make([]*string, n), make([]*string, n), make([]*string, n)
	seq, decidedSeq := make([]int, n), make([]*int, n)
	reqID, gen := make([]*int64, n), make([]*int64, n)
	text := func(b []byte) *string { s := string(b); return &s }
	for i, w := range ws {
		k, d, ex := w.Key, w.Decision, w.Explanation
		b, err := json.Marshal(d)
		if err != nil {
			return "", nil, fmt.Errorf("encode decision %s: %w", k, err)
		}
		wf[i], stage[i], seq[i], claim[i], method[i] = k.WorkflowID, string(k.Stage), k.Seq, w.ClaimID, string(d.Method)
		assignee[i], actor[i], reason[i], version[i], body[i] = d.Assignee, d.Actor, d.Reason, d.PolicyVersion, string(b)
		if ex != nil {
			r, err := json.Marshal(ex.Requirement)
			if err != nil {
				return "", nil, fmt.Errorf("encode requirement %s: %w", k, err)
			}
			req[i] = text(r)
			if ex.RuleRecord != nil {
				// The record, not the trace: the trace is rendered from it
				// when the explanation is read. Written directly:
				// json.Marshal would scan it again to check what RuleRecord
				// wrote.
				rr, err := ex.RuleRecord.MarshalJSON()
				if err != nil {
					return "", nil, fmt.Errorf("encode rule record %s: %w", k, err)
				}
				rules[i] = text(rr)
			}
			if ex.RequirementID > 0 {
				reqID[i], gen[i] = &ex.RequirementID, &ex.Generation
			}
			if ex.Listed != nil {
				l, err := json.Marshal(ex.Listed)
				if err != nil {
					return "", nil, fmt.Errorf("encode candidates %s: %w", k, err)
				}
				listed[i] = text(l)
			}
		}
		if w.DecidedSeq > 0 {
			decidedSeq[i] = &w.DecidedSeq
		}
	}
	return named("DecisionInsert", Args{"workflow_id": wf, "stage": stage, "seq": seq, "claim_id": claim,
		"method": method, "assignee": assignee, "actor": actor, "reason": reason, "policy_version": version,
		"body": body, "requirement": req, "rule_record": rules, "decided_seq": decidedSeq, "requirement_id": reqID,
		"generation": gen, "candidates": listed})
}

// DecisionsByClaim lists a claim's decisions in order.
func (qs *Queries) DecisionsByClaim(ctx context.Context, claimID string) ([]policy.Decision, error) {
	rows, err := qs.db.Query(ctx, q("DecisionListByClaim"), claimID)
	if err != nil {
		return nil, fmt.Errorf("list decisions of %s: %w", claimID, err)
	}
	bodies, err := pgx.CollectRows(rows, pgx.RowTo[[]byte])
	if err != nil {
		return nil, fmt.Errorf("list decisions of %s: %w", claimID, err)
	}
	out := make([]policy.Decision, len(bodies))
	for i, b := range bodies {
		if err := json.Unmarshal(b, &out[i]); err != nil {
			return nil, fmt.Errorf("decode decision of %s: %w", claimID, err)
		}
	}
	return out, nil
}

// AssignmentCounts returns how many decisions by method assigned each user at a
// stage: the evidence that round robin is even.
func (qs *Queries) AssignmentCounts(ctx context.Context, stage policy.Stage, method policy.Method) (map[string]int, error) {
	return countsBy[int](ctx, qs, "count assignments", q("DecisionCountByAssignee"), stage, method)
}

// countsBy runs a query of (user id, count) rows into a map.
func countsBy[N int | int64](ctx context.Context, qs *Queries, what, sql string, args ...any) (map[string]N, error) {
	rows, err := qs.db.Query(ctx, sql, args...)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	defer rows.Close()
	out := map[string]N{}
	for rows.Next() {
		var id string
		var n N
		if err := rows.Scan(&id, &n); err != nil {
			return nil, fmt.Errorf("%s: %w", what, err)
		}
		out[id] = n
	}
	return out, rows.Err()
}

// DecisionWrite is everything one decision records besides its outbox rows.
type DecisionWrite struct {
	Key      policy.DecisionKey
	ClaimID  string
	Decision policy.Decision
	Event    TimelineEvent
	// Explanation is a stage decision's explanation; nil for a person's or a
	// timer's, which name the stage decision they act on in DecidedSeq.
	Explanation *policy.Explanation
	DecidedSeq  int
	// Inbox is the assignee's in-app notification; nil for none.
	Inbox *InboxEntry
	// Outbox are the e-mail and Slack messages the decision sends, queued with
	// it (the decision's body counts them).
	Outbox []OutboxMessage
}

// DecisionRecord writes a decision whole, in one pipelined round trip inside
// the caller's transaction: what People.Apply and People.Append write. It
// reports false when the key was already decided: the caller must then roll
// back, since the other writes may have applied or failed.
func (qs *Queries) DecisionRecord(ctx context.Context, w DecisionWrite) (bool, error) {
	p := qs.People()
	p.Apply(w)
	inserted, err := p.Append(ctx, []DecisionWrite{w})
	return inserted == 1 && err == nil, err
}

// Apply queues the writes of w that later decisions of the same transaction
// read (the assignee checked and share-locked, the stage's holder with the
// counts it moves, its backlog row, the turn taken), sent in the same round
// trip as the next statement this People sends, or with Append: a decision of
// a batch costs no round trip of its own. A failure of theirs is the error of
// the call they went with, and the transaction must roll back.
func (p *People) Apply(w DecisionWrite) {
	p.applies = append(p.applies, w)
	p.moved(w) // a later decision takes its turn from the order as w left it
}

// Append writes the ledger rows, timeline events, inbox entries and outbox
// messages of ws, each table in one statement, with the writes Apply queued
// before them, in one round trip. It reports how many of the ledger rows were
// new: fewer than len(ws) when a concurrent copy recorded one first, and the
// caller must then roll back.
func (p *People) Append(ctx context.Context, ws []DecisionWrite) (int, error) {
	b := &pgx.Batch{}
	applied, err := p.queueApplies(b)
	if err != nil {
		return 0, err
	}
	n, err := queueAppend(b, ws)
	if err != nil {
		return 0, err
	}
	br := p.qs.db.SendBatch(ctx, b)
	inserted, err := 0, readApplies(br, applied)
	if err == nil {
		inserted, err = readAppend(br, n)
	}
	if cerr := br.Close(); err == nil && cerr != nil {
		err = fmt.Errorf("record %d decisions: %w", len(ws), cerr)
	}
	return inserted, err
}

// applied is a queued write and how many statements it took.
type applied struct {
	w DecisionWrite
	n int
}

// queueApplies queues the writes Apply queued at b's head and forgets them;
// readApplies reads their results.
func (p *People) queueApplies(b *pgx.Batch) ([]applied, error) {
	out := make([]applied, len(p.applies))
	for i, w := range p.applies {
		n, err := queueApply(b, w)
		if err != nil {
			return nil, err
		}
		out[i] = applied{w, n}
	}
	p.applies = nil
	return out, nil
}

func readApplies(br pgx.BatchResults, ws []applied) error {
	for _, a := range ws {
		if err := readApply(br, a.w, a.n); err != nil {
			return err
		}
	}
	return nil
}

// flush sends the writes Apply queued on their own, before a statement that
// cannot carry them.
func (p *People) flush(ctx context.Context) error {
	if len(p.applies) == 0 {
		return nil
	}
	b := &pgx.Batch{}
	applied, err := p.queueApplies(b)
	if err != nil {
		return err
	}
	br := p.qs.db.SendBatch(ctx, b)
	err = readApplies(br, applied)
	if cerr := br.Close(); err == nil {
		err = cerr
	}
	return err
}

// assigns reports whether w gives its stage to someone, whose row its writes
// then check first.
func (w DecisionWrite) assigns() bool { return w.Decision.Assignee != "" && w.Key.Stage.Assignable() }

// queueApply queues Apply's statements for w and returns how many (readApply
// reads them).
func queueApply(b *pgx.Batch, w DecisionWrite) (int, error) {
	k, before := w.Key, b.Len()
	// Whoever the decision gives the stage to (a stage's method's pick, read
	// from the requirement's members; a person's assignment or claim, a
	// timer's fallback, authorised a statement earlier) was read without a
	// lock, and a deactivation committing meanwhile would not see the stage
	// to move it: the assignee is checked, and share-locked, as it is written.
	if w.assigns() {
		b.Queue(q("AssigneeActive"), w.Decision.Assignee)
	}
	if k.Stage.Assignable() {
		// The stage's holder, for capacity: exact because it is written here.
		// It moves the holders' counts (user_load, then their turn rows)
		// before the turn is written: every transaction takes a person's load
		// row before their turn rows.
		b.Queue(q("OpenStageSet"), k.WorkflowID, string(k.Stage), w.ClaimID, w.Decision.Assignee, k.Seq)
		switch {
		case w.Explanation != nil:
			waits := w.Decision.Backlog && w.Explanation.RequirementID > 0
			sql, args, err := named("BacklogSet", Args{"workflow_id": k.WorkflowID, "stage": string(k.Stage),
				"claim_id": w.ClaimID, "seq": k.Seq, "priority": policy.PriorityRank(w.Decision.Priority),
				"requirement_id": w.Explanation.RequirementID, "waits": waits,
				"queue": cmp.Or(w.Decision.Rules.Queue, policy.DefaultQueue)})
			if err != nil {
				return 0, err
			}
			b.Queue(sql, args...)
		case w.Decision.Assignee != "":
			b.Queue(q("BacklogDrop"), k.WorkflowID, string(k.Stage))
		}
	}
	if w.Explanation != nil && w.Explanation.Turn != nil {
		t := w.Explanation.Turn
		b.Queue(q("TurnSet"), t.Scope, t.User.ID, t.Served, max(t.Weight, 1), t.Order)
	}
	return b.Len() - before, nil
}

// readApply reads the n results of queueApply's statements: the assignee's
// check first, when the decision gives the stage to someone.
func readApply(br pgx.BatchResults, w DecisionWrite, n int) error {
	for i := range n {
		if i == 0 && w.assigns() {
			var active bool
			if err := br.QueryRow().Scan(&active); err != nil || !active {
				if err == nil || errors.Is(err, pgx.ErrNoRows) {
					err = errors.New("no longer active")
				}
				return fmt.Errorf("record decision %s: %q %w: %w", w.Key, w.Decision.Assignee, ErrAssigneeLeft, err)
			}
			continue
		}
		if _, err := br.Exec(); err != nil {
			return fmt.Errorf("record decision %s: %w", w.Key, err)
		}
	}
	return nil
}

// queueAppend queues Append's statements, the ledger's first; it
// returns how many decisions that statement inserts.
func queueAppend(b *pgx.Batch, ws []DecisionWrite) (int, error) {
	// add queues a statement the way named built it.
	add := func(sql string, args []any, err error) error {
		if err == nil {
			b.Queue(sql, args...)
		}
		return err
	}
	if err := add(decisionInsert(ws...)); err != nil {
		return 0, err
	}
	events := make([]TimelineEvent, len(ws))
	var inbox []inboxRow
	var outbox []OutboxMessage
	for i, w := range ws {
		events[i] = w.Event
		if w.Inbox != nil {
			inbox = append(inbox, inboxRow{w.Key, w.ClaimID, *w.Inbox})
		}
		outbox = append(outbox, w.Outbox...)
	}
	if err := add(timelineInsert(events...)); err != nil {
		return 0, err
	}
	if len(inbox) > 0 {
		if err := add(inboxInsert(inbox...)); err != nil {
			return 0, err
		}
	}
	if len(outbox) > 0 {
		if err := add(outboxInsert(outbox...)); err != nil {
			return 0, err
		}
	}
	return len(ws), nil
}

// readAppend reads how many ledger rows queueAppend's first statement
// inserted.
func readAppend(br pgx.BatchResults, n int) (int, error) {
	tag, err := br.Exec()
	if err != nil {
		return 0, fmt.Errorf("insert %d decisions: %w", n, err)
	}
	return int(tag.RowsAffected()), nil
}

// ClaimAt is a claim's workflow id and its current stage.
type ClaimAt struct {
	WorkflowID string
	Stage      string
}

// ReadableAmong returns which of the claims user may read as one who took
// part in them or is eligible for their current stage (what ClaimInvolves and
// ExplanationIsCandidate answer one claim at a time), in one round trip: the
// queue's page for someone who is not an admin.
func (qs *Queries) ReadableAmong(ctx context.Context, user string, claims []ClaimAt) (map[string]bool, error) {
	ids, stages := make([]string, len(claims)), make([]string, len(claims))
	for i, c := range claims {
		ids[i], stages[i] = c.WorkflowID, c.Stage
	}
	readable, err := collect(ctx, qs, fmt.Sprintf("which of %d claims %q may read", len(claims), user), q("ReadableAmong"),
		pgx.RowTo[string], ids, stages, user)
	if err != nil {
		return nil, err
	}
	out := make(map[string]bool, len(readable))
	for _, id := range readable {
		out[id] = true
	}
	return out, nil
}

// ClaimInvolves reports whether user was ever given a stage of the claim run
// by workflowID, or acted in one of its decisions: who may read it besides its
// owner, the eligible of its open stage and admins.
func (qs *Queries) ClaimInvolves(ctx context.Context, workflowID, user string) (bool, error) {
	var ok bool
	if err := qs.db.QueryRow(ctx, q("ClaimInvolves"), workflowID, user).Scan(&ok); err != nil {
		return false, fmt.Errorf("whether %q took part in %s: %w", user, workflowID, err)
	}
	return ok, nil
}
