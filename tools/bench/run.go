package bench

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"time"
)

// Config sizes a benchmark run. The defaults are the issue's: 2,000 timer
// pairs, 10,000 open claims for memory, bursts of 10, 100 and 1,000.
type Config struct {
	DataDir    string        // embedded server state and logs; a temporary directory is fine
	WorkerBin  string        // Baton's worker binary, for the memory and two-worker figures
	DevBin     string        // bin/dev, whose decide-load command figure 3 runs in processes of their own
	NoopBin    string        // the no-op worker binary (tools/noopworker), for the memory figure
	FlowWindow time.Duration // length of one throughput round
	Parallel   int           // claims of each kind in flight at once
	Rounds     int           // throughput rounds
	// Callers are figure 3's numbers of callers, each split over two
	// decide-load processes; ContentionReps its repetitions of
	// ContentionWindow each.
	Callers          []int
	ContentionReps   int
	ContentionWindow time.Duration
	Bursts           []int
	// Timers are figure 6's pairs (a claim and its sleep-only twin), run in
	// waves of TimerWave pairs; Window is the claim window each waits.
	Timers    int
	TimerWave int
	Window    time.Duration
	Memory    int // open claims for the memory figure
	MemStep   int
	// Cache is both memory workers' sticky workflow cache; Memory should be
	// past it, so the figure shows what a worker holds once it must evict.
	Cache     int
	TwoClaims int // claims for the two-worker figure
	// OrgSizes are the directory sizes of figure 8; OrgDecisions the decisions
	// its latency and contention measurements each make; OrgOpen the open claims
	// its memory figure holds (0: not measured).
	OrgSizes     []int
	OrgDecisions int
	OrgOpen      int
	// WorkloadDecisions are figure 9's decisions per method, WorkloadLimit each
	// eligible person's limit.
	WorkloadDecisions int
	WorkloadLimit     int
	// Scale sizes figure 10 (zero fields: the sizes).
	Scale ScaleConfig
	// Shards is the history shard count of the PostgreSQL-backed Temporal
	// server the flow-postgres figure runs on.
	Shards int
	// Only, when not empty, runs just these figures: rules, fairness,
	// contention, flow, flow-postgres, timers, two, memory, organisation,
	// workload, scale.
	Only []string
	// Commit is the source measured, for the report.
	Commit string
	Log    *slog.Logger
}

// orDefault sets *v to d when it is 0.
func orDefault(v *int, d int) {
	if *v == 0 {
		*v = d
	}
}

// Defaults fills in zero fields.
func (c *Config) Defaults() {
	orDefault(&c.Parallel, 8)
	orDefault(&c.Rounds, 3)
	if c.FlowWindow == 0 {
		c.FlowWindow = 20 * time.Second
	}
	orDefault(&c.Memory, 10000)
	orDefault(&c.MemStep, 1000)
	orDefault(&c.Cache, 5000)
	orDefault(&c.Shards, 4)
	orDefault(&c.ContentionReps, 5)
	if c.ContentionWindow == 0 {
		c.ContentionWindow = 4 * time.Second
	}
	orDefault(&c.Timers, 2000)
	orDefault(&c.TimerWave, 250)
	orDefault(&c.TwoClaims, 140)
	orDefault(&c.OrgDecisions, 640)
	orDefault(&c.WorkloadDecisions, 640)
	orDefault(&c.WorkloadLimit, 4)
	c.Scale.Defaults()
	if len(c.OrgSizes) == 0 {
		c.OrgSizes = []int{10, 1000, 10000, 100000}
	}
	if c.Window == 0 {
		c.Window = 5 * time.Second
	}
	if len(c.Callers) == 0 {
		c.Callers = []int{ContentionCallers}
	}
	if len(c.Bursts) == 0 {
		c.Bursts = []int{10, 100, 1000}
	}
	if c.Log == nil {
		c.Log = quietLog()
	}
}

// Results is everything a run measured.
type Results struct {
	Config     Config // the parameters used
	Started    time.Time
	Took       time.Duration
	Flow       FlowResult
	FlowPG     FlowResult // the same on Temporal persisted to PostgreSQL
	Timers     TimerResult
	Contention []ContentionRow
	Fairness   []FairnessRow
	Rules      RulesResult
	Memory     MemoryResult
	Two        TwoWorkersResult
	Org        []OrgRow
	Workload   []WorkloadRow
	Scale      ScaleResult
}

