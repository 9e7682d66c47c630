package store_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/batonhq/baton/internal/batontest"
	"github.com/batonhq/baton/internal/store"
)

const tokenDirectory = `
users:
  - {id: amy, name: Amy, email: amy@example.com, permissions: [Admin]}
  - {id: zed, name: Zed, email: zed@example.com}
  - {id: old, name: Old, email: old@example.com, active: false}
`

func TestTokenCreateLookupRevoke(t *testing.T) {
	t.Parallel()
	db := batontest.New(t)
	ctx := context.Background()
	_, err := loadDir(t, db.Store, tokenDirectory)
	require.NoError(t, err)

	tok, id, err := db.Store.TokenCreate(ctx, "amy", "laptop")
	require.NoError(t, err)
	require.True(t, strings.HasPrefix(tok, store.TokenPrefix), tok)
	require.Len(t, tok, 3+43, "bt_ and 32 bytes of base64url")
	require.NotContains(t, tok, "=")
	tok2, id2, err := db.Store.TokenCreate(ctx, "amy", "")
	require.NoError(t, err)
	require.NotEqual(t, tok, tok2)
	require.NotEqual(t, id, id2)

	u, gotID, err := db.Store.TokenLookup(ctx, tok)
	require.NoError(t, err)
	require.Equal(t, id, gotID)
	require.Equal(t, "amy", u.ID)
	require.Equal(t, "Amy", u.Name)
	require.True(t, u.Has("Admin"), "the user comes with their permissions")

	// Only the hash is stored: the row holds the token's SHA-256 and no trace of
	// the token itself.
	var byHash, byText int
	require.NoError(t, db.Pool.QueryRow(ctx, `SELECT count(*) FROM api_tokens WHERE hash = sha256(convert_to($1, 'UTF8'))`, tok).Scan(&byHash))
	require.Equal(t, 1, byHash)
	require.NoError(t, db.Pool.QueryRow(ctx, `SELECT count(*) FROM api_tokens t WHERE strpos(t::text, $1) > 0`, tok[3:]).Scan(&byText))
	require.Zero(t, byText)

	// Unknown, malformed, truncated and wrong-prefix tokens are all "not found".
	for _, bad := range []string{"", "bt_", "nope", tok[:len(tok)-1], "xx_" + tok[3:], tok[:len(tok)-1] + "!",
		store.TokenPrefix + strings.Repeat("A", 43)} {
		_, _, err := db.Store.TokenLookup(ctx, bad)
		require.ErrorIs(t, err, store.ErrNotFound, "%q", bad)
		if len(bad) > 4 {
			require.NotContains(t, err.Error(), bad[3:], "errors never repeat the token")
		}
	}

	tokens, err := db.Store.TokenList(ctx, "amy")
	require.NoError(t, err)
	require.Len(t, tokens, 2)
	require.Equal(t, "laptop", tokens[0].Label)
	require.Nil(t, tokens[0].RevokedAt)

	// Revoke: the token stops working at once; revoking again is fine.
	require.NoError(t, db.Store.TokenRevoke(ctx, id))
	_, _, err = db.Store.TokenLookup(ctx, tok)
	require.ErrorIs(t, err, store.ErrNotFound)
	require.NoError(t, db.Store.TokenRevoke(ctx, id))
	require.ErrorIs(t, db.Store.TokenRevoke(ctx, 999999), store.ErrNotFound)
	_, _, err = db.Store.TokenLookup(ctx, tok2)
	require.NoError(t, err, "revoking one token leaves the user's others")
	tokens, err = db.Store.TokenList(ctx, "amy")
	require.NoError(t, err)
	require.NotNil(t, tokens[0].RevokedAt)
	require.Nil(t, tokens[1].RevokedAt)

	// Revoke all of a user's tokens.
	_, _, err = db.Store.TokenCreate(ctx, "zed", "")
	require.NoError(t, err)
	n, err := db.Store.TokenRevokeUser(ctx, "amy")
	require.NoError(t, err)
	require.Equal(t, 1, n, "only amy's live token")
	_, _, err = db.Store.TokenLookup(ctx, tok2)
	require.ErrorIs(t, err, store.ErrNotFound)
	zeds, err := db.Store.TokenList(ctx, "zed")
	require.NoError(t, err)
	require.Len(t, zeds, 1)
	require.Nil(t, zeds[0].RevokedAt, "zed's token is untouched")
}

