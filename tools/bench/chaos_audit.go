package bench

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/batonhq/baton/policy"
	"github.com/batonhq/baton/workflows"
)

// The chaos audit is a pure function of two things: what must exist, derived
// from the chaos policy and what the run itself did (the claims it started, the
// people it sent away or deactivated, the stages it gave by hand, the faults it
// injected), and what was observed afterwards (the ledger, each claim's state,
// history and timeline, the outbox, the mailbox). It never takes what a
// workflow reports as the measure of what should be there: a decision missing
// from both the ledger and the claim's state is still missing, because the
// policy says it must exist.

// chaosExpected is what the run did, from which what must exist follows.
type chaosExpected struct {
	Claims []string // claim ids started
	// Calm are those of Claims started after every fault, at most three at
	// a time: nobody limited to three could be full, and nobody was away.
	Calm []string
	// CalmTurns are the round-robin scopes' turn counts as the calm claims
	// began, by stage: where the faults left someone behind (passed over
	// while full keeps a person's turn), the calm claims serve them first.
	CalmTurns map[policy.Stage][]turnCount
	Users     []string // the round-robin pool (Users)
	// Default is review's default assignee, whom every claim window falls back to.
	Default string
	Limit   int      // open-stage limit of everyone but Default
	Touched []string // people a workload fault touched: away for a while, or deactivated
	// Gives are the review stages the run gave by hand, by claim id, and what
	// the answer said.
	Gives map[string]giveOutcome
	// Leaver is the person deactivated ("" when none) and Held the workflow
	// ids whose stage they held then, each to be re-routed once.
	Leaver string
	Held   []string
	// Faults were injected at Start + Fault.At; a crash or a cut connection
	// between an e-mail's acceptance and its sent mark is the one thing that
	// may deliver it twice (docs/notifications.md).
	Faults []Fault
	Start  time.Time
}

// giveOutcome is what the answer to a manual give said.
type giveOutcome int

const (
	giveRefused giveOutcome = iota // the claim had moved on: nothing changed
	giveMade                       // the stage was assigned
	giveUnknown                    // the answer was lost: either may have happened
)

func (g giveOutcome) String() string {
	return [...]string{"refused", "made", "unknown"}[g]
}

// chaosObserved is everything read back after the run.
type chaosObserved struct {
	Ledger []ledgerRow
	Claims map[string]claimObservation // by claim id
	Outbox []outboxRow
	// Deliveries are the times each Message-ID reached the SMTP server.
	Deliveries map[string][]time.Time
	// PeakOpen is the most open stages each person was seen holding.
	PeakOpen map[string]int
	// LeaverOpen is how many open stages the leaver holds after the run.
	LeaverOpen int
}

// ledgerRow is one decisions row.
type ledgerRow struct {
	WorkflowID, ClaimID string
	Stage               policy.Stage
	Seq                 int
	Method              policy.Method
	Assignee, Reason    string
}

// claimObservation is one claim as read after the run.
type claimObservation struct {
	State *workflows.ClaimState // nil when the state query failed
	Err   string                // why it failed
	// TimersStarted and TimersFired count the claim-window timers started and
	// fired, from the history; WindowExpired the timeline's window_expired
	// entries.
	TimersStarted, TimersFired, WindowExpired int
	// CompletedBy is who the timeline says completed each stage.
	CompletedBy map[policy.Stage]string
}

// outboxRow is one outbox e-mail.
type outboxRow struct {
	MessageID, ClaimID string
	Sent               bool
}

// chaosStages are the stages in the order a claim runs them.
var chaosStages = policy.AssignableStages

// chaosShape is one way a claim's decisions may rightly look: per stage, the
// methods of its ledger rows in seq order.
type chaosShape map[policy.Stage][]policy.Method

// baseShape is the chaos policy's shape for a claim nothing happened to:
// capture by round robin; review left in its queue (manual), then given to
// the default assignee when the claim window runs out; acknowledge by round
// robin.
func baseShape() chaosShape {
	return chaosShape{
		policy.StageCapture:     {policy.MethodRoundRobin},
		policy.StageReview:      {policy.MethodManual, policy.MethodDefaultAssignee},
		policy.StageAcknowledge: {policy.MethodRoundRobin},
	}
}

