package policy

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Every piece of text a person writes into a claim (a comment on an
// assignment, an unassignment, a reassignment or a migration, a completion's
// note) and every id an action names is bounded, so no one can grow a claim's
// history or its state answer by sending the largest value allowed, and
// carries no control or format characters (which could rewrite a terminal or
// hide one id inside another, "gus\u200b" beside "gus").
const (
	// MaxCommentChars bounds a comment or note, in characters, and
	// MaxCommentBytes in bytes of UTF-8 (so one of four-byte characters is
	// held to 2,000 of them): what a change adds to a claim's history and
	// state stays bounded either way.
	MaxCommentChars = 4000
	MaxCommentBytes = 8000
	// MaxIDChars bounds an id an action names (actor, user, group), in
	// characters.
	MaxIDChars = 200
)

// CheckText refuses value, the field named field, when it is longer than max
// characters, is not UTF-8, or holds a control or format character (a
// comment, multiline, may hold line breaks and tabs). The error names the
// field and what is wrong, never echoing the text itself.
func CheckText(field, value string, max int, multiline bool) error {
	if !utf8.ValidString(value) {
		return fmt.Errorf("field %q is not valid UTF-8", field)
	}
	if n := utf8.RuneCountInString(value); n > max {
		return fmt.Errorf("field %q has %d characters, at most %d", field, n, max)
	}
	if multiline && len(value) > MaxCommentBytes {
		return fmt.Errorf("field %q is %d bytes of UTF-8, at most %d", field, len(value), MaxCommentBytes)
	}
	i := 0
	for _, r := range value {
		i++
		if multiline && (r == '\n' || r == '\t' || r == '\r') {
			continue
		}
		if unicode.Is(unicode.Cc, r) || unicode.Is(unicode.Cf, r) {
			return fmt.Errorf("field %q holds the control or format character %U at character %d", field, r, i)
		}
	}
	return nil
}

// CheckComment is CheckText for a comment or note.
func CheckComment(field, value string) error { return CheckText(field, value, MaxCommentChars, true) }

// CheckID is CheckText for an id an action names.
func CheckID(field, value string) error { return CheckText(field, value, MaxIDChars, false) }

// CheckIdentifier refuses an id (of a user, a team, a group) outside the
// documented set: at most MaxIDChars letters and digits (any script) and the
// marks . _ - @ + : — no spaces, slashes, control or format characters, so
// no id hides inside another ("gus\u200b" beside "gus").
func CheckIdentifier(s string) error {
	if utf8.RuneCountInString(s) > MaxIDChars {
		return fmt.Errorf("invalid id %q: longer than %d characters", s[:min(len(s), 20)]+"…", MaxIDChars)
	}
	for _, r := range s {
		if !unicode.IsLetter(r) && !unicode.IsDigit(r) && !strings.ContainsRune("._-@+:", r) {
			return fmt.Errorf("invalid id %q: letters, digits and . _ - @ + : only (no spaces, slashes or %U)", s, r)
		}
	}
	return nil
}
