package bench

import (
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	historypb "go.temporal.io/api/history/v1"

	"github.com/batonhq/baton/claimclient"
	"github.com/batonhq/baton/policy"
)

// The faults a run injects.
const (
	faultKill       = "worker SIGKILL + restart"
	faultDown       = "worker SIGKILL, left down"
	faultCut        = "pg_terminate_backend"
	faultPGRestart  = "PostgreSQL server restart"
	faultRestart    = "Temporal server stop + restart"
	faultServerKill = "Temporal server SIGKILL + restart"
	faultAway       = "user away + back"
	faultDeactivate = "user deactivated"
)

// repeatsSends reports whether a fault can make the outbox send an e-mail
// again: the sender dies, or loses PostgreSQL, between the SMTP server's
// acceptance and the sent mark (the window docs/notifications.md documents).
func repeatsSends(kind string) bool {
	switch kind {
	case faultKill, faultDown, faultCut, faultPGRestart:
		return true
	}
	return false
}

// chaosQueue is the task queue the run's workers poll.
const chaosQueue = "chaos"

// chaosRun is one run in progress: the stack, the workers and what the run
// has done so far, from which the audit derives what must exist.
type chaosRun struct {
	s        *Stack
	cfg      ChaosConfig
	box      *mailbox
	progress io.Writer
	claims   *claimclient.Client
	env      []string
	rng      *rand.Rand
	start    time.Time
	finished atomic.Int64

	mu      sync.Mutex
	workers []*Proc // nil where a worker is down

	faults  []Fault
	touched []string // people a workload fault touched
	gives   map[string]giveOutcome
	leaver  string
	held    []string
}

func (s *Stack) newChaosRun(ctx context.Context, cfg ChaosConfig, box *mailbox, progress io.Writer) (*chaosRun, error) {
	policyFile, err := s.WritePolicy("chaos.yaml", chaosPolicy(cfg.Window))
	if err != nil {
		return nil, err
	}
	// Everyone but the default assignee (who must always be able to take a
	// claim window's fallback) may hold chaosLimit stages at once.
	limited := slices.DeleteFunc(slices.Clone(Users), func(u string) bool { return u == chaosDefault })
	if _, err := s.Pool.Exec(ctx, `UPDATE users SET cap_total = $1 WHERE id = ANY($2)`, chaosLimit, limited); err != nil {
		return nil, err
	}
	r := &chaosRun{
		s: s, cfg: cfg, box: box, progress: progress,
		claims: claimclient.New(s.Client, chaosQueue),
		env: s.WorkerEnv(chaosQueue, policyFile, "BATON_SMTP_HOST="+box.Host, fmt.Sprintf("BATON_SMTP_PORT=%d", box.Port),
			"BATON_SMTP_TLS=none", "BATON_SMTP_FROM=baton@chaos.example", "BATON_OUTBOX_SWEEP_AFTER=5s"),
		rng:     rand.New(rand.NewPCG(cfg.Seed, 7)),
		workers: make([]*Proc, cfg.Workers),
		gives:   map[string]giveOutcome{},
	}
	for i := range r.workers {
		if r.workers[i], err = r.startWorker(ctx, i); err != nil {
			r.stopWorkers()
			return nil, err
		}
	}
	return r, nil
}

func (r *chaosRun) startWorker(ctx context.Context, i int) (*Proc, error) {
	return r.s.StartProc(ctx, fmt.Sprintf("chaos-worker-%d", i), chaosQueue, r.env, r.cfg.WorkerBin)
}

func (r *chaosRun) stopWorkers() {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, w := range r.workers {
		if w != nil {
			w.Stop()
		}
	}
}

// plan is the faults in a random order, each at a random count of finished
// claims between 5% and 85% of the run, so each lands mid-run.
func (r *chaosRun) plan() ([]string, []int) {
	var kinds []string
	add := func(n int, kind string) {
		for range n {
			kinds = append(kinds, kind)
		}
	}
	c := r.cfg
	add(c.Kills, faultKill)
	add(c.Downs, faultDown)
	add(c.Cuts, faultCut)
	add(c.PGRestarts, faultPGRestart)
	add(c.Restarts, faultRestart)
	add(c.ServerKills, faultServerKill)
	add(c.Aways, faultAway)
	add(c.Deactivations, faultDeactivate)
	r.rng.Shuffle(len(kinds), func(i, j int) { kinds[i], kinds[j] = kinds[j], kinds[i] })
	thresholds := make([]int, len(kinds))
	for i := range thresholds {
		thresholds[i] = c.Claims*5/100 + r.rng.IntN(max(1, c.Claims*80/100))
	}
	slices.Sort(thresholds)
	return kinds, thresholds
}

