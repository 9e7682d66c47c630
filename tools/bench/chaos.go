package bench

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/batonhq/baton/claimclient"
	"github.com/batonhq/baton/policy"
	"github.com/batonhq/baton/workflows"
)

// ChaosConfig sizes a fault-injection run. The defaults are the issue's: 300
// claims, three worker kills, two connection cuts, one server restart.
type ChaosConfig struct {
	DataDir   string
	WorkerBin string
	Claims    int
	Parallel  int
	Kills     int // worker SIGKILLed and restarted
	Cuts      int // pg_terminate_backend on every other connection
	Restarts  int // embedded Temporal server stopped and started on its SQLite file
	// Aways send one of the round-robin people away for a moment and back;
	// Deactivations deactivate one for good, re-routing what they hold.
	Aways         int
	Deactivations int
	Window        time.Duration
	Seed          uint64
	Log           *slog.Logger
}

func (c *ChaosConfig) defaults() {
	if c.Claims == 0 {
		c.Claims = 300
	}
	if c.Parallel == 0 {
		c.Parallel = 24
	}
	if c.Window == 0 {
		c.Window = 2 * time.Second
	}
	if c.Seed == 0 {
		c.Seed = uint64(time.Now().UnixNano())
	}
	if c.Log == nil {
		c.Log = quietLog()
	}
}

// chaosPolicy: round robin at capture and acknowledge; review waits in a queue
// for the claim window, then falls back to u1, so every claim has one timer
// that must fire exactly once.
func chaosPolicy(window time.Duration) string {
	return fmt.Sprintf(`
version: chaos
claims:
  enableClaimAssignments: true
  claimAssignmentMethod: round_robin
  stages:
    review: {method: manual, queue: review, claimWindow: %s, defaultAssignee: u1}
`, window)
}

// Fault is one injected fault and when it happened.
type Fault struct {
	Kind  string
	At    time.Duration // since the run started
	After int           // claims finished when it was injected
}

