package actorauth_test

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/batonhq/baton/internal/actorauth"
	"github.com/batonhq/baton/workflows"
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
	digest := func(arg any) string {
		d, err := workflows.ArgsDigest(workflows.UpdateCompleteStage, arg)
		require.NoError(t, err)
		return d
	}
	want := actorauth.Assertion{Actor: "ann", WorkflowID: "claim/C-1", Update: "complete_stage", UpdateID: "u-1",
		Args: digest(workflows.CompleteInput{Actor: "ann", Outcome: "approval"})}
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
		{"other arguments", key, signed(key, func(a *actorauth.Assertion) {
			a.Args = digest(workflows.CompleteInput{Actor: "ann", Outcome: "repudiation"})
		}), "the actor assertion is for other arguments than this update's: one was changed after it was signed"},
		{"tampered arguments", key, func() *actorauth.Assertion {
			a := signed(key, same)
			a.Args = digest(workflows.CompleteInput{Actor: "ann", Outcome: "repudiation"})
			return a
		}(), "the actor assertion is not signed with this worker's key"},
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

// The digest is of the argument as the workflow decodes it: a signer sending
// a map, with or without fields left at their zero value, and a verifier
// holding the decoded struct agree; any field changed does not.
func TestArgsDigest(t *testing.T) {
	t.Parallel()
	d := func(update string, arg any) string {
		got, err := workflows.ArgsDigest(update, arg)
		require.NoError(t, err)
		return got
	}
	typed := d(workflows.UpdateAssign, workflows.AssignInput{Actor: "ann", UserID: "bob", Comment: "why"})
	require.Equal(t, typed, d(workflows.UpdateAssign, map[string]any{"comment": "why", "userId": "bob", "actor": "ann", "override": false}))
	require.NotEqual(t, typed, d(workflows.UpdateAssign, workflows.AssignInput{Actor: "ann", UserID: "cat", Comment: "why"}))
	require.NotEqual(t, typed, d(workflows.UpdateAssign, workflows.AssignInput{Actor: "ann", UserID: "bob", Comment: "why not"}))
	require.NotEqual(t, typed, d(workflows.UpdateAssign, workflows.AssignInput{Actor: "ann", UserID: "bob", Comment: "why", Override: true}))
	require.NotEqual(t, d("someone_else", map[string]any{"a": 1}), d("someone_else", map[string]any{"a": 2}), "an unknown update, as sent")
}

// A claim's start is signed for its owner, its workflow and its input: with
// a key set, one unsigned, or whose owner or input differs from what was
// signed, is refused.
func TestVerifyStart(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 12, 1, 15, 0, 0, 0, time.UTC)
	keys := actorauth.Keys{[]byte(strings.Repeat("a", 32))}
	in := workflows.ClaimInput{ClaimID: "C-1", Owner: "olga", Data: workflows.ClaimData{"amount": "1200"}}
	digest := func(in workflows.ClaimInput) string {
		d, err := workflows.ArgsDigest(workflows.StartAssertion, in)
		require.NoError(t, err)
		return d
	}
	assertion := func(a actorauth.Assertion) json.RawMessage {
		b, err := json.Marshal(keys.Sign(a))
		require.NoError(t, err)
		return b
	}
	good := actorauth.Assertion{Actor: "olga", WorkflowID: "claim/C-1", Update: workflows.StartAssertion, Args: digest(in),
		Expires: now.Add(actorauth.Lifetime).Unix()}
	check := workflows.StartCheck{WorkflowID: "claim/C-1", ClaimID: "C-1", Owner: "olga", Args: digest(in), Assertion: assertion(good)}
	require.NoError(t, keys.VerifyStart(check, now))

	unsigned := check
	unsigned.Assertion = nil
	require.ErrorIs(t, keys.VerifyStart(unsigned, now), actorauth.ErrNoAssertion)

	owner := check
	owner.Owner = "root" // the start names another owner than was signed
	require.EqualError(t, keys.VerifyStart(owner, now), `the actor assertion is for "olga", not "root" (the update's actor)`)

	data := check
	data.Args = digest(workflows.ClaimInput{ClaimID: "C-1", Owner: "olga", Data: workflows.ClaimData{"amount": "99000"}})
	require.ErrorContains(t, keys.VerifyStart(data, now), "for other arguments")

	garbled := check
	garbled.Assertion = json.RawMessage(`{"actor": 7}`)
	require.ErrorContains(t, keys.VerifyStart(garbled, now), "the actor assertion is not readable")
}
