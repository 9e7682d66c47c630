-- Out-of-office periods. During one a person is away, whatever status they set,
-- and new work that would have gone to them goes to their delegate (when the
-- delegate can take it).
CREATE TABLE absences (
    user_id    text NOT NULL,
    starts_at  timestamptz NOT NULL,
    ends_at    timestamptz NOT NULL,
    delegate   text NOT NULL DEFAULT '',
    created_by text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    -- started_at is set once the start has been acted on (open work moved where
    -- the stage's policy says to): each absence's start is handled once.
    started_at timestamptz,
    PRIMARY KEY (user_id, starts_at),
    CHECK (ends_at > starts_at)
);
CREATE INDEX absences_current ON absences (user_id, ends_at);
CREATE INDEX absences_starting ON absences (starts_at) WHERE started_at IS NULL;

-- A person's status now: away during an absence, else what they set.
CREATE FUNCTION effective_status(uid text, status text) RETURNS text LANGUAGE sql STABLE AS $$
    SELECT CASE WHEN EXISTS (SELECT 1 FROM absences a WHERE a.user_id = uid AND a.starts_at <= now() AND now() < a.ends_at)
                THEN 'away' ELSE status END
$$;

-- The delegate of a person's absence now, or ''.
CREATE FUNCTION current_delegate(uid text) RETURNS text LANGUAGE sql STABLE AS $$
    SELECT coalesce((SELECT a.delegate FROM absences a WHERE a.user_id = uid AND a.starts_at <= now() AND now() < a.ends_at
                     ORDER BY a.starts_at DESC LIMIT 1), '')
$$;
