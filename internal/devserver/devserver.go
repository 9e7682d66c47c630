// Package devserver runs an embedded Temporal server, persisted to a SQLite
// file, together with the Temporal Web UI.
//
// It exists so that Baton can be developed and demonstrated on a laptop
// without installing or operating a Temporal cluster. It is for LOCAL
// DEVELOPMENT ONLY: there is no authentication, no TLS, a single history
// shard and a single-connection SQLite store. Production deployments must
// point Baton at a real Temporal cluster instead.
package devserver

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	uiserver "github.com/temporalio/ui-server/v2/server"
	uiconfig "github.com/temporalio/ui-server/v2/server/config"
	"github.com/temporalio/ui-server/v2/server/server_options"
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/operatorservice/v1"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"
	sdklog "go.temporal.io/sdk/log"
	"go.temporal.io/server/common/authorization"
	"go.temporal.io/server/common/cluster"
	"go.temporal.io/server/common/config"
	"go.temporal.io/server/common/dynamicconfig"
	"go.temporal.io/server/common/log"
	"go.temporal.io/server/common/log/tag"
	"go.temporal.io/server/common/membership/static"
	sqliteplugin "go.temporal.io/server/common/persistence/sql/sqlplugin/sqlite"
	"go.temporal.io/server/common/primitives"
	"go.temporal.io/server/common/testing/freeport"
	"go.temporal.io/server/schema/sqlite"
	"go.temporal.io/server/temporal"
)

const (
	defaultNamespace    = "default"
	defaultHost         = "127.0.0.1"
	defaultFrontendPort = 7233
	defaultUIPort       = 8233

	// dbFileName is the SQLite file inside Config.DataDir.
	dbFileName = "temporal.db"

	// clusterName is the name of the single local cluster. It is stored in
	// the namespace records, so it must never change between releases or
	// existing dev databases would stop loading their namespaces.
	clusterName = "active"

	// defaultStartTimeout bounds Start when the caller's context has no
	// deadline, so a server that never becomes ready fails instead of
	// hanging the developer's terminal forever.
	defaultStartTimeout = 2 * time.Minute

	// pollInterval is how often readiness is re-checked while waiting.
	pollInterval = 100 * time.Millisecond
)

// Config for the embedded server. Zero values get the documented defaults.
type Config struct {
	// DataDir holds the server state and is required. The SQLite file is
	// DataDir/temporal.db; it is created with the Temporal schema on first
	// run, and the directory is created if missing. Reusing the same DataDir
	// across runs is what makes workflow state survive a restart.
	DataDir string

	// Namespace is created at start if missing. Default "default".
	Namespace string

	// Host is the IP address every service binds to. Default "127.0.0.1".
	// It must be a loopback address: the dev server has no authentication,
	// so it must never be reachable from the network.
	Host string

	// FrontendPort is the gRPC port SDK clients dial. Default 7233. If the
	// port is taken, Start fails with an error naming it, because the usual
	// cause is another Temporal server (e.g. `temporal server start-dev`).
	FrontendPort int

	// UIPort is the Web UI's HTTP port. Default 8233; -1 disables the UI.
	UIPort int

	// SearchAttributes are registered on Namespace, both when it is first
	// created and on every later start (missing ones are added through the
	// OperatorService), so new attributes can be introduced without wiping
	// DataDir. Start fails if one already exists with a different type.
	SearchAttributes map[string]enumspb.IndexedValueType

	// Logger receives the Temporal server's logs (WARN and above only; the
	// server is very chatty at INFO) and devserver's own messages.
	// Default slog.Default().
	Logger *slog.Logger
}

// Server is a running embedded Temporal server (and, unless disabled, Web UI).
// Create it with Start and release it with Stop.
type Server struct {
	temporal  temporal.Server
	logger    *temporalLogger
	ui        *uiserver.Server
	uiDone    chan struct{} // closed when the UI server's Start returns
	hostPort  string
	namespace string
	uiURL     string

	stopOnce sync.Once
	stopErr  error
}

