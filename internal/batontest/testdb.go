// Package batontest is Baton's test support: a fresh PostgreSQL schema per test
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
	"sync"
	"testing"
	"time"

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

// New creates a fresh schema, applies every migration and drops it when the test
// ends.
func New(t testing.TB) *Schema {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	base := URL(t)
	buf := make([]byte, 6)
	_, _ = rand.Read(buf)
	name := "test_" + hex.EncodeToString(buf)

	admin, err := pgxpool.New(ctx, base)
	require.NoError(t, err)
	t.Cleanup(admin.Close)
	_, err = admin.Exec(ctx, "CREATE SCHEMA "+name)
	require.NoError(t, err)
	t.Cleanup(func() {
		_, _ = admin.Exec(context.Background(), "DROP SCHEMA "+name+" CASCADE")
	})

	cfg, err := pgxpool.ParseConfig(base)
	require.NoError(t, err)
	cfg.ConnConfig.RuntimeParams["search_path"] = name
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	require.NoError(t, err)
	t.Cleanup(pool.Close)
	_, err = store.Migrate(ctx, pool, nil)
	require.NoError(t, err)
	return &Schema{Name: name, URL: store.WithSearchPath(base, name), Pool: pool, Store: store.New(pool)}
}
