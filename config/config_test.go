package config

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestLoadLayers(t *testing.T) {
	t.Parallel()
	file := filepath.Join(t.TempDir(), "baton.yaml")
	require.NoError(t, os.WriteFile(file, []byte("namespace: claims\nshutdown_timeout: 5s\n"), 0o600))
	env := map[string]string{"BATON_TASK_QUEUE": "q2", "TEMPORAL_NAMESPACE": "fromenv"}
	c, err := Load(file, func(k string) string { return env[k] })
	require.NoError(t, err)
	require.Equal(t, "fromenv", c.Namespace, "environment beats the file")
	require.Equal(t, 5*time.Second, c.ShutdownTimeout, "the file beats the default")
	require.Equal(t, "q2", c.TaskQueue)
	require.Equal(t, "127.0.0.1:7233", c.TemporalAddress)
}

// A relative policy file, from the file or the environment, is the one in the
// directory the process started in, and is handed on as an absolute path, so
// a component or child process working elsewhere reads the same file.
func TestRelativePolicyFileIsResolvedWhereTheProcessStarted(t *testing.T) {
	t.Parallel()
	wd, err := os.Getwd()
	require.NoError(t, err)
	file := filepath.Join(t.TempDir(), "baton.yaml")
	require.NoError(t, os.WriteFile(file, []byte("policy_file: policies/claims.yaml\n"), 0o600))
	c, err := Load(file, func(string) string { return "" })
	require.NoError(t, err)
	require.Equal(t, filepath.Join(wd, "policies", "claims.yaml"), c.PolicyFile)

	c, err = Load("", func(k string) string { return map[string]string{"BATON_POLICY_FILE": "../p.yaml"}[k] })
	require.NoError(t, err)
	require.Equal(t, filepath.Join(filepath.Dir(wd), "p.yaml"), c.PolicyFile)

	c, err = Load("", func(k string) string { return map[string]string{"BATON_POLICY_FILE": "/etc/baton/policy.yaml"}[k] })
	require.NoError(t, err)
	require.Equal(t, "/etc/baton/policy.yaml", c.PolicyFile, "an absolute path is kept as it is")

	c, err = Load("", func(string) string { return "" })
	require.NoError(t, err)
	require.Empty(t, c.PolicyFile, "no policy file stays none")
}

func TestLoadErrors(t *testing.T) {
	t.Parallel()
	file := filepath.Join(t.TempDir(), "baton.yaml")
	require.NoError(t, os.WriteFile(file, []byte("namespace: a\nnamespcae: b\n"), 0o600))
	_, err := Load(file, func(string) string { return "" })
	require.ErrorContains(t, err, "line 2: field namespcae not found")

	_, err = Load("", func(k string) string { return map[string]string{"BATON_SHUTDOWN_TIMEOUT": "soon"}[k] })
	require.EqualError(t, err, `environment BATON_SHUTDOWN_TIMEOUT="soon": want a duration such as 30s`)
	_, err = Load("", func(k string) string { return map[string]string{"BATON_PRODUCT_MODULE": "mine"}[k] })
	require.ErrorContains(t, err, `product_module (BATON_PRODUCT_MODULE): "mine"`)
	// A short key is refused without being echoed.
	_, err = Load("", func(k string) string { return map[string]string{"BATON_ACTOR_KEY": "hunter2"}[k] })
	require.EqualError(t, err, "config actor_key (BATON_ACTOR_KEY): key 1 of 1 is 7 bytes: want at least 32 (e.g. openssl rand -hex 32)")
}

func TestEveryFieldDocumented(t *testing.T) {
	t.Parallel()
	for _, f := range Fields() {
		require.NotEmpty(t, f.YAML)
		require.NotEmpty(t, f.Env)
		require.NotEmpty(t, f.Doc, f.YAML)
	}
}

// The README's configuration table must list every setting.
func TestREADMEListsEverySetting(t *testing.T) {
	t.Parallel()
	readme, err := os.ReadFile("../README.md")
	require.NoError(t, err)
	for _, f := range Fields() {
		require.Contains(t, string(readme), "| `"+f.YAML+"` | `"+f.Env+"` |", "README configuration table lacks %s", f.YAML)
	}
}
