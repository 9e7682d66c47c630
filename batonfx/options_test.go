package batonfx_test

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/batonhq/baton/batonfx"
	"github.com/batonhq/baton/config"
	"github.com/batonhq/baton/internal/actorauth"
	"github.com/batonhq/baton/internal/temporalx"
)

// TestActorKeyWiring: with BATON_ACTOR_KEY the worker verifies and the
// programs' client signs; without it, neither.
func TestActorKeyWiring(t *testing.T) {
	t.Parallel()
	cfg := config.Default()
	require.Empty(t, batonfx.WorkerOptions(cfg).Interceptors)
	opts, err := temporalx.ClientOptions(cfg, nil)
	require.NoError(t, err)
	require.Empty(t, opts.Interceptors)

	cfg.ActorKey = strings.Repeat("k", actorauth.MinKeyLength)
	require.NoError(t, cfg.Validate())
	w := batonfx.WorkerOptions(cfg).Interceptors
	require.Len(t, w, 1)
	require.IsType(t, &actorauth.Verifier{}, w[0])
	opts, err = temporalx.ClientOptions(cfg, nil)
	require.NoError(t, err)
	c := opts.Interceptors
	require.Len(t, c, 1)
	require.IsType(t, &actorauth.Signer{}, c[0])
}
