package bench

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"slices"
	"strings"
	"time"

	"go.temporal.io/sdk/temporal"

	"github.com/batonhq/baton/claimclient"
	"github.com/batonhq/baton/policy"
	"github.com/batonhq/baton/workflows"
)

// ChaosConfig sizes a fault-injection run. The defaults are make chaos's:
// 294 claims (a multiple of the seven round-robin people, so exact shares are
// checkable), and the fault counts bin/dev chaos sets.
type ChaosConfig struct {
	DataDir   string
	WorkerBin string
	Claims    int
	Parallel  int
	// Workers is how many worker processes share the queue (default 1).
	Workers int
	Kills   int // the first worker SIGKILLed and restarted
	// Downs SIGKILL another worker and leave it down for the rest of the run,
	// while the first keeps working (needs Workers ≥ 2).
	Downs       int
	Cuts        int // pg_terminate_backend on every other connection
	PGRestarts  int // the PostgreSQL server itself restarted (on a cluster of the run's own)
	Restarts    int // Temporal server stopped and started on its store
	ServerKills int // Temporal server SIGKILLed and started on its store (needs ServerBin)
	// Aways send one of the round-robin people away for a moment and back;
	// Deactivations deactivate one for good, re-routing what they hold.
	Aways         int
	Deactivations int
	// Calm claims run after the faults, at most three at a time so nobody
	// can be at their limit of three: with nothing to skew them, each person
	// still eligible must get exactly Calm/eligible turns at each round-robin
	// stage. Default 42, which six and seven people divide (a deactivation
	// leaves six); -1 for none.
	Calm   int
	Window time.Duration
	Seed   uint64
	// TemporalStore is StoreSQLite (default) or StorePostgres, with Shards
	// history shards (default 1 and 4).
	TemporalStore string
	Shards        int
	// ServerBin runs the Temporal server as its own process (bin/dev, whose
	// temporal-server command starts it); needed for ServerKills.
	ServerBin string
	Log       *slog.Logger
}

