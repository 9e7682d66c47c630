package activities

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"go.temporal.io/sdk/temporal"

	"github.com/batonhq/baton/internal/metrics"
	"github.com/batonhq/baton/internal/store"
	"github.com/batonhq/baton/policy"
)

// errDecidedElsewhere rolls back a transaction that lost the race to record a
// decision to another copy of the same activity.
var errDecidedElsewhere = errors.New("decision already recorded")

// recorded returns the decision already recorded under key, if any: how a retried
// activity finds the answer its first attempt committed.
func (a *Activities) recorded(ctx context.Context, key policy.DecisionKey) (policy.Decision, bool, error) {
	d, err := a.Store.DecisionGet(ctx, key)
	switch {
	case err == nil:
		return d, true, nil
	case errors.Is(err, store.ErrNotFound):
		return policy.Decision{}, false, nil
	default:
		return policy.Decision{}, false, err
	}
}

// pending is a decision made inside recordOnce's transaction: a stage decision's
// explanation (with the turn it took), or for a person's or a timer's the seq of
// the stage decision it acts on; the assignee it replaces and the workflow's time
// of it, for the timeline.
type pending struct {
	decision    policy.Decision
	explanation *policy.Explanation
	decidedSeq  int
	previous    string
	at          time.Time
	// redistributed marks a stage decided again to move it off a leaver.
	redistributed bool
}

// job is one decision to record: its key and claim, and decide, which makes it
// inside the transaction that records it.
type job struct {
	ctx     context.Context
	key     policy.DecisionKey
	claimID string
	decide  func(*store.Queries, *store.People) (pending, error)

	// What recording it gave: the decision and what the metrics need, or
	// elsewhere when the ledger already held it.
	decided       policy.Decision
	previous      string
	ex            *policy.Explanation
	redistributed bool
	elsewhere     bool

	// wait is set while the job waits on its scope (scopeQueues).
	wait *waiter
}

// recordOnce is Baton's exactly-once step. In one transaction it runs decide,
// writes the ledger row under key (with the explanation), takes the turn and
// notifies the assignee (in-app, and the e-mail and Slack messages queued in the
// outbox). If a concurrent copy of the activity recorded key first, everything
// rolls back and that copy's decision is returned, so no turn is taken twice and
// nobody is told twice. Business failures (application errors) come back
// unwrapped.
//
// A decision that takes a turn in scope (policy.Policy.TurnScopeFor) waits
// for the scope with the others of this worker that wait on it, and they are
// recorded together (decideTogether). scope "" records it alone.
func (a *Activities) recordOnce(ctx context.Context, key policy.DecisionKey, claimID, scope string,
	decide func(*store.Queries, *store.People) (pending, error)) (policy.Decision, error) {
	j := &job{ctx: ctx, key: key, claimID: claimID, decide: decide}
	var err error
	if scope != "" {
		err = a.turns.do(scope, j, a.decideTogether)
	} else {
		err = a.decideAlone(j)
	}
	if err != nil {
		return policy.Decision{}, err
	}
	if j.elsewhere {
		return a.Store.DecisionGet(ctx, key)
	}
	a.recordedMetrics(ctx, j)
	if err := a.afterCommit(ctx, key); err != nil {
		return policy.Decision{}, err
	}
	return j.decided, nil
}

// decideAlone records one decision in a transaction of its own.
func (a *Activities) decideAlone(j *job) error {
	return a.settle(j, a.Store.InTx(j.ctx, func(qs *store.Queries) error {
		return a.record(qs, qs.People(), j, nil)
	}))
}

// settle is a decision's outcome from its transaction's error: nil with
// j.elsewhere set when a concurrent copy recorded it first, business failures
// (application errors) unwrapped.
func (a *Activities) settle(j *job, err error) error {
	var app *temporal.ApplicationError
	switch {
	case errors.Is(err, errDecidedElsewhere):
		j.elsewhere = true
		return nil
	case errors.As(err, &app):
		return err
	case err != nil:
		return fmt.Errorf("record decision %s: %w", j.key, err)
	}
	return nil
}

