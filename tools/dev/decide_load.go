package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/batonhq/baton/tools/bench"
)

const decideLoadUsage = `usage: dev decide-load [flags]   (internal: one process of dev bench's figure 3)

Opens a pool on DATABASE_URL (with search_path set to the bench's schema) and
calls ResolveAssignment directly from --callers goroutines for --duration, as
one worker's activities would, or with --bare commits a one-row UPDATE in a
loop. Prints one JSON line: decisions (commits) finished inside the window,
asked in all, retries answered differently. With --wait it prints "ready" once
warmed up and waits for "go" on standard input, so dev bench can release
several processes at once.

flags:
`

// runDecideLoad is dev decide-load.
func runDecideLoad(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("dev decide-load", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprint(stderr, decideLoadUsage); fs.PrintDefaults() }
	cfg := bench.DecideLoadConfig{DatabaseURL: os.Getenv("DATABASE_URL")}
	var wait bool
	fs.StringVar(&cfg.PolicyFile, "policy", "", "policy file (not with --bare)")
	fs.IntVar(&cfg.Callers, "callers", 32, "goroutines calling at once, each with a connection of its own")
	fs.StringVar(&cfg.Prefix, "prefix", "load", "workflow and claim ids are <prefix>-<n>")
	fs.IntVar(&cfg.Teams, "teams", 1, "claims spread over the last this-many of the bench directory's teams (1: one busy team)")
	fs.DurationVar(&cfg.Duration, "duration", 5*time.Second, "how long to call")
	fs.BoolVar(&cfg.Email, "email", false, "configure e-mail, so each decision queues its outbox row")
	fs.BoolVar(&cfg.Bare, "bare", false, "commit UPDATE bare_commit SET n = n + 1 WHERE id = 1 in a loop instead of deciding")
	fs.BoolVar(&wait, "wait", false, `print "ready" once warmed up, then wait for "go" on standard input`)
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if cfg.DatabaseURL == "" {
		fmt.Fprintln(stderr, "dev decide-load: set DATABASE_URL (with search_path set to the schema to decide in)")
		return 2
	}
	if !cfg.Bare {
		if cfg.PolicyFile == "" {
			fmt.Fprintln(stderr, "dev decide-load: --policy is required unless --bare")
			return 2
		}
		abs, err := filepath.Abs(cfg.PolicyFile)
		if err != nil {
			fmt.Fprintln(stderr, "dev decide-load:", err)
			return 2
		}
		cfg.PolicyFile = abs
	}
	var ready func() error
	if wait {
		ready = bench.WaitForGo(stdout, stdin)
	}
	res, err := bench.DecideLoad(ctx, cfg, ready)
	if err != nil {
		fmt.Fprintln(stderr, "dev decide-load:", err)
		return 1
	}
	if err := json.NewEncoder(stdout).Encode(res); err != nil {
		fmt.Fprintln(stderr, "dev decide-load:", err)
		return 1
	}
	return 0
}