// run drives the claims through the faults, then observes and audits.
func (r *chaosRun) run(ctx context.Context) (*Tally, error) {
	kinds, thresholds := r.plan()
	// The people workload faults touch: never the default assignee, whom
	// every claim's claim window needs.
	people := slices.DeleteFunc(slices.Clone(Users), func(u string) bool { return u == chaosDefault })
	r.rng.Shuffle(len(people), func(i, j int) { people[i], people[j] = people[j], people[i] })

	r.start = time.Now()
	done := make(chan struct{})
	var faultErr error
	var wg sync.WaitGroup
	wg.Add(2)
	go func() {
		defer wg.Done()
		faultErr = r.inject(ctx, done, kinds, thresholds, people)
	}()
	peak := map[string]int{}
	go func() {
		defer wg.Done()
		r.sample(ctx, done, peak)
	}()
	ids, _, runErr := runMany(ctx, "chaos", r.cfg.Claims, r.cfg.Parallel, func(ctx context.Context, id string) error {
		err := driveThroughFaults(ctx, r.claims, id)
		r.finished.Add(1)
		return err
	})
	close(done)
	wg.Wait()
	if faultErr != nil {
		return nil, faultErr
	}
	calmTurns, err := r.s.turnCounts(ctx, policy.StageCapture, policy.StageAcknowledge)
	if err != nil {
		return nil, err
	}
	calm, err := r.runCalm(ctx)
	if err != nil && runErr == nil {
		runErr = err
	}
	// A send abandoned when its claim finished is the sweeper's: give it
	// time. What stays unsent after two minutes is the audit's to count.
	drainCtx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	_ = retry(drainCtx, "wait for the outbox to drain", func() (bool, error) {
		var unsent int
		err := r.s.Pool.QueryRow(drainCtx, `SELECT count(*) FROM outbox WHERE sent_at IS NULL`).Scan(&unsent)
		return err == nil && unsent == 0, err
	})
	obs, err := r.s.observeChaos(ctx, r.claims, append(slices.Clone(ids), calm...), r.cfg.Window, r.box, r.leaver)
	if err != nil {
		return nil, err
	}
	obs.PeakOpen = peak
	t := auditChaos(chaosExpected{
		Claims: append(ids, calm...), Calm: calm, CalmTurns: calmTurns, Users: Users, Default: chaosDefault, Limit: chaosLimit,
		Touched: r.touched, Gives: r.gives, Leaver: r.leaver, Held: r.held,
		Faults: r.faults, Start: r.start,
	}, obs)
	t.Faults, t.Took = r.faults, time.Since(r.start)
	if runErr != nil {
		t.Losses = append(t.Losses, "a claim did not finish: "+runErr.Error())
	}
	if len(r.faults) != len(kinds) {
		t.Losses = append(t.Losses, fmt.Sprintf("only %d of %d faults were injected before the run ended", len(r.faults), len(kinds)))
	}
	return t, nil
}

// runCalm drives the calm claims once every faulty one has finished: at most
// three at a time, so nobody limited to three can be full, and nobody away.
func (r *chaosRun) runCalm(ctx context.Context) ([]string, error) {
	if r.cfg.Calm == 0 {
		return nil, nil
	}
	start := time.Now()
	ids, _, err := runMany(ctx, "chaos-calm", r.cfg.Calm, min(3, r.cfg.Parallel), func(ctx context.Context, id string) error {
		return driveThroughFaults(ctx, r.claims, id)
	})
	fmt.Fprintf(r.progress, "chaos: %6.1fs  %d calm claims, three at a time, in %.1fs\n", time.Since(r.start).Seconds(), len(ids), time.Since(start).Seconds())
	return ids, err
}

