// Package testdb gives each test its own PostgreSQL schema, migrated and dropped
// afterwards, so database tests run in parallel without seeing each other's rows.
// The server comes from DATABASE_URL or 127.0.0.1:5432; if neither answers the
// test fails loudly with how to get one. It never skips.
package testdb

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"

	"github.com/batonhq/baton/internal/pgfind"
	"github.com/batonhq/baton/store"
)

// Database is the database the test schemas live in.
const Database = "baton_test"

var (
	urlOnce sync.Once
	url     string
	urlErr  error
)

// URL returns the test database's URL, finding it once per test binary.
func URL(t testing.TB) string {
	t.Helper()
	urlOnce.Do(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		url, urlErr = pgfind.ForTests(ctx, Database)
	})
	require.NoError(t, urlErr, "PostgreSQL is required for this test")
	return url
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
	return &Schema{Name: name, URL: WithSearchPath(base, name), Pool: pool, Store: store.New(pool)}
}

// WithSearchPath adds a search_path to a connection URL, so other processes (a
// worker under test) use the same schema.
func WithSearchPath(url, schema string) string { return pgfind.WithSearchPath(url, schema) }
