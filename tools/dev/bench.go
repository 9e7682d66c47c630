package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime/pprof"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/batonhq/baton/tools/bench"
)

const benchUsage = `usage: dev bench [flags]

Measures Baton against baselines run in the same process on the same embedded
Temporal server and PostgreSQL, prints the table and writes --out/report.md and
--out/fairness.svg. make bench builds the worker and runs this.

flags:
`

// runBench is dev bench.
func runBench(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("dev bench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprint(stderr, benchUsage); fs.PrintDefaults() }
	var cfg bench.Config
	var out, callers, bursts, only, cpuProfile, orgSizes string
	fs.StringVar(&cfg.WorkerBin, "worker", "bin/worker", "Baton's worker binary (memory and two-worker figures)")
	fs.StringVar(&cfg.NoopBin, "noop-worker", "bin/noopworker", "the no-op worker binary the memory figure compares with (make bench builds it)")
	fs.StringVar(&out, "out", "docs/bench", "directory for report.md and fairness.svg")
	fs.StringVar(&cfg.DataDir, "data", "", "data directory (default: a temporary one, removed afterwards)")
	fs.DurationVar(&cfg.FlowWindow, "flow-window", 20*time.Second, "length of one throughput round (Baton and the no-op claim run side by side)")
	fs.IntVar(&cfg.Parallel, "parallel", 8, "claims of each kind in flight at once")
	fs.IntVar(&cfg.Rounds, "rounds", 3, "throughput rounds")
	fs.IntVar(&cfg.Timers, "timers", 2000, "timer pairs (a claim and its sleep-only twin with the same deadline) for the timer figure; its target needs 2000")
	fs.IntVar(&cfg.TimerWave, "timer-wave", 250, "timer pairs started in one wave; each wave drains before the next")
	fs.DurationVar(&cfg.Window, "window", 0, "claim window for the timer figure (default 5s: a twin must start before its claim's deadline)")
	fs.IntVar(&cfg.Memory, "memory", 10000, "open claims for the memory figure")
	fs.IntVar(&cfg.MemStep, "memory-step", 1000, "sample memory every this many claims")
	fs.IntVar(&cfg.Cache, "cache", 5000, "sticky workflow cache of both memory workers (run --memory past it)")
	fs.IntVar(&cfg.Shards, "shards", 4, "history shards of the PostgreSQL-backed Temporal server (flow-postgres)")
	fs.IntVar(&cfg.TwoClaims, "two-claims", 140, "claims for the two-worker figure")
	fs.StringVar(&callers, "callers", "64", "callers for turn contention, each number split over two decide-load processes (the targets are at 64; 1,4,16,64 shows the curve)")
	fs.IntVar(&cfg.ContentionReps, "contention-reps", 5, "repetitions of turn contention's three measurements")
	fs.DurationVar(&cfg.ContentionWindow, "contention-window", 4*time.Second, "length of each turn-contention measurement")
	fs.StringVar(&bursts, "bursts", "10,100,1000", "burst sizes for fairness")
	fs.StringVar(&cpuProfile, "cpuprofile", "", "write a CPU profile of the whole run (server, workers and drivers) to this file")
	fs.StringVar(&orgSizes, "org-sizes", "10,1000,10000,100000", "directory sizes for the organisation figure (the first is the baseline)")
	fs.IntVar(&cfg.OrgDecisions, "org-decisions", 640, "decisions each organisation-size measurement makes")
	fs.IntVar(&cfg.OrgOpen, "org-open", 1000, "open claims for the organisation figure's worker memory (0: not measured)")
	fs.IntVar(&cfg.WorkloadDecisions, "workload-decisions", 640, "decisions per method in the workload figure")
	fs.IntVar(&cfg.WorkloadLimit, "workload-limit", 4, "each eligible person's open-stage limit in the workload figure")
	fs.IntVar(&cfg.Scale.Users, "scale-users", 100000, "directory size of the scale figure (one in ten eligible)")
	fs.IntVar(&cfg.Scale.Decisions, "scale-decisions", 200, "decisions per method in the scale figure")
	fs.IntVar(&cfg.Scale.Changes, "scale-changes", 100, "one-person directory loads in the scale figure")
	fs.IntVar(&cfg.Scale.History, "scale-history", 1000000, "decisions the scale figure's aged data holds")
	fs.IntVar(&cfg.Scale.Generations, "scale-generations", 200, "directory generations the scale figure's aged data has been through")
	fs.StringVar(&only, "only", "", "comma-separated figures to run (rules, fairness, contention, flow, flow-postgres, timers, two, memory, organisation, workload, scale); default all")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if only != "" {
		cfg.Only = strings.Split(only, ",")
	}
	var err error
	if cfg.Callers, err = ints("callers", callers); err != nil {
		fmt.Fprintln(stderr, "dev bench:", err)
		return 2
	}
	if cfg.Bursts, err = ints("bursts", bursts); err != nil {
		fmt.Fprintln(stderr, "dev bench:", err)
		return 2
	}
	if cfg.OrgSizes, err = ints("org-sizes", orgSizes); err != nil {
		fmt.Fprintln(stderr, "dev bench:", err)
		return 2
	}
	for name, v := range map[string]int{"timers": cfg.Timers, "timer-wave": cfg.TimerWave, "contention-reps": cfg.ContentionReps} {
		if v < 1 {
			fmt.Fprintf(stderr, "dev bench: --%s: %d is not a positive number\n", name, v)
			return 2
		}
	}
	for _, f := range cfg.Only {
		if !slices.Contains(bench.Figures, f) {
			fmt.Fprintf(stderr, "dev bench: --only: %q is not a figure (%s)\n", f, strings.Join(bench.Figures, ", "))
			return 2
		}
	}
	cleanup, code := prepareRun("bench", &cfg.WorkerBin, &cfg.DataDir, stderr)
	if code != 0 {
		return code
	}
	defer cleanup()
	if cfg.NoopBin, err = binary("bench", "noop-worker", cfg.NoopBin); err != nil {
		fmt.Fprintln(stderr, err)
		return 2
	}
	// Figure 3 runs this program's decide-load command in processes of their
	// own, as decisions run in workers.
	if cfg.DevBin, err = os.Executable(); err != nil {
		fmt.Fprintln(stderr, "dev bench:", err)
		return 1
	}
	cfg.Commit = commit()
	if cpuProfile != "" {
		f, err := os.Create(cpuProfile)
		if err != nil {
			fmt.Fprintln(stderr, "dev bench:", err)
			return 1
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			fmt.Fprintln(stderr, "dev bench:", err)
			return 1
		}
		defer pprof.StopCPUProfile()
	}
	res, err := bench.Run(ctx, cfg, stderr)
	if err != nil {
		fmt.Fprintln(stderr, "dev bench:", err)
		return 1
	}
	rows := res.Rows()
	bench.PrintTable(stdout, rows)
	if err := bench.WriteReport(out, res); err != nil {
		fmt.Fprintln(stderr, "dev bench: writing the report:", err)
		return 1
	}
	fmt.Fprintf(stdout, "\nreport: %s, chart: %s\n", filepath.Join(out, "report.md"), filepath.Join(out, "fairness.svg"))
	if miss := bench.Misses(rows); len(miss) > 0 {
		fmt.Fprintf(stderr, "dev bench: %d target(s) missed: %s\n", len(miss), strings.Join(miss, "; "))
		return 1
	}
	return 0
}

// binary makes a binary flag's path absolute and checks it exists.
func binary(cmd, flagName, path string) (string, error) {
	abs, err := filepath.Abs(path)
	if err == nil {
		_, err = os.Stat(abs)
	}
	if err != nil {
		return "", fmt.Errorf("dev %s: --%s %s: %v (make %s builds it)", cmd, flagName, path, err, cmd)
	}
	return abs, nil
}

// commit names the source being measured: git's commit, marked when the tree
// has uncommitted changes.
func commit() string {
	out, err := exec.Command("git", "rev-parse", "--short=12", "HEAD").Output()
	if err != nil {
		return "unknown (not a git checkout)"
	}
	c := strings.TrimSpace(string(out))
	if st, err := exec.Command("git", "status", "--porcelain", "--untracked-files=no").Output(); err == nil && len(strings.TrimSpace(string(st))) > 0 {
		c += " with uncommitted changes"
	}
	return c
}

// prepareRun checks --worker, and makes it and --data absolute; when --data is
// empty, it makes a temporary data directory that cleanup removes. A non-zero code
// is the exit code; the error is already printed.
func prepareRun(cmd string, worker, data *string, stderr io.Writer) (cleanup func(), code int) {
	abs, err := filepath.Abs(*worker)
	if err == nil {
		_, err = os.Stat(abs)
	}
	if err != nil {
		fmt.Fprintf(stderr, "dev %s: --worker %s: %v (make %s builds it)\n", cmd, *worker, err, cmd)
		return nil, 2
	}
	*worker = abs
	if *data != "" {
		// Absolute from here on: worker processes and the Temporal server
		// are handed paths under it.
		if *data, err = filepath.Abs(*data); err != nil {
			fmt.Fprintf(stderr, "dev %s: --data: %v\n", cmd, err)
			return nil, 2
		}
		return func() {}, 0
	}
	dir, err := os.MkdirTemp("", "baton-"+cmd+"-")
	if err != nil {
		fmt.Fprintf(stderr, "dev %s: %v\n", cmd, err)
		return nil, 1
	}
	*data = dir
	return func() { _ = os.RemoveAll(dir) }, 0
}

func ints(flagName, s string) ([]int, error) {
	var out []int
	for _, part := range strings.Split(s, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(part))
		if err != nil || n <= 0 {
			return nil, fmt.Errorf("--%s: %q is not a positive number", flagName, part)
		}
		out = append(out, n)
	}
	return out, nil
}
