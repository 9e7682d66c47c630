package deploycheck

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/batonhq/baton/workflows"
)

func repoRoot(t *testing.T) string {
	t.Helper()
	dir, err := os.Getwd()
	require.NoError(t, err)
	for {
		if b, err := os.ReadFile(filepath.Join(dir, "go.mod")); err == nil {
			require.Contains(t, string(b), "module "+module+"\n", "%s/go.mod is not Baton's", dir)
			return dir
		}
		parent := filepath.Dir(dir)
		require.NotEqual(t, dir, parent, "no go.mod above the test")
		dir = parent
	}
}

func readFile(t *testing.T, root, name string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(root, name))
	require.NoError(t, err, "the repository must have %s", name)
	return string(b)
}

func loadDeployment(t *testing.T) *deployment {
	t.Helper()
	root := repoRoot(t)
	d, err := newDeployment(root, readFile(t, root, "docker-compose.yml"), readFile(t, root, "Dockerfile"), readFile(t, root, "go.mod"))
	require.NoError(t, err)
	return d
}

func TestDeployment(t *testing.T) {
	d := loadDeployment(t)
	for _, c := range checks {
		t.Run(c.name, func(t *testing.T) {
			require.Empty(t, c.fn(d))
		})
	}
}

// TestParsedAsExpected pins what the parsers read from the real files, so the
// checks above cannot pass by reading nothing.
func TestParsedAsExpected(t *testing.T) {
	d := loadDeployment(t)
	require.Equal(t, []string{"baton-api", "baton-directory", "baton-worker"}, d.baton())
	require.Len(t, d.docker.Stages, 2)
	require.Equal(t, map[string]string{
		"/usr/local/bin/worker": "worker", "/usr/local/bin/starter": "starter", "/usr/local/bin/healthcheck": "healthcheck",
	}, d.binaries())

	names, types, namespaces, err := registeredSearchAttributes(d.script("temporal-admin-tools"))
	require.NoError(t, err)
	require.Equal(t, workflows.SearchAttributeNames, names)
	require.Equal(t, []string{"Keyword", "Keyword", "Keyword", "Keyword", "Keyword"}, types)
	require.Equal(t, []string{"default"}, namespaces)

	cfg, err := d.config("baton-worker")
	require.NoError(t, err)
	require.Equal(t, "temporal:7233", cfg.TemporalAddress)
	require.Equal(t, "0.0.0.0:9464", cfg.MetricsAddress)
	require.Equal(t, "/etc/baton/examples/policy.yaml", cfg.PolicyFile)
	require.False(t, cfg.RegisterSearchAttributes)
	src, ok := d.repoPath(cfg.PolicyFile)
	require.True(t, ok)
	require.Equal(t, "examples/policy.yaml", src)

	api, err := d.config("baton-api")
	require.NoError(t, err)
	require.Equal(t, "0.0.0.0:8080", api.HTTPAddress)
	require.Equal(t, "0.0.0.0:9465", api.MetricsAddress)

	require.Contains(t, d.moduleDeps(), "workflows", "the programs' module dependencies")
	require.Contains(t, d.moduleDeps(), "cmd/healthcheck")
}

