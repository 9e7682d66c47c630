-- API tokens expire, and record when they were last used (at most once a
-- minute). Tokens issued before this expire 90 days from now, the default
-- lifetime of a new one. A deactivated user's tokens are revoked
-- (DirectoryChanged), so reactivating them revives none: revoke those of users
-- inactive now too.
ALTER TABLE api_tokens ADD COLUMN expires_at timestamptz, ADD COLUMN last_used_at timestamptz;
UPDATE api_tokens SET expires_at = now() + interval '90 days';
ALTER TABLE api_tokens ALTER COLUMN expires_at SET NOT NULL;
UPDATE api_tokens t SET revoked_at = now()
FROM users u WHERE u.id = t.user_id AND NOT u.active AND t.revoked_at IS NULL;
