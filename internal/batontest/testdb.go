// Package batontest is Baton's test support: a migrated PostgreSQL schema per test
// with every migration applied, real SMTP and Slack endpoints that record what
// they receive, and waiting on a condition with a deadline. It needs no Temporal
// server, so the main module's tests and a deployment's own tests can use it.
//
// The database server comes from DATABASE_URL or else 127.0.0.1:5432 (`make
// test` finds, starts or installs one and sets DATABASE_URL). When neither
// answers, the test fails with how to get one. It never skips.
//
// It imports internal/store and internal/notify; only tests import it.
package batontest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"

	"github.com/batonhq/baton/internal/store"
)

// Database is the database the test schemas live in.
const Database = "baton_test"

// localAdmin is the conventional local server: trust auth as postgres.
const localAdmin = "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable"

const howToFix = "run `make test`, which finds, starts or installs PostgreSQL, or set DATABASE_URL"

var (
	urlOnce sync.Once
	url     string
	urlErr  error
)

// URL returns the test database's URL, creating the database once per test
// binary. With DATABASE_URL the server is reused but the database is always
// baton_test, so a test suite never touches the developer's own database.
func URL(t testing.TB) string {
	t.Helper()
	urlOnce.Do(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		url, urlErr = testURL(ctx)
	})
	require.NoError(t, urlErr, "PostgreSQL is required for this test")
	return url
}

func testURL(ctx context.Context) (string, error) {
	admin, from := os.Getenv("DATABASE_URL"), "DATABASE_URL"
	if admin == "" {
		admin, from = localAdmin, "127.0.0.1:5432 (DATABASE_URL is not set)"
	}
	if err := store.CreateDatabase(ctx, admin, Database); err != nil {
		return "", fmt.Errorf("tests need PostgreSQL: %s: %w; to fix: %s", from, err, howToFix)
	}
	return store.WithDatabase(admin, Database)
}

// Schema is an isolated, migrated schema for one test.
type Schema struct {
	Name  string
	URL   string // a connection URL whose search_path is the schema
	Pool  *pgxpool.Pool
	Store *store.Store
}

// New gives the test a migrated schema of its own, empty but for what the
// migrations seed. Schemas are reused within a test binary: when the test
// ends its schema's tables are truncated, the seed rows put back and its
// identities restarted (about half the cost of creating and migrating one),
// and the next test takes it. A test that changed the schema's shape (a table
// of its own) leaves it to be dropped instead. What a binary leaves behind
// when it exits, the next binary's first New drops.
func New(t testing.TB) *Schema {
	t.Helper()
	base := URL(t)
	s, err := schemas.take(base)
	require.NoError(t, err)
	t.Cleanup(func() { schemas.put(s) })
	return s
}

// schemaPool is a binary's idle schemas.
type schemaPool struct {
	mu    sync.Mutex
	idle  []*Schema
	once  sync.Once
	admin *pgxpool.Pool
	err   error
	// shape is a fresh schema's tables, and seeds the rows the migrations
	// put in them, captured from the first schema migrated.
	shape []string
	seeds map[string]seedRows
}

type seedRows struct {
	columns []string
	rows    [][]any
}

var schemas schemaPool

// prefix names this binary's schemas; others' are test_p<pid>_….
var prefix = fmt.Sprintf("test_p%d_", os.Getpid())

func (p *schemaPool) take(base string) (*Schema, error) {
	p.once.Do(func() { p.admin, p.err = p.start(base) })
	if p.err != nil {
		return nil, p.err
	}
	p.mu.Lock()
	if n := len(p.idle); n > 0 {
		s := p.idle[n-1]
		p.idle = p.idle[:n-1]
		p.mu.Unlock()
		return s, nil
	}
	p.mu.Unlock()
	return p.create(base)
}

// start connects the binary's admin pool and drops the schemas of test
// binaries that are no longer running.
func (p *schemaPool) start(base string) (*pgxpool.Pool, error) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	admin, err := pgxpool.New(ctx, base)
	if err != nil {
		return nil, err
	}
	rows, err := admin.Query(ctx, `SELECT nspname FROM pg_namespace WHERE nspname LIKE 'test\_p%'`)
	if err != nil {
		return nil, err
	}
	names, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return nil, err
	}
	for _, n := range names {
		var pid int
		if _, err := fmt.Sscanf(n, "test_p%d_", &pid); err == nil && !running(pid) {
			_, _ = admin.Exec(ctx, "DROP SCHEMA IF EXISTS "+n+" CASCADE")
		}
	}
	return admin, nil
}

