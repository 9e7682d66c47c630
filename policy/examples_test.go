package policy_test

import (
	"path/filepath"
	"testing"

	"github.com/batonhq/baton/policy/yamlfile"
	"github.com/stretchr/testify/require"
)

// The files the repo ships must load: a newcomer's first command uses them.
func TestShippedExamplesParse(t *testing.T) {
	t.Parallel()
	files, err := filepath.Glob("../examples/policy*")
	require.NoError(t, err)
	require.NotEmpty(t, files)
	for _, f := range files {
		_, err := yamlfile.LoadPolicy(f)
		require.NoError(t, err, f)
	}
	d, err := yamlfile.LoadDirectory("../examples/directory.yaml")
	require.NoError(t, err)
	require.Len(t, d.Users, 8)
	samples, err := yamlfile.LoadSampleClaims("../examples/claims.yaml")
	require.NoError(t, err)
	require.Len(t, samples, 4)
	groups, err := yamlfile.LoadGroups("../examples/groups.yaml")
	require.NoError(t, err)
	require.Len(t, groups, 2)
}
