package devserver

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"path"
	"strconv"
	"time"

	"go.temporal.io/server/common/config"
	tlog "go.temporal.io/server/common/log"
	"go.temporal.io/server/common/metrics"
	"go.temporal.io/server/common/persistence"
	"go.temporal.io/server/common/persistence/sql"
	"go.temporal.io/server/common/persistence/sql/sqlplugin"
	"go.temporal.io/server/common/persistence/sql/sqlplugin/postgresql"
	"go.temporal.io/server/common/resolver"
	"go.temporal.io/server/schema"
	v12 "go.temporal.io/server/schema/postgresql/v12"
	"go.temporal.io/server/schema/sqlite"
)

// PostgresStore persists the server to PostgreSQL instead of SQLite: its
// persistence and its visibility each in a database of their own on one server,
// the topology docker-compose.yml ships. Both databases must exist; Start loads
// Temporal's own schema (the one temporal-sql-tool setup-schema loads, embedded
// in go.temporal.io/server/schema) into each on first use.
type PostgresStore struct {
	Host     string // default 127.0.0.1
	Port     int    // default 5432
	User     string // default postgres
	Password string
	// Database holds executions, shards, task queues and namespaces;
	// VisibilityDatabase what list and count queries read.
	Database, VisibilityDatabase string
}

func (p *PostgresStore) defaults() error {
	if p.Host == "" {
		p.Host = "127.0.0.1"
	}
	if p.Port == 0 {
		p.Port = 5432
	}
	if p.User == "" {
		p.User = "postgres"
	}
	if p.Database == "" || p.VisibilityDatabase == "" {
		return errors.New("devserver: PostgresStore needs Database and VisibilityDatabase")
	}
	if p.Database == p.VisibilityDatabase {
		return fmt.Errorf("devserver: PostgresStore: persistence and visibility cannot share database %s", p.Database)
	}
	return nil
}

// sql is the server's connection to one of the two databases.
func (p *PostgresStore) sql(database string) *config.SQL {
	return &config.SQL{
		PluginName:      postgresql.PluginName, // what docker-compose.yml's DB=postgres12 selects
		DatabaseName:    database,
		ConnectAddr:     net.JoinHostPort(p.Host, strconv.Itoa(p.Port)),
		ConnectProtocol: "tcp",
		User:            p.User,
		Password:        p.Password,
		MaxConns:        20,
		MaxIdleConns:    20,
		MaxConnLifetime: time.Hour,
	}
}

// preparePostgres loads the schema into each database that has none yet and
// pre-creates the namespace, as prepareDatabase does for SQLite.
func preparePostgres(cfg Config) (persistence, visibility *config.SQL, err error) {
	p := cfg.Postgres
	if err := p.defaults(); err != nil {
		return nil, nil, err
	}
	persistence, visibility = p.sql(p.Database), p.sql(p.VisibilityDatabase)
	if err := setupSchema(persistence, "postgresql/v12/temporal", v12.Version); err != nil {
		return nil, nil, err
	}
	if err := setupSchema(visibility, "postgresql/v12/visibility", v12.VisibilityVersion); err != nil {
		return nil, nil, err
	}
	// The namespace record is the same on every SQL store; sqlite's helper
	// writes it through whichever plugin the config names.
	nsCfg, err := sqlite.NewNamespaceConfig(clusterName, cfg.Namespace, false, cfg.SearchAttributes)
	if err != nil {
		return nil, nil, fmt.Errorf("devserver: namespace %q: %w", cfg.Namespace, err)
	}
	if err := sqlite.CreateNamespaces(persistence, nsCfg); err != nil {
		return nil, nil, fmt.Errorf("devserver: creating namespace %q in %s: %w", cfg.Namespace, p.Database, err)
	}
	return persistence, visibility, nil
}

// setupSchema is what temporal-sql-tool setup-schema does with the embedded
// schema file (its package, go.temporal.io/server/tools/common/schema, would
// pull in a CLI framework for these few calls): the versioning tables, the
// schema, and the version it is, so the server's compatibility check passes. A
// database with a version already is left alone.
func setupSchema(cfg *config.SQL, dir, version string) error {
	db, err := sql.NewSQLAdminDB(sqlplugin.DbKindUnknown, cfg, resolver.NewNoopResolver(), tlog.NewNoopLogger(), metrics.NoopMetricsHandler)
	if err != nil {
		return fmt.Errorf("devserver: connecting to %s: %w", cfg.DatabaseName, err)
	}
	defer db.Close()
	if v, err := db.ReadSchemaVersion(cfg.DatabaseName); err == nil && v != "" {
		return nil
	}
	file := path.Join(dir, "schema.sql")
	raw, err := fs.ReadFile(schema.Assets(), file)
	if err != nil {
		return fmt.Errorf("devserver: reading embedded %s: %w", file, err)
	}
	stmts, err := persistence.LoadAndSplitQueryFromReaders([]io.Reader{bytes.NewReader(raw)})
	if err != nil {
		return fmt.Errorf("devserver: parsing %s: %w", file, err)
	}
	if err := db.CreateSchemaVersionTables(); err != nil {
		return fmt.Errorf("devserver: versioning tables in %s: %w", cfg.DatabaseName, err)
	}
	for _, stmt := range stmts {
		if err := db.Exec(stmt); err != nil {
			return fmt.Errorf("devserver: loading %s into %s: %w", file, cfg.DatabaseName, err)
		}
	}
	if err := db.UpdateSchemaVersion(cfg.DatabaseName, version, version); err != nil {
		return fmt.Errorf("devserver: schema version of %s: %w", cfg.DatabaseName, err)
	}
	return db.WriteSchemaUpdateLog("0", version, "", "initial version")
}
