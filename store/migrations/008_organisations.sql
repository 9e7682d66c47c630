-- Whole organisations (100,000 people). A decision must not load the directory:
-- eligibility is answered by indexed SQL, so each user carries their permissions
-- as an array (GIN-indexed, kept in step with user_permissions by the store's one
-- writer, LoadDirectory) and lower-cased tags and credentials, which the filters
-- compare without case.
ALTER TABLE users
    ADD COLUMN perms          text[] NOT NULL DEFAULT '{}',
    ADD COLUMN tags_lc        text[] NOT NULL DEFAULT '{}',
    ADD COLUMN credentials_lc text[] NOT NULL DEFAULT '{}';
UPDATE users u SET
    perms = coalesce((SELECT array_agg(p.permission ORDER BY p.permission) FROM user_permissions p WHERE p.user_id = u.id), '{}'),
    tags_lc = coalesce((SELECT array_agg(lower(t)) FROM unnest(u.tags) t), '{}'),
    credentials_lc = coalesce((SELECT array_agg(lower(c)) FROM unnest(u.credentials) c), '{}');
CREATE INDEX users_perms ON users USING gin (perms);
CREATE INDEX users_active_position ON users (position) WHERE active;
CREATE INDEX team_members_user ON team_members (user_id);

-- The directory's size, kept by LoadDirectory, so a decision can say how many
-- were excluded without counting 100,000 rows.
CREATE TABLE directory_stats (
    id     boolean PRIMARY KEY DEFAULT true CHECK (id),
    users  bigint NOT NULL
);
INSERT INTO directory_stats (users) SELECT count(*) FROM users;

-- Turns: one count per person and scope, instead of one cursor row holding every
-- user's counter. A decision locks its scope's row in turn_scopes (so concurrent
-- workers take turns one at a time) and then moves one person's count.
CREATE TABLE turn_scopes (
    scope       text PRIMARY KEY,
    updated_at  timestamptz NOT NULL DEFAULT now()
);
CREATE TABLE rr_turns (
    scope       text NOT NULL,
    user_id     text NOT NULL,
    served      bigint NOT NULL CHECK (served >= 0),
    updated_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (scope, user_id)
);
CREATE INDEX rr_turns_user ON rr_turns (user_id);
DROP TABLE rr_cursors;

-- A decision's explanation, beside its small body: who could take the stage (the
-- requirement, and every candidate it selected when the stage was decided, in
-- directory order) and the rule trace. Read back with pagination; the workflow
-- keeps only counts and a sample.
ALTER TABLE decisions
    ADD COLUMN requirement  jsonb,
    ADD COLUMN candidates   text[],
    ADD COLUMN rule_trace   jsonb,
    ADD COLUMN decided_seq  int;