// Start starts the Temporal server (and the Web UI unless disabled), waits
// until the frontend answers for the configured namespace and makes sure the
// configured search attributes are registered. Waiting is bounded by ctx's
// deadline, or by two minutes if ctx has none. On error nothing is left
// running.
func Start(ctx context.Context, cfg Config) (*Server, error) {
	if err := cfg.applyDefaults(); err != nil {
		return nil, err
	}
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, defaultStartTimeout)
		defer cancel()
	}

	hostPort := net.JoinHostPort(cfg.Host, strconv.Itoa(cfg.FrontendPort))
	// Check ports up front: both the Temporal server and the UI server react
	// to a failed listen by exiting the whole process, which would give the
	// developer no hint about what is wrong.
	if err := checkPortFree(cfg.Host, cfg.FrontendPort); err != nil {
		return nil, fmt.Errorf("devserver: Temporal frontend port %d on %s is not available; another Temporal server may be running: %w",
			cfg.FrontendPort, cfg.Host, err)
	}
	if cfg.UIPort != -1 {
		if err := checkPortFree(cfg.Host, cfg.UIPort); err != nil {
			return nil, fmt.Errorf("devserver: Temporal UI port %d on %s is not available; another Temporal server may be running: %w",
				cfg.UIPort, cfg.Host, err)
		}
	}

	sqlCfg, err := prepareDatabase(cfg)
	if err != nil {
		return nil, err
	}

	ports := newServicePorts(cfg.FrontendPort)
	logger := newTemporalLogger(cfg.Logger)
	srv, err := temporal.NewServer(
		temporal.WithConfig(serverConfig(cfg, sqlCfg, ports)),
		temporal.ForServices(temporal.DefaultServices),
		temporal.WithStaticHosts(ports.staticHosts(cfg.Host)),
		temporal.WithLogger(logger),
		// No auth: this server only listens on loopback for local development.
		temporal.WithAuthorizer(authorization.NewNoopAuthorizer()),
		temporal.WithClaimMapper(func(*config.Config) authorization.ClaimMapper {
			return authorization.NewNoopClaimMapper()
		}),
		temporal.WithDynamicConfigClient(dynamicconfig.StaticClient{
			// Without this, search attributes added after start are only
			// visible once the server's cache refreshes (up to a minute),
			// so workflows started right after Start would be rejected.
			dynamicconfig.ForceSearchAttributesCacheRefreshOnRead.Key(): []dynamicconfig.ConstrainedValue{{Value: true}},
		}),
	)
	if err != nil {
		return nil, fmt.Errorf("devserver: creating Temporal server: %w", err)
	}
	if err := srv.Start(); err != nil {
		return nil, fmt.Errorf("devserver: starting Temporal server: %w", err)
	}

	s := &Server{
		temporal:  srv,
		logger:    logger,
		hostPort:  hostPort,
		namespace: cfg.Namespace,
	}
	if err := s.finishStart(ctx, cfg); err != nil {
		return nil, errors.Join(err, s.Stop())
	}
	return s, nil
}

// finishStart holds the steps that need a running Temporal server, so that
// Start can tear everything down with a single Stop if any of them fail.
func (s *Server) finishStart(ctx context.Context, cfg Config) error {
	c, err := waitForFrontend(ctx, s.hostPort, cfg)
	if err != nil {
		return err
	}
	defer c.Close()

	if err := ensureSearchAttributes(ctx, c, cfg.Namespace, cfg.SearchAttributes); err != nil {
		return err
	}

	if cfg.UIPort == -1 {
		return nil
	}
	return s.startUI(ctx, cfg)
}

// HostPort returns the frontend's gRPC address for SDK clients, e.g.
// "127.0.0.1:7233".
func (s *Server) HostPort() string { return s.hostPort }

// Namespace returns the namespace that Start created or verified.
func (s *Server) Namespace() string { return s.namespace }

// UIURL returns the Web UI's base URL, e.g. "http://127.0.0.1:8233", or ""
// if the UI is disabled.
func (s *Server) UIURL() string { return s.uiURL }

