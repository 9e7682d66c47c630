package actorauth_test

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/batonhq/baton/actorauth"
)

func TestParseKeys(t *testing.T) {
	t.Parallel()
	long, other := strings.Repeat("k", 32), strings.Repeat("o", 40)
	for _, tc := range []struct {
		in   string
		n    int
		want string
	}{
		{"", 0, ""},
		{long, 1, ""},
		{long + ", " + other, 2, ""},
		{"short", 0, "key 1 of 1 is 5 bytes: want at least 32 (e.g. openssl rand -hex 32)"},
		{long + ",", 0, "key 2 of 2 is 0 bytes: want at least 32 (e.g. openssl rand -hex 32)"},
	} {
		keys, err := actorauth.ParseKeys(tc.in)
		if tc.want != "" {
			require.EqualError(t, err, tc.want, tc.in)
			continue
		}
		require.NoError(t, err, tc.in)
		require.Len(t, keys, tc.n)
	}
}

func TestVerify(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 12, 1, 15, 0, 0, 0, time.UTC)
	key, rotated := actorauth.Keys{[]byte(strings.Repeat("a", 32))}, actorauth.Keys{[]byte(strings.Repeat("b", 32))}
	want := actorauth.Assertion{Actor: "ann", WorkflowID: "claim/C-1", Update: "complete_stage", UpdateID: "u-1"}
	signed := func(keys actorauth.Keys, edit func(*actorauth.Assertion)) *actorauth.Assertion {
		a := want
		a.Expires = now.Add(actorauth.Lifetime).Unix()
		edit(&a)
		a = keys.Sign(a)
		return &a
	}
	same := func(*actorauth.Assertion) {}
	for _, tc := range []struct {
		name   string
		keys   actorauth.Keys // the verifier's
		got    *actorauth.Assertion
		reason string // "" valid
	}{
		{"valid", key, signed(key, same), ""},
		{"signed with a key the verifier also holds", append(rotated, key...), signed(key, same), ""},
		{"missing", key, nil, "no actor assertion"},
		{"another key", key, signed(rotated, same), "the actor assertion is not signed with this worker's key"},
		{"tampered actor", key, func() *actorauth.Assertion { a := signed(key, same); a.Actor = "root"; return a }(),
			"the actor assertion is not signed with this worker's key"},
		{"garbled signature", key, func() *actorauth.Assertion { a := signed(key, same); a.Sig = "%%"; return a }(),
			"the actor assertion is not signed with this worker's key"},
		{"another claim", key, signed(key, func(a *actorauth.Assertion) { a.WorkflowID = "claim/C-2" }),
			"the actor assertion is for workflow claim/C-2, not claim/C-1"},
		{"another update", key, signed(key, func(a *actorauth.Assertion) { a.Update = "assign" }),
			"the actor assertion is for update assign, not complete_stage"},
		{"another update id", key, signed(key, func(a *actorauth.Assertion) { a.UpdateID = "u-0" }),
			"the actor assertion is for update id u-0, not u-1"},
		{"another actor", key, signed(key, func(a *actorauth.Assertion) { a.Actor = "root" }),
			`the actor assertion is for "root", not "ann" (the update's actor)`},
		{"expired", key, signed(key, func(a *actorauth.Assertion) { a.Expires = now.Add(-time.Second).Unix() }),
			"the actor assertion expired at 2026-12-01T14:59:59Z (assertions last 5m0s)"},
		{"expires this second", key, signed(key, func(a *actorauth.Assertion) { a.Expires = now.Unix() }), ""},
		{"too far ahead", key, signed(key, func(a *actorauth.Assertion) { a.Expires = now.Add(time.Hour).Unix() }),
			"the actor assertion expires at 2026-12-01T16:00:00Z, more than 10m0s from now (2026-12-01T15:00:00Z): assertions last 5m0s"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			err := tc.keys.Verify(tc.got, want, now)
			if tc.reason == "" {
				require.NoError(t, err)
				return
			}
			require.EqualError(t, err, tc.reason)
		})
	}
}
