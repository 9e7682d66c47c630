// Package batonfx is Baton's worker as an fx application, and the extension
// point for deployments: config → pgx pool → migrations → Temporal client →
// worker, with Prometheus metrics served beside it. A deployment runs its own
// product module (the source's getClaimAssignmentOptions) by building its own
// worker program:
//
//	cfg, err := config.Load(os.Getenv("BATON_CONFIG"), os.Getenv)
//	...
//	fx.New(fx.Supply(cfg), batonfx.Module, batonfx.WithProductModule(myModule)).Run()
//
// and a module that lists the directory's users asks for it with
// WithProductModuleFrom. The types a product module sees are aliased here
// (ProductModule, Policy, Claim, User, Stage, AssignmentOptions, Candidate), so
// a module imports batonfx alone. examples/productmodule is a whole program.
//
// Every constructor is an ordinary function, usable without fx (tests and the
// dev stack call some directly); fx only orders them and runs their lifecycle
// hooks, which return errors and never block.
//
// It imports everything a worker needs (activities, claimclient, config,
// policy, policy/yamlfile, workflows and the internal store, httpapi, metrics, notify,
// temporalx, actorauth); only worker and deployments' own programs import it.
package batonfx

import (
	"context"
	"fmt"
	"log/slog"
	"math"
	"os"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"
	"go.uber.org/fx"
	"go.uber.org/fx/fxevent"

	"github.com/batonhq/baton/activities"
	"github.com/batonhq/baton/claimclient"
	"github.com/batonhq/baton/config"
	"github.com/batonhq/baton/internal/actorauth"
	"github.com/batonhq/baton/internal/metrics"
	"github.com/batonhq/baton/internal/notify"
	"github.com/batonhq/baton/internal/store"
	"github.com/batonhq/baton/internal/temporalx"
	"github.com/batonhq/baton/policy"
	"github.com/batonhq/baton/policy/yamlfile"
	"github.com/batonhq/baton/workflows"
)

// Module is the worker. Supply a config.Config alongside it.
var Module = fx.Module("baton_worker",
	fx.Provide(
		NewLogger,
		NewMetrics,
		NewPool,
		NewMigrated,
		store.New,
		NewPolicy,
		NewProductModule,
		NewTemporalClient,
		NewActivities,
		NewWorker,
	),
	// Metrics first: a taken address fails the start before anything else runs,
	// and the endpoint stops last.
	fx.Invoke(ServeMetrics),
	fx.Invoke(RegisterWorkloadMetrics),
	fx.Invoke(func(worker.Worker) {}),
	fx.Invoke(RunSweeper),
)

// FxLogger routes fx's own events to slog at debug level only, since at info they
// drown the worker's logs.
func FxLogger(log *slog.Logger) fxevent.Logger {
	l := &fxevent.SlogLogger{Logger: log}
	l.UseLogLevel(slog.LevelDebug)
	return l
}

// WithProductModule replaces the configured product module with a custom one: the
// way a deployment plugs in its own getClaimAssignmentOptions.
func WithProductModule(m ProductModule) fx.Option {
	return fx.Decorate(func(ProductModule) ProductModule { return m })
}

// WithProductModuleFrom builds the custom product module from Baton's
// directory, for a module that lists users as the source's
// root.organizations.getUsers() does.
func WithProductModuleFrom(build func(Directory) ProductModule) fx.Option {
	return fx.Decorate(func(_ ProductModule, st *store.Store) ProductModule { return build(st) })
}

// NewLogger is the process logger: JSON to stderr at the configured level.
func NewLogger(cfg config.Config) *slog.Logger {
	var level slog.Level
	_ = level.UnmarshalText([]byte(strings.ToUpper(cfg.LogLevel)))
	return slog.New(slog.NewJSONHandler(os.Stderr, &slog.HandlerOptions{Level: level}))
}

// NewMetrics is the worker's metrics registry: Baton's counters and the Temporal
// SDK's metrics.
func NewMetrics() *metrics.Metrics { return metrics.New() }