// shapes are the ways one claim's decisions may rightly look, from the policy
// and what the run did to it. A give the run made is an assignment by hand:
// before the claim window runs out it replaces the fallback; after (the run
// finds claims to give through visibility, which may lag) it reassigns from
// the default assignee. The leaver's stage is decided again without them,
// once, unless they completed it first. heldStage is the stage the leaver held
// ("" when the claim is not one they held, or they completed it).
func (e chaosExpected) shapes(claimID string, heldStage policy.Stage) []chaosShape {
	var reviews [][]policy.Method
	base := baseShape()[policy.StageReview]
	given := [][]policy.Method{
		{policy.MethodManual, policy.MethodAssign},
		{policy.MethodManual, policy.MethodDefaultAssignee, policy.MethodAssign},
	}
	switch e.Gives[claimID] {
	case giveMade:
		reviews = given
	case giveUnknown:
		reviews = append([][]policy.Method{base}, given...)
	default:
		reviews = [][]policy.Method{base}
	}
	var out []chaosShape
	for _, review := range reviews {
		s := baseShape()
		s[policy.StageReview] = slices.Clone(review)
		switch heldStage {
		case policy.StageCapture, policy.StageAcknowledge:
			s[heldStage] = append(s[heldStage], policy.MethodRoundRobin)
		case policy.StageReview:
			if review[len(review)-1] != policy.MethodAssign {
				continue // the leaver can hold review only by a give
			}
			// Back to its queue, and a whole new claim window.
			s[heldStage] = append(s[heldStage], policy.MethodManual, policy.MethodDefaultAssignee)
		}
		out = append(out, s)
	}
	return out
}

// auditChaos checks obs against what exp says must exist. Every loss names
// what was lost, and of which claim.
func auditChaos(exp chaosExpected, obs chaosObserved) *Tally {
	t := &Tally{Claims: len(exp.Claims), Spread: map[string]int{}, Exact: map[string]bool{}}
	a := &chaosAudit{exp: exp, obs: obs, t: t, byClaim: map[string][]ledgerRow{}, matched: map[string]chaosShape{}}
	a.ledger()
	for _, id := range exp.Claims {
		a.claim(id)
	}
	a.roundRobin()
	a.calm()
	a.outbox()
	a.capacity()
	a.leaver()
	return t
}

type chaosAudit struct {
	exp     chaosExpected
	obs     chaosObserved
	t       *Tally
	byClaim map[string][]ledgerRow
	matched map[string]chaosShape // the shape each claim's ledger was held to
}

func (a *chaosAudit) loss(format string, args ...any) {
	a.t.Losses = append(a.t.Losses, fmt.Sprintf(format, args...))
}

// ledger sorts the rows by claim; a row for a claim the run never started, or
// under another claim's workflow, is a loss.
func (a *chaosAudit) ledger() {
	started := map[string]bool{}
	for _, id := range a.exp.Claims {
		started[id] = true
	}
	for _, r := range a.obs.Ledger {
		a.t.Decisions++
		switch {
		case !started[r.ClaimID]:
			a.loss("ledger: decision %s seq %d of claim %s, which the run never started", r.Stage, r.Seq, r.ClaimID)
			a.t.Extra++
		case r.WorkflowID != workflows.WorkflowID(r.ClaimID):
			a.loss("ledger: decision %s seq %d of claim %s is under workflow %s", r.Stage, r.Seq, r.ClaimID, r.WorkflowID)
			a.t.Extra++
		default:
			a.byClaim[r.ClaimID] = append(a.byClaim[r.ClaimID], r)
		}
	}
	for _, rows := range a.byClaim {
		slices.SortFunc(rows, func(x, y ledgerRow) int { return x.Seq - y.Seq })
	}
}