// decideTogether records the decisions waiting on one turn scope in one
// transaction: it locks the scope first and then takes the jobs queued by then
// (take), so a batch holds everything that arrived while another worker held
// the scope. It checks every key against the ledger under the lock (a retry of
// a decision already recorded, in this worker or another, is answered from the
// ledger and takes no turn), then makes and records each in the order they
// arrived, reading the turns the ones before it took, and writes their ledger
// rows, timeline, inbox and outbox a statement a table. One commit for them
// all: a busy team is not held to one commit per turn. Should any of them
// fail, the transaction rolls back and each is recorded alone, so one bad
// decision never costs the others theirs. A job taken alone is recorded as
// decideAlone would, under the lock already held.
func (a *Activities) decideTogether(scope string, lead *job, take func() []*job) {
	ctx := lead.ctx
	var jobs, rest []*job
	err := a.Store.InTx(ctx, func(qs *store.Queries) error {
		rest = nil
		if err := qs.TurnsLock(ctx, scope); err != nil {
			return err
		}
		if jobs == nil {
			jobs = take()
		}
		if len(jobs) == 1 {
			return a.record(qs, qs.People(), jobs[0], nil)
		}
		keys := make([]policy.DecisionKey, len(jobs))
		for i, j := range jobs {
			keys[i] = j.key
		}
		done, err := qs.DecisionsGet(ctx, keys)
		if err != nil {
			return err
		}
		people := qs.People()
		people.Expect(len(jobs))
		var writes []store.DecisionWrite
		// appendAll writes the ledger rows, timeline, inbox and outbox of
		// the decisions made, one statement a table.
		appendAll := func() error {
			if len(writes) == 0 {
				return nil
			}
			n, err := people.Append(ctx, writes)
			if err == nil && n != len(writes) {
				err = errDecidedElsewhere // a copy outside this scope's lock got there first: one by one
			}
			return err
		}
		for i, j := range jobs {
			j.elsewhere = false
			if _, ok := done[j.key]; ok {
				j.elsewhere = true
				continue
			}
			// A retried activity whose first attempt is still running may
			// sit in the same batch: the first copy decides, the others read
			// its decision from the ledger once this commits.
			done[j.key] = policy.Decision{}
			if i > 0 {
				people.NeverWait()
			}
			err := a.record(qs, people, j, &writes)
			if errors.Is(err, store.ErrPersonBusy) {
				// Another transaction holds a person this decision
				// needs: commit those before it, and decide it and the
				// rest afresh.
				rest = jobs[i:]
				return appendAll()
			}
			if err != nil {
				return err
			}
		}
		return appendAll()
	})
	if jobs == nil {
		jobs = take() // the scope was never locked: each is recorded alone
	}
	if len(jobs) == 1 {
		jobs[0].wait.result <- a.settle(jobs[0], err)
		return
	}
	if err == nil {
		decided := jobs[:len(jobs)-len(rest)]
		a.Metrics.DecisionBatch(len(decided))
		for _, j := range decided {
			j.wait.result <- nil
		}
		if len(rest) > 0 {
			for _, j := range rest {
				*j = job{ctx: j.ctx, key: j.key, claimID: j.claimID, decide: j.decide, wait: j.wait}
			}
			a.decideTogether(scope, rest[0], func() []*job { return rest })
		}
		return
	}
	a.Log.WarnContext(ctx, "decisions recorded one by one after their batch failed", "scope", scope, "decisions", len(jobs), "error", err)
	for _, j := range jobs {
		*j = job{ctx: j.ctx, key: j.key, claimID: j.claimID, decide: j.decide, wait: j.wait}
		j.wait.result <- a.decideAlone(j)
	}
}

