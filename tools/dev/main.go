// Command dev runs Baton's whole local stack in one process for trying it out:
// an embedded Temporal server persisted to SQLite under the data directory, the
// Temporal Web UI, PostgreSQL (found or started), the worker and the HTTP API. Its
// demo command then pushes claims through every stage and prints each decision.
//
// This is the only program that links the Temporal server; the worker and the
// starter never do.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	os.Exit(run(ctx, os.Args[1:], os.Stdout, os.Stderr))
}

const usage = `usage: dev demo [flags] | dev bench [flags] | dev chaos [flags] | dev directory [flags]
       dev temporal-server [flags]   (the Temporal server alone, in its own process: what chaos SIGKILLs)
       dev decide-load [flags]       (internal: one process of bench's turn-contention figure)

Runs an embedded Temporal server (SQLite under --data), the Web UI, PostgreSQL
(DATABASE_URL, else 127.0.0.1:5432, else a private cluster under --data), the
Baton worker and HTTP API; loads the demo directory and policy; then pushes
--claims claims through capture, review, acknowledge and finalise, printing every
decision. With --exit it stops afterwards (exit 0 when every claim finalised);
otherwise it keeps serving until Ctrl-C so you can explore.

flags:
`

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) > 0 {
		switch args[0] {
		case "bench":
			return runBench(ctx, args[1:], stdout, stderr)
		case "chaos":
			return runChaos(ctx, args[1:], stdout, stderr)
		case "directory":
			return runDirectory(args[1:], stdout, stderr)
		case "temporal-server":
			return runTemporalServer(ctx, args[1:], stderr)
		case "decide-load":
			return runDecideLoad(ctx, args[1:], os.Stdin, stdout, stderr)
		}
	}
	if len(args) == 0 || args[0] != "demo" {
		fmt.Fprint(stderr, usage)
		newFlags(io.Discard).fs.PrintDefaults()
		return 2
	}
	f := newFlags(stderr)
	if err := f.fs.Parse(args[1:]); err != nil {
		return 2
	}
	if f.fs.NArg() > 0 {
		fmt.Fprintf(stderr, "dev demo: unexpected argument %q\n", f.fs.Arg(0))
		return 2
	}
	log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	if err := demo(ctx, f, stdout, log); err != nil {
		fmt.Fprintln(stderr, "dev demo:", err)
		return 1
	}
	return 0
}

type flags struct {
	fs        *flag.FlagSet
	claims    int
	exit      bool
	dataDir   string
	port      int
	uiPort    int
	http      string
	metrics   string
	directory string
	groups    string
	policy    string
	owner     string
	parallel  int
}

func newFlags(out io.Writer) *flags {
	f := &flags{fs: flag.NewFlagSet("dev demo", flag.ContinueOnError)}
	f.fs.SetOutput(out)
	f.fs.IntVar(&f.claims, "claims", 6, "claims to push through every stage (0: none, just serve)")
	f.fs.BoolVar(&f.exit, "exit", false, "stop once the claims are finalised instead of serving until Ctrl-C")
	f.fs.StringVar(&f.dataDir, "data", ".baton", "data directory: Temporal's SQLite file, a private PostgreSQL if one is started")
	f.fs.IntVar(&f.port, "port", 7233, "Temporal frontend port")
	f.fs.IntVar(&f.uiPort, "ui-port", 8233, "Temporal Web UI port (-1: no UI)")
	f.fs.StringVar(&f.http, "http", "127.0.0.1:8080", "Baton HTTP API address")
	f.fs.StringVar(&f.metrics, "metrics", "127.0.0.1:9464", "the worker's Prometheus /metrics address (off: none)")
	f.fs.StringVar(&f.directory, "directory", "examples/directory.yaml", "directory file to load")
	f.fs.StringVar(&f.groups, "groups", "examples/groups.yaml", "reassignment groups file, applied as the first user allowed to edit groups (empty: none)")
	f.fs.StringVar(&f.policy, "policy", "examples/policy.yaml", "policy file")
	f.fs.StringVar(&f.owner, "owner", "", "owner of the demo's claims; must be in the directory (default: its first admin, else its first active user)")
	f.fs.IntVar(&f.parallel, "parallel", 4, "claims in flight at once")
	return f
}
