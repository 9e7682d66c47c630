package deploycheck

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/batonhq/baton/config"
	"github.com/batonhq/baton/workflows"
)

// files are the repository root and the text of the two deployment files.
type files struct{ root, compose, docker string }

// setup reads the real files, and what the checks read from them.
func setup(t *testing.T) (files, *deployment) {
	t.Helper()
	root, err := filepath.Abs("../..") // tools/deploycheck
	require.NoError(t, err)
	read := func(name string) string {
		b, err := os.ReadFile(filepath.Join(root, name))
		require.NoError(t, err, "the repository must have %s", name)
		return string(b)
	}
	require.Contains(t, read("go.mod"), "module github.com/batonhq/baton\n")
	f := files{root, read("docker-compose.yml"), read("Dockerfile")}
	d, err := load(f.root, f.compose, f.docker)
	require.NoError(t, err)
	return f, d
}

func TestDeployment(t *testing.T) {
	t.Parallel()
	_, d := setup(t)
	require.Empty(t, problems(d))
}

// TestReadAsExpected pins what was read from the real files, so the checks
// cannot pass by reading nothing.
func TestReadAsExpected(t *testing.T) {
	t.Parallel()
	_, d := setup(t)
	require.Equal(t, []string{"baton-api", "baton-directory", "baton-worker"}, d.baton())
	require.Equal(t, map[string]string{"BATON_HTTP_ADDRESS": "0.0.0.0:8080", "BATON_METRICS_ADDRESS": "0.0.0.0:9464"}, d.env)
	require.Equal(t, []string{"./worker", "./starter", "./cmd/healthcheck"}, d.packages)
	require.Equal(t, map[string]string{
		"/usr/local/bin/worker": "/out/worker", "/usr/local/bin/starter": "/out/starter", "/usr/local/bin/healthcheck": "/out/healthcheck",
	}, d.installed)
	require.Equal(t, map[string]string{"examples/": "/etc/baton/examples/"}, d.copies)

	names, types := registered(strings.Join(d.services[registrar].scalars, "\n"))
	require.Equal(t, workflows.SearchAttributeNames, names)
	require.Equal(t, slices.Repeat([]string{"Keyword"}, len(names)), types)

	paths := map[string][]string{}
	for _, r := range d.refs() {
		paths[r.where] = append(paths[r.where], binRE.FindAllString(r.text, -1)...)
		paths[r.where] = append(paths[r.where], etcRE.FindAllString(r.text, -1)...)
	}
	require.Equal(t, map[string][]string{
		"docker-compose.yml: service baton-api":       {"/usr/local/bin/starter", "/usr/local/bin/healthcheck"},
		"docker-compose.yml: service baton-directory": {"/usr/local/bin/starter", "/etc/baton/examples/directory.yaml"},
		"docker-compose.yml: service baton-worker":    {"/etc/baton/examples/policy.yaml", "/usr/local/bin/healthcheck"},
		"Dockerfile: HEALTHCHECK":                     {"/usr/local/bin/healthcheck"},
		"Dockerfile: ENTRYPOINT":                      {"/usr/local/bin/worker"},
		"Dockerfile: ENV BATON_HTTP_ADDRESS":          nil,
		"Dockerfile: ENV BATON_METRICS_ADDRESS":       nil,
	}, paths)
	src, ok := d.repoFile("/etc/baton/examples/policy.yaml")
	require.True(t, ok)
	require.Equal(t, "examples/policy.yaml", src)

	env := d.environ("baton-worker")
	cfg, err := config.Load("", func(k string) string { return env[k] })
	require.NoError(t, err)
	require.Equal(t, "temporal:7233", cfg.TemporalAddress)
	require.Equal(t, "/etc/baton/examples/policy.yaml", cfg.PolicyFile)
	require.Equal(t, "0.0.0.0:8080", cfg.HTTPAddress, "from the image's ENV")
}