// ServeMetrics serves /metrics and /healthz on cfg.MetricsAddress while the app
// runs (an empty address serves nothing). A taken address fails the start with an
// error naming it.
func ServeMetrics(lc fx.Lifecycle, cfg config.Config, m *metrics.Metrics, log *slog.Logger) {
	var stop func()
	lc.Append(fx.Hook{
		OnStart: func(context.Context) error {
			// Not the start context: the server outlives the start.
			s, err := m.Serve(context.Background(), cfg.MetricsAddress, log)
			if err != nil {
				return err
			}
			stop = s
			return nil
		},
		OnStop: func(context.Context) error {
			if stop != nil {
				stop()
			}
			return nil
		},
	})
}

// RegisterWorkloadMetrics exports open stages and the backlog, read from the
// store on each scrape.
func RegisterWorkloadMetrics(m *metrics.Metrics, st *store.Store, log *slog.Logger) error {
	return m.RegisterWorkload(st.WorkloadStats, 5*time.Second, log)
}

// NewPool creates the PostgreSQL pool; it connects lazily and is closed on stop.
func NewPool(lc fx.Lifecycle, cfg config.Config) (*pgxpool.Pool, error) {
	if cfg.DatabaseURL == "" {
		return nil, fmt.Errorf("config database_url (DATABASE_URL) is required")
	}
	pool, err := store.NewPool(context.Background(), cfg.DatabaseURL)
	if err != nil {
		return nil, err
	}
	lc.Append(fx.StopHook(pool.Close))
	return pool, nil
}

// Migrated marks that the schema is current. Constructors that must run after
// migrations take it as a parameter, which is how fx orders their start hooks.
type Migrated struct{}

// NewMigrated applies pending migrations when the app starts.
func NewMigrated(lc fx.Lifecycle, pool *pgxpool.Pool, log *slog.Logger) Migrated {
	lc.Append(fx.StartHook(func(ctx context.Context) error {
		if err := pool.Ping(ctx); err != nil {
			return fmt.Errorf("connect to PostgreSQL: %w", err)
		}
		_, err := store.Migrate(ctx, pool, log)
		return err
	}))
	return Migrated{}
}

// NewPolicy loads the policy file, or the source's defaults when none is set. On
// start (after migrations) it stores the file as the policy's next version when
// its content changed, so new claims pin it; a file naming unknown users or teams
// stops the worker rather than routing claims to nobody.
func NewPolicy(lc fx.Lifecycle, cfg config.Config, log *slog.Logger, st *store.Store, _ Migrated) (*policy.Policy, error) {
	if cfg.PolicyFile == "" {
		log.Warn("no policy file configured: claim assignments are disabled unless a stored policy exists (set BATON_POLICY_FILE)")
		return policy.DefaultPolicy(), nil
	}
	body, err := os.ReadFile(cfg.PolicyFile)
	if err != nil {
		return nil, fmt.Errorf("read policy file: %w", err)
	}
	p, err := yamlfile.ParsePolicy(cfg.PolicyFile, body)
	if err != nil {
		return nil, err
	}
	lc.Append(fx.StartHook(func(ctx context.Context) error {
		res, err := st.PolicyApply(ctx, cfg.PolicyFile, body, p, "worker")
		if err != nil {
			return fmt.Errorf("apply policy file: %w", err)
		}
		log.Info("policy ready", "file", cfg.PolicyFile, "policy", p.Name, "version", res.Version, "stored_now", res.Changed,
			"method", p.Method, "assignments_enabled", p.AssignmentsEnabled)
		return nil
	}))
	return p, nil
}

// NewProductModule provides the configured built-in product module, or nil.
func NewProductModule(cfg config.Config, st *store.Store) (policy.ProductModule, error) {
	return policy.BuiltInModule(cfg.ProductModule, st)
}