// Chaos drives claims while injecting faults, then audits what was recorded.
// It returns the tally; a non-nil error means the run itself could not finish
// (a loss is reported in the tally, not as an error).
func Chaos(ctx context.Context, cfg ChaosConfig, progress io.Writer) (*Tally, error) {
	cfg.defaults()
	rng := rand.New(rand.NewPCG(cfg.Seed, 7))
	fmt.Fprintf(progress, "chaos: %d claims, %d worker kills, %d connection cuts, %d server restarts (seed %d)\n",
		cfg.Claims, cfg.Kills, cfg.Cuts, cfg.Restarts, cfg.Seed)
	s, err := StartStack(ctx, cfg.DataDir, cfg.Log)
	if err != nil {
		return nil, err
	}
	defer s.Close()
	box, err := startMailbox()
	if err != nil {
		return nil, err
	}
	defer box.Close()
	policyFile, err := s.WritePolicy("chaos.yaml", chaosPolicy(cfg.Window))
	if err != nil {
		return nil, err
	}
	// Everyone but u1 (the review stage's default assignee, who must always be
	// able to take a claim window's fallback) may hold chaosLimit stages at once.
	if _, err := s.Pool.Exec(ctx, `UPDATE users SET cap_total = $1 WHERE id = ANY($2)`, chaosLimit, Users[1:]); err != nil {
		return nil, err
	}
	const queue = "chaos"
	env := s.WorkerEnv(queue, policyFile, "BATON_SMTP_HOST="+box.Host, fmt.Sprintf("BATON_SMTP_PORT=%d", box.Port),
		"BATON_SMTP_TLS=none", "BATON_SMTP_FROM=baton@chaos.example", "BATON_OUTBOX_SWEEP_AFTER=5s")
	startWorker := func() (*Proc, error) { return s.StartProc(ctx, "chaos-worker", queue, env, cfg.WorkerBin) }
	w, err := startWorker()
	if err != nil {
		return nil, err
	}
	defer func() { w.Stop() }()

	// Faults fire when the count of finished claims crosses random thresholds
	// between 5% and 85% of the run, so each lands mid-run at a random moment.
	var kinds []string
	for range cfg.Kills {
		kinds = append(kinds, "worker SIGKILL + restart")
	}
	for range cfg.Cuts {
		kinds = append(kinds, "pg_terminate_backend")
	}
	for range cfg.Restarts {
		kinds = append(kinds, "Temporal server stop + restart")
	}
	for range cfg.Aways {
		kinds = append(kinds, faultAway)
	}
	for range cfg.Deactivations {
		kinds = append(kinds, faultDeactivate)
	}
	// The people workload faults touch: never u1, the review stage's default
	// assignee, whom every claim's claim window needs.
	people := slices.Clone(Users[1:])
	rng.Shuffle(len(people), func(i, j int) { people[i], people[j] = people[j], people[i] })
	var touched []string
	var gone *deactivation
	rng.Shuffle(len(kinds), func(i, j int) { kinds[i], kinds[j] = kinds[j], kinds[i] })
	thresholds := make([]int, len(kinds))
	for i := range thresholds {
		thresholds[i] = cfg.Claims*5/100 + rng.IntN(max(1, cfg.Claims*80/100))
	}
	slices.Sort(thresholds)

	var finished atomic.Int64
	start := time.Now()
	claims := claimclient.New(s.Client, queue)
	done := make(chan struct{})
	var faults []Fault
	var faultErr error
	var fwg sync.WaitGroup
	fwg.Add(1)
	go func() {
		defer fwg.Done()
		for i, kind := range kinds {
			for int(finished.Load()) < thresholds[i] {
				select {
				case <-done:
					return
				case <-time.After(20 * time.Millisecond):
				}
			}
			// A random moment within the next half second, not the instant a
			// claim finished.
			time.Sleep(time.Duration(rng.IntN(500)) * time.Millisecond)
			f := Fault{Kind: kind, At: time.Since(start), After: int(finished.Load())}
			fmt.Fprintf(progress, "chaos: %6.1fs  %-32s (%d claims finished)\n", f.At.Seconds(), kind, f.After)
			var err error
			switch kind {
			case "worker SIGKILL + restart":
				w.Kill()
				time.Sleep(time.Second)
				w, err = startWorker()
			case "pg_terminate_backend":
				_, err = s.Pool.Exec(ctx, `SELECT pg_terminate_backend(pid) FROM pg_stat_activity
					WHERE datname = current_database() AND pid <> pg_backend_pid()`)
			case faultAway, faultDeactivate:
				who := people[len(touched)%len(people)]
				if kind == faultDeactivate {
					// Whoever holds the most now, so the re-routing has work to do.
					who, err = s.busiest(ctx, people, touched)
					if err != nil {
						break
					}
				}
				touched = append(touched, who)
				if kind == faultAway {
					err = s.awayAndBack(ctx, claims, who)
				} else {
					// Give them a few claims waiting at review first, so the
					// deactivation has open work to re-route.
					given := giveWaiting(ctx, claims, who, 4)
					fmt.Fprintf(progress, "chaos: %6.1fs  %s given %d waiting review stages, then deactivated\n", time.Since(start).Seconds(), who, len(given))
					gone = &deactivation{user: who, given: given}
					gone.held, err = s.Store.UserActiveSet(ctx, "root", who, false)
					if err == nil {
						err = claims.Redistribute(ctx, gone.held, who, who+" was deactivated")
					}
				}
			default:
				err = s.RestartServer(ctx, 2*time.Second)
			}
			if err != nil {
				faultErr = fmt.Errorf("injecting %s: %w", kind, err)
				return
			}
			faults = append(faults, f)
		}
	}()

	// Sample who holds how much while the claims run: nobody may go past a limit.
	peak := map[string]int{}
	var sampled sync.WaitGroup
	sampled.Add(1)
	go func() {
		defer sampled.Done()
		for {
			select {
			case <-done:
				return
			case <-time.After(50 * time.Millisecond):
			}
			rows, err := s.Pool.Query(ctx, `SELECT user_id, count(*)::int FROM open_stages GROUP BY user_id`)
			if err != nil {
				continue // a cut connection: the next sample
			}
			for rows.Next() {
				var u string
				var n int
				if rows.Scan(&u, &n) == nil && n > peak[u] {
					peak[u] = n
				}
			}
			rows.Close()
		}
	}()
	ids, _, runErr := runMany(ctx, "chaos", cfg.Claims, cfg.Parallel, func(ctx context.Context, id string) error {
		err := driveThroughFaults(ctx, claims, id)
		finished.Add(1)
		return err
	})
	close(done)
	fwg.Wait()
	sampled.Wait()
	if faultErr != nil {
		return nil, faultErr
	}
	// A send abandoned when its claim finished is the sweeper's: give it time.
	drainCtx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	// What stays unsent after two minutes is counted by the audit.
	_ = retry(drainCtx, "wait for the outbox to drain", func() (bool, error) {
		var unsent int
		err := s.Pool.QueryRow(drainCtx, `SELECT count(*) FROM outbox WHERE sent_at IS NULL`).Scan(&unsent)
		return err == nil && unsent == 0, err
	})
	var requeued []string
	if gone != nil {
		requeued = gone.given
	}
	t, err := s.audit(ctx, ids, cfg.Window, box, touched, requeued)
	if err != nil {
		return nil, err
	}
	if gone != nil {
		if err := s.auditDeactivation(ctx, t, *gone); err != nil {
			return nil, err
		}
	}
	for _, u := range Users[1:] {
		t.PeakOpen = max(t.PeakOpen, peak[u])
		if peak[u] > chaosLimit {
			t.Losses = append(t.Losses, fmt.Sprintf("capacity: %s held %d open stages, over the limit of %d", u, peak[u], chaosLimit))
		}
	}
	t.Faults, t.Took = faults, time.Since(start)
	// A message goes out again, under the same Message-ID, only when the sender dies
	// or loses PostgreSQL between the server's acceptance and the sent mark: the
	// window docs/notifications.md documents. Without such a fault, a second
	// delivery is a bug.
	if t.Duplicate > 0 && !slices.ContainsFunc(faults, func(f Fault) bool {
		return f.Kind == "worker SIGKILL + restart" || f.Kind == "pg_terminate_backend"
	}) {
		t.Losses = append(t.Losses, fmt.Sprintf("notifications: %d delivered twice with no crash or cut connection to explain it", t.Duplicate))
	}
	if runErr != nil {
		t.Losses = append(t.Losses, "a claim did not finish: "+runErr.Error())
	}
	if len(faults) != len(kinds) {
		t.Losses = append(t.Losses, fmt.Sprintf("only %d of %d faults were injected before the run ended", len(faults), len(kinds)))
	}
	return t, nil
}

