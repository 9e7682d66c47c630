-- The tables these queries read and write, as the migrations leave them (a ? is
-- nullable); TestQueryFilesOpenWithTheirTablesShape holds them to the schema.
-- shape backlog(workflow_id text, stage text, claim_id text, seq integer, priority integer, queue text, queued_at timestamptz, lease_until timestamptz?, requirement_id bigint)
-- shape decisions(workflow_id text, stage text, seq integer, claim_id text, method text, assignee text?, actor text?, reason text, policy_version text, body jsonb, created_at timestamptz, requirement jsonb?, candidates text[]?, rule_trace jsonb?, decided_seq integer?, requirement_id bigint?, generation bigint?, rule_record jsonb?)
-- shape directory_stats(id boolean, users bigint, generation bigint)
-- shape requirement_members(requirement_id bigint, user_id text, position bigint, from_gen bigint, to_gen bigint?)
-- shape requirements(id bigint, key text, requirement jsonb, required text[], tags_one_of text[], tags_all_of text[], state_credential boolean, state text, care_team_filter boolean, care_team text, roles text[], size integer, live boolean, used_at timestamptz, created_at timestamptz)
-- shape team_members(team_id text, user_id text, position integer)
-- shape team_pool_sizes(requirement_id bigint, team_id text, generation bigint, size integer)
-- shape teams(id text, name text, created_at timestamptz)
-- shape turn_pending(scope text, requirement_id bigint, user_id text)
-- shape users(id text, name text, email text, role text, active boolean, position bigint, created_at timestamptz, updated_at timestamptz, tags text[], credentials text[], ticket_priority integer, email_notifications boolean, perms text[], tags_lc text[], credentials_lc text[], status text, cap_total integer, cap_capture integer, cap_review integer, cap_acknowledge integer, file_hash bigint?)

-- Requirements and who meets them (migration 012): requirements holds each
-- requirement Baton has decided under, requirement_members who met it over which
-- generations. Directory changes keep the members of live requirements current.

-- name: fragment Eligible
-- Whether user u meets requirement r (a requirements row): active, holds every
-- required permission, passes the tag, state-credential and care-team filters,
-- and for a product module's pool has one of its roles. Included bare as
-- {{eligible}} where u and r are in scope. Requirement.Reject words the same
-- rule for one person, in Go.
u.active
AND u.perms @> r.required
AND (cardinality(r.tags_one_of) = 0 OR u.tags_lc && r.tags_one_of)
AND u.tags_lc @> r.tags_all_of
AND (NOT r.state_credential OR (r.state <> '' AND u.credentials_lc @> ARRAY[r.state]))
AND (NOT r.care_team_filter OR EXISTS (SELECT 1 FROM team_members cm WHERE cm.team_id = r.care_team AND cm.user_id = u.id))
AND (cardinality(r.roles) = 0 OR u.role = ANY (r.roles))

-- name: RequirementGet
-- A requirement by key: its id, whether it is live, its size, the directory's
-- generation and size, and its first $2 members now, in directory order.
SELECT r.id, r.live, r.size, d.generation, d.users,
       ARRAY(SELECT m.user_id FROM requirement_members m WHERE m.requirement_id = r.id AND m.to_gen IS NULL
             ORDER BY m.position LIMIT $2)
FROM requirements r CROSS JOIN directory_stats d
WHERE r.key = $1;

-- name: RequirementMake
-- Records a requirement (its key, its document, its parameters), not yet
-- live: RequirementFill makes it so.
INSERT INTO requirements (key, requirement, required, tags_one_of, tags_all_of, state_credential, state, care_team_filter,
                          care_team, roles, live)
VALUES (@key, @requirement, @required, @tags_one_of, @tags_all_of, @state_credential, @state, @care_team_filter,
        @care_team, @roles, false)
ON CONFLICT (key) DO NOTHING;

