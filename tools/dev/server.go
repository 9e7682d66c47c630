package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"

	"github.com/batonhq/baton/internal/temporalx"
	"github.com/batonhq/baton/tools/devserver"
)

// runTemporalServer is dev temporal-server: the Temporal server alone, in a
// process of its own, until SIGTERM or Ctrl-C. The chaos run starts it this way
// so that it can kill it with SIGKILL, as a crashed host would be; bench.ServerArgs
// builds its flags.
func runTemporalServer(ctx context.Context, args []string, stderr io.Writer) int {
	fs := flag.NewFlagSet("dev temporal-server", flag.ContinueOnError)
	fs.SetOutput(stderr)
	cfg := devserver.Config{UIPort: -1, SearchAttributes: temporalx.SearchAttributes()}
	var pg devserver.PostgresStore
	fs.StringVar(&cfg.DataDir, "data", ".baton/temporal", "data directory (the SQLite file)")
	fs.IntVar(&cfg.FrontendPort, "port", 7233, "frontend port")
	fs.IntVar(&cfg.HistoryShards, "shards", 1, "history shards (fixed when a store is first used)")
	fs.StringVar(&pg.Host, "pg-host", "127.0.0.1", "PostgreSQL host, with --pg-database")
	fs.IntVar(&pg.Port, "pg-port", 5432, "PostgreSQL port")
	fs.StringVar(&pg.User, "pg-user", "postgres", "PostgreSQL user (password: $PGPASSWORD)")
	fs.StringVar(&pg.Database, "pg-database", "", "persist to this PostgreSQL database instead of SQLite")
	fs.StringVar(&pg.VisibilityDatabase, "pg-visibility-database", "", "visibility's PostgreSQL database")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if pg.Database != "" {
		pg.Password = os.Getenv("PGPASSWORD")
		cfg.Postgres = &pg
	}
	cfg.Logger = slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	srv, err := devserver.Start(ctx, cfg)
	if err != nil {
		fmt.Fprintln(stderr, "dev temporal-server:", err)
		return 1
	}
	fmt.Fprintln(stderr, "dev temporal-server: serving on", srv.HostPort())
	<-ctx.Done()
	if err := srv.Stop(); err != nil {
		fmt.Fprintln(stderr, "dev temporal-server:", err)
		return 1
	}
	return 0
}
