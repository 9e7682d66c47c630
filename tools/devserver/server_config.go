package devserver

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"
	sdklog "go.temporal.io/sdk/log"
	"go.temporal.io/server/common/cluster"
	"go.temporal.io/server/common/config"
	"go.temporal.io/server/common/membership/static"
	sqliteplugin "go.temporal.io/server/common/persistence/sql/sqlplugin/sqlite"
	"go.temporal.io/server/common/primitives"
	"go.temporal.io/server/common/testing/freeport"
	"go.temporal.io/server/schema/sqlite"
)

// checkPortFree reports whether host:port can be listened on right now.
func checkPortFree(host string, port int) error {
	l, err := net.Listen("tcp", net.JoinHostPort(host, strconv.Itoa(port)))
	if err != nil {
		return err
	}
	return l.Close()
}

// prepareStores prepares the configured store: the SQLite file, or the two
// PostgreSQL databases. persistence and visibility are the same config on SQLite.
func prepareStores(cfg Config) (persistence, visibility *config.SQL, err error) {
	if cfg.Postgres != nil {
		return preparePostgres(cfg)
	}
	sqlCfg, err := prepareDatabase(cfg)
	return sqlCfg, sqlCfg, err
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
		// rwc: read-write, create the file if missing. WAL with synchronous=NORMAL
		// commits without an fsync per transaction; every commit still survives
		// the process being killed (only an OS crash can lose the last few). In
		// rollback-journal mode each of the server's many small writes waited
		// for the disk, which capped the dev server at a few claims a second.
		ConnectAttributes: map[string]string{"mode": "rwc", "journal_mode": "wal", "synchronous": "NORMAL"},
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
	// No-op if the namespace already exists; temporalx.RegisterSearchAttributes then
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
// both persistence and visibility (or a PostgreSQL database for each) and every
// service on cfg.Host. Metrics and
// pprof stay off (nil metrics config and pprof port 0) because nothing reads
// them in development and each would need yet another port.
func serverConfig(cfg Config, persistence, visibility *config.SQL, ports servicePorts) *config.Config {
	hostPort := net.JoinHostPort(cfg.Host, strconv.Itoa(cfg.FrontendPort))
	services := make(map[string]config.Service, len(ports))
	for svc, port := range ports {
		services[string(svc)] = config.Service{RPC: config.RPC{
			GRPCPort: port,
			BindOnIP: cfg.Host,
		}}
	}
	// On SQLite both are one store, so one pool holds the file.
	stores := map[string]config.DataStore{sqliteplugin.PluginName: {SQL: persistence}}
	defaultStore, visibilityStore := sqliteplugin.PluginName, sqliteplugin.PluginName
	if visibility != persistence {
		defaultStore, visibilityStore = "default", "visibility"
		stores = map[string]config.DataStore{defaultStore: {SQL: persistence}, visibilityStore: {SQL: visibility}}
	}
	return &config.Config{
		Persistence: config.Persistence{
			DefaultStore:    defaultStore,
			VisibilityStore: visibilityStore,
			// One shard (the default) is plenty for a laptop and keeps SQLite
			// contention low; PostgreSQL runs take more, as production does.
			NumHistoryShards: int32(cfg.HistoryShards),
			DataStores:       stores,
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
