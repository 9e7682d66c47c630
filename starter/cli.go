package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"strings"

	"go.temporal.io/sdk/client"

	"github.com/batonhq/baton/claimclient"
	"github.com/batonhq/baton/config"
	"github.com/batonhq/baton/internal/service"
	"github.com/batonhq/baton/internal/store"
	"github.com/batonhq/baton/internal/temporalx"
	"github.com/batonhq/baton/policy"
)

// cli carries what every command needs, opened lazily.
type cli struct {
	stdout, stderr io.Writer
	getenv         func(string) string
	configFile     string
	cfg            *config.Config
	temporal       *claimclient.Client // opened on first use
	db             *store.Store        // opened on first use
}

type usageError struct{ msg string }

func (e usageError) Error() string { return e.msg }

func usagef(format string, args ...any) error { return usageError{fmt.Sprintf(format, args...)} }

func asUsage(err error, target *usageError) bool { return errors.As(err, target) }

func (c *cli) config() (config.Config, error) {
	if c.cfg == nil {
		cfg, err := config.Load(c.configFile, c.getenv)
		if err != nil {
			return cfg, err
		}
		c.cfg = &cfg
	}
	return *c.cfg, nil
}

func (c *cli) logger() *slog.Logger {
	return slog.New(slog.NewTextHandler(c.stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
}

// claims dials Temporal once; close releases it.
func (c *cli) claims(ctx context.Context) (*claimclient.Client, error) {
	if c.temporal != nil {
		return c.temporal, nil
	}
	cfg, err := c.config()
	if err != nil {
		return nil, err
	}
	opts, err := temporalx.ClientOptions(cfg, c.logger())
	if err != nil {
		return nil, err
	}
	tc, err := client.DialContext(ctx, opts)
	if err != nil {
		return nil, fmt.Errorf("connect to Temporal at %s: %w", cfg.TemporalAddress, err)
	}
	c.temporal = claimclient.New(tc, cfg.TaskQueue)
	return c.temporal, nil
}

// store connects to PostgreSQL once; close releases it.
func (c *cli) store(ctx context.Context) (*store.Store, error) {
	if c.db != nil {
		return c.db, nil
	}
	cfg, err := c.config()
	if err != nil {
		return nil, err
	}
	if cfg.DatabaseURL == "" {
		return nil, fmt.Errorf("DATABASE_URL is not set (config database_url)")
	}
	pool, err := store.NewPool(ctx, cfg.DatabaseURL)
	if err != nil {
		return nil, err
	}
	if err := pool.Ping(ctx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("connect to PostgreSQL: %w", err)
	}
	c.db = store.New(pool)
	return c.db, nil
}

// close releases whatever the command opened.
func (c *cli) close() {
	if c.temporal != nil {
		c.temporal.Temporal().Close()
	}
	if c.db != nil {
		c.db.Pool().Close()
	}
}

// parse parses flags that may come before, between or after positional arguments
// and checks the number of positionals.
func parse(fs *flag.FlagSet, args []string, positional ...string) ([]string, error) {
	fs.SetOutput(io.Discard)
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, flagError(fs, err)
		}
		args = fs.Args()
		if len(args) == 0 {
			break
		}
		pos = append(pos, args[0])
		args = args[1:]
	}
	if len(pos) != len(positional) {
		want := strings.Join(positional, " ")
		if want == "" {
			return nil, usagef("takes no arguments, got %q", strings.Join(pos, " "))
		}
		return nil, usagef("want %s, got %d argument(s)", want, len(pos))
	}
	return pos, nil
}

// helpRequested is parse's answer to -h or --help: run prints the usage of the
// command with the flags of fs, and exits 0.
type helpRequested struct{ fs *flag.FlagSet }

func (helpRequested) Error() string { return "help requested" }

// flagError turns an error of fs.Parse into help, or into a usage error that
// names the nearest defined flag when the flag given is not one.
func flagError(fs *flag.FlagSet, err error) error {
	if errors.Is(err, flag.ErrHelp) {
		return helpRequested{fs}
	}
	msg := err.Error()
	if name, ok := strings.CutPrefix(msg, "flag provided but not defined: -"); ok {
		var names []string
		fs.VisitAll(func(f *flag.Flag) { names = append(names, f.Name) })
		if best := nearest(name, names); best != "" {
			msg += "; did you mean --" + best + "?"
		}
	}
	return usageError{msg}
}

// multi collects a repeatable flag.
type multi []string

func (m *multi) String() string     { return strings.Join(*m, ",") }
func (m *multi) Set(v string) error { *m = append(*m, v); return nil }

// service is the use cases over the configured store and Temporal, with the
// configured built-in product module: the same the HTTP API runs.
func (c *cli) service(ctx context.Context) (*service.Service, error) {
	st, err := c.store(ctx)
	if err != nil {
		return nil, err
	}
	claims, err := c.claims(ctx)
	if err != nil {
		return nil, err
	}
	cfg, err := c.config()
	if err != nil {
		return nil, err
	}
	module, err := policy.BuiltInModule(cfg.ProductModule, st)
	if err != nil {
		return nil, err
	}
	return service.New(st, claims, module, c.logger()), nil
}

// offline is the use cases that need only the database (policies, tokens):
// they work while Temporal is down.
func (c *cli) offline(ctx context.Context) (*service.Service, error) {
	st, err := c.store(ctx)
	if err != nil {
		return nil, err
	}
	return service.New(st, nil, nil, c.logger()), nil
}
