-- API tokens: bearer credentials for the HTTP API. A token is shown once when it
-- is created and only its SHA-256 is kept, so a leaked database holds nothing a
-- caller could present. Requests look a token up by its hash (unique, so indexed);
-- a revoked token stays, for the record, with revoked_at set.
CREATE TABLE api_tokens (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    user_id     text NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    hash        bytea NOT NULL UNIQUE CHECK (octet_length(hash) = 32),
    label       text NOT NULL DEFAULT '',
    created_at  timestamptz NOT NULL DEFAULT now(),
    revoked_at  timestamptz
);
CREATE INDEX api_tokens_user ON api_tokens (user_id, id);
