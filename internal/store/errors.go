package store

import (
	"errors"

	"github.com/batonhq/baton/policy"
)

// The store's errors, all here. The first three are the kinds of Baton's one
// error vocabulary (policy.Kind): errors.Is(err, store.ErrNotFound) and
// errors.Is(err, policy.ErrNotFound) are the same check.
var (
	// ErrNotFound is returned when a row asked for by key does not exist.
	ErrNotFound = policy.ErrNotFound
	// ErrForbidden wraps a refusal: the actor lacks the right (the service
	// asks the rules; store returns it for a token's owner, for instance).
	ErrForbidden = policy.ErrForbidden
	// ErrInvalid is returned for a request whose values cannot be recorded
	// (an absence that ends before it starts, a delegate nobody knows).
	ErrInvalid = policy.ErrInvalid
)

// Errors the store's callers act on, not show.
var (
	// ErrUserInactive is returned when a token's user, or the user a token
	// is being created for, has been deactivated in the directory.
	ErrUserInactive = errors.New("user is deactivated")

	// ErrAssigneeLeft reports that the person a decision gives the stage to
	// was deactivated, or their row was being changed, as the decision was
	// written: nothing is recorded, and the decision is made again (a
	// retryable error; a person's assignment is then refused by name, a
	// stage's method picks someone else).
	ErrAssigneeLeft = errors.New("was deactivated, or was being changed, as the decision was written; decide again")

	// ErrPersonBusy reports that a decision would have waited for a
	// person's row that another transaction holds, after NeverWait. Nothing
	// is wrong: the caller ends its batch there and decides the rest afresh.
	ErrPersonBusy = errors.New("a person's row is held by another decision")

	// ErrOutboxBusy is returned by OutboxLease while another attempt's lease
	// on the message stands: that attempt is sending it.
	ErrOutboxBusy = errors.New("notification is being sent by another attempt")
)