// running reports whether a process pid exists.
func running(pid int) bool {
	proc, err := os.FindProcess(pid)
	return err == nil && proc.Signal(syscall.Signal(0)) == nil
}

func (p *schemaPool) create(base string) (*Schema, error) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	buf := make([]byte, 6)
	_, _ = rand.Read(buf)
	name := prefix + hex.EncodeToString(buf)
	if _, err := p.admin.Exec(ctx, "CREATE SCHEMA "+name); err != nil {
		return nil, err
	}
	cfg, err := pgxpool.ParseConfig(base)
	if err != nil {
		return nil, err
	}
	cfg.ConnConfig.RuntimeParams["search_path"] = name
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, err
	}
	if _, err := store.Migrate(ctx, pool, nil); err != nil {
		pool.Close()
		return nil, err
	}
	s := &Schema{Name: name, URL: store.WithSearchPath(base, name), Pool: pool, Store: store.New(pool)}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.seeds == nil {
		if p.shape, p.seeds, err = capture(ctx, pool); err != nil {
			pool.Close()
			return nil, err
		}
	}
	return s, nil
}

// capture reads a fresh schema's tables and the rows its migrations seeded.
func capture(ctx context.Context, pool *pgxpool.Pool) ([]string, map[string]seedRows, error) {
	shape, err := tables(ctx, pool)
	if err != nil {
		return nil, nil, err
	}
	seeds := map[string]seedRows{}
	for _, t := range shape {
		if t == "schema_migrations" {
			continue
		}
		rows, err := pool.Query(ctx, "SELECT * FROM "+pgx.Identifier{t}.Sanitize())
		if err != nil {
			return nil, nil, err
		}
		var sr seedRows
		for _, f := range rows.FieldDescriptions() {
			sr.columns = append(sr.columns, f.Name)
		}
		for rows.Next() {
			vals, err := rows.Values()
			if err != nil {
				rows.Close()
				return nil, nil, err
			}
			sr.rows = append(sr.rows, vals)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, nil, err
		}
		if len(sr.rows) > 0 {
			seeds[t] = sr
		}
	}
	return shape, seeds, nil
}

func tables(ctx context.Context, pool *pgxpool.Pool) ([]string, error) {
	rows, err := pool.Query(ctx, `SELECT tablename FROM pg_tables WHERE schemaname = current_schema() ORDER BY tablename`)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, pgx.RowTo[string])
}

// put makes s fresh again and idle, or drops it when it cannot be.
func (p *schemaPool) put(s *Schema) {
	if err := p.reset(s); err != nil {
		s.Pool.Close()
		_, _ = p.admin.Exec(context.Background(), "DROP SCHEMA IF EXISTS "+s.Name+" CASCADE")
		return
	}
	p.mu.Lock()
	p.idle = append(p.idle, s)
	p.mu.Unlock()
}

// reset truncates every table but the migrations', restarts the identities
// and puts the seed rows back, in one transaction; a schema whose tables are
// not a fresh one's is refused.
func (p *schemaPool) reset(s *Schema) error {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	have, err := tables(ctx, s.Pool)
	if err != nil {
		return err
	}
	if !slices.Equal(have, p.shape) {
		return fmt.Errorf("schema %s changed shape", s.Name)
	}
	var names []string
	for _, t := range have {
		if t != "schema_migrations" {
			names = append(names, pgx.Identifier{t}.Sanitize())
		}
	}
	tx, err := s.Pool.Begin(ctx)
	if err != nil {
		return err
	}
	defer tx.Rollback(ctx) //nolint:errcheck // no-op after commit
	if _, err := tx.Exec(ctx, "SET LOCAL lock_timeout = '5s'; TRUNCATE "+strings.Join(names, ", ")+" RESTART IDENTITY CASCADE"); err != nil {
		return err
	}
	for t, sr := range p.seeds {
		if _, err := tx.CopyFrom(ctx, pgx.Identifier{t}, sr.columns, pgx.CopyFromRows(sr.rows)); err != nil {
			return err
		}
	}
	return tx.Commit(ctx)
}
