-- The tables these queries read and write, as the migrations leave them (a ? is
-- nullable); TestQueryFilesOpenWithTheirTablesShape holds them to the schema.
-- shape api_tokens(id bigint, user_id text, hash bytea, label text, created_at timestamptz, revoked_at timestamptz?, expires_at timestamptz, last_used_at timestamptz?)
-- shape users(id text, name text, email text, role text, active boolean, position bigint, created_at timestamptz, updated_at timestamptz, tags text[], credentials text[], ticket_priority integer, email_notifications boolean, perms text[], tags_lc text[], credentials_lc text[], status text, cap_total integer, cap_capture integer, cap_review integer, cap_acknowledge integer, file_hash bigint?)

-- name: TokenInsert
INSERT INTO api_tokens (user_id, hash, label, expires_at) VALUES ($1, $2, $3, $4) RETURNING id;

-- name: TokenByHash
-- Only live tokens: a revoked or expired token is as good as an unknown one.
-- Its last use is recorded, at most once a minute (a write per request would
-- cost every read of the API one).
WITH t AS (
    SELECT id, user_id, last_used_at FROM api_tokens WHERE hash = $1 AND revoked_at IS NULL AND expires_at > now()
), used AS (
    UPDATE api_tokens a SET last_used_at = now() FROM t
    WHERE a.id = t.id AND (t.last_used_at IS NULL OR t.last_used_at < now() - interval '1 minute')
)
SELECT id, user_id FROM t;

-- name: TokenRevoke
-- Idempotent: revoking a revoked token keeps its first revocation time.
UPDATE api_tokens SET revoked_at = coalesce(revoked_at, now()) WHERE id = $1
RETURNING user_id;

-- name: TokenRevokeUser
UPDATE api_tokens SET revoked_at = now() WHERE user_id = $1 AND revoked_at IS NULL;

-- name: TokenListByUser
SELECT id, user_id, label, created_at, revoked_at, expires_at, last_used_at FROM api_tokens WHERE user_id = $1 ORDER BY id;

-- name: TokenRevokeInactive
-- Revokes the live tokens of those of persons $1 who are inactive: a
-- deactivation ends their tokens, and a reactivation revives none.
UPDATE api_tokens t SET revoked_at = now()
FROM users u WHERE u.id = t.user_id AND u.id = ANY ($1::text[]) AND NOT u.active AND t.revoked_at IS NULL;
