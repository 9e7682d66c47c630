// Package store is the only place SQL lives. It owns Baton's PostgreSQL schema
// (embedded, numbered migrations), the directory, eligible sets and turns, the
// decision ledger and the in-app inbox. Queries are kept in queries/*.sql, one file
// per table, each named noun-first ("-- name: TurnNext"); a shared WHERE clause is a
// "-- name: fragment X" included as {{x $N}}, its parameters renumbered from $N.
package store

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"regexp"
	"runtime"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
)

//go:embed queries/*.sql
var queryFiles embed.FS

// queries maps a query name to its SQL, parsed once from the embedded files.
var queries = mustLoadQueries(queryFiles)

func mustLoadQueries(fsys fs.FS) map[string]string {
	out := map[string]string{}
	fragments := map[string]string{}
	files, err := fs.Glob(fsys, "queries/*.sql")
	if err != nil {
		panic(err)
	}
	for _, f := range files {
		data, err := fs.ReadFile(fsys, f)
		if err != nil {
			panic(err)
		}
		for _, chunk := range strings.Split(string(data), "-- name: ")[1:] {
			name, body, _ := strings.Cut(chunk, "\n")
			name, body = strings.TrimSpace(name), strings.TrimSpace(body)
			if frag, ok := strings.CutPrefix(name, "fragment "); ok {
				fragments[strings.ToLower(frag)] = body
				continue
			}
			out[name] = body
		}
	}
	for name, body := range out {
		out[name] = includeFragments(body, fragments)
	}
	return out
}

// include matches {{fragment $N}}: the fragment's $E1, $E2, … become $N, $N+1, ….
var include = regexp.MustCompile(`\{\{(\w+) \$(\d+)\}\}`)

var fragmentParam = regexp.MustCompile(`\$E(\d+)`)

func includeFragments(body string, fragments map[string]string) string {
	return include.ReplaceAllStringFunc(body, func(m string) string {
		parts := include.FindStringSubmatch(m)
		frag, ok := fragments[parts[1]]
		if !ok {
			panic("store: no fragment named " + parts[1])
		}
		base, _ := strconv.Atoi(parts[2])
		var kept []string
		for _, line := range strings.Split(frag, "\n") {
			if !strings.HasPrefix(strings.TrimSpace(line), "--") {
				kept = append(kept, line)
			}
		}
		return "(" + fragmentParam.ReplaceAllStringFunc(strings.Join(kept, "\n"), func(p string) string {
			n, _ := strconv.Atoi(p[2:])
			return "$" + strconv.Itoa(base+n-1)
		}) + ")"
	})
}

// q returns a named query. A missing name is a programming error caught by any test
// that runs the code path, so it panics rather than returning an error.
func q(name string) string {
	s, ok := queries[name]
	if !ok {
		panic("store: no query named " + name)
	}
	return s
}

// DBTX is what queries run on: a pool, a connection or a transaction.
type DBTX interface {
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
	SendBatch(ctx context.Context, b *pgx.Batch) pgx.BatchResults
}

// Queries runs Baton's named queries on a DBTX.
type Queries struct {
	db DBTX
}

// Store is Baton's database: queries on the pool, plus transactions.
type Store struct {
	*Queries
	pool *pgxpool.Pool
}

// New wraps a pool.
func New(pool *pgxpool.Pool) *Store {
	return &Store{Queries: &Queries{db: pool}, pool: pool}
}

// Pool returns the underlying pool.
func (s *Store) Pool() *pgxpool.Pool { return s.pool }

// InTx runs fn in one transaction, committing when it returns nil and rolling back
// otherwise. A cancelled context rolls back too, so a worker shut down mid-decision
// leaves nothing half-written.
func (s *Store) InTx(ctx context.Context, fn func(*Queries) error) error {
	tx, err := s.pool.Begin(ctx)
	if err != nil {
		return fmt.Errorf("begin: %w", err)
	}
	defer tx.Rollback(context.WithoutCancel(ctx)) //nolint:errcheck // no-op after commit
	if err := fn(&Queries{db: tx}); err != nil {
		return err
	}
	if err := tx.Commit(ctx); err != nil {
		return fmt.Errorf("commit: %w", err)
	}
	return nil
}

// ErrNotFound is returned when a row asked for by key does not exist.
var ErrNotFound = errors.New("not found")

// NewPool creates a pool for the URL. It does not connect; the first query or Ping
// does, so constructing it never blocks.
func NewPool(ctx context.Context, url string) (*pgxpool.Pool, error) {
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		return nil, fmt.Errorf("parse database url: %w", err)
	}
	if !strings.Contains(url, "pool_max_conns") {
		// pgxpool's default, max(4, CPUs), queued a burst of timer fallbacks
		// behind four connections (make bench's timer figure); decisions are
		// short transactions, so more of them may run at once. pool_max_conns in
		// the URL still decides.
		cfg.MaxConns = int32(max(16, 4*runtime.NumCPU()))
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("create pool: %w", err)
	}
	return pool, nil
}
