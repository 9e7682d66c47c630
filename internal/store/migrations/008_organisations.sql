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

-- The directory's size and generation, kept by LoadDirectory: a decision says how
-- many were excluded without counting 100,000 rows, and everything derived from
-- the directory (eligible sets, turn pools) is keyed by the generation it was
-- derived at, so one load makes all of it stale at once.
CREATE TABLE directory_stats (
    id          boolean PRIMARY KEY DEFAULT true CHECK (id),
    users       bigint NOT NULL,
    generation  bigint NOT NULL DEFAULT 1
);
INSERT INTO directory_stats (users) SELECT count(*) FROM users;

-- Eligible sets: who met a requirement at one directory generation, in directory
-- order. Made once per requirement and generation (one scan of the eligible),
-- then every decision under it reads the count and a sample by key, and its
-- ledger row refers to the set: the explanation of who could take the stage,
-- exactly as the directory was, at no cost per decision.
CREATE TABLE eligible_sets (
    id               bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    requirement_key  text NOT NULL,
    generation       bigint NOT NULL,
    requirement      jsonb NOT NULL,
    users            text[] NOT NULL,
    -- size and head (the first few users) are read by every decision; the full
    -- list only by explanations, so a decision never reads the large array.
    size             int NOT NULL,
    head             text[] NOT NULL,
    created_at       timestamptz NOT NULL DEFAULT now(),
    UNIQUE (requirement_key, generation)
);

-- Turns: one count per person and scope, instead of one cursor row holding every
-- user's counter. A decision locks its scope's row in turn_scopes (so concurrent
-- workers take turns one at a time) and then moves one person's count. level is
-- served / weight and ord the person's place in the scope's order, kept beside
-- the count so the next turn is the first eligible row of one index, not a scan
-- of everyone eligible. Everyone in an eligible set gets a row the first time a
-- scope decides under that set (turn_pools), entering at the scope's level.
CREATE TABLE turn_scopes (
    scope       text PRIMARY KEY,
    updated_at  timestamptz NOT NULL DEFAULT now()
);
CREATE TABLE rr_turns (
    scope       text NOT NULL,
    user_id     text NOT NULL,
    served      bigint NOT NULL CHECK (served >= 0),
    level       bigint NOT NULL,
    weight      bigint NOT NULL CHECK (weight >= 1),
    ord         bigint NOT NULL,
    updated_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (scope, user_id)
);
CREATE INDEX rr_turns_next ON rr_turns (scope, level, weight DESC, ord);
CREATE INDEX rr_turns_user ON rr_turns (user_id);
CREATE TABLE turn_pools (
    scope         text NOT NULL,
    eligible_set  bigint NOT NULL REFERENCES eligible_sets (id) ON DELETE CASCADE,
    size          int NOT NULL,
    PRIMARY KEY (scope, eligible_set)
);
DROP TABLE rr_cursors;

-- A decision's explanation, beside its small body: who could take the stage (the
-- requirement and its eligible set, or the candidates a product module listed)
-- and the rule trace. Read back with pagination; the workflow keeps only counts
-- and a sample.
ALTER TABLE decisions
    ADD COLUMN requirement   jsonb,
    ADD COLUMN eligible_set  bigint REFERENCES eligible_sets (id),
    ADD COLUMN candidates    text[],
    ADD COLUMN rule_trace    jsonb,
    ADD COLUMN decided_seq   int;