// driveThroughFaults pushes a claim through every stage the way a patient
// client would: every call is retried until it succeeds or the claim has moved
// on, because the worker, the database or the server may be down at any time.
func driveThroughFaults(ctx context.Context, claims *claimclient.Client, id string) error {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Minute)
	defer cancel()
	err := retry(ctx, "start", func() (bool, error) {
		_, err := claims.Start(ctx, workflows.ClaimInput{ClaimID: id, Owner: "root"})
		if errors.Is(err, claimclient.ErrClaimExists) {
			return true, nil // an earlier attempt started it
		}
		return err == nil, err
	})
	if err != nil {
		return err
	}
	for i, stage := range policy.AssignableStages {
		err := retry(ctx, "complete "+string(stage), func() (bool, error) {
			st, err := claims.State(ctx, id)
			if err != nil {
				return false, err
			}
			if stageIndex(st.Stage) > i {
				return true, nil // completed, even if our last answer was lost
			}
			if st.Stage != stage || st.Assignee == "" {
				return false, nil
			}
			in := workflows.CompleteInput{Actor: st.Assignee}
			if stage == policy.StageReview {
				in.Outcome = string(policy.OutcomeApproval)
			}
			_, err = claims.Complete(ctx, id, in)
			return err == nil, err
		})
		if err != nil {
			return err
		}
	}
	return retry(ctx, "wait for the claim to finish", func() (bool, error) {
		_, err := claims.Summary(ctx, id)
		return err == nil, err
	})
}

func stageIndex(s policy.Stage) int {
	if s == policy.StageFinalise {
		return len(policy.AssignableStages)
	}
	return slices.Index(policy.AssignableStages, s)
}

