package bench

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"go.temporal.io/sdk/client"
	sdklog "go.temporal.io/sdk/log"

	"github.com/batonhq/baton/internal/store"
	"github.com/batonhq/baton/internal/temporalx"
	"github.com/batonhq/baton/policy"
	"github.com/batonhq/baton/policy/yamlfile"
	"github.com/batonhq/baton/tools/devserver"
	"github.com/batonhq/baton/tools/pgfind"
)

// schemaName is the PostgreSQL schema a run works in unless StackConfig names
// another. It is dropped and created afresh at the start of every run, so
// figures never depend on an earlier run.
const schemaName = "baton_bench"

// The Temporal server's stores.
const (
	StoreSQLite   = "sqlite"   // one SQLite file under the data directory: the dev server
	StorePostgres = "postgres" // PostgreSQL persistence and visibility: the production topology
)

// StackConfig says what to start. The zero value (but for DataDir) is what
// StartStack starts: Temporal on SQLite, in this process.
type StackConfig struct {
	DataDir string
	Log     *slog.Logger
	// TemporalStore is StoreSQLite (default) or StorePostgres: persistence
	// and visibility in two databases, <Schema>_temporal and
	// <Schema>_temporal_visibility, on the PostgreSQL Baton uses, dropped and
	// created afresh per run and loaded with Temporal's own schema.
	TemporalStore string
	// Shards is the number of history shards; default 1 on SQLite, 4 on
	// PostgreSQL.
	Shards int
	// Schema is Baton's PostgreSQL schema; default baton_bench.
	Schema string
	// ServerBin, when set, runs the Temporal server as a process of its own
	// (`ServerBin temporal-server ...`, which bin/dev is), so a fault can
	// SIGKILL it; otherwise it runs in this process.
	ServerBin string
	// PrivatePostgres runs on a PostgreSQL cluster of the run's own under
	// DataDir (pgfind's private cluster), never on a shared one, so restarting
	// it disturbs nobody else.
	PrivatePostgres bool
}

func (c *StackConfig) defaults() error {
	if c.Log == nil {
		c.Log = quietLog()
	}
	if c.Schema == "" {
		c.Schema = schemaName
	}
	switch c.TemporalStore {
	case "", StoreSQLite:
		c.TemporalStore = StoreSQLite
		c.Shards = cmp.Or(c.Shards, 1)
	case StorePostgres:
		c.Shards = cmp.Or(c.Shards, 4)
	default:
		return fmt.Errorf("temporal store %q: want %s or %s", c.TemporalStore, StoreSQLite, StorePostgres)
	}
	if c.Shards < 1 {
		return fmt.Errorf("history shards %d: want at least 1", c.Shards)
	}
	return nil
}

// TemporalServer is the stack's Temporal server, in this process or its own.
type TemporalServer interface {
	HostPort() string
	Namespace() string
	Stop() error
}

// Stack is what a run measures against: PostgreSQL with a fresh schema and the
// directory loaded, and a Temporal server persisted to SQLite or PostgreSQL.
type Stack struct {
	Log     *slog.Logger
	DataDir string
	URL     string // PostgreSQL, with search_path set to the run's schema
	Pool    *pgxpool.Pool
	Store   *store.Store
	Server  TemporalServer
	Client  client.Client
	Config  StackConfig

	pg       pgfind.Result
	port     int
	postgres *devserver.PostgresStore // the Temporal server's databases, when on PostgreSQL
}

// StartStack finds or starts PostgreSQL, resets the run's schema, loads the
// benchmark directory and starts the embedded Temporal server under dataDir,
// persisted to SQLite.
func StartStack(ctx context.Context, dataDir string, log *slog.Logger) (*Stack, error) {
	return StartStackWith(ctx, StackConfig{DataDir: dataDir, Log: log})
}

