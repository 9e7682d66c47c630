package store

import (
	"context"
	"embed"
	"fmt"
	"io/fs"
	"regexp"
	"runtime"
	"slices"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
)

//go:embed queries/*.sql
var queryFiles embed.FS

// queries maps a query name to its SQL, parsed once from the embedded files.
// queryParams are the parameter names of the queries that name theirs, in
// their $N order (see named).
var queries, queryParams = mustLoadQueries(queryFiles)

// mustLoadQueries is loadQueries for the embedded files, which a test checks: a
// failure here is a programming error, caught before anything ships.
func mustLoadQueries(fsys fs.FS) (map[string]string, map[string][]string) {
	out, params, err := loadQueries(fsys)
	if err != nil {
		panic(err)
	}
	return out, params
}

// loadQueries parses every queries/*.sql file: each "-- name: X" starts a query,
// each "-- name: fragment X" a shared clause. A name defined twice, or a
// fragment included but never defined, is an error naming the file. A query
// that names its parameters (@name) has them numbered $1, $2, ... in order of
// first use; params lists their names in that order, by query.
func loadQueries(fsys fs.FS) (map[string]string, map[string][]string, error) {
	out := map[string]string{}
	params := map[string][]string{}
	fragments := map[string]string{}
	where := map[string]string{}
	files, err := fs.Glob(fsys, "queries/*.sql")
	if err != nil {
		return nil, nil, err
	}
	for _, f := range files {
		data, err := fs.ReadFile(fsys, f)
		if err != nil {
			return nil, nil, err
		}
		for _, chunk := range strings.Split(string(data), "-- name: ")[1:] {
			name, body, _ := strings.Cut(chunk, "\n")
			name, body = strings.TrimSpace(name), strings.TrimSpace(body)
			key, into := name, out
			if frag, ok := strings.CutPrefix(name, "fragment "); ok {
				key, into = strings.ToLower(frag), fragments
			}
			if prev, dup := where[name]; dup {
				return nil, nil, fmt.Errorf("store: %s: query %q is already defined in %s", f, name, prev)
			}
			where[name] = f
			into[key] = body
		}
	}
	for name, body := range out {
		// A fragment may include others (AwayUntil includes CurrentDelegate):
		// expanded until none is left, a few levels at most.
		for depth := 0; include.MatchString(body); depth++ {
			if depth == maxFragmentDepth {
				return nil, nil, fmt.Errorf("store: %s: query %s nests fragments more than %d deep (does one include itself?)", where[name], name, maxFragmentDepth)
			}
			for _, m := range include.FindAllStringSubmatch(body, -1) {
				if _, ok := fragments[strings.ToLower(m[1])]; !ok {
					return nil, nil, fmt.Errorf("store: %s: query %s includes {{%s}}, which no file defines", where[name], name, m[1])
				}
			}
			body = includeFragments(body, fragments)
		}
		sql, names, err := numberParams(body)
		if err != nil {
			return nil, nil, fmt.Errorf("store: %s: query %s: %w", where[name], name, err)
		}
		out[name] = sql
		if names != nil {
			params[name] = names
		}
	}
	return out, params, nil
}

// maxFragmentDepth bounds how deep fragments include fragments.
const maxFragmentDepth = 4

// include matches {{fragment}} or {{fragment $N}}. A fragment included with $N
// has its $E1, $E2, … renumbered $N, $N+1, … and is wrapped in parentheses; one
// included bare is copied as it is (it names the columns of the aliases its
// comment gives: the Eligible fragment reads users u and requirements r).
var include = regexp.MustCompile(`\{\{(\w+)(?: \$(\d+))?\}\}`)

var fragmentParam = regexp.MustCompile(`\$E(\d+)`)

func includeFragments(body string, fragments map[string]string) string {
	return include.ReplaceAllStringFunc(body, func(m string) string {
		parts := include.FindStringSubmatch(m)
		frag := fragments[strings.ToLower(parts[1])] // loadQueries checked it exists
		var kept []string
		for _, line := range strings.Split(frag, "\n") {
			if !strings.HasPrefix(strings.TrimSpace(line), "--") {
				kept = append(kept, line)
			}
		}
		if parts[2] == "" {
			return strings.Join(kept, "\n")
		}
		base, _ := strconv.Atoi(parts[2])
		return "(" + fragmentParam.ReplaceAllStringFunc(strings.Join(kept, "\n"), func(p string) string {
			n, _ := strconv.Atoi(p[2:])
			return "$" + strconv.Itoa(base+n-1)
		}) + ")"
	})
}