// Figures are the names Config.Only takes.
var Figures = []string{"rules", "fairness", "contention", "flow", "flow-postgres", "timers", "two", "memory", "organisation", "workload", "scale"}

// Run measures every figure, printing progress to progress.
func Run(ctx context.Context, cfg Config, progress io.Writer) (*Results, error) {
	cfg.Defaults()
	res := &Results{Config: cfg, Started: time.Now()}
	step := func(name string, f func() error) error {
		fmt.Fprintf(progress, "bench: %s...", name)
		t := time.Now()
		if err := f(); err != nil {
			fmt.Fprintln(progress, " failed")
			return fmt.Errorf("%s: %w", name, err)
		}
		fmt.Fprintf(progress, " %.1fs\n", time.Since(t).Seconds())
		return nil
	}
	want := func(name string) bool { return len(cfg.Only) == 0 || slices.Contains(cfg.Only, name) }
	var err error
	if want("rules") {
		if err := step("rule evaluation (200 rules, 10,000 users)", func() error {
			res.Rules, err = Rules(5)
			return err
		}); err != nil {
			return nil, err
		}
	}
	if err := runOnSQLite(ctx, cfg, res, want, step); err != nil {
		return res, err
	}
	if want("flow-postgres") {
		if err := step(fmt.Sprintf("throughput and stage latency on Temporal persisted to PostgreSQL (%d shards)", cfg.Shards), func() error {
			return flowOnPostgres(ctx, cfg, res)
		}); err != nil {
			return res, err
		}
	}
	res.Took = time.Since(res.Started)
	return res, nil
}

// runOnSQLite runs every figure but flow-postgres on one stack whose Temporal
// server is persisted to SQLite.
func runOnSQLite(ctx context.Context, cfg Config, res *Results, want func(string) bool, step func(string, func() error) error) error {
	if !slices.ContainsFunc([]string{"fairness", "contention", "flow", "timers", "two", "memory", "organisation", "workload", "scale"}, want) {
		return nil
	}
	s, err := StartStack(ctx, cfg.DataDir, cfg.Log)
	if err != nil {
		return err
	}
	defer s.Close()
	steps := []struct {
		key, name string
		f         func() error
	}{
		{"fairness", "fairness bursts", func() (err error) { res.Fairness, err = s.Fairness(ctx, cfg.Bursts); return }},
		{"contention", "cursor contention", func() (err error) {
			res.Contention, err = s.Contention(ctx, cfg.DevBin, cfg.Callers, cfg.ContentionReps, cfg.ContentionWindow)
			return
		}},
		{"flow", "throughput and stage latency", func() (err error) {
			res.Flow, err = s.Flow(ctx, cfg.FlowWindow, cfg.Parallel, cfg.Rounds)
			return
		}},
		{"timers", "timers", func() (err error) { res.Timers, err = s.Timers(ctx, cfg.Timers, cfg.TimerWave, cfg.Window); return }},
		{"two", "two worker processes", func() (err error) { res.Two, err = s.TwoWorkers(ctx, cfg.WorkerBin, cfg.TwoClaims); return }},
		{"memory", "worker memory", func() (err error) {
			res.Memory, err = s.Memory(ctx, cfg.WorkerBin, cfg.NoopBin, cfg.Memory, cfg.MemStep, cfg.Cache)
			return
		}},
		{"organisation", "organisation size", func() (err error) {
			res.Org, err = s.Organisation(ctx, cfg.WorkerBin, cfg.OrgSizes, cfg.OrgDecisions, cfg.OrgOpen)
			return
		}},
		{"workload", "workload: limits and least loaded", func() (err error) {
			res.Workload, err = s.Workload(ctx, cfg.WorkloadDecisions, cfg.WorkloadLimit)
			return
		}},
		{"scale", fmt.Sprintf("every method, directory changes and aged data at %d users", cfg.Scale.Users), func() (err error) {
			res.Scale, err = Scale(ctx, s.pg.URL, cfg.Scale, cfg.Log)
			return
		}},
	}
	for _, st := range steps {
		if !want(st.key) {
			continue
		}
		if err := step(st.name, st.f); err != nil {
			return err
		}
	}
	return nil
}
