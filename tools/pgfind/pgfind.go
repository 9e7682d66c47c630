// Package pgfind locates a usable PostgreSQL database so that the local
// dev/demo commands and the test suites work without any manual setup.
//
// The search order trades explicitness for convenience: an explicit URL is
// authoritative, a conventional local server is the next best thing, and a
// private throw-away cluster built from locally installed binaries is the
// last resort.
package pgfind

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"math"
	"net/url"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/batonhq/baton/internal/store"
)

// Source values reported in Result.Source and logged under the "source" key.
const (
	SourceEnv     = "DATABASE_URL"
	SourceLocal   = "local"
	SourcePrivate = "private"
)

const (
	// DefaultDatabase is the database Find creates when Options.Database is
	// empty, so every caller lands on the same one by default.
	DefaultDatabase = "baton"
	// DefaultPort is deliberately not 5432 so a private cluster never fights
	// a system server for the port.
	DefaultPort = 55432

	// localProbeTimeout caps the 127.0.0.1:5432 probe: a local server either
	// answers or refuses almost instantly, and a hung port must not eat the
	// budget the private cluster needs to start.
	localProbeTimeout = 3 * time.Second
	// fallbackTimeout bounds network waits when the caller's context carries
	// no deadline, so a black-holed host cannot hang the process for the
	// kernel's TCP timeout.
	fallbackTimeout = 30 * time.Second
	// stopTimeout bounds Stop, which has no context of its own.
	stopTimeout = 2 * time.Minute

	howToFix = "set DATABASE_URL, or start PostgreSQL (e.g. `pg_ctlcluster 15 main start`), or `apt-get install postgresql`"
)

// Options controls where Find looks. The zero value is usable: it tries the
// local server only.
type Options struct {
	// DatabaseURL is authoritative when set (callers pass $DATABASE_URL):
	// if it does not answer, Find fails instead of silently using another
	// server the user did not ask for.
	DatabaseURL string
	// Database is created on the local or private server when missing;
	// default "baton".
	Database string
	// DataDir holds the private cluster (under DataDir/postgres). Empty
	// disables the private cluster, because creating one in an arbitrary
	// place would surprise the user.
	DataDir string
	// Port for the private cluster; default 55432.
	Port int
	// Logger reports which source was chosen; default slog.Default().
	Logger *slog.Logger
	// Private skips DATABASE_URL and the local server and starts the private
	// cluster: a server of the caller's own, which a fault-injection run may
	// restart without disturbing anyone else. It needs DataDir.
	Private bool
}

// Result is a ready-to-use database. Stop is never nil so callers can always
// defer it without checking where the database came from.
type Result struct {
	URL    string
	Source string
	Stop   func() error
	// Restart restarts the server itself (every connection is lost) and
	// returns once it accepts connections again; nil for DATABASE_URL, which
	// may be anywhere. The local server is restarted with pg_ctlcluster.
	Restart func(ctx context.Context) error
}

// localAdminURL is a variable only so tests can simulate a missing local
// server without stopping the real one.
var localAdminURL = "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable"

func noop() error { return nil }