// retry calls f every 50–250 ms until it reports done or ctx ends.
func retry(ctx context.Context, what string, f func() (bool, error)) error {
	var last error
	for {
		done, err := f()
		if done {
			return nil
		}
		if err != nil {
			last = err
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("%s: %w (last error: %v)", what, ctx.Err(), last)
		case <-time.After(time.Duration(50+rand.IntN(200)) * time.Millisecond):
		}
	}
}

// Tally is what the audit found.
type Tally struct {
	Claims, Finished                     int
	Decisions, Expected                  int // ledger rows, and one per claim-stage sequence the claims' own state lists
	Missing, Extra                       int // claim decisions absent from the ledger, ledger rows no claim lists
	Spread                               map[string]int
	Outbox, Unsent                       int
	Delivered, Duplicate                 int // distinct Message-IDs received, and receptions beyond the first
	NeverDelivered                       int
	TimersOnce, TimersTwice, TimersNever int
	Faults                               []Fault
	// Deactivated is the person a run deactivated, Held how many stages they
	// held then, and Moved how many were moved off them (once each).
	Deactivated string
	Held, Moved int
	// PeakOpen is the most open stages anyone with a limit was seen holding.
	PeakOpen int
	Took     time.Duration
	Losses   []string
}

// Lost reports whether anything was lost or done twice.
func (t *Tally) Lost() bool { return len(t.Losses) > 0 }

// audit checks everything a user relies on after the run.
func (s *Stack) audit(ctx context.Context, ids []string, window time.Duration, box *mailbox, touched, requeued []string) (*Tally, error) {
	t := &Tally{Claims: len(ids), Spread: map[string]int{}}
	claims := claimclient.New(s.Client, "chaos")
	ledger := map[string]int{} // workflow id/stage/seq → rows
	rows, err := s.Pool.Query(ctx, `SELECT workflow_id, stage, seq FROM decisions WHERE claim_id LIKE 'chaos-%'`)
	if err != nil {
		return nil, err
	}
	for rows.Next() {
		var wf, stage string
		var seq int
		if err := rows.Scan(&wf, &stage, &seq); err != nil {
			return nil, err
		}
		ledger[fmt.Sprintf("%s/%s/%d", wf, stage, seq)]++
		t.Decisions++
	}
	rows.Close()
	listed := map[string]bool{}
	for _, id := range ids {
		st, err := claims.State(ctx, id)
		if err != nil {
			t.Losses = append(t.Losses, fmt.Sprintf("claim %s: state unreadable: %v", id, err))
			continue
		}
		if st.Status == workflows.StatusFinalised {
			t.Finished++
		} else {
			t.Losses = append(t.Losses, fmt.Sprintf("claim %s stopped at %s (%s)", id, st.Stage, st.Status))
		}
		for _, d := range st.Decisions {
			key := fmt.Sprintf("%s/%s/%d", workflows.WorkflowID(id), d.Stage, d.Seq)
			listed[key] = true
			t.Expected++
			switch ledger[key] {
			case 0:
				t.Missing++
			case 1:
			default:
				t.Extra += ledger[key] - 1
			}
		}
		once, err := s.windowTimer(ctx, workflows.WorkflowID(id), window)
		if err != nil {
			return nil, err
		}
		switch {
		case once == 1, slices.Contains(requeued, id):
			// A stage the run gave someone by hand skips its window, or, sent
			// back to its queue with a leaver's work, gets a whole new one:
			// either is right, so those claims are not counted against it.
			t.TimersOnce++
		case once == 0:
			t.TimersNever++
		default:
			t.TimersTwice++
		}
	}
	for key, n := range ledger {
		if !listed[key] {
			t.Extra += n
		}
	}
	if err := s.auditSpread(ctx, t, touched); err != nil {
		return nil, err
	}
	if err := s.auditOutbox(ctx, t, box); err != nil {
		return nil, err
	}
	if t.Missing > 0 || t.Extra > 0 {
		t.Losses = append(t.Losses, fmt.Sprintf("ledger: %d decisions missing, %d extra", t.Missing, t.Extra))
	}
	for scope, n := range t.Spread {
		if n > 1 {
			t.Losses = append(t.Losses, fmt.Sprintf("round robin at %s: max−min %d", scope, n))
		}
	}
	if t.Unsent > 0 || t.NeverDelivered > 0 {
		t.Losses = append(t.Losses, fmt.Sprintf("notifications: %d unsent, %d never delivered", t.Unsent, t.NeverDelivered))
	}
	if t.TimersNever > 0 || t.TimersTwice > 0 {
		t.Losses = append(t.Losses, fmt.Sprintf("claim windows: %d never fired, %d fired twice", t.TimersNever, t.TimersTwice))
	}
	return t, nil
}