// NewTemporalClient creates the client lazily and, on start (after migrations),
// checks the namespace has Baton's search attributes.
func NewTemporalClient(lc fx.Lifecycle, cfg config.Config, log *slog.Logger, m *metrics.Metrics, _ Migrated) (client.Client, error) {
	opts, err := temporalx.ClientOptions(cfg, log)
	if err != nil {
		return nil, err
	}
	opts.MetricsHandler = m.SDKHandler()
	c, err := client.NewLazyClient(opts)
	if err != nil {
		return nil, fmt.Errorf("temporal client for %s: %w", cfg.TemporalAddress, err)
	}
	lc.Append(fx.Hook{
		OnStart: func(ctx context.Context) error {
			return temporalx.EnsureSearchAttributes(ctx, c, cfg.Namespace, cfg.RegisterSearchAttributes)
		},
		OnStop: func(context.Context) error { c.Close(); return nil },
	})
	return c, nil
}

// NewActivities builds the activities from their dependencies, with the e-mail
// and Slack senders the configuration enables (none: only the in-app inbox).
func NewActivities(st *store.Store, p *policy.Policy, m policy.ProductModule, cfg config.Config, log *slog.Logger,
	mt *metrics.Metrics, c client.Client) *activities.Activities {
	acts := activities.New(st, p, m, cfg.LinkTemplate, log)
	acts.Metrics = mt
	acts.Nudge = claimclient.New(c, cfg.TaskQueue).DecideAgain
	acts.Email, acts.Slack = notify.FromConfig(cfg)
	acts.ActorKeys, _ = actorauth.ParseKeys(cfg.ActorKey) // config.Load has checked them: starts are verified too
	log.Info("notifications", "inbox", true, "email", acts.Email != nil, "slack", acts.Slack != nil,
		"smtp_host", cfg.SMTPHost, "smtp_tls", cfg.SMTPTLS)
	return acts
}

// NewWorker registers the claim workflow and activities on the task queue. On stop
// it stops polling and waits up to ShutdownTimeout for in-flight activities; any
// still running are abandoned to Temporal, which retries them, and their open
// transactions roll back, so nothing is half-written.
func NewWorker(lc fx.Lifecycle, c client.Client, acts *activities.Activities, cfg config.Config) worker.Worker {
	// The cache is the process's, shared by every worker in it; it must be set
	// before the first worker starts.
	worker.SetStickyWorkflowCacheSize(cfg.WorkflowCacheSize)
	w := worker.New(c, cfg.TaskQueue, WorkerOptions(cfg))
	Register(w, acts)
	lc.Append(fx.Hook{
		OnStart: func(context.Context) error { return w.Start() },
		OnStop:  func(context.Context) error { w.Stop(); return nil },
	})
	return w
}

// WorkerOptions are the worker's options for a config. With an actor key the
// worker refuses Updates whose actor is not signed with it (actorauth.Verifier).
// The worker itself sends no Updates: what it does on its own (nudging the
// backlog, moving a leaver's stages) goes by signal, and timers act inside the
// workflow.
func WorkerOptions(cfg config.Config) worker.Options {
	opts := worker.Options{WorkerStopTimeout: cfg.ShutdownTimeout}
	if keys, _ := actorauth.ParseKeys(cfg.ActorKey); keys != nil { // config.Load has checked them
		opts.Interceptors = append(opts.Interceptors, actorauth.NewVerifier(keys))
	}
	return opts
}

// Register registers Baton's workflow and activities under their contract names.
func Register(r worker.Registry, acts *activities.Activities) {
	r.RegisterWorkflowWithOptions(workflows.ClaimWorkflow, workflow.RegisterOptions{Name: workflows.ClaimWorkflowName})
	acts.Register(r)
}

// sweepEvery is how often the sweeper looks for stale notifications, absences
// starting and backlog stages left waiting.
const sweepEvery = 10 * time.Second

// staleBatch is how many backlog stages one sweep nudges at most.
const staleBatch = 20

// retireEvery is how often the sweeper retires requirements unused for
// RequirementIdle.
const retireEvery = time.Hour

// closedSweep names ReconcileClosed's cursor; closedLookback is how far back
// its first run looks, and closedOverlap how far before its cursor each later
// run looks again (visibility records a close a moment after it happens).
const (
	closedSweep    = "closed-claims"
	closedLookback = 30 * 24 * time.Hour
	closedOverlap  = time.Minute
)