// Stop stops the Web UI and then the Temporal server. The UI goes first so
// that it does not spam errors about a frontend that has disappeared. It is
// safe to call more than once; later calls return the first call's result.
func (s *Server) Stop() error {
	s.stopOnce.Do(func() {
		// While the services shut down one after another, the survivors
		// log dozens of warnings and errors about the ones already gone.
		// They say nothing useful, so demote them; real failures still
		// surface through the returned error.
		s.logger.stopping.Store(true)
		if s.ui != nil {
			s.ui.Stop()
			<-s.uiDone
		}
		if err := s.temporal.Stop(); err != nil {
			s.stopErr = fmt.Errorf("devserver: stopping Temporal server: %w", err)
		}
	})
	return s.stopErr
}

// applyDefaults fills in zero values and rejects configurations that would
// otherwise fail later in harder-to-understand ways.
func (cfg *Config) applyDefaults() error {
	if cfg.DataDir == "" {
		return errors.New("devserver: Config.DataDir is required")
	}
	dir, err := filepath.Abs(cfg.DataDir)
	if err != nil {
		return fmt.Errorf("devserver: resolving DataDir %q: %w", cfg.DataDir, err)
	}
	cfg.DataDir = dir
	if cfg.Namespace == "" {
		cfg.Namespace = defaultNamespace
	}
	if cfg.Host == "" {
		cfg.Host = defaultHost
	}
	// Loopback keeps an unauthenticated server off the network.
	if ip := net.ParseIP(cfg.Host); ip == nil || !ip.IsLoopback() {
		return fmt.Errorf("devserver: Config.Host %q must be a loopback IP address such as 127.0.0.1", cfg.Host)
	}
	if cfg.FrontendPort == 0 {
		cfg.FrontendPort = defaultFrontendPort
	}
	if cfg.FrontendPort < 1 || cfg.FrontendPort > 65535 {
		return fmt.Errorf("devserver: Config.FrontendPort %d is out of range", cfg.FrontendPort)
	}
	if cfg.UIPort == 0 {
		cfg.UIPort = defaultUIPort
	}
	if cfg.UIPort != -1 && (cfg.UIPort < 1 || cfg.UIPort > 65535) {
		return fmt.Errorf("devserver: Config.UIPort %d is out of range (use -1 to disable the UI)", cfg.UIPort)
	}
	if cfg.UIPort == cfg.FrontendPort {
		return fmt.Errorf("devserver: Config.UIPort and Config.FrontendPort are both %d", cfg.UIPort)
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	return nil
}

// checkPortFree reports whether host:port can be listened on right now.
func checkPortFree(host string, port int) error {
	l, err := net.Listen("tcp", net.JoinHostPort(host, strconv.Itoa(port)))
	if err != nil {
		return err
	}
	return l.Close()
}

// prepareDatabase creates DataDir and the SQLite schema on first run and
// pre-creates the namespace. The namespace is created directly in the
// database (not through the API) so that it exists before any service
// starts and carries the search attributes from the very beginning.
func prepareDatabase(cfg Config) (*config.SQL, error) {
	if err := os.MkdirAll(cfg.DataDir, 0o755); err != nil {
		return nil, fmt.Errorf("devserver: creating DataDir: %w", err)
	}
	dbPath := filepath.Join(cfg.DataDir, dbFileName)
	sqlCfg := &config.SQL{
		PluginName:   sqliteplugin.PluginName,
		DatabaseName: dbPath,
		// rwc: read-write, create the file if missing.
		ConnectAttributes: map[string]string{"mode": "rwc"},
	}

	if _, err := os.Stat(dbPath); errors.Is(err, os.ErrNotExist) {
		if err := sqlite.SetupSchema(sqlCfg); err != nil {
			// A half-initialised file would be mistaken for a complete
			// database on the next run, so remove it.
			_ = os.Remove(dbPath)
			return nil, fmt.Errorf("devserver: creating Temporal schema in %s: %w", dbPath, err)
		}
	} else if err != nil {
		return nil, fmt.Errorf("devserver: checking %s: %w", dbPath, err)
	}

	nsCfg, err := sqlite.NewNamespaceConfig(clusterName, cfg.Namespace, false, cfg.SearchAttributes)
	if err != nil {
		return nil, fmt.Errorf("devserver: namespace %q: %w", cfg.Namespace, err)
	}
	// No-op if the namespace already exists; ensureSearchAttributes then
	// brings its search attributes up to date once the server runs.
	if err := sqlite.CreateNamespaces(sqlCfg, nsCfg); err != nil {
		return nil, fmt.Errorf("devserver: creating namespace %q: %w", cfg.Namespace, err)
	}
	return sqlCfg, nil
}

// servicePorts are the gRPC ports of the four Temporal services.
type servicePorts map[primitives.ServiceName]int

// newServicePorts puts the frontend on the well-known port and every other
// service on a free port, so two dev servers (or a dev server and a test)
// only ever compete for the ports a developer actually chose.
func newServicePorts(frontendPort int) servicePorts {
	return servicePorts{
		primitives.FrontendService: frontendPort,
		primitives.HistoryService:  freeport.MustGetFreePort(),
		primitives.MatchingService: freeport.MustGetFreePort(),
		primitives.WorkerService:   freeport.MustGetFreePort(),
	}
}

// staticHosts pins every service to its address in this process. Without
// it, services find each other through ringpop seeded from the
// cluster_membership table, which after a quick restart still lists the
// previous run's (now dead) hosts as healthy for ~20s; matching then fails
// to join for 30s or more and new workflows stall. A single-process server
// has nothing to discover anyway.
func (p servicePorts) staticHosts(host string) map[primitives.ServiceName]static.Hosts {
	hosts := make(map[primitives.ServiceName]static.Hosts, len(p))
	for svc, port := range p {
		hosts[svc] = static.SingleLocalHost(net.JoinHostPort(host, strconv.Itoa(port)))
	}
	return hosts
}

// serverConfig builds the static Temporal configuration: one SQLite store for
// both persistence and visibility and every service on cfg.Host. Metrics and
// pprof stay off (nil metrics config and pprof port 0) because nothing reads
// them in development and each would need yet another port.
func serverConfig(cfg Config, sqlCfg *config.SQL, ports servicePorts) *config.Config {
	hostPort := net.JoinHostPort(cfg.Host, strconv.Itoa(cfg.FrontendPort))
	services := make(map[string]config.Service, len(ports))
	for svc, port := range ports {
		services[string(svc)] = config.Service{RPC: config.RPC{
			GRPCPort: port,
			BindOnIP: cfg.Host,
		}}
	}
	return &config.Config{
		Persistence: config.Persistence{
			DefaultStore:    sqliteplugin.PluginName,
			VisibilityStore: sqliteplugin.PluginName,
			// One shard is plenty for a laptop and keeps SQLite contention low.
			NumHistoryShards: 1,
			DataStores: map[string]config.DataStore{
				sqliteplugin.PluginName: {SQL: sqlCfg},
			},
		},
		ClusterMetadata: &cluster.Config{
			EnableGlobalNamespace:    false,
			FailoverVersionIncrement: 10,
			MasterClusterName:        clusterName,
			CurrentClusterName:       clusterName,
			ClusterInformation: map[string]cluster.ClusterInformation{
				clusterName: {
					Enabled:                true,
					InitialFailoverVersion: 1,
					RPCAddress:             hostPort,
				},
			},
		},
		DCRedirectionPolicy: config.DCRedirectionPolicy{Policy: "noop"},
		Services:            services,
		// Archival needs external storage that a dev setup does not have.
		Archival: config.Archival{
			History:    config.HistoryArchival{State: "disabled"},
			Visibility: config.VisibilityArchival{State: "disabled"},
		},
		NamespaceDefaults: config.NamespaceDefaults{
			Archival: config.ArchivalNamespaceDefaults{
				History:    config.HistoryArchivalNamespaceDefaults{State: "disabled"},
				Visibility: config.VisibilityArchivalNamespaceDefaults{State: "disabled"},
			},
		},
		// The server's internal system workers dial the frontend through this.
		PublicClient: config.PublicClient{HostPort: hostPort},
	}
}

// waitForFrontend polls until the frontend serves the namespace and returns
// a client connected to it. Polling (rather than a fixed sleep) makes Start
// as fast as the machine allows while still tolerating slow first starts.
func waitForFrontend(ctx context.Context, hostPort string, cfg Config) (client.Client, error) {
	opts := client.Options{
		HostPort:  hostPort,
		Namespace: cfg.Namespace,
		Logger:    sdklog.NewStructuredLogger(cfg.Logger.With("component", "devserver")),
	}
	var lastErr error
	for {
		c, err := dialOnce(ctx, opts)
		if err == nil {
			return c, nil
		}
		lastErr = err
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("devserver: Temporal frontend at %s did not become ready: %w (last error: %v)",
				hostPort, ctx.Err(), lastErr)
		case <-time.After(pollInterval):
		}
	}
}

