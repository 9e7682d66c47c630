package pgfind

import (
	"context"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"
)

func testLogger(t *testing.T) *slog.Logger {
	return slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelDebug}))
}

func selectOne(t *testing.T, ctx context.Context, conn string) {
	t.Helper()
	c, err := pgx.Connect(ctx, conn)
	require.NoError(t, err)
	defer c.Close(ctx)
	var n int
	require.NoError(t, c.QueryRow(ctx, "SELECT 1").Scan(&n))
	require.Equal(t, 1, n)
}

func TestFindLocal(t *testing.T) {
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()

	res, err := Find(ctx, Options{Database: "baton_pgfind_test", Logger: testLogger(t)})
	require.NoError(t, err)
	require.NotNil(t, res.Stop)
	defer func() { require.NoError(t, res.Stop()) }()
	require.Equal(t, SourceLocal, res.Source)
	require.Contains(t, res.URL, "/baton_pgfind_test")
	selectOne(t, ctx, res.URL)
}

func TestFindExplicitURLDoesNotFallThrough(t *testing.T) {
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()

	bad := "postgres://postgres:hunter2@127.0.0.1:1/postgres?sslmode=disable"
	res, err := Find(ctx, Options{DatabaseURL: bad, Database: "baton_pgfind_test", Logger: testLogger(t)})
	require.Error(t, err)
	require.Contains(t, err.Error(), "127.0.0.1:1")
	require.NotContains(t, err.Error(), "hunter2")
	require.Empty(t, res.URL)
	require.Empty(t, res.Source)
	require.NotNil(t, res.Stop)
	require.NoError(t, res.Stop())
}

func TestStartPrivate(t *testing.T) {
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()

	dir := t.TempDir()
	// t.TempDir's parent is created 0700; the postgres user must traverse it.
	require.NoError(t, os.Chmod(filepath.Dir(dir), 0o755))
	require.NoError(t, os.Chmod(dir, 0o755))
	port := freePort(t)
	cfg := privateConfig{dataDir: dir, port: port, database: "baton_private_test", log: testLogger(t)}

	u, stop, restart, err := startPrivate(ctx, cfg)
	require.NoError(t, err)
	t.Cleanup(func() { _ = stop() }) // before TempDir's cleanup, so the server is gone first
	selectOne(t, ctx, u)

	// A restart takes the server itself down and returns once it answers.
	conn, err := pgx.Connect(ctx, u)
	require.NoError(t, err)
	defer conn.Close(context.WithoutCancel(ctx))
	require.NoError(t, restart(ctx))
	require.Error(t, conn.Ping(ctx), "a connection from before the restart survived it")
	selectOne(t, ctx, u)

	// A second caller reuses the running cluster and must not stop it.
	u2, stop2, _, err := startPrivate(ctx, cfg)
	require.NoError(t, err)
	require.Equal(t, u, u2)
	require.NoError(t, stop2())
	selectOne(t, ctx, u)

	// Find reaches the private cluster when 5432 is unavailable.
	withoutLocal(t)
	res, err := Find(ctx, Options{DataDir: dir, Port: port, Database: cfg.database, Logger: cfg.log})
	require.NoError(t, err)
	require.Equal(t, SourcePrivate, res.Source)
	require.Equal(t, u, res.URL)
	require.NoError(t, res.Stop())
	selectOne(t, ctx, u)

	require.NoError(t, stop())
	require.NoError(t, stop(), "stop is idempotent")
	pctx, pcancel := context.WithTimeout(ctx, 5*time.Second)
	defer pcancel()
	require.Error(t, ping(pctx, u), "cluster still answers after Stop")
}

func TestFindNothingAvailable(t *testing.T) {
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	withoutLocal(t)

	res, err := Find(ctx, Options{Logger: testLogger(t)})
	require.Error(t, err)
	require.NotNil(t, res.Stop)
	t.Log(err)
	for _, want := range []string{"127.0.0.1:5432", "private cluster: skipped", "set DATABASE_URL", "pg_ctlcluster 15 main start", "apt-get install postgresql"} {
		require.Contains(t, err.Error(), want)
	}
}

// withoutLocal points the "local server" probe at a closed port for the
// rest of the test.
func withoutLocal(t *testing.T) {
	old := localAdminURL
	localAdminURL = adminURL(freePort(t))
	t.Cleanup(func() { localAdminURL = old })
}

func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

func TestStartPrivateUnreachableDir(t *testing.T) {
	if os.Geteuid() != 0 {
		return // only root drops to the postgres user, so only root can hit this
	}
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	dir := t.TempDir() // parent stays 0700: the postgres user cannot traverse it
	_, stop, _, err := startPrivate(ctx, privateConfig{dataDir: dir, port: freePort(t), database: "x", log: testLogger(t)})
	require.ErrorContains(t, err, "postgres user cannot reach")
	require.NoError(t, stop())
	t.Log(err)
}

func TestRedact(t *testing.T) {
	require.Equal(t, "postgres://u:xxxxx@h:5/db", Redact("postgres://u:secret@h:5/db"))
	require.Equal(t, "postgres://u@h/db", Redact("postgres://u@h/db"))
	require.Equal(t, "host=h password=xxxxx user=u", Redact("host=h password=secret user=u"))
	require.Equal(t, "host=h password=xxxxx", Redact("host=h password='se cret'"))
}

func TestCompareVersions(t *testing.T) {
	require.Equal(t, 1, compareVersions("15", "9.6"))
	require.Equal(t, -1, compareVersions("13", "16"))
	require.Equal(t, 0, compareVersions("15", "15"))
}