// claim checks one claim: finished; its ledger rows are exactly one of its
// shapes; its state lists exactly its ledger rows; its claim window fired as
// often as its shape says.
func (a *chaosAudit) claim(id string) {
	o, ok := a.obs.Claims[id]
	switch {
	case !ok || (o.State == nil && o.Err == ""):
		a.loss("claim %s: never read back", id)
	case o.State == nil:
		a.loss("claim %s: state unreadable: %s", id, o.Err)
	case o.State.Status == workflows.StatusFinalised:
		a.t.Finished++
	default:
		// Its ledger, so that a loss seen once in CI can be read back.
		a.loss("claim %s stopped at %s (%s) with %q; its ledger: %s", id, o.State.Stage, o.State.Status, o.State.Assignee,
			ledgerText(a.byClaim[id]))
	}
	rows := a.byClaim[id]
	shape := a.matchShape(id, rows, o)
	a.matched[id] = shape
	a.checkRows(id, rows, shape)
	if o.State != nil {
		a.stateAgainstLedger(id, o.State, rows)
	}
	// Each time review waits in its queue (a manual decision) it arms one
	// claim window; the fallbacks the shape calls for are windows that ran
	// out with nobody having taken the stage. A give the run attempted holds
	// the window while it is recorded, and, refused (say, at the person's
	// limit), leaves the stage waiting again with a whole new window: one more
	// armed. A window whose stage was taken meanwhile may still fire, to no
	// effect, so the count of fired windows is a range: from the fallbacks to
	// the windows armed. A window fired twice, or armed twice for one wait,
	// falls outside it.
	armed := count(shape[policy.StageReview], policy.MethodManual)
	want := count(shape[policy.StageReview], policy.MethodDefaultAssignee)
	maxArmed := armed
	if _, tried := a.exp.Gives[id]; tried {
		maxArmed++
	}
	if o.TimersStarted < armed || o.TimersStarted > maxArmed {
		a.loss("timers: claim %s armed %d claim windows, expected %d (one per wait in the queue)", id, o.TimersStarted, armed)
	}
	armed = min(max(o.TimersStarted, armed), maxArmed)
	switch {
	case o.TimersFired >= want && o.TimersFired <= armed:
		a.t.TimersOnce++
	case o.TimersFired > armed:
		a.t.TimersTwice++
		a.loss("timers: claim window of claim %s fired %d times, expected %d", id, o.TimersFired, want)
	default:
		a.t.TimersNever++
		a.loss("timers: claim window of claim %s fired %d times, expected %d", id, o.TimersFired, want)
	}
	if o.WindowExpired != want {
		a.loss("timeline: claim %s has %d window_expired entries, expected %d", id, o.WindowExpired, want)
	}
}

// matchShape returns the shape of id its rows match, else the one they come
// closest to, to report against.
func (a *chaosAudit) matchShape(id string, rows []ledgerRow, o claimObservation) chaosShape {
	held := a.heldStage(id, rows, o)
	got := chaosShape{}
	for _, r := range rows {
		got[r.Stage] = append(got[r.Stage], r.Method)
	}
	shapes := a.exp.shapes(id, held)
	best, bestScore := shapes[0], -1
	for _, s := range shapes {
		score := 0 // stages matched, then the longest common starts
		for _, st := range chaosStages {
			if slices.Equal(s[st], got[st]) {
				score += 100
				continue
			}
			for i := 0; i < min(len(s[st]), len(got[st])) && s[st][i] == got[st][i]; i++ {
				score++
			}
		}
		if score > bestScore {
			best, bestScore = s, score
		}
	}
	for _, s := range best {
		a.t.Expected += len(s)
	}
	return best
}

// heldStage is the stage of id the leaver held when deactivated, or "" when
// none or they completed it before the re-route reached it. Which stage it was
// is read from the ledger (the last decision that gave it to them); that they
// held one comes from the store's answer to the deactivation.
func (a *chaosAudit) heldStage(id string, rows []ledgerRow, o claimObservation) policy.Stage {
	if a.exp.Leaver == "" || !slices.Contains(a.exp.Held, workflows.WorkflowID(id)) {
		return ""
	}
	var stage policy.Stage
	for _, r := range rows {
		if r.Assignee == a.exp.Leaver {
			stage = r.Stage
		}
	}
	if stage == "" {
		a.loss("redistribution: claim %s was held by %s, but no decision gave it to them", id, a.exp.Leaver)
		return ""
	}
	if o.CompletedBy[stage] == a.exp.Leaver {
		return "" // completed in the instant before the deactivation committed
	}
	return stage
}

// count is how many of ms are m.
func count(ms []policy.Method, m policy.Method) int {
	n := 0
	for _, x := range ms {
		if x == m {
			n++
		}
	}
	return n
}