// Find returns a database following the order documented on the package.
// The context's deadline bounds every probe and the private cluster's start.
func Find(ctx context.Context, opts Options) (Result, error) {
	log := opts.Logger
	if log == nil {
		log = slog.Default()
	}
	db := cmpOr(opts.Database, DefaultDatabase)
	port := opts.Port
	if port == 0 {
		port = DefaultPort
	}

	if opts.Private {
		if opts.DataDir == "" {
			return Result{Stop: noop}, errors.New("pgfind: a private cluster needs a data directory")
		}
		dbURL, stop, restart, err := startPrivate(ctx, privateConfig{dataDir: opts.DataDir, port: port, database: db, log: log})
		if err != nil {
			return Result{Stop: noop}, fmt.Errorf("pgfind: private cluster: %w", err)
		}
		log.Info("using PostgreSQL", "source", SourcePrivate, "url", dbURL)
		return Result{URL: dbURL, Source: SourcePrivate, Stop: stop, Restart: restart}, nil
	}

	if opts.DatabaseURL != "" {
		if err := ping(ctx, opts.DatabaseURL); err != nil {
			return Result{Stop: noop}, fmt.Errorf("pgfind: DATABASE_URL %s does not answer: %w", Redact(opts.DatabaseURL), err)
		}
		log.Info("using PostgreSQL", "source", SourceEnv, "url", Redact(opts.DatabaseURL))
		return Result{URL: opts.DatabaseURL, Source: SourceEnv, Stop: noop}, nil
	}

	dbURL, localErr := fromLocal(ctx, db)
	if localErr == nil {
		log.Info("using PostgreSQL", "source", SourceLocal, "url", dbURL)
		return Result{URL: dbURL, Source: SourceLocal, Stop: noop, Restart: restartLocal}, nil
	}
	log.Debug("local PostgreSQL unavailable", "err", localErr)

	privateErr := errors.New("skipped (no data directory configured)")
	if opts.DataDir != "" {
		dbURL, stop, restart, err := startPrivate(ctx, privateConfig{
			dataDir:  opts.DataDir,
			port:     port,
			database: db,
			log:      log,
		})
		if err == nil {
			log.Info("using PostgreSQL", "source", SourcePrivate, "url", dbURL)
			return Result{URL: dbURL, Source: SourcePrivate, Stop: stop, Restart: restart}, nil
		}
		privateErr = err
	}
	return Result{Stop: noop}, fmt.Errorf(
		"pgfind: no PostgreSQL available: DATABASE_URL is not set; 127.0.0.1:5432: %v; private cluster: %v; to fix: %s",
		localErr, privateErr, howToFix)
}

// Redact hides any password in a connection string so it can be logged or
// put in an error. It accepts both URL and keyword/value forms.
func Redact(conn string) string {
	if strings.Contains(conn, "://") {
		if u, err := url.Parse(conn); err == nil {
			return u.Redacted()
		}
		// Unparseable: the password cannot be located reliably, so hide
		// the whole userinfo-ish prefix.
		if at := strings.LastIndex(conn, "@"); at >= 0 {
			scheme, _, _ := strings.Cut(conn, "://")
			return scheme + "://xxxxx" + conn[at:]
		}
		return conn
	}
	return kvPassword.ReplaceAllString(conn, "${1}xxxxx")
}

var kvPassword = regexp.MustCompile(`(password\s*=\s*)('(?:[^'\\]|\\.)*'|\S+)`)

func cmpOr(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// fromLocal uses the conventional local server with trust auth.
func fromLocal(ctx context.Context, database string) (string, error) {
	pctx, cancel := context.WithTimeout(ctx, localProbeTimeout)
	defer cancel()
	if err := ping(pctx, localAdminURL); err != nil {
		return "", err
	}
	if err := store.CreateDatabase(ctx, localAdminURL, database); err != nil {
		return "", err
	}
	return store.WithDatabase(localAdminURL, database)
}

// ping connects once and round-trips, which proves more than a TCP dial:
// auth and database existence are checked too.
func ping(ctx context.Context, conn string) error {
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, fallbackTimeout)
		defer cancel()
	}
	c, err := pgx.Connect(ctx, conn)
	if err != nil {
		return err
	}
	defer c.Close(context.WithoutCancel(ctx))
	return c.Ping(ctx)
}

type privateConfig struct {
	dataDir  string
	port     int
	database string
	log      *slog.Logger
}

// cluster runs the PostgreSQL binaries for one data directory. PostgreSQL
// refuses to run as root, so as root every binary is run as the postgres
// user via runuser.
type cluster struct {
	bin     string // directory holding initdb, pg_ctl and postgres
	pgdata  string
	runuser string // path of runuser when running as root, else ""
	uid     int
	gid     int
}

