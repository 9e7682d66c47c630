// Package devserver runs an embedded Temporal server, persisted to a SQLite
// file (or, for fault-injection runs and benchmarks on the production
// topology, to PostgreSQL), together with the Temporal Web UI.
//
// It exists so that Baton can be developed and demonstrated on a laptop
// without installing or operating a Temporal cluster. It is for LOCAL
// DEVELOPMENT ONLY: there is no authentication, no TLS, and by default a
// single history shard and a single-connection SQLite store (Config.Postgres
// and Config.HistoryShards bring it closer to production for the chaos run and
// the benchmarks, still as one process). Production deployments must point
// Baton at a real Temporal cluster instead.
package devserver

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"path/filepath"
	"sort"
	"strconv"
	"sync"
	"time"

	uiserver "github.com/temporalio/ui-server/v2/server"
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/server/common/authorization"
	"go.temporal.io/server/common/config"
	"go.temporal.io/server/common/dynamicconfig"
	"go.temporal.io/server/temporal"

	"github.com/batonhq/baton/internal/temporalx"
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

	// Postgres, when set, persists to PostgreSQL instead of the SQLite file
	// (DataDir is still required, for symmetry, but holds nothing).
	Postgres *PostgresStore

	// HistoryShards is the number of history shards. Default 1. It is fixed
	// when a store is first used: the server refuses to start on a store
	// created with another count.
	HistoryShards int

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

	persistence, visibility, err := prepareStores(cfg)
	if err != nil {
		return nil, err
	}

	ports := newServicePorts(cfg.FrontendPort)
	logger := newTemporalLogger(cfg.Logger)
	srv, err := temporal.NewServer(
		temporal.WithConfig(serverConfig(cfg, persistence, visibility, ports)),
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

	if err := temporalx.RegisterSearchAttributes(ctx, c, cfg.Namespace, cfg.SearchAttributes); err != nil {
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
	if cfg.HistoryShards == 0 {
		cfg.HistoryShards = 1
	}
	if cfg.HistoryShards < 0 {
		return fmt.Errorf("devserver: Config.HistoryShards %d must be positive", cfg.HistoryShards)
	}
	return nil
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