func (c *ChaosConfig) defaults() error {
	if c.Claims == 0 {
		c.Claims = 294
	}
	if c.Parallel == 0 {
		c.Parallel = 24
	}
	if c.Workers == 0 {
		c.Workers = 1
	}
	switch {
	case c.Calm == 0:
		c.Calm = 42
	case c.Calm < 0:
		c.Calm = 0
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
	if c.Downs > 0 && c.Workers < 2 {
		return fmt.Errorf("chaos: %d worker downs need at least two workers, not %d", c.Downs, c.Workers)
	}
	if c.Downs >= c.Workers {
		return fmt.Errorf("chaos: %d worker downs would leave none of %d workers", c.Downs, c.Workers)
	}
	if c.ServerKills > 0 && c.ServerBin == "" {
		return errors.New("chaos: killing the Temporal server needs it in its own process (ServerBin, e.g. bin/dev)")
	}
	return nil
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
    review: {method: manual, queue: review, claimWindow: %s, defaultAssignee: %s}
`, window, chaosDefault)
}

// chaosDefault is review's default assignee, exempt from limits and workload
// faults so that every claim window's fallback can always be taken.
const chaosDefault = "u1"

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
	if err := cfg.defaults(); err != nil {
		return nil, err
	}
	fmt.Fprintf(progress, "chaos: %d claims on Temporal/%s, %d workers; faults: %d worker kills, %d worker downs, %d connection cuts, "+
		"%d PostgreSQL restarts, %d server restarts, %d server kills, %d aways, %d deactivations (seed %d)\n",
		cfg.Claims, cmp.Or(cfg.TemporalStore, StoreSQLite), cfg.Workers, cfg.Kills, cfg.Downs, cfg.Cuts, cfg.PGRestarts,
		cfg.Restarts, cfg.ServerKills, cfg.Aways, cfg.Deactivations, cfg.Seed)
	s, err := StartStackWith(ctx, StackConfig{
		DataDir: cfg.DataDir, Log: cfg.Log, Schema: "baton_chaos",
		TemporalStore: cfg.TemporalStore, Shards: cfg.Shards, ServerBin: cfg.ServerBin,
		PrivatePostgres: cfg.PGRestarts > 0,
	})
	if err != nil && cfg.PGRestarts > 0 {
		return nil, fmt.Errorf("%w (restarting PostgreSQL needs a cluster of the run's own, from PostgreSQL's binaries; --pg-restarts 0 runs on DATABASE_URL or 127.0.0.1:5432)", err)
	}
	if err != nil {
		return nil, err
	}
	defer s.Close()
	box, err := startMailbox()
	if err != nil {
		return nil, err
	}
	defer box.Close()
	r, err := s.newChaosRun(ctx, cfg, box, progress)
	if err != nil {
		return nil, err
	}
	defer r.stopWorkers()
	return r.run(ctx)
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
	Decisions, Expected                  int // ledger rows, and the decisions the policy and the run's own actions call for
	Missing, Extra                       int // decisions called for but absent (or of another method), and rows nothing called for
	StateMismatch                        int // decisions the ledger and the claim's own state disagree on
	Spread                               map[string]int
	Exact                                map[string]bool // stages whose whole-run shares were held to exactly equal
	Calm, CalmSpread                     int             // calm claims, whose shares are held to exactly equal, and their max−min
	Outbox, Unsent                       int
	Delivered, Duplicate                 int // distinct Message-IDs received, and receptions beyond the first
	NeverDelivered                       int
	TimersOnce, TimersTwice, TimersNever int // claims whose window fired as often as called for, more often, less often
	Faults                               []Fault
	// Deactivated is the person a run deactivated, Held how many stages they
	// held then, and Moved how many were moved off them (once each).
	Deactivated string
	Held, Moved int
	HeldBy      []string // the workflows of the stages they held
	// PeakOpen is the most open stages anyone with a limit was seen holding.
	PeakOpen int
	Took     time.Duration
	Losses   []string
}

// Lost reports whether anything was lost or done twice.
func (t *Tally) Lost() bool { return len(t.Losses) > 0 }

// chaosLimit is the open-stage limit of everyone but u1 in a chaos run.
const chaosLimit = 3

// giveWaiting has root assign up to n claims listed as waiting unassigned at
// review to who, and returns what each answer said. The list comes from
// visibility, which may lag: a claim whose window already fell back is
// reassigned from the default assignee; one that moved on refuses (the
// workflow answered); a lost answer may hide an assignment that was made.
func giveWaiting(ctx context.Context, claims *claimclient.Client, who string, n int) map[string]giveOutcome {
	waiting, err := claims.List(ctx, claimclient.ListFilter{Stage: string(policy.StageReview), Status: workflows.StatusUnassigned, Limit: n})
	if err != nil {
		return nil
	}
	given := map[string]giveOutcome{}
	for _, l := range waiting {
		// Meant for review: visibility lags, and a claim listed there may have
		// moved on, which the stage guard refuses rather than reassigning the
		// next stage.
		_, err := claims.Assign(ctx, l.ClaimID, workflows.AssignInput{Actor: "root", UserID: who, Comment: "chaos", Stage: policy.StageReview})
		var app *temporal.ApplicationError
		switch {
		case err == nil:
			given[l.ClaimID] = giveMade
		case errors.As(err, &app):
			given[l.ClaimID] = giveRefused
		default:
			given[l.ClaimID] = giveUnknown
		}
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
	if _, _, err := s.Store.UserStatusSet(ctx, who, policy.Away); err != nil {
		return err
	}
	time.Sleep(time.Second)
	_, drain, err := s.Store.UserStatusSet(ctx, who, policy.Available)
	if err != nil {
		return err
	}
	return claims.DecideAgain(ctx, drain)
}

// Print writes the tally.
func (t *Tally) Print(w io.Writer) {
	fmt.Fprintf(w, "\nchaos tally (%.0f s)\n", t.Took.Seconds())
	for _, f := range t.Faults {
		fmt.Fprintf(w, "  fault     %-32s at %5.1fs, after %d claims finished\n", f.Kind, f.At.Seconds(), f.After)
	}
	fmt.Fprintf(w, "  claims    %d of %d finished\n", t.Finished, t.Claims)
	fmt.Fprintf(w, "  ledger    %d decisions, %d called for by the policy and the run: %d missing, %d extra; %d disagree with the claim's state\n",
		t.Decisions, t.Expected, t.Missing, t.Extra, t.StateMismatch)
	var scopes []string
	for s, n := range t.Spread {
		how := "max−min"
		if t.Exact[s] {
			how = "exact shares, max−min"
		}
		scopes = append(scopes, fmt.Sprintf("%s %s %d", s, how, n))
	}
	slices.Sort(scopes)
	fmt.Fprintf(w, "  spread    round robin over the whole run: %s\n", strings.Join(scopes, ", "))
	if t.Calm > 0 {
		fmt.Fprintf(w, "  calm      %d claims after the faults, three at a time: exact shares at capture and acknowledge, max−min %d\n", t.Calm, t.CalmSpread)
	}
	fmt.Fprintf(w, "  notify    %d e-mails queued: %d delivered, %d unsent, %d never delivered, %d delivered again\n",
		t.Outbox, t.Delivered, t.Unsent, t.NeverDelivered, t.Duplicate)
	fmt.Fprintf(w, "  timers    claim window fired as called for: %d, more often: %d, less often: %d\n", t.TimersOnce, t.TimersTwice, t.TimersNever)
	fmt.Fprintf(w, "  capacity  most open stages held by anyone limited to %d: %d\n", chaosLimit, t.PeakOpen)
	if t.Deactivated != "" {
		fmt.Fprintf(w, "  leaver    %s held %d open stages when deactivated (%s): %d moved once each\n", t.Deactivated, t.Held,
			strings.Join(t.HeldBy, ", "), t.Moved)
	}
	if len(t.Losses) == 0 {
		fmt.Fprintln(w, "  result    nothing lost, nothing done twice")
		return
	}
	for _, l := range t.Losses {
		fmt.Fprintln(w, "  LOSS     ", l)
	}
}
