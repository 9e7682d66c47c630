package policy

import (
	"errors"
	"strings"
)

// Kind is what sort of failure an error is, the one vocabulary Baton's errors
// share: the store's, the service's, the authorisation rules' refusals, the
// file parsers' field errors and the workflow's typed failures as claimclient
// returns them. The HTTP API answers each kind with one status and the CLI
// prints each one way (httpapi.writeFailure, starter's exit).
type Kind string

// The kinds.
const (
	KindInvalid     Kind = "invalid"     // the request itself is wrong: a field, a file line, a user who cannot take the stage
	KindForbidden   Kind = "forbidden"   // the actor may not do this
	KindNotFound    Kind = "not_found"   // what the request names does not exist
	KindConflict    Kind = "conflict"    // not now: the state of things does not allow it
	KindUnavailable Kind = "unavailable" // a dependency (the database, Temporal) could not answer; try again
)

// Error is a failure with its kind and, where known, the field, user and
// action at fault. Msg is the whole sentence a person reads; Err, when set,
// is the cause underneath.
type Error struct {
	Kind   Kind
	Msg    string
	Field  string // "file:line: field" or a request field, when one is at fault
	User   string // the user at fault, when one is
	Action string // what was attempted: assign, deactivate ann, apply groups…
	Err    error
}

func (e *Error) Error() string {
	if e.Msg == "" {
		return e.Kind.words()
	}
	return e.Msg
}

// words is the kind as a sentinel's text says it: "not found".
func (k Kind) words() string { return strings.ReplaceAll(string(k), "_", " ") }

func (e *Error) Unwrap() error { return e.Err }

// Is matches the kind's sentinel (ErrInvalid, ErrForbidden, …), so a check
// reads errors.Is(err, policy.ErrForbidden) whatever type carried it.
func (e *Error) Is(target error) bool {
	t, ok := target.(*Error)
	return ok && t.Msg == "" && t.Kind == e.Kind
}

// The kinds' sentinels, for errors.Is. Store wraps them (store.ErrNotFound is
// ErrNotFound); every error type of Baton's answers errors.Is with its kind's.
var (
	ErrInvalid     = &Error{Kind: KindInvalid}
	ErrForbidden   = &Error{Kind: KindForbidden}
	ErrNotFound    = &Error{Kind: KindNotFound}
	ErrConflict    = &Error{Kind: KindConflict}
	ErrUnavailable = &Error{Kind: KindUnavailable}
)

// KindOf is err's kind, or "" when it has none (an unexpected failure).
func KindOf(err error) Kind {
	for _, k := range []*Error{ErrForbidden, ErrInvalid, ErrNotFound, ErrConflict, ErrUnavailable} {
		if errors.Is(err, k) {
			return k.Kind
		}
	}
	return ""
}

// Message is err's text without the kind's sentinel that a wrap appended
// ("…: forbidden", "…: not found"): what a person is told.
func Message(err error) string {
	msg := err.Error()
	if k := KindOf(err); k != "" {
		msg, _ = strings.CutSuffix(msg, ": "+k.words())
	}
	return msg
}

// Is matches a refusal with its kind's sentinel: forbidden, invalid (an
// unknown or departed user named is a bad request), conflict.
func (r *Refusal) Is(target error) bool {
	k := KindForbidden
	switch r.Kind {
	case RefusedInvalid, RefusedUnknownUser:
		k = KindInvalid
	case RefusedConflict:
		k = KindConflict
	}
	t, ok := target.(*Error)
	return ok && t.Msg == "" && t.Kind == k
}

// Is makes a field error invalid (errors.Is(err, ErrInvalid)).
func (e *FieldError) Is(target error) bool { return target == ErrInvalid }