// dialOnce makes one readiness attempt: dial, then describe the namespace,
// because the frontend can accept connections before its namespace registry
// has loaded.
func dialOnce(ctx context.Context, opts client.Options) (client.Client, error) {
	attemptCtx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	c, err := client.DialContext(attemptCtx, opts)
	if err != nil {
		return nil, err
	}
	if _, err := c.WorkflowService().DescribeNamespace(attemptCtx,
		&workflowservice.DescribeNamespaceRequest{Namespace: opts.Namespace}); err != nil {
		c.Close()
		return nil, err
	}
	return c, nil
}

// ensureSearchAttributes adds any wanted search attribute the namespace lacks.
// This matters for namespaces created by an earlier run, before an attribute
// was added to Baton's configuration.
func ensureSearchAttributes(ctx context.Context, c client.Client, namespace string, want map[string]enumspb.IndexedValueType) error {
	if len(want) == 0 {
		return nil
	}
	resp, err := c.OperatorService().ListSearchAttributes(ctx,
		&operatorservice.ListSearchAttributesRequest{Namespace: namespace})
	if err != nil {
		return fmt.Errorf("devserver: listing search attributes of namespace %q: %w", namespace, err)
	}
	missing := map[string]enumspb.IndexedValueType{}
	for _, name := range sortedKeys(want) {
		wantType := want[name]
		gotType, ok := resp.GetCustomAttributes()[name]
		if !ok {
			gotType, ok = resp.GetSystemAttributes()[name]
		}
		switch {
		case !ok:
			missing[name] = wantType
		case gotType != wantType:
			return fmt.Errorf("devserver: search attribute %q exists in namespace %q as %s, want %s; use a fresh DataDir",
				name, namespace, gotType, wantType)
		}
	}
	if len(missing) == 0 {
		return nil
	}
	_, err = c.OperatorService().AddSearchAttributes(ctx, &operatorservice.AddSearchAttributesRequest{
		Namespace:        namespace,
		SearchAttributes: missing,
	})
	var exists *serviceerror.AlreadyExists
	if err != nil && !errors.As(err, &exists) {
		return fmt.Errorf("devserver: adding search attributes %v to namespace %q: %w", sortedKeys(missing), namespace, err)
	}
	return nil
}