func TestTokenUnknownAndInactiveUsers(t *testing.T) {
	t.Parallel()
	db := batontest.New(t)
	ctx := context.Background()
	_, err := loadDir(t, db.Store, tokenDirectory)
	require.NoError(t, err)

	_, _, err = db.Store.TokenCreate(ctx, "ghost", "")
	require.ErrorIs(t, err, store.ErrNotFound)
	require.Contains(t, err.Error(), `"ghost"`)
	_, _, err = db.Store.TokenCreate(ctx, "old", "")
	require.ErrorIs(t, err, store.ErrUserInactive)
	require.Contains(t, err.Error(), `"old"`)
	none, err := db.Store.TokenList(ctx, "old")
	require.NoError(t, err)
	require.Empty(t, none)

	// A user deactivated after their token was issued, by a directory load or
	// by an admin, loses it: reactivated, they need a new one.
	tok, _, err := db.Store.TokenCreate(ctx, "zed", "ci")
	require.NoError(t, err)
	_, err = loadDir(t, db.Store, "users:\n  - {id: zed, name: Zed, email: zed@example.com, active: false}\n")
	require.NoError(t, err)
	_, _, err = db.Store.TokenLookup(ctx, tok)
	require.ErrorIs(t, err, store.ErrNotFound, "revoked")
	_, err = loadDir(t, db.Store, "users:\n  - {id: zed, name: Zed, email: zed@example.com}\n")
	require.NoError(t, err)
	_, _, err = db.Store.TokenLookup(ctx, tok)
	require.ErrorIs(t, err, store.ErrNotFound, "reactivation revives no token")
	tok, _, err = db.Store.TokenCreate(ctx, "zed", "ci again")
	require.NoError(t, err)
	_, _, err = db.Store.UserActiveSet(ctx, "zed", false)
	require.NoError(t, err)
	_, _, err = db.Store.TokenLookup(ctx, tok)
	require.ErrorIs(t, err, store.ErrNotFound, "a deactivation through the API or CLI revokes too")
	tokens, err := db.Store.TokenList(ctx, "zed")
	require.NoError(t, err)
	for _, tk := range tokens {
		require.NotNil(t, tk.RevokedAt, "token %d", tk.ID)
	}
}

// Tokens expire: after DefaultTokenTTL, or the lifetime they were created
// with (at most MaxTokenTTL); each records when it was last used.
func TestTokenExpiryAndLastUse(t *testing.T) {
	t.Parallel()
	db := batontest.New(t)
	ctx := context.Background()
	_, err := loadDir(t, db.Store, tokenDirectory)
	require.NoError(t, err)

	tok, id, err := db.Store.TokenCreate(ctx, "zed", "")
	require.NoError(t, err)
	tokens, err := db.Store.TokenList(ctx, "zed")
	require.NoError(t, err)
	require.WithinDuration(t, time.Now().Add(store.DefaultTokenTTL), tokens[0].ExpiresAt, time.Minute)
	require.Nil(t, tokens[0].LastUsedAt, "not used yet")
	_, _, err = db.Store.TokenLookup(ctx, tok)
	require.NoError(t, err)
	tokens, err = db.Store.TokenList(ctx, "zed")
	require.NoError(t, err)
	require.NotNil(t, tokens[0].LastUsedAt, "used")

	// Its lifetime runs out (the clock moved on): as good as unknown.
	_, err = db.Pool.Exec(ctx, `UPDATE api_tokens SET expires_at = now() - interval '1 second' WHERE id = $1`, id)
	require.NoError(t, err)
	_, _, err = db.Store.TokenLookup(ctx, tok)
	require.ErrorIs(t, err, store.ErrNotFound)
	require.ErrorContains(t, err, "unknown, revoked or expired")

	_, _, err = db.Store.TokenCreateTTL(ctx, "zed", "", 2*store.MaxTokenTTL)
	require.ErrorIs(t, err, store.ErrInvalid)
	short, _, err := db.Store.TokenCreateTTL(ctx, "zed", "", time.Hour)
	require.NoError(t, err)
	_, _, err = db.Store.TokenLookup(ctx, short)
	require.NoError(t, err)
}