// startPrivate initialises (once) and starts a private cluster under
// cfg.dataDir/postgres. The returned stop stops the cluster only if this
// call started it, so a second process reusing a running cluster cannot pull
// it out from under the first.
func startPrivate(ctx context.Context, cfg privateConfig) (dbURL string, stop func() error, restart func(context.Context) error, err error) {
	if cfg.log == nil {
		cfg.log = slog.Default()
	}
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, 2*fallbackTimeout)
		defer cancel()
	}
	dataDir, err := filepath.Abs(cfg.dataDir)
	if err != nil {
		return "", noop, nil, fmt.Errorf("resolve data dir %q: %w", cfg.dataDir, err)
	}
	bin, err := findBinDir()
	if err != nil {
		return "", noop, nil, err
	}
	c := &cluster{bin: bin, pgdata: filepath.Join(dataDir, "postgres")}

	if err := os.MkdirAll(dataDir, 0o755); err != nil {
		return "", noop, nil, fmt.Errorf("create data dir: %w", err)
	}
	// Serialise init/start between processes sharing the data dir; the
	// lock is released when the file is closed.
	unlock, err := lockFile(ctx, filepath.Join(dataDir, "postgres.lock"))
	if err != nil {
		return "", noop, nil, err
	}
	defer unlock()

	if err := c.prepareDir(); err != nil {
		return "", noop, nil, err
	}

	if port, ok := c.runningPort(); ok {
		admin := adminURL(port)
		pctx, cancel := context.WithTimeout(ctx, localProbeTimeout)
		perr := ping(pctx, admin)
		cancel()
		if perr == nil {
			cfg.log.Debug("reusing running private PostgreSQL", "pgdata", c.pgdata, "port", port)
			if err := store.CreateDatabase(ctx, admin, cfg.database); err != nil {
				return "", noop, nil, fmt.Errorf("private cluster in %s: %w", c.pgdata, err)
			}
			u, err := store.WithDatabase(admin, cfg.database)
			return u, noop, c.restarter(admin), err
		}
		// A stale postmaster.pid (e.g. after a crash) is handled by
		// postgres itself on start.
	}

	if _, err := os.Stat(filepath.Join(c.pgdata, "PG_VERSION")); errors.Is(err, fs.ErrNotExist) {
		cfg.log.Info("initialising private PostgreSQL cluster", "pgdata", c.pgdata, "bin", c.bin)
		if out, err := c.run(ctx, "initdb", "-D", c.pgdata, "-A", "trust", "-U", "postgres",
			"--no-sync", "--encoding=UTF8", "--locale=C"); err != nil {
			return "", noop, nil, fmt.Errorf("initdb in %s: %w\n%s", c.pgdata, err, out)
		}
	} else if err != nil {
		return "", noop, nil, fmt.Errorf("inspect %s: %w", c.pgdata, err)
	}

	stop = c.stopper()
	if err := c.start(ctx, cfg.port); err != nil {
		_ = stop() // a half-started postmaster must not outlive the failure
		return "", noop, nil, err
	}
	admin := adminURL(cfg.port)
	if err := waitReady(ctx, admin); err != nil {
		_ = stop()
		return "", noop, nil, fmt.Errorf("private cluster on port %d: %w%s", cfg.port, err, c.logTail())
	}
	if err := store.CreateDatabase(ctx, admin, cfg.database); err != nil {
		_ = stop()
		return "", noop, nil, fmt.Errorf("private cluster on port %d: %w", cfg.port, err)
	}
	u, err := store.WithDatabase(admin, cfg.database)
	if err != nil {
		_ = stop()
		return "", noop, nil, err
	}
	return u, stop, c.restarter(admin), nil
}

func adminURL(port int) string {
	return fmt.Sprintf("postgres://postgres@127.0.0.1:%d/postgres?sslmode=disable", port)
}