// StartStackWith is StartStack with the choices StackConfig offers.
func StartStackWith(ctx context.Context, cfg StackConfig) (_ *Stack, err error) {
	if err := cfg.defaults(); err != nil {
		return nil, err
	}
	s := &Stack{Log: cfg.Log, DataDir: cfg.DataDir, Config: cfg}
	defer func() {
		if err != nil {
			s.Close()
		}
	}()
	if s.pg, err = findPostgres(ctx, cfg); err != nil {
		return nil, err
	}
	if err := resetSchema(ctx, s.pg.URL, cfg.Schema); err != nil {
		return nil, err
	}
	s.URL = store.WithSearchPath(s.pg.URL, cfg.Schema)
	if s.Pool, err = store.NewPool(ctx, s.URL); err != nil {
		return nil, err
	}
	s.Store = store.New(s.Pool)
	if _, err := store.Migrate(ctx, s.Pool, nil); err != nil {
		return nil, err
	}
	dir, err := yamlfile.ParseDirectory("bench-directory.yaml", []byte(directoryYAML()))
	if err != nil {
		return nil, err
	}
	if _, err := s.Store.LoadDirectory(ctx, dir); err != nil {
		return nil, err
	}
	if cfg.TemporalStore == StorePostgres {
		if s.postgres, err = temporalDatabases(ctx, s.pg.URL, cfg.Schema); err != nil {
			return nil, err
		}
	}
	if s.port, err = freePort(); err != nil {
		return nil, err
	}
	if err := s.startServer(ctx); err != nil {
		return nil, err
	}
	return s, nil
}

// findPostgres is pgfind's choice (DATABASE_URL, else the local server, else
// a private cluster), or the run's own cluster when asked.
func findPostgres(ctx context.Context, cfg StackConfig) (pgfind.Result, error) {
	// DATABASE_URL is honoured as dev demo honours it, so two people on one
	// machine can keep their runs in databases of their own.
	opts := pgfind.Options{DatabaseURL: os.Getenv("DATABASE_URL"), DataDir: filepath.Join(cfg.DataDir, "pg"), Logger: cfg.Log, Private: cfg.PrivatePostgres}
	if cfg.PrivatePostgres {
		// The postgres user runs the private cluster and must reach its
		// directory; a temporary directory is the caller's alone.
		if err := os.MkdirAll(opts.DataDir, 0o755); err != nil {
			return pgfind.Result{}, err
		}
		for _, dir := range []string{cfg.DataDir, opts.DataDir} {
			if err := os.Chmod(dir, 0o755); err != nil {
				return pgfind.Result{}, err
			}
		}
		port, err := freePort()
		if err != nil {
			return pgfind.Result{}, err
		}
		opts.Port = port
	}
	return pgfind.Find(ctx, opts)
}

func (s *Stack) startServer(ctx context.Context) error {
	cfg := devserver.Config{
		DataDir:          filepath.Join(s.DataDir, "temporal"),
		FrontendPort:     s.port,
		UIPort:           -1,
		SearchAttributes: temporalx.SearchAttributes(),
		Postgres:         s.postgres,
		HistoryShards:    s.Config.Shards,
		Logger:           s.Log,
	}
	var err error
	if s.Config.ServerBin != "" {
		s.Server, err = startServerProc(ctx, s.Config.ServerBin, cfg, s.DataDir)
	} else {
		s.Server, err = devserver.Start(ctx, cfg)
	}
	if err != nil {
		return err
	}
	if s.Client == nil {
		c, err := client.DialContext(ctx, client.Options{HostPort: s.Server.HostPort(), Namespace: s.Server.Namespace(), Logger: sdklog.NewStructuredLogger(s.Log)})
		if err != nil {
			return err
		}
		s.Client = c
	}
	return nil
}

// RestartServer stops the Temporal server and starts it again on the same
// store and port. Clients reconnect by themselves.
func (s *Stack) RestartServer(ctx context.Context, down time.Duration) error {
	if err := s.Server.Stop(); err != nil {
		return err
	}
	return s.serverBack(ctx, down)
}

// KillServer SIGKILLs the Temporal server, which must run as its own process
// (StackConfig.ServerBin), and starts it again on the same store and port.
func (s *Stack) KillServer(ctx context.Context, down time.Duration) error {
	p, ok := s.Server.(*serverProc)
	if !ok {
		return errors.New("kill the Temporal server: it runs in this process (set StackConfig.ServerBin)")
	}
	p.kill()
	return s.serverBack(ctx, down)
}

func (s *Stack) serverBack(ctx context.Context, down time.Duration) error {
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-time.After(down):
	}
	return s.startServer(ctx)
}