// ReconcileClosed releases what claims whose workflow ended any way but
// finalising still hold (store.Store.ClaimClosed): a claim terminated by hand
// in Temporal, or one that timed out or failed, stops counting as anyone's
// open work and leaves the backlog. It reads the claims closed since its
// cursor from Temporal's visibility store, so each run costs what closed
// since the last, and returns how many open stages it released.
func ReconcileClosed(ctx context.Context, claims *claimclient.Client, st *store.Store, log *slog.Logger) (int, error) {
	since, err := st.SweepCursor(ctx, closedSweep, time.Now().Add(-closedLookback))
	if err != nil {
		return 0, err
	}
	// Every claim closed since, however many (visibility lists them newest
	// first, so a cursor is only safe past all of them); those released
	// before release nothing again.
	now := time.Now()
	closed, err := claims.ClosedSince(ctx, since.Add(-closedOverlap), math.MaxInt)
	if err != nil {
		return 0, err
	}
	released := 0
	for _, c := range closed {
		n, err := st.ClaimClosed(ctx, c.WorkflowID)
		if err != nil {
			return released, err
		}
		if n > 0 {
			log.Info("claim closed outside Baton: its open stages released", "workflow_id", c.WorkflowID, "closed", c.Status, "released", n)
		}
		released += n
	}
	return released, st.SweepCursorSet(ctx, closedSweep, now)
}

// RunSweeper sends, every ten seconds, the notifications their claims left
// unsent for longer than OutboxSweepAfter (see Activities.SweepOutbox), acts on
// absences that have begun (store.Queries.StartAbsences), and nudges backlog stages
// that have waited with no lease (store.Store.BacklogStale: one worker's
// sweep at a time). Every hour it retires the requirements no decision has used
// for RequirementIdle (store.Store.RequirementsRetire). Every worker runs one;
// the outbox lease keeps them from sending a message twice.
func RunSweeper(lc fx.Lifecycle, acts *activities.Activities, c client.Client, cfg config.Config, log *slog.Logger) {
	claims := claimclient.New(c, cfg.TaskQueue)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	lc.Append(fx.Hook{
		OnStart: func(context.Context) error {
			go func() {
				defer close(done)
				t := time.NewTicker(min(sweepEvery, cfg.OutboxSweepAfter))
				defer t.Stop()
				var retired time.Time
				for {
					select {
					case <-ctx.Done():
						return
					case <-t.C:
					}
					if _, err := acts.SweepOutbox(ctx, cfg.OutboxSweepAfter); err != nil && ctx.Err() == nil {
						log.Warn("outbox sweep", "error", err)
					}
					// Absences that began since: their open work moves where the
					// stage's policy says so.
					if _, err := acts.Store.StartAbsences(ctx, claims.RedistributeAbsent); err != nil && ctx.Err() == nil {
						log.Warn("absences starting", "error", err)
					}
					// Backlog stages whose nudge was lost decide again.
					if stale, err := acts.Store.BacklogStale(ctx, staleBatch); err != nil && ctx.Err() == nil {
						log.Warn("stale backlog", "error", err)
					} else if err := claims.DecideAgain(ctx, stale); err != nil && ctx.Err() == nil {
						log.Warn("nudge stale backlog", "error", err)
					}
					// Claims ended by hand (or timed out, failed) release
					// what they held.
					if _, err := ReconcileClosed(ctx, claims, acts.Store, log); err != nil && ctx.Err() == nil {
						log.Warn("closed claims", "error", err)
					}
					if time.Since(retired) >= retireEvery {
						retired = time.Now()
						if n, err := acts.Store.RequirementsRetire(ctx, retired.Add(-cfg.RequirementIdle)); err != nil && ctx.Err() == nil {
							log.Warn("retire unused requirements", "error", err)
						} else if n > 0 {
							log.Info("retired unused requirements", "retired", n)
						}
					}
				}
			}()
			return nil
		},
		OnStop: func(context.Context) error { cancel(); <-done; return nil },
	})
}
