// Package actorauth is the trust boundary for actors. Every Update names its
// actor in its argument ({"actor": "ann"}), and the claim workflow authorises
// that actor against the directory; without this package, anyone who can reach
// the namespace may name anyone. With a key configured (BATON_ACTOR_KEY), each
// Update must also carry an actor assertion in its Temporal header: the actor,
// the workflow id, the update's name and id, a digest of its whole argument
// (workflows.ArgsDigest: the user assigned, the outcome, the comment) and an
// expiry, signed with HMAC-SHA256. The worker's Verifier rejects an Update in
// validation (so nothing is written to the claim's history) when the
// assertion is missing, not signed with the key, expired, or for another
// claim, update, actor or argument.
//
// The key is held by the programs trusted to say who acts: the HTTP API (it
// signs for the bearer token's user), the starter CLI, a service using
// claimclient. A holder can assert any actor, so give it to no one else.
//
// It imports workflows (the contract's names) only.
package actorauth

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/batonhq/baton/workflows"
)

// HeaderKey is the Temporal header field that carries the assertion, a JSON
// payload (an Assertion).
const HeaderKey = workflows.AssertionHeader

// Lifetime is how long an assertion is valid after it is signed. An Update is
// validated within moments of being sent; the margin is for clocks that differ.
const Lifetime = 5 * time.Minute

// MinKeyLength is the shortest key accepted, in bytes (openssl rand -hex 32
// makes one of 64).
const MinKeyLength = 32

// Assertion says who an Update acts as, for which claim and update, until when.
type Assertion struct {
	Actor      string `json:"actor"`
	WorkflowID string `json:"workflowId"`
	Update     string `json:"update"`
	UpdateID   string `json:"updateId"`
	// Args is workflows.ArgsDigest of the update's argument.
	Args string `json:"args"`
	// Expires is the Unix time, in seconds, after which it is refused.
	Expires int64 `json:"expires"`
	// Sig is the HMAC-SHA256 of the fields above, base64url without padding.
	Sig string `json:"sig"`
}

// Keys are the keys assertions are checked against; the first also signs. More
// than one lets a key be replaced without a moment when some programs sign with
// a key the workers do not know yet.
type Keys [][]byte

// ParseKeys reads BATON_ACTOR_KEY: one key, or several separated by commas,
// each at least MinKeyLength bytes. Empty means no key: Updates are not signed
// and not checked.
func ParseKeys(s string) (Keys, error) {
	if s == "" {
		return nil, nil
	}
	var keys Keys
	for i, k := range strings.Split(s, ",") {
		k = strings.TrimSpace(k)
		if len(k) < MinKeyLength {
			return nil, fmt.Errorf("key %d of %d is %d bytes: want at least %d (e.g. openssl rand -hex 32)",
				i+1, len(strings.Split(s, ",")), len(k), MinKeyLength)
		}
		keys = append(keys, []byte(k))
	}
	return keys, nil
}

// message is what is signed: the fields in a fixed order, JSON-encoded so no
// value can run into the next.
func (a Assertion) message() []byte {
	b, _ := json.Marshal([]any{"baton-actor/v2", a.Actor, a.WorkflowID, a.Update, a.UpdateID, a.Args, a.Expires})
	return b
}

func mac(key []byte, a Assertion) []byte {
	h := hmac.New(sha256.New, key)
	h.Write(a.message())
	return h.Sum(nil)
}

// Sign returns a with Sig set, signed with the first key.
func (k Keys) Sign(a Assertion) Assertion {
	a.Sig = base64.RawURLEncoding.EncodeToString(mac(k[0], a))
	return a
}

// ErrNoAssertion is returned by Verify for an Update without an assertion.
var ErrNoAssertion = errors.New("no actor assertion")

// Verify checks that got is signed with one of the keys and asserts want (its
// actor, workflow id, update, update id and argument digest) at now. Each error says what does
// not hold.
func (k Keys) Verify(got *Assertion, want Assertion, now time.Time) error {
	if got == nil {
		return ErrNoAssertion
	}
	sig, err := base64.RawURLEncoding.DecodeString(got.Sig)
	if err != nil || !k.signed(*got, sig) {
		return errors.New("the actor assertion is not signed with this worker's key")
	}
	switch {
	case got.WorkflowID != want.WorkflowID:
		return fmt.Errorf("the actor assertion is for workflow %s, not %s", got.WorkflowID, want.WorkflowID)
	case got.Update != want.Update:
		return fmt.Errorf("the actor assertion is for update %s, not %s", got.Update, want.Update)
	case got.UpdateID != want.UpdateID:
		return fmt.Errorf("the actor assertion is for update id %s, not %s", got.UpdateID, want.UpdateID)
	case got.Actor != want.Actor:
		return fmt.Errorf("the actor assertion is for %q, not %q (the update's actor)", got.Actor, want.Actor)
	case got.Args != want.Args:
		return errors.New("the actor assertion is for other arguments than this update's: one was changed after it was signed")
	case now.Unix() > got.Expires:
		return fmt.Errorf("the actor assertion expired at %s (assertions last %s)",
			time.Unix(got.Expires, 0).UTC().Format(time.RFC3339), Lifetime)
	case got.Expires > now.Add(2*Lifetime).Unix():
		return fmt.Errorf("the actor assertion expires at %s, more than %s from now (%s): assertions last %s",
			time.Unix(got.Expires, 0).UTC().Format(time.RFC3339), 2*Lifetime, now.UTC().Format(time.RFC3339), Lifetime)
	}
	return nil
}

func (k Keys) signed(a Assertion, sig []byte) bool {
	for _, key := range k {
		if hmac.Equal(mac(key, a), sig) {
			return true
		}
	}
	return false
}

// VerifyStart checks a claim's start against the keys at now: its assertion
// must be signed, for this workflow, its owner as the actor, the start and
// this input. A claim started without one is refused like an unsigned update.
func (k Keys) VerifyStart(s workflows.StartCheck, now time.Time) error {
	var got *Assertion
	if len(s.Assertion) > 0 {
		got = &Assertion{}
		if err := json.Unmarshal(s.Assertion, got); err != nil {
			return fmt.Errorf("the actor assertion is not readable: %w", err)
		}
	}
	return k.Verify(got, Assertion{Actor: s.Owner, WorkflowID: s.WorkflowID, Update: workflows.StartAssertion, Args: s.Args}, now)
}
