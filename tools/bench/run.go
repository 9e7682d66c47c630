package bench

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"time"
)

// Config sizes a benchmark run. The defaults are the issue's: 500 timer claims
// with a 1 s window, 10,000 open claims for memory, bursts of 10, 100 and 1,000.
type Config struct {
	DataDir    string        // embedded server state and logs; a temporary directory is fine
	WorkerBin  string        // Baton's worker binary, for the memory and two-worker figures
	FlowWindow time.Duration // length of one throughput round
	Parallel   int           // claims of each kind in flight at once
	Rounds     int           // throughput rounds
	Callers    []int
	Bursts     []int
	Timers     int
	Window     time.Duration
	Memory     int // open claims for the memory figure
	MemStep    int
	TwoClaims  int // claims for the two-worker figure
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
	// Only, when not empty, runs just these figures: rules, fairness,
	// contention, flow, timers, two, memory, organisation, workload.
	Only []string
	Log  *slog.Logger
}

// Defaults fills in zero fields.
func (c *Config) Defaults() {
	def := func(v *int, d int) {
		if *v == 0 {
			*v = d
		}
	}
	def(&c.Parallel, 8)
	def(&c.Rounds, 3)
	if c.FlowWindow == 0 {
		c.FlowWindow = 20 * time.Second
	}
	def(&c.Timers, 500)
	def(&c.Memory, 10000)
	def(&c.MemStep, 1000)
	def(&c.TwoClaims, 140)
	def(&c.OrgDecisions, 640)
	def(&c.WorkloadDecisions, 640)
	def(&c.WorkloadLimit, 4)
	if len(c.OrgSizes) == 0 {
		c.OrgSizes = []int{10, 1000, 10000, 100000}
	}
	if c.Window == 0 {
		c.Window = time.Second
	}
	if len(c.Callers) == 0 {
		c.Callers = []int{1, 4, 16, 64}
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
	Started    time.Time
	Took       time.Duration
	Flow       FlowResult
	Contention []ContentionRow
	Fairness   []FairnessRow
	Rules      RulesResult
	Timers     TimerResult
	Memory     MemoryResult
	Two        TwoWorkersResult
	Org        []OrgRow
	Workload   []WorkloadRow
}

// Run measures every figure, printing progress to progress.
func Run(ctx context.Context, cfg Config, progress io.Writer) (*Results, error) {
	cfg.Defaults()
	res := &Results{Started: time.Now()}
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
	s, err := StartStack(ctx, cfg.DataDir, cfg.Log)
	if err != nil {
		return nil, err
	}
	defer s.Close()
	steps := []struct {
		key, name string
		f         func() error
	}{
		{"fairness", "fairness bursts", func() (err error) { res.Fairness, err = s.Fairness(ctx, cfg.Bursts); return }},
		{"contention", "cursor contention", func() (err error) { res.Contention, err = s.Contention(ctx, cfg.Callers); return }},
		{"flow", "throughput and stage latency", func() (err error) {
			res.Flow, err = s.Flow(ctx, cfg.FlowWindow, cfg.Parallel, cfg.Rounds)
			return
		}},
		{"timers", "timers", func() (err error) { res.Timers, err = s.Timers(ctx, cfg.Timers, cfg.Window); return }},
		{"two", "two worker processes", func() (err error) { res.Two, err = s.TwoWorkers(ctx, cfg.WorkerBin, cfg.TwoClaims); return }},
		{"memory", "worker memory", func() (err error) {
			res.Memory, err = s.Memory(ctx, cfg.WorkerBin, cfg.Memory, cfg.MemStep)
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
	}
	for _, st := range steps {
		if !want(st.key) {
			continue
		}
		if err := step(st.name, st.f); err != nil {
			return res, err
		}
	}
	res.Took = time.Since(res.Started)
	return res, nil
}
