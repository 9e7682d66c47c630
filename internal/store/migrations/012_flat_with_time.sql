-- Flat with time. Until now, who met a requirement was worked out whole once per
-- requirement and directory generation (eligible_sets: a ~33 KB array per set,
-- never deleted), every load started a generation, and everything derived from a
-- set (turn pools, the backlog's membership test) was remade or rescanned after
-- it. An organisation that syncs its directory hourly made 8,760 sets a year per
-- requirement, and every completion scanned them. From here on:
--
-- * requirements holds each requirement Baton has decided under, with its
--   parameters as columns so a changed person can be checked against all of them
--   in one statement, and its size;
-- * requirement_members holds who met it, one row per person and stretch of
--   generations ([from_gen, to_gen), to_gen NULL while it lasts). A directory
--   change that changes one person closes or opens that person's rows and bumps
--   the generation: it costs what it changes. A decision records its requirement
--   and generation, and its explanation reads the members at that generation
--   exactly as they were;
-- * user_load keeps each person's open stages as counts, moved in the
--   transaction that moves open_stages, and rr_turns carries a copy of them with
--   the person's limits, so least_loaded reads the least loaded from an index;
-- * turn_pools remember that a scope has entered a requirement's members, and
--   turn_pending lists the people who joined since (or whose turns a change reset),
--   so a decision enters only them.

CREATE TABLE requirements (
    id               bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    key              text NOT NULL UNIQUE,
    requirement      jsonb NOT NULL,
    required         text[] NOT NULL DEFAULT '{}',
    tags_one_of      text[] NOT NULL DEFAULT '{}',
    tags_all_of      text[] NOT NULL DEFAULT '{}',
    state_credential boolean NOT NULL DEFAULT false,
    state            text NOT NULL DEFAULT '',
    care_team_filter boolean NOT NULL DEFAULT false,
    care_team        text NOT NULL DEFAULT '',
    -- roles: a product module's pool (users whose role is one of these); empty
    -- for the policy's requirements, which never filter on role.
    roles            text[] NOT NULL DEFAULT '{}',
    size             int NOT NULL DEFAULT 0,
    -- live requirements are kept up to date by every directory change; one
    -- unused for long is retired (its members' rows closed) and made live again,
    -- from the directory as it then is, the next time a decision needs it.
    live             boolean NOT NULL DEFAULT true,
    used_at          timestamptz NOT NULL DEFAULT now(),
    created_at       timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE requirement_members (
    requirement_id bigint NOT NULL REFERENCES requirements (id),
    user_id        text NOT NULL,
    position       bigint NOT NULL,
    from_gen       bigint NOT NULL,
    to_gen         bigint,
    PRIMARY KEY (requirement_id, user_id, from_gen),
    CHECK (to_gen IS NULL OR to_gen > from_gen)
);
-- The current members in directory order: a decision's head and count, and
-- pages of a live requirement.
CREATE UNIQUE INDEX requirement_members_current ON requirement_members (requirement_id, position) WHERE to_gen IS NULL;
-- Every stretch in directory order: an old decision's candidates, a page at a time.
CREATE INDEX requirement_members_order ON requirement_members (requirement_id, position, from_gen);
-- The requirements a person meets now: the backlog a freed slot may take.
CREATE INDEX requirement_members_user ON requirement_members (user_id) WHERE to_gen IS NULL;

-- Existing sets become stretches. For each requirement, its sets in generation
-- order; a person's run of consecutive sets is one stretch, from the first set's
-- generation to the generation of the next set without them (or, for the last
-- set, to the generation this migration starts, after which the membership is
-- worked out afresh from the directory below).
UPDATE directory_stats SET generation = generation + 1;

CREATE FUNCTION pg_temp.texts(j jsonb) RETURNS text[] LANGUAGE sql IMMUTABLE AS $$
    SELECT CASE WHEN jsonb_typeof(j) = 'array' THEN ARRAY(SELECT jsonb_array_elements_text(j)) ELSE '{}'::text[] END
$$;

INSERT INTO requirements (key, requirement, required, tags_one_of, tags_all_of, state_credential, state, care_team_filter, care_team)
SELECT DISTINCT ON (e.requirement_key) e.requirement_key, e.requirement,
       pg_temp.texts(e.requirement->'required'),
       pg_temp.texts(e.requirement->'filter'->'tagsOneOf'),
       pg_temp.texts(e.requirement->'filter'->'tagsAllOf'),
       coalesce((e.requirement->'filter'->>'stateCredential')::boolean, false),
       coalesce(e.requirement->>'state', ''),
       coalesce((e.requirement->'filter'->>'careTeam')::boolean, false),
       coalesce(e.requirement->>'careTeam', '')
FROM eligible_sets e
ORDER BY e.requirement_key, e.generation DESC;

WITH s AS (
    SELECT r.id AS rid, e.generation, e.users,
           row_number() OVER (PARTITION BY e.requirement_key ORDER BY e.generation) AS rn,
           lead(e.generation) OVER (PARTITION BY e.requirement_key ORDER BY e.generation) AS next_gen
    FROM eligible_sets e JOIN requirements r ON r.key = e.requirement_key
), m AS (
    SELECT s.rid, u.user_id, s.generation, s.next_gen, s.rn,
           s.rn - row_number() OVER (PARTITION BY s.rid, u.user_id ORDER BY s.rn) AS island
    FROM s, unnest(s.users) AS u (user_id)
)
INSERT INTO requirement_members (requirement_id, user_id, position, from_gen, to_gen)
SELECT m.rid, m.user_id, coalesce(min(us.position), 0), min(m.generation),
       coalesce((array_agg(m.next_gen ORDER BY m.rn DESC))[1], (SELECT generation FROM directory_stats))
FROM m LEFT JOIN users us ON us.id = m.user_id
GROUP BY m.rid, m.user_id, m.island;

-- Who meets each requirement now, from this generation on. (The rule is the
-- store's Eligible fragment, written out here as it stands at this migration.)
INSERT INTO requirement_members (requirement_id, user_id, position, from_gen)
SELECT r.id, u.id, u.position, d.generation
FROM requirements r CROSS JOIN directory_stats d JOIN users u ON true
WHERE u.active
  AND u.perms @> r.required
  AND (cardinality(r.tags_one_of) = 0 OR u.tags_lc && r.tags_one_of)
  AND u.tags_lc @> r.tags_all_of
  AND (NOT r.state_credential OR (r.state <> '' AND u.credentials_lc @> ARRAY[r.state]))
  AND (NOT r.care_team_filter OR EXISTS (SELECT 1 FROM team_members cm WHERE cm.team_id = r.care_team AND cm.user_id = u.id));
UPDATE requirements r SET size = (SELECT count(*) FROM requirement_members m WHERE m.requirement_id = r.id AND m.to_gen IS NULL);

-- Decisions refer to their requirement and generation instead of a set.
ALTER TABLE decisions ADD COLUMN requirement_id bigint REFERENCES requirements (id), ADD COLUMN generation bigint;
UPDATE decisions d SET requirement_id = r.id, generation = e.generation
FROM eligible_sets e JOIN requirements r ON r.key = e.requirement_key
WHERE d.eligible_set = e.id;
ALTER TABLE decisions DROP COLUMN eligible_set;

-- The backlog names the requirement its stage waits on.
ALTER TABLE backlog ADD COLUMN requirement_id bigint;
UPDATE backlog b SET requirement_id = r.id
FROM eligible_sets e JOIN requirements r ON r.key = e.requirement_key
WHERE b.eligible_set = e.id;
DELETE FROM backlog WHERE requirement_id IS NULL;
ALTER TABLE backlog ALTER COLUMN requirement_id SET NOT NULL, DROP COLUMN eligible_set;
CREATE INDEX backlog_requirement ON backlog (requirement_id, priority DESC, queued_at);

-- Open stages as counts per person. position orders the admins' team view
-- (most loaded first, then directory order) from one index.
CREATE TABLE user_load (
    user_id          text PRIMARY KEY REFERENCES users (id),
    position         bigint NOT NULL,
    open_total       int NOT NULL DEFAULT 0 CHECK (open_total >= 0),
    open_capture     int NOT NULL DEFAULT 0 CHECK (open_capture >= 0),
    open_review      int NOT NULL DEFAULT 0 CHECK (open_review >= 0),
    open_acknowledge int NOT NULL DEFAULT 0 CHECK (open_acknowledge >= 0)
);
CREATE INDEX user_load_most_loaded ON user_load ((-open_total), position);
INSERT INTO user_load (user_id, position, open_total, open_capture, open_review, open_acknowledge)
SELECT u.id, u.position, count(o.stage), count(o.stage) FILTER (WHERE o.stage = 'capture'),
       count(o.stage) FILTER (WHERE o.stage = 'review'), count(o.stage) FILTER (WHERE o.stage = 'acknowledge')
FROM users u LEFT JOIN open_stages o ON o.user_id = u.id
GROUP BY u.id, u.position;

-- Turn rows carry the person's load and limits at the scope's stage (none for a
-- team's or a group's scope, used at any stage), and spare: how many more
-- stages they may take there before a limit, the most when none applies. The
-- least_loaded order is one index: fewest open, most spare, then turn order.
ALTER TABLE rr_turns
    ADD COLUMN stage      text NOT NULL DEFAULT '',
    ADD COLUMN open_total int NOT NULL DEFAULT 0,
    ADD COLUMN open_stage int NOT NULL DEFAULT 0,
    ADD COLUMN cap_total  int NOT NULL DEFAULT 0,
    ADD COLUMN cap_stage  int NOT NULL DEFAULT 0;
ALTER TABLE rr_turns ADD COLUMN spare int GENERATED ALWAYS AS (
    CASE WHEN cap_total = 0 AND cap_stage = 0 THEN 2147483647
         ELSE greatest(least(CASE WHEN cap_stage > 0 THEN cap_stage - open_stage ELSE 2147483647 END,
                             CASE WHEN cap_total > 0 THEN cap_total - open_total ELSE 2147483647 END), 0) END) STORED;
UPDATE rr_turns t SET stage = CASE WHEN t.scope LIKE 'claims/%' OR t.scope LIKE 'wrr/%' THEN regexp_replace(t.scope, '^.*/', '') ELSE '' END;
UPDATE rr_turns t SET open_total = l.open_total,
       open_stage = CASE t.stage WHEN 'capture' THEN l.open_capture WHEN 'review' THEN l.open_review
                                 WHEN 'acknowledge' THEN l.open_acknowledge ELSE 0 END,
       cap_total = u.cap_total,
       cap_stage = CASE t.stage WHEN 'capture' THEN u.cap_capture WHEN 'review' THEN u.cap_review
                                WHEN 'acknowledge' THEN u.cap_acknowledge ELSE 0 END
FROM user_load l JOIN users u ON u.id = l.user_id
WHERE l.user_id = t.user_id;
-- away_until is set while the person is away or offline with nobody to take
-- their work ('infinity' for a status they set, an absence's end for an
-- absence): with spare 0 it keeps them out of turn. The turn orders read
-- the indexes of those in turn, so however many are away or full a decision
-- reads as few rows as when nobody is.
ALTER TABLE rr_turns ADD COLUMN away_until timestamptz;
UPDATE rr_turns t SET away_until = CASE WHEN current_delegate(u.id) <> '' THEN NULL
                                        WHEN u.status <> 'available' THEN 'infinity'::timestamptz
                                        ELSE (SELECT max(a.ends_at) FROM absences a
                                              WHERE a.user_id = u.id AND a.starts_at <= now() AND now() < a.ends_at) END
FROM users u WHERE u.id = t.user_id;
CREATE INDEX rr_turns_in_turn ON rr_turns (scope, level, weight DESC, ord) WHERE away_until IS NULL AND spare > 0;
CREATE INDEX rr_turns_least_loaded ON rr_turns (scope, open_total, spare DESC, level, weight DESC, ord, user_id)
    WHERE away_until IS NULL AND spare > 0;
CREATE INDEX rr_turns_away ON rr_turns (scope, away_until) WHERE away_until IS NOT NULL;
-- Those out of turn, in each order: a decision names those ahead of its pick
-- as passed over, reading at most a hundred and one of them.
CREATE INDEX rr_turns_out_of_turn ON rr_turns (scope, level, weight DESC, ord)
    WHERE away_until IS NOT NULL OR spare = 0;
CREATE INDEX rr_turns_out_of_turn_least_loaded ON rr_turns (scope, open_total, spare DESC, level, weight DESC, ord, user_id)
    WHERE away_until IS NOT NULL OR spare = 0;
-- Who is part-way through a round: a newcomer's entry level asks only when
-- everyone is level.
CREATE INDEX rr_turns_part_way ON rr_turns (scope, level) WHERE served % weight <> 0;

-- A scope's pool is now per requirement, whatever the generation.
CREATE TABLE turn_pools_new (
    scope          text NOT NULL,
    requirement_id bigint NOT NULL REFERENCES requirements (id),
    PRIMARY KEY (scope, requirement_id)
);
INSERT INTO turn_pools_new (scope, requirement_id)
SELECT DISTINCT p.scope, r.id FROM turn_pools p JOIN eligible_sets e ON e.id = p.eligible_set JOIN requirements r ON r.key = e.requirement_key;
DROP TABLE turn_pools;
ALTER TABLE turn_pools_new RENAME TO turn_pools;
ALTER INDEX turn_pools_new_pkey RENAME TO turn_pools_pkey;
CREATE INDEX turn_pools_requirement ON turn_pools (requirement_id);

-- People a pool has not entered yet: a decision of the scope under the
-- requirement enters them, at the level a newcomer enters at then.
CREATE TABLE turn_pending (
    scope          text NOT NULL,
    requirement_id bigint NOT NULL,
    user_id        text NOT NULL,
    PRIMARY KEY (scope, requirement_id, user_id)
);
INSERT INTO turn_pending (scope, requirement_id, user_id)
SELECT p.scope, p.requirement_id, m.user_id
FROM turn_pools p JOIN requirement_members m ON m.requirement_id = p.requirement_id AND m.to_gen IS NULL
WHERE NOT EXISTS (SELECT 1 FROM rr_turns t WHERE t.scope = p.scope AND t.user_id = m.user_id);

DROP TABLE eligible_sets;

-- How many of a team meet a requirement, counted once per directory
-- generation: a team turn order says "of the N eligible" without counting a
-- large team at every decision.
CREATE TABLE team_pool_sizes (
    requirement_id bigint NOT NULL,
    team_id        text NOT NULL,
    generation     bigint NOT NULL,
    size           int NOT NULL,
    PRIMARY KEY (requirement_id, team_id)
);

-- A fingerprint of the directory file's entry last loaded for each user: a
-- load copies only the entries whose fingerprint differs.
ALTER TABLE users ADD COLUMN file_hash bigint;

-- Whether a turn row keeps a copy of its person's open-stage counts: always in
-- a least_loaded scope (its index orders by them), else only for a person with
-- a limit (whether they are full). A round-robin scope's rows of people
-- without limits are left alone when a count moves, so an assignment does not
-- rewrite a row in every team its assignee is on.
ALTER TABLE rr_turns ADD COLUMN loads boolean NOT NULL DEFAULT true;
CREATE INDEX rr_turns_without_loads ON rr_turns (scope) WHERE NOT loads;