// prepareDir makes pgdata usable by the user the binaries run as.
func (c *cluster) prepareDir() error {
	if err := os.MkdirAll(c.pgdata, 0o700); err != nil {
		return fmt.Errorf("create %s: %w", c.pgdata, err)
	}
	if os.Geteuid() != 0 {
		return nil
	}
	ru, err := exec.LookPath("runuser")
	if err != nil {
		return fmt.Errorf("running as root needs runuser to drop to the postgres user: %w", err)
	}
	pu, err := user.Lookup("postgres")
	if err != nil {
		return fmt.Errorf("running as root needs a postgres system user (PostgreSQL refuses to run as root): %w", err)
	}
	c.runuser = ru
	c.uid, _ = strconv.Atoi(pu.Uid)
	c.gid, _ = strconv.Atoi(pu.Gid)

	// Failing here is far clearer than initdb's "permission denied" from
	// deep inside the postgres user's view of the filesystem.
	for dir := filepath.Dir(c.pgdata); ; dir = filepath.Dir(dir) {
		fi, err := os.Stat(dir)
		if err != nil {
			return fmt.Errorf("stat %s: %w", dir, err)
		}
		st, _ := fi.Sys().(*syscall.Stat_t)
		perm := fi.Mode().Perm()
		ok := perm&0o001 != 0 ||
			(st != nil && int(st.Uid) == c.uid && perm&0o100 != 0) ||
			(st != nil && int(st.Gid) == c.gid && perm&0o010 != 0)
		if !ok {
			return fmt.Errorf("the postgres user cannot reach %s: %s has mode %v (chmod o+x it, or use another data dir)", c.pgdata, dir, perm)
		}
		if dir == filepath.Dir(dir) {
			break
		}
	}

	fi, err := os.Stat(c.pgdata)
	if err != nil {
		return fmt.Errorf("stat %s: %w", c.pgdata, err)
	}
	if st, ok := fi.Sys().(*syscall.Stat_t); ok && int(st.Uid) == c.uid && int(st.Gid) == c.gid {
		return nil
	}
	// Recursive because a cluster initialised by another user must be
	// wholly owned by the server's user.
	err = filepath.WalkDir(c.pgdata, func(p string, _ fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		return os.Lchown(p, c.uid, c.gid)
	})
	if err != nil {
		return fmt.Errorf("chown %s to postgres: %w", c.pgdata, err)
	}
	return nil
}

// command builds an invocation of one of the cluster's binaries as the
// right user. The working directory is "/" because the postgres user may be
// unable to enter the caller's.
func (c *cluster) command(ctx context.Context, name string, args ...string) *exec.Cmd {
	path := filepath.Join(c.bin, name)
	var cmd *exec.Cmd
	if c.runuser != "" {
		cmd = exec.CommandContext(ctx, c.runuser, append([]string{"-u", "postgres", "--", path}, args...)...)
	} else {
		cmd = exec.CommandContext(ctx, path, args...)
	}
	cmd.Dir = "/"
	// pg_ctl redirects the postmaster's output to its log file, but should
	// anything keep our pipes open, Wait must still return.
	cmd.WaitDelay = 5 * time.Second
	return cmd
}

func (c *cluster) run(ctx context.Context, name string, args ...string) ([]byte, error) {
	var out bytes.Buffer
	cmd := c.command(ctx, name, args...)
	cmd.Stdout = &out
	cmd.Stderr = &out
	err := cmd.Run()
	return bytes.TrimSpace(out.Bytes()), err
}

func (c *cluster) logFile() string { return filepath.Join(c.pgdata, "server.log") }