// windowTimer counts how often the claim window fired, from the history, and
// checks the timeline agrees.
func (s *Stack) windowTimer(ctx context.Context, workflowID string, window time.Duration) (int, error) {
	events, err := history(ctx, s.Client, workflowID)
	if err != nil {
		return 0, err
	}
	fired := 0
	for _, t := range timersOf(events, window) {
		if !t.fired.IsZero() {
			fired++
		}
	}
	var expired int
	err = s.Pool.QueryRow(ctx, `SELECT count(*) FROM timeline WHERE workflow_id = $1 AND kind = $2`,
		workflowID, policy.EventWindowExpired).Scan(&expired)
	if err != nil {
		return 0, err
	}
	if expired != fired {
		return 2, nil // the timeline says otherwise: count it as wrong
	}
	return fired, nil
}

// auditSpread checks round robin stayed even among the people no workload fault
// touched: someone away for a while, or gone, rightly has fewer.
func (s *Stack) auditSpread(ctx context.Context, t *Tally, touched []string) error {
	counts, err := s.roundRobinCounts(ctx, "chaos-")
	if err != nil {
		return err
	}
	even := slices.DeleteFunc(slices.Clone(Users), func(u string) bool { return slices.Contains(touched, u) })
	for stage, c := range counts {
		t.Spread[string(stage)] = spread(c, even)
	}
	return nil
}

// chaosLimit is the open-stage limit of everyone but u1 in a chaos run.
const chaosLimit = 3

// The workload faults.
const (
	faultAway       = "user away + back"
	faultDeactivate = "user deactivated"
)

// deactivation is the person a run deactivated and the claims whose stage they
// held then.
type deactivation struct {
	user  string
	held  []string
	given []string // claims whose review stage the run gave them first
}

// giveWaiting has root assign up to n claims waiting unassigned at review to
// who, and returns those it tried; a claim that moved on meanwhile refuses it.
func giveWaiting(ctx context.Context, claims *claimclient.Client, who string, n int) []string {
	waiting, err := claims.List(ctx, claimclient.ListFilter{Stage: string(policy.StageReview), Status: workflows.StatusUnassigned, Limit: n})
	if err != nil {
		return nil
	}
	var given []string
	for _, l := range waiting {
		// Listed even when the answer is an error: a lost answer may hide an
		// assignment that was made.
		given = append(given, l.ClaimID)
		_, _ = claims.Assign(ctx, l.ClaimID, workflows.AssignInput{Actor: "root", UserID: who, Comment: "chaos"})
	}
	return given
}

// busiest is the one of people, not yet touched, holding the most open stages.
func (s *Stack) busiest(ctx context.Context, people, touched []string) (string, error) {
	var who string
	err := s.Pool.QueryRow(ctx, `SELECT u FROM unnest($1::text[]) AS u
		ORDER BY (SELECT count(*) FROM open_stages o WHERE o.user_id = u) DESC, u LIMIT 1`,
		slices.DeleteFunc(slices.Clone(people), func(u string) bool { return slices.Contains(touched, u) })).Scan(&who)
	return who, err
}

// awayAndBack sends who away for a second, then back, nudging what waited.
func (s *Stack) awayAndBack(ctx context.Context, claims *claimclient.Client, who string) error {
	if _, _, err := s.Store.UserStatusSet(ctx, "root", who, policy.Away); err != nil {
		return err
	}
	time.Sleep(time.Second)
	_, drain, err := s.Store.UserStatusSet(ctx, "root", who, policy.Available)
	if err != nil {
		return err
	}
	return claims.DecideAgain(ctx, drain)
}

