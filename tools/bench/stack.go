package bench

import (
	"context"
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

	"github.com/batonhq/baton/policy"
	"github.com/batonhq/baton/store"
	"github.com/batonhq/baton/temporalx"
	"github.com/batonhq/baton/tools/devserver"
	"github.com/batonhq/baton/tools/pgfind"
)

// schemaName is the PostgreSQL schema a run works in. It is dropped and created
// afresh at the start of every run, so figures never depend on an earlier run.
const schemaName = "baton_bench"

// Stack is what a run measures against: PostgreSQL with a fresh schema and the
// directory loaded, and an embedded Temporal server persisted to SQLite.
type Stack struct {
	Log     *slog.Logger
	DataDir string
	URL     string // PostgreSQL, with search_path set to the run's schema
	Pool    *pgxpool.Pool
	Store   *store.Store
	Server  *devserver.Server
	Client  client.Client

	pg   pgfind.Result
	port int
}

// StartStack finds or starts PostgreSQL, resets the run's schema, loads the
// benchmark directory and starts the embedded Temporal server under dataDir.
func StartStack(ctx context.Context, dataDir string, log *slog.Logger) (_ *Stack, err error) {
	s := &Stack{Log: log, DataDir: dataDir}
	defer func() {
		if err != nil {
			s.Close()
		}
	}()
	if s.pg, err = pgfind.Find(ctx, pgfind.Options{DataDir: filepath.Join(dataDir, "pg"), Logger: log}); err != nil {
		return nil, err
	}
	if err := resetSchema(ctx, s.pg.URL, schemaName); err != nil {
		return nil, err
	}
	s.URL = store.WithSearchPath(s.pg.URL, schemaName)
	if s.Pool, err = store.NewPool(ctx, s.URL); err != nil {
		return nil, err
	}
	s.Store = store.New(s.Pool)
	if _, err := store.Migrate(ctx, s.Pool, nil); err != nil {
		return nil, err
	}
	dir, err := policy.ParseDirectory("bench-directory.yaml", []byte(directoryYAML()))
	if err != nil {
		return nil, err
	}
	if _, err := s.Store.LoadDirectory(ctx, dir); err != nil {
		return nil, err
	}
	if s.port, err = freePort(); err != nil {
		return nil, err
	}
	if err := s.startServer(ctx); err != nil {
		return nil, err
	}
	return s, nil
}

func (s *Stack) startServer(ctx context.Context) error {
	srv, err := devserver.Start(ctx, devserver.Config{
		DataDir:          filepath.Join(s.DataDir, "temporal"),
		FrontendPort:     s.port,
		UIPort:           -1,
		SearchAttributes: temporalx.SearchAttributes(),
		Logger:           s.Log,
	})
	if err != nil {
		return err
	}
	s.Server = srv
	if s.Client == nil {
		c, err := client.DialContext(ctx, client.Options{HostPort: srv.HostPort(), Namespace: srv.Namespace(), Logger: sdklog.NewStructuredLogger(s.Log)})
		if err != nil {
			return err
		}
		s.Client = c
	}
	return nil
}

// RestartServer stops the embedded Temporal server and starts it again on the
// same SQLite file and port. Clients reconnect by themselves.
func (s *Stack) RestartServer(ctx context.Context, down time.Duration) error {
	if err := s.Server.Stop(); err != nil {
		return err
	}
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-time.After(down):
	}
	return s.startServer(ctx)
}

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
	p, err := policy.ParsePolicy(name, []byte(doc))
	if err != nil {
		panic(fmt.Sprintf("bench: built-in policy %s: %v", name, err)) // a bug in this file, not input
	}
	return p
}

func quietLog() *slog.Logger {
	return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelError}))
}