// start launches the postmaster. pg_ctl -w does the polling for "ready"
// and notices a postmaster that dies during start-up; its timeout is taken
// from the context so the caller's deadline is the only knob.
func (c *cluster) start(ctx context.Context, port int) error {
	timeout := 60
	if dl, ok := ctx.Deadline(); ok {
		timeout = max(1, int(math.Ceil(time.Until(dl).Seconds())))
	}
	// pg_ctl hands -o to /bin/sh, hence the shell quoting.
	pgOpts := strings.Join([]string{
		"-p", strconv.Itoa(port),
		"-c", "listen_addresses=127.0.0.1",
		"-c", shellQuote("unix_socket_directories=" + c.pgdata),
	}, " ")
	out, err := c.run(ctx, "pg_ctl", "start", "-D", c.pgdata, "-l", c.logFile(),
		"-w", "-t", strconv.Itoa(timeout), "-o", pgOpts)
	if err != nil {
		return fmt.Errorf("pg_ctl start (port %d, pgdata %s): %w\n%s%s", port, c.pgdata, err, out, c.logTail())
	}
	return nil
}

// stopper returns an idempotent stop so it is safe to both defer and call.
func (c *cluster) stopper() func() error {
	var once sync.Once
	var stopErr error
	return func() error {
		once.Do(func() {
			ctx, cancel := context.WithTimeout(context.Background(), stopTimeout)
			defer cancel()
			out, err := c.run(ctx, "pg_ctl", "stop", "-D", c.pgdata, "-m", "fast", "-w")
			if err != nil {
				stopErr = fmt.Errorf("pg_ctl stop %s: %w\n%s", c.pgdata, err, out)
			}
		})
		return stopErr
	}
}

// restarter restarts the cluster with pg_ctl, which keeps the options it was
// started with (postmaster.opts), and waits until admin answers again.
func (c *cluster) restarter(admin string) func(context.Context) error {
	return func(ctx context.Context) error {
		out, err := c.run(ctx, "pg_ctl", "restart", "-D", c.pgdata, "-l", c.logFile(), "-m", "fast", "-w", "-t", "60")
		if err != nil {
			return fmt.Errorf("pg_ctl restart %s: %w\n%s%s", c.pgdata, err, out, c.logTail())
		}
		return waitReady(ctx, admin)
	}
}

// restartLocal restarts the machine's own PostgreSQL on 127.0.0.1:5432 with
// pg_ctlcluster (Debian's wrapper; --skip-systemctl-redirect because there may
// be no systemd), and waits until it answers. Whatever happens, it tries to
// leave the server running: others may depend on it.
func restartLocal(ctx context.Context) error {
	version, name, err := localCluster(ctx)
	if err != nil {
		return err
	}
	out, err := exec.CommandContext(ctx, "pg_ctlcluster", "--skip-systemctl-redirect", version, name, "restart").CombinedOutput()
	if err != nil {
		// A failed restart may have stopped it: start it again, on a context
		// of its own so a cancelled caller still leaves it running.
		sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Minute)
		defer cancel()
		_ = exec.CommandContext(sctx, "pg_ctlcluster", "--skip-systemctl-redirect", version, name, "start").Run()
		return fmt.Errorf("pg_ctlcluster %s %s restart: %w\n%s", version, name, err, bytes.TrimSpace(out))
	}
	return waitReady(ctx, localAdminURL)
}

// localCluster finds the Debian cluster listening on port 5432.
func localCluster(ctx context.Context) (version, name string, err error) {
	out, err := exec.CommandContext(ctx, "pg_lsclusters", "--no-header").Output()
	if err != nil {
		return "", "", fmt.Errorf("pg_lsclusters (the local server can be restarted only where Debian's postgresql-common manages it): %w", err)
	}
	for _, line := range strings.Split(string(out), "\n") {
		f := strings.Fields(line)
		if len(f) >= 3 && f[2] == "5432" {
			return f[0], f[1], nil
		}
	}
	return "", "", errors.New("pg_lsclusters lists no cluster on port 5432")
}