-- name: RequirementFill
-- Makes requirement $1 live, if it is not: everyone who meets it now becomes a
-- member from the current generation (the one scan of everyone eligible, made
-- once per requirement, not per directory change).
WITH r AS (
    SELECT * FROM requirements WHERE key = $1 AND NOT live FOR UPDATE
), m AS (
    INSERT INTO requirement_members (requirement_id, user_id, position, from_gen)
    SELECT r.id, u.id, u.position, d.generation
    FROM r CROSS JOIN directory_stats d JOIN users u ON true
    WHERE {{eligible}}
    RETURNING 1
)
UPDATE requirements x SET live = true, used_at = now(), size = (SELECT count(*) FROM m)
FROM r WHERE x.id = r.id
RETURNING x.id;

-- name: RequirementTouch
-- Notes that a decision used the requirement of key $1, at most once an hour:
-- what retiring unused requirements goes by. By key, so it goes in the round
-- trip that reads the requirement.
UPDATE requirements SET used_at = now() WHERE key = $1 AND used_at < now() - interval '1 hour';

-- name: RequirementsIdle
-- Whether any live requirement has gone unused since $1 (and no backlog stage
-- waits on it): a sweep that finds none changes nothing.
SELECT EXISTS (SELECT 1 FROM requirements x
               WHERE x.live AND x.used_at < $1 AND NOT EXISTS (SELECT 1 FROM backlog b WHERE b.requirement_id = x.id));

-- name: RequirementsRetire
-- Retires the live requirements unused since $1 that no backlog stage waits on
-- (the caller holds the directory lock and has started generation $2): their
-- current members' stretches end at $2 and directory changes stop keeping them.
-- A decision that needs one again makes it live from the directory as it is
-- then. Old decisions read their members as before.
WITH r AS (
    UPDATE requirements x SET live = false, size = 0
    WHERE x.live AND x.used_at < $1 AND NOT EXISTS (SELECT 1 FROM backlog b WHERE b.requirement_id = x.id)
    RETURNING x.id
), closed AS (
    UPDATE requirement_members m SET to_gen = $2 FROM r WHERE m.requirement_id = r.id AND m.to_gen IS NULL
), pending AS (
    DELETE FROM turn_pending p USING r WHERE p.requirement_id = r.id
)
SELECT count(*) FROM r;

-- name: MembersChange
-- After people $1 changed (the caller holds the directory lock and has started
-- generation $2): each one's stretch ends in every live requirement they no
-- longer meet and starts in every one they now meet, and the sizes move with
-- them. Returns each (requirement, user) that started, for their turn pools.
WITH closed AS (
    UPDATE requirement_members m SET to_gen = $2
    FROM requirements r, users u
    WHERE m.to_gen IS NULL AND m.user_id = ANY ($1::text[]) AND r.id = m.requirement_id AND r.live
      AND u.id = m.user_id AND NOT ({{eligible}})
    RETURNING m.requirement_id
), opened AS (
    INSERT INTO requirement_members (requirement_id, user_id, position, from_gen)
    SELECT r.id, u.id, u.position, $2
    FROM requirements r JOIN users u ON u.id = ANY ($1::text[])
    WHERE r.live AND {{eligible}}
      AND NOT EXISTS (SELECT 1 FROM requirement_members m WHERE m.requirement_id = r.id AND m.user_id = u.id AND m.to_gen IS NULL)
    RETURNING requirement_id, user_id
), delta AS (
    SELECT requirement_id, sum(d)::int AS d
    FROM (SELECT requirement_id, -1 AS d FROM closed UNION ALL SELECT requirement_id, 1 FROM opened) x
    GROUP BY requirement_id
), sized AS (
    UPDATE requirements r SET size = r.size + delta.d FROM delta WHERE r.id = delta.requirement_id AND delta.d <> 0
)
SELECT requirement_id, user_id FROM opened;