// RestartPostgres restarts the PostgreSQL server itself (not just its
// backends): every connection, Baton's and the Temporal server's, is lost.
func (s *Stack) RestartPostgres(ctx context.Context) error {
	if s.pg.Restart == nil {
		return fmt.Errorf("restart PostgreSQL: the %s server cannot be restarted from here", s.pg.Source)
	}
	return s.pg.Restart(ctx)
}

// PostgresSource says where the stack's PostgreSQL came from (pgfind's Source).
func (s *Stack) PostgresSource() string { return s.pg.Source }

// Close stops everything StartStack started. The schema is kept, so the ledger
// can be read after a run.
func (s *Stack) Close() {
	if s.Client != nil {
		s.Client.Close()
	}
	if s.Server != nil {
		_ = s.Server.Stop()
	}
	if s.Pool != nil {
		s.Pool.Close()
	}
	if s.pg.Stop != nil {
		_ = s.pg.Stop()
	}
}

// resetSchema drops and creates a schema, so a figure never depends on an
// earlier run.
func resetSchema(ctx context.Context, url, schema string) error {
	admin, err := pgxpool.New(ctx, url)
	if err != nil {
		return err
	}
	defer admin.Close()
	_, err = admin.Exec(ctx, "DROP SCHEMA IF EXISTS "+schema+" CASCADE; CREATE SCHEMA "+schema)
	if err != nil {
		return fmt.Errorf("reset schema %s: %w", schema, err)
	}
	return nil
}

func freePort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}

// Users is the round-robin pool every figure shares: seven people who hold every
// stage's permissions, as 001's fairness comparison has it.
var Users = []string{"u1", "u2", "u3", "u4", "u5", "u6", "u7"}

// Teams is how many teams the cursor-contention figure spreads decisions over.
const Teams = 64

// directoryYAML is the benchmark directory: Users, an admin who is never
// eligible for round robin, and Teams teams of all seven.
func directoryYAML() string {
	var b strings.Builder
	b.WriteString("users:\n")
	for _, u := range Users {
		fmt.Fprintf(&b, "  - {id: %s, name: User %s, email: %s@bench.example, permissions: [MakeClaimDecisions, AcknowledgeClaimDecisions, AcknowledgeClaimApproval, AcknowledgeClaimGoodwill, AcknowledgeClaimRepudiation, AcknowledgeClaimNoClaim]}\n", u, u, u)
	}
	b.WriteString("  - {id: root, name: Root, email: root@bench.example, permissions: [Admin]}\n")
	b.WriteString("teams:\n")
	for i := range Teams {
		fmt.Fprintf(&b, "  - {id: %s, name: Team %s, members: [%s]}\n", teamID(i), teamID(i), strings.Join(Users, ", "))
	}
	return b.String()
}

func teamID(i int) string { return fmt.Sprintf("t%02d", i) }

// roundRobinPolicy sends every stage to the next of Users.
const roundRobinPolicy = `
version: bench-rr
claims:
  enableClaimAssignments: true
  claimAssignmentMethod: round_robin
`

// teamsPolicy routes a claim to the team its data names, round robin inside it.
func teamsPolicy() string {
	var b strings.Builder
	b.WriteString("version: bench-teams\nclaims:\n  enableClaimAssignments: true\n  claimAssignmentMethod: distribution\n  distribution:\n    rules:\n")
	for i := range Teams {
		fmt.Fprintf(&b, "      - {id: r%d, when: [{attribute: team, operator: IN, values: [%s]}], then: [{action: assign_team, team: %s}]}\n", i, teamID(i), teamID(i))
	}
	return b.String()
}

// windowPolicy leaves capture in a queue with a claim window of window, then
// gives it to root.
func windowPolicy(window time.Duration) string {
	return fmt.Sprintf(`
version: bench-window
claims:
  enableClaimAssignments: true
  claimAssignmentMethod: round_robin
  stages:
    capture: {method: manual, queue: intake, claimWindow: %s, defaultAssignee: root}
`, window)
}

func mustPolicy(name, doc string) *policy.Policy {
	p, err := yamlfile.ParsePolicy(name, []byte(doc))
	if err != nil {
		panic(fmt.Sprintf("bench: built-in policy %s: %v", name, err)) // a bug in this file, not input
	}
	return p
}

func quietLog() *slog.Logger {
	return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelError}))
}
