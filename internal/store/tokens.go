package store

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/batonhq/baton/policy"
)

// API tokens are bearer credentials for the HTTP API: TokenPrefix followed by 32
// random bytes in unpadded base64url. Only the token's SHA-256 is stored, and a
// request's token is looked up by that hash, so there is no stored secret to
// compare in constant time and nothing to leak. Never log a token: errors here
// name the token's id or user, never the token.

// TokenPrefix starts every API token, so a leaked one is recognisable (and
// greppable by secret scanners).
const TokenPrefix = "bt_"

const tokenBytes = 32

// tokenLen is the length of a well-formed token: the prefix and 43 characters.
var tokenLen = len(TokenPrefix) + base64.RawURLEncoding.EncodedLen(tokenBytes)

// APIToken is a stored token: everything but the token itself.
type APIToken struct {
	ID        int64      `json:"id"`
	UserID    string     `json:"userId"`
	Label     string     `json:"label,omitempty"`
	CreatedAt time.Time  `json:"createdAt"`
	RevokedAt *time.Time `json:"revokedAt,omitempty"`
	ExpiresAt time.Time  `json:"expiresAt"`
	// LastUsedAt is when it last authenticated a request, to the minute.
	LastUsedAt *time.Time `json:"lastUsedAt,omitempty"`
}

// DefaultTokenTTL is how long a token lives unless it is created with
// another lifetime, and MaxTokenTTL the longest it may.
const (
	DefaultTokenTTL = 90 * 24 * time.Hour
	MaxTokenTTL     = 366 * 24 * time.Hour
)

func hashToken(token string) []byte {
	h := sha256.Sum256([]byte(token))
	return h[:]
}

// wellFormed reports whether s could be a token Baton issued; anything else is
// rejected without a database round trip.
func wellFormed(s string) bool {
	if len(s) != tokenLen || !strings.HasPrefix(s, TokenPrefix) {
		return false
	}
	_, err := base64.RawURLEncoding.Strict().DecodeString(s[len(TokenPrefix):])
	return err == nil
}

// TokenCreate issues a token for an active user, living DefaultTokenTTL, and
// returns it with its id (TokenCreateTTL).
func (qs *Queries) TokenCreate(ctx context.Context, userID, label string) (token string, id int64, err error) {
	return qs.TokenCreateTTL(ctx, userID, label, DefaultTokenTTL)
}

// TokenCreateTTL issues a token for an active user that expires after ttl (at
// most MaxTokenTTL) and returns it with its id. The token is returned only
// here: the database keeps its hash. An unknown user's error wraps
// ErrNotFound, a deactivated user's ErrUserInactive; both name the user; a
// lifetime out of bounds wraps ErrInvalid.
func (qs *Queries) TokenCreateTTL(ctx context.Context, userID, label string, ttl time.Duration) (token string, id int64, err error) {
	if ttl <= 0 || ttl > MaxTokenTTL {
		return "", 0, fmt.Errorf("create API token for %q: a lifetime of %s: want more than 0 and at most %s: %w", userID, ttl, MaxTokenTTL, ErrInvalid)
	}
	u, err := qs.UserGet(ctx, userID)
	if errors.Is(err, ErrNotFound) {
		return "", 0, fmt.Errorf("create API token: unknown user %q: %w", userID, ErrNotFound)
	}
	if err != nil {
		return "", 0, fmt.Errorf("create API token for %q: %w", userID, err)
	}
	if !u.Active {
		return "", 0, fmt.Errorf("create API token: user %q: %w", userID, ErrUserInactive)
	}
	buf := make([]byte, tokenBytes)
	if _, err := rand.Read(buf); err != nil {
		return "", 0, fmt.Errorf("create API token for %q: %w", userID, err)
	}
	token = TokenPrefix + base64.RawURLEncoding.EncodeToString(buf)
	if err := qs.db.QueryRow(ctx, q("TokenInsert"), userID, hashToken(token), label, time.Now().Add(ttl)).Scan(&id); err != nil {
		return "", 0, fmt.Errorf("create API token for %q: %w", userID, err)
	}
	return token, id, nil
}

// TokenLookup returns the user a token belongs to and the token's id. A token that
// is malformed, unknown or revoked gives an error wrapping ErrNotFound; a token
// whose user has been deactivated gives one wrapping ErrUserInactive, returned
// with the user so the caller can say who.
func (qs *Queries) TokenLookup(ctx context.Context, token string) (policy.User, int64, error) {
	if !wellFormed(token) {
		return policy.User{}, 0, fmt.Errorf("API token: malformed: %w", ErrNotFound)
	}
	var id int64
	var userID string
	err := qs.db.QueryRow(ctx, q("TokenByHash"), hashToken(token)).Scan(&id, &userID)
	if errors.Is(err, pgx.ErrNoRows) {
		return policy.User{}, 0, fmt.Errorf("API token: unknown, revoked or expired: %w", ErrNotFound)
	}
	if err != nil {
		return policy.User{}, 0, fmt.Errorf("look up API token: %w", err)
	}
	u, err := qs.UserGet(ctx, userID)
	if err != nil {
		// The foreign key makes a missing user a race with a delete: not found.
		return policy.User{}, 0, fmt.Errorf("API token %d: %w", id, err)
	}
	if !u.Active {
		return u, id, fmt.Errorf("API token %d: user %q: %w", id, userID, ErrUserInactive)
	}
	return u, id, nil
}

// TokenRevoke revokes a token by id; revoking it again changes nothing. An
// unknown id's error wraps ErrNotFound.
func (qs *Queries) TokenRevoke(ctx context.Context, id int64) error {
	var userID string
	err := qs.db.QueryRow(ctx, q("TokenRevoke"), id).Scan(&userID)
	if errors.Is(err, pgx.ErrNoRows) {
		return fmt.Errorf("API token %d: %w", id, ErrNotFound)
	}
	if err != nil {
		return fmt.Errorf("revoke API token %d: %w", id, err)
	}
	return nil
}

// TokenRevokeUser revokes every live token of a user and returns how many it
// revoked.
func (qs *Queries) TokenRevokeUser(ctx context.Context, userID string) (int, error) {
	tag, err := qs.db.Exec(ctx, q("TokenRevokeUser"), userID)
	if err != nil {
		return 0, fmt.Errorf("revoke API tokens of %q: %w", userID, err)
	}
	return int(tag.RowsAffected()), nil
}

// TokenList returns a user's tokens, live and revoked, oldest first.
func (qs *Queries) TokenList(ctx context.Context, userID string) ([]APIToken, error) {
	rows, err := qs.db.Query(ctx, q("TokenListByUser"), userID)
	if err != nil {
		return nil, fmt.Errorf("list API tokens of %q: %w", userID, err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (APIToken, error) {
		var t APIToken
		err := r.Scan(&t.ID, &t.UserID, &t.Label, &t.CreatedAt, &t.RevokedAt, &t.ExpiresAt, &t.LastUsedAt)
		return t, err
	})
	if err != nil {
		return nil, fmt.Errorf("list API tokens of %q: %w", userID, err)
	}
	return out, nil
}