// TestChecksCatchMistakes breaks the real files one way at a time and requires
// each break to be reported, naming the file, the service and what is wrong.
func TestChecksCatchMistakes(t *testing.T) {
	t.Parallel()
	f, _ := setup(t)
	const worker = "TEMPORAL_ADDRESS: temporal:7233\n      TEMPORAL_NAMESPACE: default\n      BATON_POLICY_FILE"
	cases := []struct {
		name       string
		dockerfile bool // break the Dockerfile, not docker-compose.yml
		old, new   string
		want       string
	}{
		{"unknown variable", false, "BATON_POLICY_FILE: /etc", "BATON_POLICY: /etc", "docker-compose.yml: service baton-worker: environment BATON_POLICY is not a Baton setting"},
		{"value the config rejects", false, `BATON_REGISTER_SEARCH_ATTRIBUTES: "false"`, `BATON_REGISTER_SEARCH_ATTRIBUTES: "nope"`, "docker-compose.yml: service baton-worker: its environment (with the image's ENV) does not load: environment BATON_REGISTER_SEARCH_ATTRIBUTES"},
		{"unknown image variable", true, "BATON_METRICS_ADDRESS=0.0.0.0:9464", "BATON_METRICS_ADDR=0.0.0.0:9464", "Dockerfile: ENV BATON_METRICS_ADDR is not a Baton setting"},
		{"Temporal host", false, worker, strings.Replace(worker, "temporal:", "temporalio:", 1), `docker-compose.yml: service baton-worker: TEMPORAL_ADDRESS host "temporalio" is not a compose service`},
		{"database host", false, "@postgresql:5432/", "@db:5432/", `docker-compose.yml: service baton-directory: DATABASE_URL host "db" is not a compose service`},
		{"Baton image under another name", false, "  baton-api:\n    build: .\n    image: baton:local\n    entrypoint: [\"/usr/local/bin/starter\"]", "  api:\n    build: .\n    image: baton:local\n    entrypoint: [\"/usr/local/bin/baton\"]", "docker-compose.yml: service api: runs /usr/local/bin/baton"},
		{"misspelt search attribute", false, "BatonStage BatonAssignee", "BatonStage BatonAsignee", "docker-compose.yml: service temporal-admin-tools: registers \"BatonAsignee\", which is not in workflows.SearchAttributeNames"},
		{"missing search attribute", false, "BatonQueue BatonPriority BatonOwner", "BatonQueue BatonOwner", "docker-compose.yml: service temporal-admin-tools: does not register BatonPriority"},
		{"duplicate search attribute", false, "BatonQueue BatonPriority BatonOwner", "BatonQueue BatonQueue BatonPriority BatonOwner", "service temporal-admin-tools: registers BatonQueue twice"},
		{"search attribute type", false, "--type Keyword", "--type Text", `docker-compose.yml: service temporal-admin-tools: registers BatonStage as "Text", want --type Keyword`},
		{"no registrar", false, "  temporal-admin-tools:\n", "  temporal-admintools:\n", "docker-compose.yml: no service temporal-admin-tools"},
		{"policy file not in examples", false, "/etc/baton/examples/policy.yaml", "/etc/baton/examples/policy-v2.yaml", "docker-compose.yml: service baton-worker: /etc/baton/examples/policy-v2.yaml would come from examples/policy-v2.yaml, which is not a file"},
		{"policy file not copied", false, "/etc/baton/examples/policy.yaml", "/etc/baton/policy.yaml", "docker-compose.yml: service baton-worker: /etc/baton/policy.yaml is not copied into the image"},
		{"directory file", false, "/etc/baton/examples/directory.yaml", "/etc/baton/examples/directory.yml", "docker-compose.yml: service baton-directory: /etc/baton/examples/directory.yml would come from"},
		{"unknown program", false, `["/usr/local/bin/starter"]`, `["/usr/local/bin/baton"]`, "docker-compose.yml: service baton-directory: runs /usr/local/bin/baton, which the Dockerfile does not install"},
		{"unknown entrypoint", true, `ENTRYPOINT ["/usr/local/bin/worker"]`, `ENTRYPOINT ["/usr/local/bin/baton-worker"]`, "Dockerfile: ENTRYPOINT: runs /usr/local/bin/baton-worker, which the Dockerfile does not install"},
		{"healthcheck not built", true, " ./cmd/healthcheck\n", "\n", "Dockerfile: COPY --from installs /out/healthcheck as /usr/local/bin/healthcheck, but go build does not build it"},
		{"starter not installed", true, " /out/starter ", " ", "Dockerfile: go build builds ./starter as /out/starter, but no COPY --from installs it"},
		{"not a main package", true, "./starter ./cmd", "./config ./cmd", "Dockerfile: go build builds ./config, which is not a directory of package main"},
		{"no such package", true, "./cmd/healthcheck\n", "./cmd/healthcheck ./cmd/probe\n", "Dockerfile: go build builds ./cmd/probe, which is not a directory of package main"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			compose, docker := f.compose, f.docker
			target := &compose
			if c.dockerfile {
				target = &docker
			}
			require.Contains(t, *target, c.old, "the case no longer matches the file; update it")
			*target = strings.Replace(*target, c.old, c.new, 1)
			d, err := load(f.root, compose, docker)
			require.NoError(t, err)
			got := problems(d)
			require.True(t, slices.ContainsFunc(got, func(s string) bool { return strings.Contains(s, c.want) }),
				"want a problem containing %q, got:\n%s", c.want, strings.Join(got, "\n"))
		})
	}
}
