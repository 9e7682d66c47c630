package claimclient

import (
	"errors"
	"testing"

	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/temporal"

	"github.com/batonhq/baton/policy"
	"github.com/batonhq/baton/workflows"
)

// A workflow's typed rejection has the kind its wire type names, so a caller
// checks errors.Is(err, policy.ErrForbidden) for a claim's refusal as for the
// service's or the store's.
func TestARejectionHasItsKind(t *testing.T) {
	t.Parallel()
	for typ, want := range map[string]policy.Kind{
		workflows.ErrTypeForbidden:   policy.KindForbidden,
		workflows.ErrTypeInvalid:     policy.KindInvalid,
		workflows.ErrTypeUnknownUser: policy.KindInvalid,
		workflows.ErrTypeConflict:    policy.KindConflict,
		"SomeoneElsesType":           "",
	} {
		err := asError("assign", "C-1", temporal.NewNonRetryableApplicationError("no", typ, nil))
		require.Equal(t, want, policy.KindOf(err), typ)
	}
	require.True(t, errors.Is(ErrClaimNotFound, policy.ErrNotFound))
	require.True(t, errors.Is(ErrClaimExists, policy.ErrConflict))
	require.False(t, errors.Is(policy.ErrNotFound, ErrClaimNotFound), "not every not found is a missing claim")
}