// checkRows holds the ledger rows of one claim to its shape, stage by stage,
// and each row to what its method must record.
func (a *chaosAudit) checkRows(id string, rows []ledgerRow, shape chaosShape) {
	byStage := map[policy.Stage][]ledgerRow{}
	for _, r := range rows {
		if !slices.Contains(chaosStages, r.Stage) {
			a.loss("ledger: decision %s seq %d of claim %s, a stage the policy does not assign", r.Stage, r.Seq, id)
			a.t.Extra++
			continue
		}
		byStage[r.Stage] = append(byStage[r.Stage], r)
	}
	for _, st := range chaosStages {
		want, got := shape[st], byStage[st]
		for i := range max(len(want), len(got)) {
			switch {
			case i >= len(got):
				a.loss("ledger: decision %s#%d (%s) of claim %s missing", st, i+1, want[i], id)
				a.t.Missing++
			case i >= len(want):
				a.loss("ledger: decision %s#%d (%s, seq %d) of claim %s not expected", st, i+1, got[i].Method, got[i].Seq, id)
				a.t.Extra++
			case got[i].Method != want[i]:
				a.loss("ledger: decision %s#%d of claim %s is %s, expected %s", st, i+1, id, got[i].Method, want[i])
				a.t.Missing++
			default:
				a.checkRow(id, i+1, got[i])
			}
		}
	}
}

// checkRow checks what a row's method promises about its assignee.
func (a *chaosAudit) checkRow(id string, n int, r ledgerRow) {
	switch r.Method {
	case policy.MethodRoundRobin:
		if !slices.Contains(a.exp.Users, r.Assignee) {
			a.loss("ledger: decision %s#%d of claim %s is round robin to %q, not one of the pool", r.Stage, n, id, r.Assignee)
		}
		if r.Assignee == a.exp.Leaver && strings.HasPrefix(r.Reason, a.exp.Leaver+" was deactivated") {
			a.loss("redistribution: decision %s#%d of claim %s gave it back to %s", r.Stage, n, id, a.exp.Leaver)
		}
	case policy.MethodDefaultAssignee:
		if r.Assignee != a.exp.Default {
			a.loss("ledger: decision %s#%d of claim %s fell back to %q, not %s", r.Stage, n, id, r.Assignee, a.exp.Default)
		}
	case policy.MethodManual:
		if r.Assignee != "" {
			a.loss("ledger: decision %s#%d of claim %s left in the queue names %s", r.Stage, n, id, r.Assignee)
		}
	}
}

// stateAgainstLedger checks the claim's own state lists exactly its ledger
// rows: what the workflow believes and what PostgreSQL recorded agree.
func (a *chaosAudit) stateAgainstLedger(id string, st *workflows.ClaimState, rows []ledgerRow) {
	type key struct {
		stage policy.Stage
		seq   int
	}
	inState := map[key]policy.Decision{}
	for _, d := range st.Decisions {
		inState[key{d.Stage, d.Seq}] = d
	}
	inLedger := map[key]bool{}
	for _, r := range rows {
		k := key{r.Stage, r.Seq}
		inLedger[k] = true
		d, ok := inState[k]
		switch {
		case !ok:
			a.loss("claim %s: ledger decision %s seq %d (%s) missing from the claim's state", id, r.Stage, r.Seq, r.Method)
			a.t.StateMismatch++
		case d.Method != r.Method || d.Assignee != r.Assignee:
			a.loss("claim %s: decision %s seq %d is %s to %q in the claim's state but %s to %q in the ledger",
				id, r.Stage, r.Seq, d.Method, d.Assignee, r.Method, r.Assignee)
			a.t.StateMismatch++
		}
	}
	for _, d := range st.Decisions {
		if !inLedger[key{d.Stage, d.Seq}] {
			a.loss("ledger: decision %s seq %d (%s) of claim %s, in the claim's state, has no ledger row", d.Stage, d.Seq, d.Method, id)
			a.t.StateMismatch++
		}
	}
}

// ledgerText is a claim's ledger rows in one line: stage#seq method → assignee
// (reason).
func ledgerText(rows []ledgerRow) string {
	parts := make([]string, len(rows))
	for i, r := range rows {
		parts[i] = fmt.Sprintf("%s#%d %s → %q (%s)", r.Stage, r.Seq, r.Method, r.Assignee, r.Reason)
	}
	return strings.Join(parts, "; ")
}
