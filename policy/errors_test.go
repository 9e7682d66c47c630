package policy_test

import (
	"errors"
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/batonhq/baton/policy"
)

// Every error type of Baton's answers errors.Is with its kind's sentinel, so
// the HTTP API and the CLI render them in one place each.
func TestEveryErrorHasItsKind(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		err  error
		want policy.Kind
	}{
		{"a store sentinel, wrapped", fmt.Errorf("user %q: %w", "ghost", policy.ErrNotFound), policy.KindNotFound},
		{"a refusal", &policy.Refusal{Kind: policy.RefusedForbidden, Msg: "bob may not"}, policy.KindForbidden},
		{"an unknown user named", &policy.Refusal{Kind: policy.RefusedUnknownUser, Msg: "ghost left"}, policy.KindInvalid},
		{"a full person", fmt.Errorf("assign: %w", &policy.Refusal{Kind: policy.RefusedConflict, Msg: "full"}), policy.KindConflict},
		{"a file's field", &policy.FieldError{File: "p.yaml", Line: 3, Field: "stages", Msg: "bad"}, policy.KindInvalid},
		{"a file's fields, joined", errors.Join(&policy.FieldError{File: "p.yaml", Msg: "a"}, errors.New("b")), policy.KindInvalid},
		{"an Error made here", &policy.Error{Kind: policy.KindUnavailable, Msg: "database: down", Err: errors.New("down")}, policy.KindUnavailable},
		{"nothing of Baton's", errors.New("boom"), ""},
	} {
		require.Equal(t, tc.want, policy.KindOf(tc.err), tc.name)
	}
	require.False(t, errors.Is(policy.ErrForbidden, policy.ErrNotFound))
	conflict := &policy.Error{Kind: policy.KindConflict, Msg: "x"}
	require.True(t, errors.Is(conflict, policy.ErrConflict))
	require.False(t, errors.Is(policy.ErrConflict, conflict), "a sentinel is not any error of its kind")
}

// A person reads the message without the sentinel a wrap appended.
func TestMessageDropsTheKind(t *testing.T) {
	t.Parallel()
	require.Equal(t, `user "ghost"`, policy.Message(fmt.Errorf("user %q: %w", "ghost", policy.ErrNotFound)))
	require.Equal(t, "ann may not: it needs X", policy.Message(fmt.Errorf("ann may not: it needs X: %w", policy.ErrForbidden)))
	require.Equal(t, "boom", policy.Message(errors.New("boom")))
	cause := errors.New("down")
	err := &policy.Error{Kind: policy.KindUnavailable, Msg: "database: down", Err: cause}
	require.ErrorIs(t, err, cause)
	require.Equal(t, "database: down", policy.Message(err))
}
