package main

import (
	"context"
	"flag"
	"fmt"
	"io"

	"github.com/batonhq/baton/tools/bench"
)

const chaosUsage = `usage: dev chaos [flags]

Drives claims through round robin and a claim-window timer while the worker
binary is killed with SIGKILL and restarted, PostgreSQL connections are cut
with pg_terminate_backend, and the embedded Temporal server is stopped and
restarted on its SQLite file; then audits the ledger, the round-robin spread,
the notification outbox against what the SMTP server received, and every
claim's timers. Prints the tally and exits 1 on any loss. make chaos builds the
worker and runs this.

flags:
`

// runChaos is dev chaos.
func runChaos(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("dev chaos", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprint(stderr, chaosUsage); fs.PrintDefaults() }
	var cfg bench.ChaosConfig
	fs.StringVar(&cfg.WorkerBin, "worker", "bin/worker", "Baton's worker binary")
	fs.StringVar(&cfg.DataDir, "data", "", "data directory (default: a temporary one, removed afterwards)")
	fs.IntVar(&cfg.Claims, "claims", 300, "claims to drive")
	fs.IntVar(&cfg.Parallel, "parallel", 24, "claims in flight at once")
	fs.IntVar(&cfg.Kills, "kills", 3, "times the worker is killed with SIGKILL and restarted")
	fs.IntVar(&cfg.Cuts, "cuts", 2, "times every PostgreSQL connection is cut")
	fs.IntVar(&cfg.Restarts, "restarts", 1, "times the Temporal server is stopped and restarted")
	fs.IntVar(&cfg.Aways, "aways", 2, "times one of the round-robin people goes away for a second and comes back")
	fs.IntVar(&cfg.Deactivations, "deactivations", 1, "people deactivated mid-run, their open stages re-routed")
	fs.DurationVar(&cfg.Window, "window", 0, "review's claim window (default 2s)")
	fs.Uint64Var(&cfg.Seed, "seed", 0, "seed for when faults strike (default: the clock; printed)")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	cleanup, code := prepareRun("chaos", &cfg.WorkerBin, &cfg.DataDir, stderr)
	if code != 0 {
		return code
	}
	defer cleanup()
	t, err := bench.Chaos(ctx, cfg, stdout)
	if err != nil {
		fmt.Fprintln(stderr, "dev chaos:", err)
		return 1
	}
	t.Print(stdout)
	if t.Lost() {
		return 1
	}
	return 0
}
