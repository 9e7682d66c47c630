package claimclient

import (
	"errors"
	"fmt"

	"go.temporal.io/sdk/temporal"

	"github.com/batonhq/baton/policy"
	"github.com/batonhq/baton/workflows"
)

// Error is an action Baton rejected: who may not do what, a bad request, or a
// state conflict. Type is one of the workflows.ErrType* constants, the same
// strings other SDKs see as the application error type.
type Error struct {
	Op      string // the update: assign, claim, complete_stage, …
	ClaimID string
	Type    string
	Message string
	cause   error
}

func (e *Error) Error() string {
	return fmt.Sprintf("%s on claim %s: %s (%s)", e.Op, e.ClaimID, e.Message, e.Type)
}

// Unwrap returns the Temporal error underneath.
func (e *Error) Unwrap() error { return e.cause }

// Is matches the sentinel of the rejection's kind: errors.Is(err,
// policy.ErrForbidden) holds for a forbidden action whatever carried it.
func (e *Error) Is(target error) bool {
	t, ok := target.(*policy.Error)
	return ok && t.Msg == "" && t.Kind != "" && t.Kind == workflows.KindOfType(e.Type)
}

// asError turns a rejected update into an *Error; other errors pass through.
func asError(op, claimID string, err error) error {
	var app *temporal.ApplicationError
	if err == nil || !errors.As(err, &app) {
		return err
	}
	return &Error{Op: op, ClaimID: claimID, Type: app.Type(), Message: app.Message(), cause: err}
}

// IsForbidden reports an action the actor may not take (HTTP 403).
func IsForbidden(err error) bool { return ErrorType(err) == workflows.ErrTypeForbidden }

// IsInvalid reports a malformed request: an ineligible user, a bad outcome (HTTP 400).
func IsInvalid(err error) bool { return ErrorType(err) == workflows.ErrTypeInvalid }

// IsConflict reports an action the claim's state does not allow now (HTTP 409).
func IsConflict(err error) bool { return ErrorType(err) == workflows.ErrTypeConflict }

// IsUnknownUser reports a user the directory does not know or has deactivated.
func IsUnknownUser(err error) bool { return ErrorType(err) == workflows.ErrTypeUnknownUser }
