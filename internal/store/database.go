package store

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// CreateDatabase creates database on the server behind adminConn unless it
// exists. Several processes (parallel test packages, a demo and its worker) may
// race to create the same database, so "already exists" in either of its forms
// counts as success. Without a deadline on ctx it waits at most 30 seconds.
func CreateDatabase(ctx context.Context, adminConn, database string) error {
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, 30*time.Second)
		defer cancel()
	}
	c, err := pgx.Connect(ctx, adminConn)
	if err != nil {
		return fmt.Errorf("connect to create database %q: %w", database, err)
	}
	defer c.Close(context.WithoutCancel(ctx))

	// Checking first means a role without CREATEDB can still use an existing
	// database.
	var exists bool
	if err := c.QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)", database).Scan(&exists); err != nil {
		return fmt.Errorf("check database %q: %w", database, err)
	}
	if exists {
		return nil
	}
	_, err = c.Exec(ctx, "CREATE DATABASE "+pgx.Identifier{database}.Sanitize())
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) && (pgErr.Code == "42P04" || pgErr.Code == "23505") {
		// 42P04 duplicate_database; 23505 when a concurrent creator wins the
		// race past PostgreSQL's own check.
		return nil
	}
	if err != nil {
		return fmt.Errorf("create database %q: %w", database, err)
	}
	return nil
}

// WithDatabase points a connection string (URL or keyword/value form) at
// database, keeping host, user and options.
func WithDatabase(conn, database string) (string, error) {
	if !strings.Contains(conn, "://") {
		// Keyword/value form: a later keyword overrides an earlier one.
		q := strings.ReplaceAll(strings.ReplaceAll(database, `\`, `\\`), `'`, `\'`)
		return conn + " dbname='" + q + "'", nil
	}
	u, err := url.Parse(conn)
	if err != nil {
		return "", fmt.Errorf("parse connection URL: %w", err)
	}
	u.Path = "/" + database
	u.RawPath = ""
	return u.String(), nil
}

// WithSearchPath adds a search_path to a connection URL, so every connection
// made from it, in this process or another (a worker under test), works in
// schema.
func WithSearchPath(url, schema string) string {
	sep := "?"
	if strings.Contains(url, "?") {
		sep = "&"
	}
	return url + sep + "search_path=" + schema
}