// numberParams rewrites the @name parameters of sql to $1, $2, ... in order
// of first use (a name used twice is one parameter) and returns the names in
// that order; nil when sql names none. Comments, string literals and quoted
// identifiers are skipped, and so is an @ not followed by a letter (the @>
// operator). Numbered and named parameters in one query are an error.
func numberParams(sql string) (string, []string, error) {
	var b strings.Builder
	var names []string
	index := map[string]int{}
	numbered := false
	for i := 0; i < len(sql); {
		c := sql[i]
		switch {
		case c == '-' && strings.HasPrefix(sql[i:], "--"):
			j := strings.IndexByte(sql[i:], '\n')
			if j < 0 {
				j = len(sql) - i
			}
			b.WriteString(sql[i : i+j])
			i += j
		case c == '\'' || c == '"':
			j := i + 1
			for j < len(sql) && sql[j] != c {
				j++
			}
			j = min(j+1, len(sql)) // a doubled quote is two literals side by side
			b.WriteString(sql[i:j])
			i = j
		case c == '$' && i+1 < len(sql) && isDigit(sql[i+1]):
			numbered = true
			b.WriteByte(c)
			i++
		case c == '@' && i+1 < len(sql) && isIdentStart(sql[i+1]):
			j := i + 1
			for j < len(sql) && (isIdentStart(sql[j]) || isDigit(sql[j])) {
				j++
			}
			name := sql[i+1 : j]
			n, ok := index[name]
			if !ok {
				names = append(names, name)
				n = len(names)
				index[name] = n
			}
			b.WriteString("$" + strconv.Itoa(n))
			i = j
		default:
			b.WriteByte(c)
			i++
		}
	}
	if numbered && names != nil {
		return "", nil, fmt.Errorf("mixes numbered ($N) and named (@%s) parameters", names[0])
	}
	return b.String(), names, nil
}

func isDigit(c byte) bool      { return c >= '0' && c <= '9' }
func isIdentStart(c byte) bool { return c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' }

// Args are the arguments of a query that names its parameters (@name in its
// file), by name. Named, a query of many parameters cannot take one in
// another's place, as a list of ten positional arguments can.
type Args map[string]any

// named returns query name's SQL and args in its parameters' order. An
// argument missing, or one it has no parameter for, is an error naming the
// query and the parameter, never a value bound to the wrong one;
// TestEveryQueryNamedIsDefinedAndUsed checks the calls written with literal
// Args against the files too.
func named(name string, args Args) (string, []any, error) {
	sql, params := queries[name], queryParams[name]
	if params == nil {
		return "", nil, fmt.Errorf("store: no query %s naming its parameters", name)
	}
	out := make([]any, len(params))
	for i, p := range params {
		v, ok := args[p]
		if !ok {
			return "", nil, fmt.Errorf("store: query %s: no argument for @%s", name, p)
		}
		out[i] = v
	}
	if len(args) != len(params) {
		for a := range args {
			if !slices.Contains(params, a) {
				return "", nil, fmt.Errorf("store: query %s takes no parameter @%s", name, a)
			}
		}
	}
	return sql, out, nil
}

// q returns a named query. Every name passed to it is a literal that
// TestEveryQueryNamedIsDefinedAndUsed checks against the files, so a missing
// name cannot ship; should one slip through, it panics rather than run no SQL.
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
	CopyFrom(ctx context.Context, table pgx.Identifier, columns []string, src pgx.CopyFromSource) (int64, error)
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
	// What one statement, or a transaction its client abandoned, may hold:
	// a decision's statements take milliseconds, a directory load's seconds,
	// so a statement still running after two minutes is cancelled, and a
	// session idle inside a transaction for a minute is ended, its locks
	// released. The same parameters in the URL decide instead
	// (?statement_timeout=30s); migrations lift the first (Migrate).
	for k, v := range PoolTimeouts {
		if _, set := cfg.ConnConfig.RuntimeParams[k]; !set {
			cfg.ConnConfig.RuntimeParams[k] = v
		}
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("create pool: %w", err)
	}
	return pool, nil
}

// PoolTimeouts are the PostgreSQL session settings NewPool sets unless the
// URL does.
var PoolTimeouts = map[string]string{
	"statement_timeout":                   "2min",
	"idle_in_transaction_session_timeout": "1min",
}