// startUI runs the Web UI in the background and waits until it answers, so
// UIURL can be opened as soon as Start returns.
func (s *Server) startUI(ctx context.Context, cfg Config) error {
	ui := uiserver.NewServer(server_options.WithConfigProvider(&uiconfig.Config{
		TemporalGRPCAddress: s.hostPort,
		Host:                cfg.Host,
		Port:                cfg.UIPort,
		EnableUI:            true,
		DefaultNamespace:    cfg.Namespace,
		// The UI is served over plain HTTP on loopback, where browsers
		// would drop a Secure CSRF cookie and every UI action would fail.
		CORS: uiconfig.CORS{CookieInsecure: true},
		// Per-request access logs would drown out Baton's own output.
		HideLogs: true,
		// Offline-friendly: do not fetch news from temporal.io.
		DisableNewsFetch: true,
	}))
	s.ui = ui
	s.uiDone = make(chan struct{})
	go func() {
		defer close(s.uiDone)
		// Returns once Stop closes the server. Listen errors end in
		// log.Fatal inside ui-server, hence the port check in Start.
		_ = ui.Start()
	}()
	s.uiURL = "http://" + net.JoinHostPort(cfg.Host, strconv.Itoa(cfg.UIPort))

	healthURL := s.uiURL + "/healthz"
	httpClient := &http.Client{Timeout: 2 * time.Second}
	for {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, healthURL, nil)
		if err != nil {
			return fmt.Errorf("devserver: building UI health request: %w", err)
		}
		resp, err := httpClient.Do(req)
		if err == nil {
			_ = resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
			err = fmt.Errorf("status %s", resp.Status)
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("devserver: Temporal UI at %s did not become ready: %w (last error: %v)", s.uiURL, ctx.Err(), err)
		case <-time.After(pollInterval):
		}
	}
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// temporalLogger adapts the Temporal server's logger interface to slog. It
// drops everything below WARN, because the server logs several lines per
// second at INFO even when idle, and demotes to DEBUG the warnings that are
// expected in this setup (see benignWarnings) and everything logged once Stop
// has begun.
type temporalLogger struct {
	l        *slog.Logger
	stopping *atomic.Bool // shared by loggers derived through With
}