// auditDeactivation checks every stage the deactivated person held was moved
// off them exactly once (or, in the instant before the deactivation committed,
// completed by them), and that they hold nothing now.
func (s *Stack) auditDeactivation(ctx context.Context, t *Tally, d deactivation) error {
	t.Deactivated, t.Held = d.user, len(d.held)
	for _, wf := range d.held {
		var moved, completed int
		if err := s.Pool.QueryRow(ctx, `SELECT
				(SELECT count(*) FROM decisions WHERE workflow_id = $1 AND reason LIKE $2),
				(SELECT count(*) FROM timeline WHERE workflow_id = $1 AND kind = 'completed' AND actor = $3)`,
			wf, d.user+" was deactivated;%", d.user).Scan(&moved, &completed); err != nil {
			return err
		}
		switch {
		case moved == 1:
			t.Moved++
		case moved > 1:
			t.Losses = append(t.Losses, fmt.Sprintf("redistribution: %s moved %d times off %s", wf, moved, d.user))
		case completed == 0:
			t.Losses = append(t.Losses, fmt.Sprintf("redistribution: %s was never moved off %s", wf, d.user))
		}
	}
	var open int
	if err := s.Pool.QueryRow(ctx, `SELECT count(*) FROM open_stages WHERE user_id = $1`, d.user).Scan(&open); err != nil {
		return err
	}
	if open > 0 {
		t.Losses = append(t.Losses, fmt.Sprintf("redistribution: %s still holds %d open stages", d.user, open))
	}
	return nil
}

func (s *Stack) auditOutbox(ctx context.Context, t *Tally, box *mailbox) error {
	got := box.Deliveries()
	rows, err := s.Pool.Query(ctx, `SELECT message_id, sent_at IS NOT NULL FROM outbox WHERE claim_id LIKE 'chaos-%'`)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var id string
		var sent bool
		if err := rows.Scan(&id, &sent); err != nil {
			return err
		}
		t.Outbox++
		if !sent {
			t.Unsent++
		}
		n := got[strings.Trim(id, "<> ")]
		switch {
		case n == 0:
			t.NeverDelivered++
		default:
			t.Delivered++
			t.Duplicate += n - 1
		}
	}
	return rows.Err()
}

// Print writes the tally.
func (t *Tally) Print(w io.Writer) {
	fmt.Fprintf(w, "\nchaos tally (%.0f s)\n", t.Took.Seconds())
	for _, f := range t.Faults {
		fmt.Fprintf(w, "  fault     %-32s at %5.1fs, after %d claims finished\n", f.Kind, f.At.Seconds(), f.After)
	}
	fmt.Fprintf(w, "  claims    %d of %d finished\n", t.Finished, t.Claims)
	fmt.Fprintf(w, "  ledger    %d decisions for %d claim-stage sequences: %d missing, %d extra\n", t.Decisions, t.Expected, t.Missing, t.Extra)
	var scopes []string
	for s, n := range t.Spread {
		scopes = append(scopes, fmt.Sprintf("%s %d", s, n))
	}
	slices.Sort(scopes)
	fmt.Fprintf(w, "  spread    round robin max−min: %s\n", strings.Join(scopes, ", "))
	fmt.Fprintf(w, "  notify    %d e-mails queued: %d delivered, %d unsent, %d never delivered, %d delivered again\n",
		t.Outbox, t.Delivered, t.Unsent, t.NeverDelivered, t.Duplicate)
	fmt.Fprintf(w, "  timers    claim window fired once: %d, twice: %d, never: %d\n", t.TimersOnce, t.TimersTwice, t.TimersNever)
	fmt.Fprintf(w, "  capacity  most open stages held by anyone limited to %d: %d\n", chaosLimit, t.PeakOpen)
	if t.Deactivated != "" {
		fmt.Fprintf(w, "  leaver    %s held %d open stages when deactivated: %d moved once each\n", t.Deactivated, t.Held, t.Moved)
	}
	if len(t.Losses) == 0 {
		fmt.Fprintln(w, "  result    nothing lost, nothing done twice")
		return
	}
	for _, l := range t.Losses {
		fmt.Fprintln(w, "  LOSS     ", l)
	}
}