// TestChecksCatchMistakes breaks the real files one way at a time and requires
// the checks to name the mistake.
func TestChecksCatchMistakes(t *testing.T) {
	root := repoRoot(t)
	compose := readFile(t, root, "docker-compose.yml")
	docker := readFile(t, root, "Dockerfile")
	goMod := readFile(t, root, "go.mod")

	cases := []struct {
		name       string
		dockerfile bool // break the Dockerfile, not docker-compose.yml
		old, new   string
		want       string
		more       [][2]string // further edits of the same file
	}{
		{"unknown variable", false, "BATON_POLICY_FILE: /etc", "BATON_POLICY: /etc", "baton-worker: environment BATON_POLICY is not a Baton setting", nil},
		{"value the config rejects", false, `BATON_REGISTER_SEARCH_ATTRIBUTES: "false"`, `BATON_REGISTER_SEARCH_ATTRIBUTES: "nope"`, "baton-worker: its environment does not load", nil},
		{"metrics port not published", false, "BATON_METRICS_ADDRESS: 0.0.0.0:9464", "BATON_METRICS_ADDRESS: 0.0.0.0:9474", "listens on port 9474", nil},
		{"listening on loopback", false, "BATON_HTTP_ADDRESS: 0.0.0.0:8080", "BATON_HTTP_ADDRESS: 127.0.0.1:8080", "listens on 127.0.0.1 only", nil},
		{"healthcheck on the wrong port", false, `"http://127.0.0.1:8080/healthz"`, `"http://127.0.0.1:8081/healthz"`, "baton-api: healthcheck probes port 8081", nil},
		{"shell healthcheck in distroless", false, `["CMD", "/usr/local/bin/healthcheck", "http://127.0.0.1:9464/healthz"]`, `["CMD-SHELL", "curl -f http://127.0.0.1:9464/healthz"]`, "needs a shell", nil},
		{"stale published port", false, `      - "9465:9465"`, "      - \"9465:9465\"\n      - \"9999:9999\"", "publishes port 9999", nil},
		{"Temporal host that does not exist", false, "      TEMPORAL_ADDRESS: temporal:7233\n      TEMPORAL_NAMESPACE: default\n      BATON_POLICY_FILE", "      TEMPORAL_ADDRESS: temporalio:7233\n      TEMPORAL_NAMESPACE: default\n      BATON_POLICY_FILE", "baton-worker: TEMPORAL_ADDRESS temporalio:7233 names no service", nil},
		{"Temporal port", false, "      TEMPORAL_ADDRESS: temporal:7233\n      TEMPORAL_NAMESPACE: default\n      BATON_HTTP", "      TEMPORAL_ADDRESS: temporal:7234\n      TEMPORAL_NAMESPACE: default\n      BATON_HTTP", "baton-api: TEMPORAL_ADDRESS temporal:7234", nil},
		{"Temporal not published", false, `      - "7233:7233"`, `      - "7234:7234"`, "does not have port 7233", nil},
		{"database host", false, "postgres://baton:baton@postgresql:5432/baton", "postgres://baton:baton@db:5432/baton", `baton-directory: DATABASE_URL host "db" is not the PostgreSQL service`, nil},
		{"database password", false, "postgres://baton:baton@postgresql:5432/baton", "postgres://baton:secret@postgresql:5432/baton", "baton-directory: DATABASE_URL password", nil},
		{"database name", false, "postgres://baton:baton@postgresql:5432/baton", "postgres://baton:baton@postgresql:5432/claims", `baton-directory: DATABASE_URL database "claims"`, nil},
		{"Temporal on another database server", false, "POSTGRES_SEEDS: postgresql", "POSTGRES_SEEDS: postgres", "temporal: POSTGRES_SEEDS", nil},
		{"unknown dependency", false, "      baton-directory:\n        condition: service_completed_successfully\n", "      baton-directry:\n        condition: service_completed_successfully\n", "depends_on baton-directry, which is not a service", nil},
		{"healthy without a healthcheck", false, "      temporal:\n        condition: service_started\n    restart: on-failure", "      temporal:\n        condition: service_healthy\n    restart: on-failure", "temporal-admin-tools: waits for temporal to be healthy, but temporal has no healthcheck", nil},
		{"worker before search attributes", false, "      temporal-admin-tools:\n        condition: service_completed_successfully\n", "", "baton-worker: BATON_REGISTER_SEARCH_ATTRIBUTES is off", nil},
		{"undeclared volume", false, "postgresql-data:/var/lib", "pgdata:/var/lib", "volume pgdata is not declared", nil},
		{"missing search attribute", false, "BatonQueue BatonPriority; do", "BatonQueue; do", "want exactly workflows.SearchAttributeNames", nil},
		{"misspelt search attribute", false, "BatonStage BatonAssignee", "BatonStage BatonAsignee", "BatonAsignee", nil},
		{"search attribute type", false, "--type Keyword", "--type Text", "registers BatonStage as Text, want Keyword", nil},
		{"search attribute namespace", false, `--namespace default --name "$$name"`, `--namespace claims --name "$$name"`, "in namespace claims, but baton-api uses default", nil},
		{"script as a string", false, "    command:\n      - |\n        set -u", "    command: |\n        set -u", "the script as the command's only item", nil},
		{"unescaped shell variable", false, `echo "search attribute $$name already registered"`, `echo "search attribute $name already registered"`, "a single $ is substituted by Compose", nil},
		{"policy file not in the image", false, "BATON_POLICY_FILE: /etc/baton/examples/policy.yaml", "BATON_POLICY_FILE: /etc/baton/policy.yaml", "/etc/baton/policy.yaml is not copied into the image", nil},
		{"directory file missing", false, `"/etc/baton/examples/directory.yaml"]`, `"/etc/baton/examples/directory.yml"]`, "which is not a file in the repository", nil},
		{"api runs the worker", false, `    command: ["serve"]`, `    command: ["serv"]`, "baton-api: runs", nil},
		{"service not built here", false, "  baton-api:\n    build: .\n    image: baton:local\n", "  baton-api:\n    image: ghcr.io/batonhq/baton:latest\n", "baton-api: a baton-* service must run the repository's image", nil},
		{"Baton's image under another name", false, "  temporal-ui:\n    image: temporalio/ui:2.34.0\n", "  temporal-ui:\n    image: baton:local\n", "temporal-ui: a service built from Baton's Dockerfile must be named baton-*", nil},

		{"one stage", true, "FROM golang:1.26-bookworm AS build\n", "", "want two stages: a build stage and a final stage", nil},
		{"Go version", true, "golang:1.26-bookworm", "golang:1.25-bookworm", "does not match go.mod", nil},
		{"module layer", true, "RUN go mod download\n", "", "RUN go mod download, COPY . ., RUN go build in that order", nil},
		{"cgo", true, "ENV CGO_ENABLED=0\n", "", "CGO_ENABLED=0", nil},
		{"trimpath", true, "-trimpath ", "", "without -trimpath", nil},
		{"ldflags", true, `-ldflags="-s -w" `, "", `without -ldflags="-s -w"`, nil},
		{"healthcheck not built", true, " ./cmd/healthcheck\n", "\n", "does not build ./cmd/healthcheck", nil},
		{"starter not copied", true, " /out/starter ", " ", "does not copy starter", nil},
		{"examples not copied", true, "COPY examples/ /etc/baton/examples/\n", "", "examples/ must be copied", nil},
		{"root", true, "USER 65532:65532", "USER root", "runs as root", nil},
		{"root image", true, "static-debian12:nonroot\n", "static-debian12:latest\n", "the final stage runs as root", [][2]string{{"USER 65532:65532\n", ""}}},
		{"port not exposed", true, "EXPOSE 8080 9464 9465", "EXPOSE 8080 9464", "does not EXPOSE 9465, which baton-api publishes", nil},
		{"shell healthcheck", true, `CMD ["/usr/local/bin/healthcheck", "http://127.0.0.1:9464/healthz"]`, "CMD /usr/local/bin/healthcheck http://127.0.0.1:9464/healthz", "HEALTHCHECK must be exec form", nil},
		{"healthcheck port", true, `"http://127.0.0.1:9464/healthz"]`, `"http://127.0.0.1:8080/healthz"]`, "but the image's BATON_METRICS_ADDRESS port", nil},
		{"entrypoint", true, `ENTRYPOINT ["/usr/local/bin/worker"]`, `ENTRYPOINT ["/usr/local/bin/starter"]`, `want ["/usr/local/bin/worker"]`, nil},
		{"secret", true, "ENV CGO_ENABLED=0", "ENV CGO_ENABLED=0 DB_PASSWORD=baton", "must hold no secrets", nil},
		{"unknown image variable", true, "BATON_METRICS_ADDRESS=0.0.0.0:9464", "BATON_METRICS_ADDR=0.0.0.0:9464", "ENV BATON_METRICS_ADDR is not a Baton setting", nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			ct, dt := compose, docker
			target := &ct
			if c.dockerfile {
				target = &dt
			}
			for _, e := range append([][2]string{{c.old, c.new}}, c.more...) {
				require.Contains(t, *target, e[0], "the case no longer matches the file; update it")
				*target = strings.Replace(*target, e[0], e[1], 1)
			}
			d, err := newDeployment(root, ct, dt, goMod)
			require.NoError(t, err)
			got := allProblems(d)
			require.NotEmpty(t, got, "the broken file passed every check")
			require.True(t, slices.ContainsFunc(got, func(s string) bool { return strings.Contains(s, c.want) }),
				"want a problem containing %q, got:\n%s", c.want, strings.Join(got, "\n"))
		})
	}
}

func TestDockerignorePatterns(t *testing.T) {
	require.True(t, ignored([]string{"internal"}, "internal/config/x.go"))
	require.True(t, ignored([]string{"**/*.go"}, "internal/config/x.go"))
	require.False(t, ignored([]string{"*.go", "!internal"}, "internal/config/x.go"))
	require.False(t, ignored([]string{".baton", "bin/"}, "internal/config/x.go"))
	require.True(t, ignored([]string{"examples/*.yaml"}, "examples/directory.yaml"))
}