var (
	_ log.Logger     = (*temporalLogger)(nil)
	_ log.WithLogger = (*temporalLogger)(nil)
)

// benignWarnings are server warnings about features the dev server leaves
// off on purpose, logged on every start.
var benignWarnings = []string{
	// Nexus needs the frontend's HTTP API, which Baton does not use.
	"HTTP API port has not been set",
}

func newTemporalLogger(l *slog.Logger) *temporalLogger {
	return &temporalLogger{l: l.With("component", "temporal-server"), stopping: new(atomic.Bool)}
}

// Debug is dropped; see temporalLogger.
func (*temporalLogger) Debug(string, ...tag.Tag) {}

// Info is dropped; see temporalLogger.
func (*temporalLogger) Info(string, ...tag.Tag) {}

// Warn logs at WARN, or DEBUG for expected warnings and during shutdown.
func (t *temporalLogger) Warn(msg string, tags ...tag.Tag) {
	level := slog.LevelWarn
	if t.stopping.Load() || isBenignWarning(msg) {
		level = slog.LevelDebug
	}
	t.l.Log(context.Background(), level, msg, tagsToAttrs(tags)...)
}

// Error logs at ERROR, or DEBUG during shutdown.
func (t *temporalLogger) Error(msg string, tags ...tag.Tag) {
	level := slog.LevelError
	if t.stopping.Load() {
		level = slog.LevelDebug
	}
	t.l.Log(context.Background(), level, msg, tagsToAttrs(tags)...)
}

// DPanic logs like Error; development panics are not wanted in a dev server
// that other code embeds.
func (t *temporalLogger) DPanic(msg string, tags ...tag.Tag) {
	t.Error(msg, tags...)
}

// Panic logs and then panics, as the server's callers expect.
func (t *temporalLogger) Panic(msg string, tags ...tag.Tag) {
	t.l.Error(msg, tagsToAttrs(tags)...)
	panic(msg)
}

// Fatal logs and exits the process, as the server's callers expect it not
// to return (the server's own zap logger does the same).
func (t *temporalLogger) Fatal(msg string, tags ...tag.Tag) {
	t.l.Error(msg, tagsToAttrs(tags)...)
	os.Exit(1)
}

// With returns a logger that adds tags to every message.
func (t *temporalLogger) With(tags ...tag.Tag) log.Logger {
	return &temporalLogger{l: t.l.With(tagsToAttrs(tags)...), stopping: t.stopping}
}

func isBenignWarning(msg string) bool {
	for _, prefix := range benignWarnings {
		if strings.HasPrefix(msg, prefix) {
			return true
		}
	}
	return false
}

func tagsToAttrs(tags []tag.Tag) []any {
	attrs := make([]any, 0, len(tags))
	for _, t := range tags {
		attrs = append(attrs, slog.Any(t.Key(), t.Value()))
	}
	return attrs
}
