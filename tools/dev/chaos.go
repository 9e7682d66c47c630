package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"

	"github.com/batonhq/baton/tools/bench"
)

const chaosUsage = `usage: dev chaos [flags]

Drives claims through round robin and a claim-window timer while faults
strike: a worker binary killed with SIGKILL and restarted, a second worker
killed and left down while the first keeps working, PostgreSQL connections cut
with pg_terminate_backend, the PostgreSQL server itself restarted (on a cluster
of the run's own), and the Temporal server stopped, and killed with SIGKILL,
and started again on its store; people go away and come back, and one is
deactivated. Then it audits what must exist, derived from the policy and the
claims started, against the ledger, each claim's state, history and timeline,
the outbox and what the SMTP server received. Prints the tally and exits 1 on
any loss. make chaos builds the worker and runs this;
make chaos TEMPORAL_STORE=postgres runs it on Temporal persisted to PostgreSQL.

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
	fs.IntVar(&cfg.Claims, "claims", 294, "claims to drive (a multiple of 7 makes round-robin shares exactly checkable)")
	fs.IntVar(&cfg.Parallel, "parallel", 24, "claims in flight at once")
	fs.IntVar(&cfg.Workers, "workers", 2, "worker processes sharing the queue")
	fs.IntVar(&cfg.Kills, "kills", 3, "times the first worker is killed with SIGKILL and restarted")
	fs.IntVar(&cfg.Downs, "downs", 1, "workers killed with SIGKILL and left down while the first keeps working")
	fs.IntVar(&cfg.Cuts, "cuts", 2, "times every PostgreSQL connection is cut")
	fs.IntVar(&cfg.PGRestarts, "pg-restarts", 1, "times the PostgreSQL server is restarted (runs on a private cluster when > 0)")
	fs.IntVar(&cfg.Restarts, "restarts", 1, "times the Temporal server is stopped and restarted")
	fs.IntVar(&cfg.ServerKills, "server-kills", 1, "times the Temporal server is killed with SIGKILL and restarted")
	fs.IntVar(&cfg.Aways, "aways", 2, "times one of the round-robin people goes away for a second and comes back")
	fs.IntVar(&cfg.Deactivations, "deactivations", 1, "people deactivated mid-run, their open stages re-routed")
	fs.IntVar(&cfg.Calm, "calm", 42, "claims run three at a time after the faults, held to exact round-robin shares (-1: none)")
	fs.DurationVar(&cfg.Window, "window", 0, "review's claim window (default 2s)")
	fs.Uint64Var(&cfg.Seed, "seed", 0, "seed for when faults strike (default: the clock; printed)")
	fs.StringVar(&cfg.TemporalStore, "temporal-store", bench.StoreSQLite, "the Temporal server's store: sqlite, or postgres (persistence and visibility)")
	fs.IntVar(&cfg.Shards, "shards", 0, "history shards (default 1 on sqlite, 4 on postgres)")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	var err error
	cleanup, code := prepareRun("chaos", &cfg.WorkerBin, &cfg.DataDir, stderr)
	if code != 0 {
		return code
	}
	defer cleanup()
	// The Temporal server runs as this program's temporal-server command, so
	// that a fault can kill it with SIGKILL.
	if cfg.ServerBin, err = os.Executable(); err != nil {
		fmt.Fprintln(stderr, "dev chaos:", err)
		return 1
	}
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