// inject fires each fault when the count of finished claims crosses its
// threshold, at a random moment within the next half second.
func (r *chaosRun) inject(ctx context.Context, done <-chan struct{}, kinds []string, thresholds []int, people []string) error {
	for i, kind := range kinds {
		for int(r.finished.Load()) < thresholds[i] {
			select {
			case <-done:
				return nil
			case <-time.After(20 * time.Millisecond):
			}
		}
		time.Sleep(time.Duration(r.rng.IntN(500)) * time.Millisecond)
		f := Fault{Kind: kind, At: time.Since(r.start), After: int(r.finished.Load())}
		fmt.Fprintf(r.progress, "chaos: %6.1fs  %-34s (%d claims finished)\n", f.At.Seconds(), kind, f.After)
		if err := r.fault(ctx, kind, people); err != nil {
			return fmt.Errorf("injecting %s: %w", kind, err)
		}
		r.faults = append(r.faults, f)
	}
	return nil
}

func (r *chaosRun) fault(ctx context.Context, kind string, people []string) error {
	s := r.s
	switch kind {
	case faultKill:
		r.mu.Lock()
		defer r.mu.Unlock()
		r.workers[0].Kill()
		time.Sleep(time.Second)
		w, err := r.startWorker(ctx, 0)
		r.workers[0] = w
		return err
	case faultDown:
		r.mu.Lock()
		defer r.mu.Unlock()
		// The last worker still up, never the first: it keeps working.
		for i := len(r.workers) - 1; i > 0; i-- {
			if r.workers[i] != nil {
				r.workers[i].Kill()
				r.workers[i] = nil
				return nil
			}
		}
		return fmt.Errorf("no worker but the first is up")
	case faultCut:
		_, err := s.Pool.Exec(ctx, `SELECT pg_terminate_backend(pid) FROM pg_stat_activity
			WHERE datname = current_database() AND pid <> pg_backend_pid()`)
		return err
	case faultPGRestart:
		return s.RestartPostgres(ctx)
	case faultRestart:
		return s.RestartServer(ctx, 2*time.Second)
	case faultServerKill:
		return s.KillServer(ctx, 2*time.Second)
	case faultAway:
		who := people[len(r.touched)%len(people)]
		r.touched = append(r.touched, who)
		return s.awayAndBack(ctx, r.claims, who)
	case faultDeactivate:
		// Whoever holds the most now, so the re-routing has work to do.
		who, err := s.busiest(ctx, people, r.touched)
		if err != nil {
			return err
		}
		r.touched = append(r.touched, who)
		// Give them a few claims waiting at review first, so the
		// deactivation has open work to re-route.
		given := giveWaiting(ctx, r.claims, who, 4)
		for id, g := range given {
			r.gives[id] = g
		}
		var gives []string
		for id, g := range given {
			gives = append(gives, id+" "+g.String())
		}
		slices.Sort(gives)
		fmt.Fprintf(r.progress, "chaos: %6.1fs  %s given %d waiting review stages (%s), then deactivated\n", time.Since(r.start).Seconds(),
			who, len(given), strings.Join(gives, ", "))
		r.leaver = who
		if r.held, _, err = s.Store.UserActiveSet(ctx, who, false); err != nil {
			return err
		}
		return r.claims.Redistribute(ctx, r.held, who, who+" was deactivated")
	}
	return fmt.Errorf("unknown fault %q", kind)
}

// sample records who holds how much while the claims run: nobody may be seen
// past a limit.
func (r *chaosRun) sample(ctx context.Context, done <-chan struct{}, peak map[string]int) {
	for {
		select {
		case <-done:
			return
		case <-time.After(50 * time.Millisecond):
		}
		rows, err := r.s.Pool.Query(ctx, `SELECT user_id, count(*)::int FROM open_stages GROUP BY user_id`)
		if err != nil {
			continue // a cut connection or a restarting server: the next sample
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
}

// windowTimers counts the timers of length window a history started, and
// those of them that fired.
func windowTimers(events []*historypb.HistoryEvent, window time.Duration) (started, fired int) {
	ids := map[int64]bool{}
	for _, ev := range events {
		if a := ev.GetTimerStartedEventAttributes(); a != nil && a.GetStartToFireTimeout().AsDuration() == window {
			ids[ev.GetEventId()] = true
		}
		if a := ev.GetTimerFiredEventAttributes(); a != nil && ids[a.GetStartedEventId()] {
			fired++
		}
	}
	return len(ids), fired
}