// runningPort reads the port of a running postmaster from postmaster.pid,
// so a cluster started earlier on a different port is still reused.
func (c *cluster) runningPort() (int, bool) {
	f, err := os.Open(filepath.Join(c.pgdata, "postmaster.pid"))
	if err != nil {
		return 0, false
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for i := 1; sc.Scan(); i++ {
		if i == 4 {
			port, err := strconv.Atoi(strings.TrimSpace(sc.Text()))
			return port, err == nil && port > 0
		}
	}
	return 0, false
}

// logTail returns the end of the server log, which usually holds the real
// reason a start failed.
func (c *cluster) logTail() string {
	b, err := os.ReadFile(c.logFile())
	if err != nil || len(b) == 0 {
		return ""
	}
	const n = 2048
	if len(b) > n {
		b = b[len(b)-n:]
	}
	return "\nserver log (" + c.logFile() + "):\n" + string(b)
}

// waitReady polls until url accepts connections or ctx ends, backing off so
// a slow start does not spin.
func waitReady(ctx context.Context, conn string) error {
	delay := 10 * time.Millisecond
	for {
		actx, cancel := context.WithTimeout(ctx, 2*time.Second)
		err := ping(actx, conn)
		cancel()
		if err == nil {
			return nil
		}
		t := time.NewTimer(delay)
		select {
		case <-ctx.Done():
			t.Stop()
			return fmt.Errorf("not accepting connections before the deadline: %w", err)
		case <-t.C:
		}
		delay = min(2*delay, 500*time.Millisecond)
	}
}

// findBinDir prefers the newest Debian-style versioned install, falling back
// to initdb on PATH.
func findBinDir() (string, error) {
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	slices.SortFunc(dirs, func(a, b string) int {
		return compareVersions(filepath.Base(filepath.Dir(b)), filepath.Base(filepath.Dir(a)))
	})
	for _, d := range dirs {
		if isExecutable(filepath.Join(d, "initdb")) && isExecutable(filepath.Join(d, "pg_ctl")) {
			return d, nil
		}
	}
	initdb, err := exec.LookPath("initdb")
	if err != nil {
		return "", errors.New("no PostgreSQL binaries: no /usr/lib/postgresql/*/bin with initdb and pg_ctl, and no initdb on PATH")
	}
	d := filepath.Dir(initdb)
	if !isExecutable(filepath.Join(d, "pg_ctl")) {
		return "", fmt.Errorf("found %s but no pg_ctl next to it", initdb)
	}
	return d, nil
}

func isExecutable(p string) bool {
	fi, err := os.Stat(p)
	return err == nil && fi.Mode().IsRegular() && fi.Mode().Perm()&0o111 != 0
}

// compareVersions orders dotted numeric versions ("9.6" < "15"); a
// non-numeric component sorts lowest.
func compareVersions(a, b string) int {
	as, bs := strings.Split(a, "."), strings.Split(b, ".")
	for i := range max(len(as), len(bs)) {
		ai, bi := -1, -1
		if i < len(as) {
			if n, err := strconv.Atoi(as[i]); err == nil {
				ai = n
			}
		}
		if i < len(bs) {
			if n, err := strconv.Atoi(bs[i]); err == nil {
				bi = n
			}
		}
		if ai != bi {
			if ai < bi {
				return -1
			}
			return 1
		}
	}
	return 0
}

func shellQuote(s string) string {
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// lockFile takes an exclusive flock, giving up when ctx ends.
func lockFile(ctx context.Context, path string) (unlock func(), err error) {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return nil, fmt.Errorf("open lock %s: %w", path, err)
	}
	delay := 10 * time.Millisecond
	for {
		err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
		if err == nil {
			return func() { f.Close() }, nil
		}
		if !errors.Is(err, syscall.EWOULDBLOCK) && !errors.Is(err, syscall.EINTR) {
			f.Close()
			return nil, fmt.Errorf("lock %s: %w", path, err)
		}
		t := time.NewTimer(delay)
		select {
		case <-ctx.Done():
			t.Stop()
			f.Close()
			return nil, fmt.Errorf("lock %s: another process holds it: %w", path, ctx.Err())
		case <-t.C:
		}
		delay = min(2*delay, 250*time.Millisecond)
	}
}
