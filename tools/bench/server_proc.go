package bench

import (
	"context"
	"fmt"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"
	sdklog "go.temporal.io/sdk/log"

	"github.com/batonhq/baton/tools/devserver"
)

// serverProc is the Temporal server running as a process of its own (bin/dev
// temporal-server), so that it can be killed with SIGKILL, as a crashed host
// would be, and not only stopped.
type serverProc struct {
	*Proc
	hostPort  string
	namespace string

	stopOnce sync.Once
}

// startServerProc starts bin temporal-server with cfg and waits until its
// frontend serves the namespace.
func startServerProc(ctx context.Context, bin string, cfg devserver.Config, logDir string) (*serverProc, error) {
	env := os.Environ()
	if cfg.Postgres != nil && cfg.Postgres.Password != "" {
		env = append(env, "PGPASSWORD="+cfg.Postgres.Password) // not on the command line
	}
	proc, err := spawn(filepath.Join(logDir, "temporal-server.log"), "the Temporal server", env, serverProcAttr(),
		bin, append([]string{"temporal-server"}, ServerArgs(cfg)...)...)
	if err != nil {
		return nil, err
	}
	p := &serverProc{Proc: proc, hostPort: net.JoinHostPort("127.0.0.1", strconv.Itoa(cfg.FrontendPort)), namespace: "default"}
	if err := p.waitReady(ctx, "Temporal server on "+p.hostPort, 100*time.Millisecond, func() (bool, error) {
		return p.ready(ctx)
	}); err != nil {
		return nil, err
	}
	return p, nil
}

// ServerArgs are the temporal-server flags that start cfg's server; bin/dev
// parses them with ServerFlags.
func ServerArgs(cfg devserver.Config) []string {
	args := []string{"--data", cfg.DataDir, "--port", strconv.Itoa(cfg.FrontendPort), "--shards", strconv.Itoa(cfg.HistoryShards)}
	if p := cfg.Postgres; p != nil {
		args = append(args, "--pg-host", p.Host, "--pg-port", strconv.Itoa(p.Port), "--pg-user", p.User,
			"--pg-database", p.Database, "--pg-visibility-database", p.VisibilityDatabase)
	}
	return args
}

func (p *serverProc) ready(ctx context.Context) (bool, error) {
	actx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	c, err := client.DialContext(actx, client.Options{HostPort: p.hostPort, Namespace: p.namespace, Logger: sdklog.NewStructuredLogger(quietLog())})
	if err != nil {
		return false, err
	}
	defer c.Close()
	_, err = c.WorkflowService().DescribeNamespace(actx, &workflowservice.DescribeNamespaceRequest{Namespace: p.namespace})
	return err == nil, err
}

func (p *serverProc) HostPort() string  { return p.hostPort }
func (p *serverProc) Namespace() string { return p.namespace }

// Stop sends SIGTERM and waits up to 30 s for a clean stop, then kills.
func (p *serverProc) Stop() error {
	p.stopOnce.Do(func() { p.stopWithin(30 * time.Second) })
	return nil
}

// kill sends SIGKILL and waits for the process to be gone; a later Stop does
// nothing.
func (p *serverProc) kill() {
	p.stopOnce.Do(func() {})
	p.Kill()
}

// temporalDatabases drops and creates the Temporal server's two databases on
// the PostgreSQL of url, named after the run's schema so that a chaos run and
// a benchmark never share them.
func temporalDatabases(ctx context.Context, pgURL, schema string) (*devserver.PostgresStore, error) {
	u, err := url.Parse(pgURL)
	if err != nil {
		return nil, fmt.Errorf("PostgreSQL URL: %w", err)
	}
	port, _ := strconv.Atoi(u.Port())
	pw, _ := u.User.Password()
	st := &devserver.PostgresStore{Host: u.Hostname(), Port: port, User: u.User.Username(), Password: pw,
		Database: schema + "_temporal", VisibilityDatabase: schema + "_temporal_visibility"}
	conn, err := pgx.Connect(ctx, pgURL)
	if err != nil {
		return nil, err
	}
	defer conn.Close(context.WithoutCancel(ctx))
	for _, db := range []string{st.Database, st.VisibilityDatabase} {
		name := pgx.Identifier{db}.Sanitize()
		if _, err := conn.Exec(ctx, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)"); err != nil {
			return nil, fmt.Errorf("drop database %s: %w", db, err)
		}
		if _, err := conn.Exec(ctx, "CREATE DATABASE "+name); err != nil {
			return nil, fmt.Errorf("create database %s: %w", db, err)
		}
	}
	return st, nil
}