// record makes j's decision with decide and writes it with its notifications,
// in the caller's transaction. It returns errDecidedElsewhere when the key was
// recorded first by a concurrent copy. With batch, a decision of several in one
// transaction queues what the next ones read (People.Apply: sent with the next
// decision's turn read) and adds the rest to batch, for the caller to write all
// together (People.Append): a busy team's decision costs one round trip, and
// its batch a statement a table.
func (a *Activities) record(qs *store.Queries, people *store.People, j *job, batch *[]store.DecisionWrite) error {
	ctx, key := j.ctx, j.key
	p, err := j.decide(qs, people)
	if err != nil {
		return err
	}
	d := p.decision
	var outbox []store.OutboxMessage
	if d.Assignee != "" {
		// Built before the ledger row so the row records how many: the workflow
		// schedules sending only when there are some. A copy that lost the race
		// rolls these back with everything else.
		if outbox, err = a.outboxFor(ctx, people.User, notification{key: key, claimID: j.claimID, user: d.Assignee,
			subject: fmt.Sprintf("Claim %s is yours at %s", j.claimID, key.Stage), why: d.Reason}); err != nil {
			return err
		}
		d.Outbox = len(outbox)
	}
	w := store.DecisionWrite{Key: key, ClaimID: j.claimID, Decision: d, Explanation: p.explanation, DecidedSeq: p.decidedSeq,
		Outbox: outbox,
		Event: store.TimelineEvent{
			WorkflowID: key.WorkflowID, ClaimID: j.claimID, Stage: key.Stage, Seq: key.Seq,
			Kind: policy.EventKindOf(d, p.previous), Actor: d.Actor, Subject: d.Assignee,
			Reason: d.Reason, Comment: d.Comment, At: p.at,
		}}
	if d.Assignee != "" {
		why := d.Reason
		if d.Method == policy.MethodRoundRobin || d.Method == policy.MethodProductModule {
			// In words, as the reasons spell it ("round robin: ..."), not
			// the policy file's identifier.
			why = strings.ReplaceAll(string(d.Method), "_", " ")
		}
		w.Inbox = &store.InboxEntry{UserID: d.Assignee, Message: fmt.Sprintf("Claim %s is yours at %s (%s)", j.claimID, key.Stage, why),
			Link: a.link(key.WorkflowID, j.claimID, key.Stage)}
	}
	if !people.Waits() {
		// Not the first of a batch: take the rows this decision writes (its
		// stage's, and the counts it moves) now, or stop the batch here
		// (store.ErrPersonBusy). Waiting for them while holding the rows of
		// the decisions before it could deadlock with a deactivation
		// marking the stages this batch moves.
		if err := people.LockLoads(ctx, key, d.Assignee, p.previous != "" || p.redistributed || key.Seq > 1); err != nil {
			return err
		}
	}
	if batch != nil {
		people.Apply(w) // sent with the next decision's turn read, or the batch's Append
		*batch = append(*batch, w)
	} else {
		// One round trip for the ledger row, timeline, turn, inbox and outbox.
		inserted, err := qs.DecisionRecord(ctx, w)
		if err != nil {
			return err
		}
		if !inserted {
			return errDecidedElsewhere
		}
	}
	if d.Assignee != "" && key.Stage.Assignable() {
		people.Loaded(d.Assignee) // its counts moved: the row is this transaction's
	}
	j.decided, j.previous, j.ex, j.redistributed = d, p.previous, p.explanation, p.redistributed
	return nil
}

// recordedMetrics logs and counts a decision once its transaction committed.
func (a *Activities) recordedMetrics(ctx context.Context, j *job) {
	decided, previous := j.decided, j.previous
	a.Log.InfoContext(ctx, "decision recorded", "claim_id", j.claimID, "stage", j.key.Stage, "seq", j.key.Seq,
		"method", decided.Method, "assignee", decided.Assignee, "actor", decided.Actor, "policy_version", decided.PolicyVersion)
	a.Metrics.Decision(decided)
	a.Metrics.Reassignment(decided, previous)
	if j.ex != nil {
		a.Metrics.PassedOver(decided.Stage, j.ex.PassedAway, j.ex.PassedFull, j.ex.PassedOther)
	}
	if j.redistributed {
		a.Metrics.Redistribution(decided.Stage)
	}
	a.Metrics.TimelineEvent(policy.EventKindOf(decided, previous))
	if decided.Assignee != "" {
		a.Metrics.Notification(metrics.ChannelInbox, nil)
	}
}
