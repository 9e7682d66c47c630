package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strings"
	"time"

	"go.temporal.io/sdk/client"
	"go.uber.org/fx"

	"github.com/batonhq/baton/batonfx"
	"github.com/batonhq/baton/claimclient"
	"github.com/batonhq/baton/config"
	"github.com/batonhq/baton/internal/httpapi"
	"github.com/batonhq/baton/internal/store"
	"github.com/batonhq/baton/internal/temporalx"
	"github.com/batonhq/baton/policy"
	"github.com/batonhq/baton/policy/yamlfile"
	"github.com/batonhq/baton/tools/devserver"
	"github.com/batonhq/baton/tools/pgfind"
)

// demo brings the stack up, runs the claims, and tears it down in reverse.
func demo(ctx context.Context, f *flags, out io.Writer, log *slog.Logger) error {
	if err := f.absolute(); err != nil {
		return err
	}
	// The files are read, and the claims' owner checked against the
	// directory, before anything starts: a wrong path or a missing user fails
	// at once, not deep inside the worker's start.
	dir, err := yamlfile.LoadDirectory(f.directory)
	if err != nil {
		return fmt.Errorf("--directory: %w", err)
	}
	owner, err := demoOwner(dir, f.owner)
	if err != nil {
		return err
	}
	if _, err := yamlfile.LoadPolicy(f.policy); err != nil {
		return fmt.Errorf("--policy: %w", err)
	}
	if f.groups != "" {
		if _, err := yamlfile.LoadGroups(f.groups); err != nil {
			return fmt.Errorf("--groups: %w", err)
		}
	}
	data := f.dataDir
	if err := os.MkdirAll(data, 0o755); err != nil {
		return fmt.Errorf("data directory: %w", err)
	}
	startCtx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()

	pg, err := pgfind.Find(startCtx, pgfind.Options{DatabaseURL: os.Getenv("DATABASE_URL"), DataDir: data, Logger: log})
	if err != nil {
		return err
	}
	defer pg.Stop() //nolint:errcheck // best effort on the way out
	fmt.Fprintf(out, "PostgreSQL   %s (%s)\n", pgfind.Redact(pg.URL), pg.Source)

	srv, err := devserver.Start(startCtx, devserver.Config{
		DataDir:          filepath.Join(data, "temporal"),
		FrontendPort:     f.port,
		UIPort:           f.uiPort,
		SearchAttributes: temporalx.SearchAttributes(),
		Logger:           log,
	})
	if err != nil {
		return err
	}
	defer srv.Stop() //nolint:errcheck
	fmt.Fprintf(out, "Temporal     %s (namespace %s, state in %s)\n", srv.HostPort(), srv.Namespace(), filepath.Join(data, "temporal"))
	if srv.UIURL() != "" {
		fmt.Fprintf(out, "Web UI       %s/namespaces/%s/workflows\n", srv.UIURL(), srv.Namespace())
	}

	cfg, err := config.Load("", os.Getenv)
	if err != nil {
		return err
	}
	cfg.DatabaseURL, cfg.TemporalAddress, cfg.Namespace = pg.URL, srv.HostPort(), srv.Namespace()
	cfg.PolicyFile, cfg.RegisterSearchAttributes = f.policy, true
	cfg.MetricsAddress = f.metrics
	if strings.EqualFold(f.metrics, "off") {
		cfg.MetricsAddress = ""
	}
	cfg.LinkTemplate = "http://" + f.http + "/claims/{claim_id}"
	// The demo is signed: every start and Update carries an actor assertion,
	// and the worker refuses any that does not (README Security).
	keyFile := ""
	if cfg.ActorKey == "" {
		if cfg.ActorKey, keyFile, err = demoActorKey(data); err != nil {
			return err
		}
	}
	pool, err := store.NewPool(startCtx, cfg.DatabaseURL)
	if err != nil {
		return err
	}
	defer pool.Close()
	st := store.New(pool)
	if err := loadDirectory(startCtx, st, dir, out); err != nil {
		return err
	}
	if err := loadGroups(startCtx, st, f.groups, out); err != nil {
		return err
	}

	app := fx.New(fx.Supply(cfg), batonfx.Module, fx.Replace(log), fx.WithLogger(batonfx.FxLogger))
	if err := app.Start(startCtx); err != nil {
		return fmt.Errorf("start worker: %w", err)
	}
	defer app.Stop(context.Background()) //nolint:errcheck

	opts, err := temporalx.ClientOptions(cfg, log)
	if err != nil {
		return err
	}
	tc, err := client.DialContext(startCtx, opts)
	if err != nil {
		return err
	}
	defer tc.Close()
	claims := claimclient.New(tc, cfg.TaskQueue)
	module, err := policy.BuiltInModule(cfg.ProductModule, st)
	if err != nil {
		return err
	}
	stopAPI, err := serveAPI(f.http, claims, st, log, module)
	if err != nil {
		return err
	}
	defer stopAPI()
	fmt.Fprintf(out, "Queue page   http://%s/\n", f.http)
	if err := printDemoToken(startCtx, st, out); err != nil {
		return err
	}
	if cfg.MetricsAddress != "" {
		fmt.Fprintf(out, "Metrics      http://%s/metrics\n", cfg.MetricsAddress)
	}
	if keyFile != "" {
		fmt.Fprintf(out, "Actor key    %s (every start and update is signed; for the starter CLI: export BATON_ACTOR_KEY=$(cat %s))\n", keyFile, keyFile)
	} else {
		fmt.Fprintf(out, "Actor key    BATON_ACTOR_KEY (every start and update is signed)\n")
	}
	fmt.Fprintf(out, "Policy       %s\n", f.policy)
	fmt.Fprintf(out, "Owner        %s (of the demo's claims; --owner picks another)\n\n", owner)

	if f.claims > 0 {
		if err := runClaims(ctx, claims, f, owner, out); err != nil {
			return err
		}
	}
	if f.exit {
		return nil
	}
	fmt.Fprintln(out, "\nServing; press Ctrl-C to stop. Try:\n  go run ./starter show <claim id>")
	<-ctx.Done()
	return nil
}