-- name: UserCheck
-- One user with whether the claim's care team exists and has them as a member.
SELECT u.id, u.name, u.email, u.role, u.active, u.perms, u.tags, u.credentials, u.ticket_priority, u.email_notifications,
       EXISTS (SELECT 1 FROM teams t WHERE t.id = $2),
       EXISTS (SELECT 1 FROM team_members m WHERE m.team_id = $2 AND m.user_id = u.id)
FROM users u WHERE u.id = $1;

-- name: UsersCheck
-- The users among ids $1 (a product module's candidates), in the order given:
-- one query whatever their number.
SELECT u.id, u.name, u.email, u.role, u.active, u.perms, u.tags, u.credentials, u.ticket_priority, u.email_notifications
FROM unnest($1::text[]) WITH ORDINALITY AS c (user_id, n)
JOIN users u ON u.id = c.user_id
ORDER BY c.n;

-- name: UsersMatching
-- A page of active users with one of roles $1 (any, when empty), holding every
-- permission in $2, tagged with one of $3 (lower-cased; any, when empty), in
-- directory order after position $4, at most $5: a product module's page.
SELECT u.position, u.id, u.name, u.email, u.role, u.active, u.perms, u.tags, u.credentials, u.ticket_priority, u.email_notifications
FROM users u
WHERE u.active AND u.position > $4
  AND (cardinality($1::text[]) = 0 OR u.role = ANY ($1::text[]))
  AND u.perms @> $2::text[]
  AND (cardinality($3::text[]) = 0 OR u.tags_lc && $3::text[])
ORDER BY u.position
LIMIT $5;

-- name: RequirementMembersPage
-- A page of requirement $1's members now, in directory order, from offset $2
-- for $3: a product module's pool on the assignment-options endpoints.
SELECT u.id, u.name, u.email, u.role, u.active, u.perms, u.tags, u.credentials, u.ticket_priority, u.email_notifications
FROM requirement_members m JOIN users u ON u.id = m.user_id
WHERE m.requirement_id = $1 AND m.to_gen IS NULL
ORDER BY m.position
OFFSET $2 LIMIT $3;

-- name: TeamEligible
-- The ids of the members of team $2 who meet requirement $1 now, in team
-- order: the team read from its index, each member's membership probed by key
-- (so the cost follows the team, not the requirement). Ids only: a care-team
-- decision walks them and holds the one it picks.
SELECT tm.user_id
FROM team_members tm
WHERE tm.team_id = $2
  AND coalesce((SELECT true FROM requirement_members m
                WHERE m.user_id = tm.user_id AND m.requirement_id = $1 AND m.to_gen IS NULL LIMIT 1), false)
ORDER BY tm.position;

-- name: TeamPoolSize
-- How many members of team $2 meet requirement $1, as counted at the current
-- directory generation (no row: not counted since the directory changed). Every
-- change to who meets a requirement, or to a team's members, starts a
-- generation.
SELECT s.size FROM team_pool_sizes s JOIN directory_stats d ON d.generation = s.generation
WHERE s.requirement_id = $1 AND s.team_id = $2;

-- name: TeamEligibleCount
-- Counts how many members of team $2 meet requirement $1 now (a team turn
-- order's pool) and keeps the count for the current generation.
INSERT INTO team_pool_sizes (requirement_id, team_id, generation, size)
SELECT $1, $2, (SELECT generation FROM directory_stats),
       (SELECT count(*) FROM team_members tm
        WHERE tm.team_id = $2
          AND coalesce((SELECT true FROM requirement_members m
                        WHERE m.user_id = tm.user_id AND m.requirement_id = $1 AND m.to_gen IS NULL LIMIT 1), false))
ON CONFLICT (requirement_id, team_id) DO UPDATE SET generation = EXCLUDED.generation, size = EXCLUDED.size
RETURNING size;

-- name: TeamExists
SELECT EXISTS (SELECT 1 FROM teams WHERE id = $1);
