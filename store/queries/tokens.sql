-- name: TokenInsert
INSERT INTO api_tokens (user_id, hash, label) VALUES ($1, $2, $3) RETURNING id;

-- name: TokenByHash
-- Only live tokens: a revoked token is as good as an unknown one.
SELECT id, user_id FROM api_tokens WHERE hash = $1 AND revoked_at IS NULL;

-- name: TokenRevoke
-- Idempotent: revoking a revoked token keeps its first revocation time.
UPDATE api_tokens SET revoked_at = coalesce(revoked_at, now()) WHERE id = $1
RETURNING user_id;

-- name: TokenRevokeUser
UPDATE api_tokens SET revoked_at = now() WHERE user_id = $1 AND revoked_at IS NULL;

-- name: TokenListByUser
SELECT id, user_id, label, created_at, revoked_at FROM api_tokens WHERE user_id = $1 ORDER BY id;