// absolute resolves the file and directory flags against this process's
// working directory, once, so every component handed one (the worker's
// policy loader, the stored groups file's name, the Temporal server's and
// PostgreSQL's data directories) gets the file that was meant, whatever
// directory it works in.
func (f *flags) absolute() error {
	for _, p := range []*string{&f.dataDir, &f.directory, &f.groups, &f.policy} {
		if *p == "" || filepath.IsAbs(*p) {
			continue
		}
		abs, err := filepath.Abs(*p)
		if err != nil {
			return err
		}
		*p = abs
	}
	return nil
}

func loadDirectory(ctx context.Context, st *store.Store, d *policy.Directory, out io.Writer) error {
	if _, err := store.Migrate(ctx, st.Pool(), nil); err != nil {
		return err
	}
	sum, err := st.LoadDirectory(ctx, d)
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "Directory    %d users, %d teams from %s\n", sum.Users, sum.Teams, d.File)
	return nil
}

// demoOwner is who owns the demo's claims: want, when set, which must be in
// the directory; otherwise the directory's first admin, else its first
// active user. A claim whose owner is not in the directory is refused at its
// start, so the choice is checked here, once, naming the file.
func demoOwner(d *policy.Directory, want string) (string, error) {
	first := ""
	for _, u := range d.Users {
		switch {
		case want != "":
			if u.ID == want {
				return want, nil
			}
		case u.IsAdmin():
			return u.ID, nil
		case first == "" && u.Active:
			first = u.ID
		}
	}
	if want != "" {
		return "", fmt.Errorf("--owner %q is not in the directory %s: a claim's owner must be one of its users", want, d.File)
	}
	if first == "" {
		return "", fmt.Errorf("directory %s has no active user to own the demo's claims", d.File)
	}
	return first, nil
}

// loadGroups applies the groups file as the first active user allowed to edit
// groups, as an operator would with starter group apply.
func loadGroups(ctx context.Context, st *store.Store, file string, out io.Writer) error {
	if file == "" {
		return nil
	}
	groups, err := yamlfile.LoadGroups(file)
	if err != nil {
		return err
	}
	users, err := st.UserList(ctx)
	if err != nil {
		return err
	}
	for _, u := range users {
		if u.Active && u.Has(policy.PermManageReassignmentGroups) {
			if err := st.ApplyGroups(ctx, file, u.ID, groups); err != nil {
				return err
			}
			fmt.Fprintf(out, "Groups       %d reassignment groups from %s (as %s)\n", len(groups), file, u.ID)
			return nil
		}
	}
	return fmt.Errorf("groups file %s: no active user holds %s to apply it", file, policy.PermManageReassignmentGroups)
}

// printDemoToken mints an API token for the demo directory's first admin, so the
// queue page and the API can be tried at once.
func printDemoToken(ctx context.Context, st *store.Store, out io.Writer) error {
	users, err := st.UserList(ctx)
	if err != nil {
		return err
	}
	for _, u := range users {
		if u.IsAdmin() {
			token, _, err := st.TokenCreate(ctx, u.ID, "dev demo")
			if err != nil {
				return err
			}
			fmt.Fprintf(out, "API token    %s (user %s; starter token create USER makes more)\n", token, u.ID)
			return nil
		}
	}
	return nil
}

func serveAPI(addr string, claims *claimclient.Client, st *store.Store, log *slog.Logger, module policy.ProductModule) (func(), error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("listen on %s (use --http): %w", addr, err)
	}
	srv := httpapi.NewHTTPServer(httpapi.New(claims, st, log, httpapi.WithProductModule(module)).Handler())
	go srv.Serve(ln) //nolint:errcheck // ends with ErrServerClosed
	return func() { _ = srv.Shutdown(context.Background()) }, nil
}

// demoActorKey reads the demo's actor key from the data directory, making one
// (32 random bytes, hex) on the first run: claims started in one run are acted
// on in the next with the same key. The file is the owner's alone.
func demoActorKey(data string) (key, file string, err error) {
	file = filepath.Join(data, "actor-key")
	if b, err := os.ReadFile(file); err == nil {
		if key = strings.TrimSpace(string(b)); len(key) >= 32 {
			return key, file, nil
		}
		return "", "", fmt.Errorf("actor key %s: %d bytes; want at least 32 (delete it for a new one)", file, len(key))
	} else if !errors.Is(err, fs.ErrNotExist) {
		return "", "", fmt.Errorf("actor key: %w", err)
	}
	raw := make([]byte, 32)
	if _, err := rand.Read(raw); err != nil {
		return "", "", err
	}
	key = hex.EncodeToString(raw)
	if err := os.WriteFile(file, []byte(key+"\n"), 0o600); err != nil {
		return "", "", fmt.Errorf("actor key: %w", err)
	}
	return key, file, nil
}
