-- name: TurnScopeLock
-- Creates the scope's row if missing and locks it, in one round trip: holding it
-- serialises the scope's turns across workers until the transaction ends.
INSERT INTO turn_scopes (scope) VALUES ($1)
ON CONFLICT (scope) DO UPDATE SET updated_at = now();

-- name: TurnPoolGet
-- The size of the scope's pool for an eligible set, once everyone in it has a row.
SELECT size FROM turn_pools WHERE scope = $1 AND eligible_set = $2;

-- name: TurnPoolMark
-- Records that every member of an eligible set ($3 of them in the pool) has a row
-- in the scope.
INSERT INTO turn_pools (scope, eligible_set, size) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING;

-- name: TurnPoolLevels
-- Over the members of eligible set $2 (and, for a team order, of team $3) who
-- have a count in scope $1: how many, their lowest and highest level, whether
-- all have finished their share of a round, and how many members have none.
SELECT count(t.user_id)::bigint, coalesce(min(t.level), 0)::bigint, coalesce(max(t.level), 0)::bigint,
       coalesce(bool_and(t.served % t.weight = 0) FILTER (WHERE t.user_id IS NOT NULL), true),
       (count(*) - count(t.user_id))::bigint
FROM eligible_sets e, unnest(e.users) AS m (user_id)
LEFT JOIN rr_turns t ON t.scope = $1 AND t.user_id = m.user_id
WHERE e.id = $2 AND ($3::text = '' OR EXISTS (SELECT 1 FROM team_members tm WHERE tm.team_id = $3 AND tm.user_id = m.user_id));

-- name: TurnPoolEnter
-- Gives every member of set $2 (of team $3) without a count in scope $1 one at
-- level $4: served = level × weight ($5 weights by ticket priority), ordered by
-- directory or team position.
INSERT INTO rr_turns (scope, user_id, served, level, weight, ord)
SELECT $1, u.id, $4 * w.weight, $4, w.weight, CASE WHEN $3::text = '' THEN u.position ELSE tm.position END
FROM eligible_sets e, unnest(e.users) AS m (user_id)
JOIN users u ON u.id = m.user_id
LEFT JOIN team_members tm ON tm.team_id = $3 AND tm.user_id = u.id
CROSS JOIN LATERAL (SELECT CASE WHEN $5::bool THEN greatest(u.ticket_priority, 1) ELSE 1 END::bigint AS weight) w
WHERE e.id = $2 AND ($3::text = '' OR tm.user_id IS NOT NULL)
ON CONFLICT (scope, user_id) DO NOTHING;

-- name: TurnNext
-- A batch of scope $8's rows in turn order (lowest level, highest weight,
-- earliest order: the scope's index, read from offset $10 for at most $11 rows),
-- each with whether its user meets the requirement ($1..$7) and, for a team
-- order, is on team $9 now, and their workload at stage $12 (status, limits and,
-- where a limit applies, open stages). The caller takes the first eligible whom
-- the workload rules do not pass over; the batch is taken from the index before
-- any user is looked at, so the plan never sorts the whole scope.
WITH batch AS (
    SELECT user_id, served, weight, ord, level FROM rr_turns WHERE scope = $8
    ORDER BY level, weight DESC, ord OFFSET $10 LIMIT $11
)
SELECT b.user_id, b.served, b.weight, b.ord,
       EXISTS (SELECT 1 FROM users u WHERE u.id = b.user_id AND {{eligible $1}}
               AND ($9::text = '' OR EXISTS (SELECT 1 FROM team_members tm WHERE tm.team_id = $9 AND tm.user_id = u.id))),
       coalesce(w.status, 'available'), coalesce(w.delegate, ''), coalesce(w.cap_total, 0), coalesce(w.cap_stage, 0),
       CASE WHEN w.cap_total > 0 THEN (SELECT count(*) FROM open_stages o WHERE o.user_id = b.user_id) ELSE 0 END::int,
       CASE WHEN w.cap_stage > 0 THEN (SELECT count(*) FROM open_stages o WHERE o.user_id = b.user_id AND o.stage = $12) ELSE 0 END::int
FROM batch b
LEFT JOIN LATERAL (
    SELECT effective_status(u.id, u.status) AS status, current_delegate(u.id) AS delegate, u.cap_total,
           CASE $12::text WHEN 'capture' THEN u.cap_capture WHEN 'review' THEN u.cap_review
                          WHEN 'acknowledge' THEN u.cap_acknowledge ELSE 0 END AS cap_stage
    FROM users u WHERE u.id = b.user_id
) w ON true
ORDER BY b.level, b.weight DESC, b.ord;

-- name: TurnLoads
-- least_loaded's view of scope $8: every member of eligible set $9 who meets the
-- requirement ($1..$7) now, with their turn row and workload at stage $10 (open
-- stages in all and at the stage). Bounded by the eligible set, not the directory.
SELECT u.id, t.served, t.weight, t.ord, effective_status(u.id, u.status), current_delegate(u.id), u.cap_total,
       CASE $10::text WHEN 'capture' THEN u.cap_capture WHEN 'review' THEN u.cap_review
                      WHEN 'acknowledge' THEN u.cap_acknowledge ELSE 0 END,
       (SELECT count(*) FROM open_stages o WHERE o.user_id = u.id)::int,
       (SELECT count(*) FROM open_stages o WHERE o.user_id = u.id AND o.stage = $10)::int
FROM eligible_sets e, unnest(e.users) AS m (user_id)
JOIN users u ON u.id = m.user_id
JOIN rr_turns t ON t.scope = $8 AND t.user_id = u.id
WHERE e.id = $9 AND {{eligible $1}}
ORDER BY t.level, t.weight DESC, t.ord;

-- name: TurnSet
INSERT INTO rr_turns (scope, user_id, served, level, weight, ord) VALUES ($1, $2, $3::bigint, $3::bigint / $4::bigint, $4::bigint, $5::bigint)
ON CONFLICT (scope, user_id) DO UPDATE SET served = excluded.served, level = excluded.level, updated_at = now();

-- name: TurnCounts
-- Each person's turns in a scope: the evidence that turns are even.
SELECT user_id, served FROM rr_turns WHERE scope = $1 ORDER BY user_id;

-- name: TurnsForget
-- A person whose directory entry changed re-enters every scope as a newcomer, so
-- regaining a permission never brings a flood of catch-up turns.
DELETE FROM rr_turns WHERE user_id = ANY($1::text[]);

-- name: TurnsCatchUp
-- A person back from away resumes each scope they have a count in at the lowest
-- level among the others there, as a newcomer would enter: the turns passed
-- over while away do not come back as a run of catch-up work.
UPDATE rr_turns t SET level = m.level, served = m.level * t.weight, updated_at = now()
FROM rr_turns self
CROSS JOIN LATERAL (
    SELECT x.level FROM rr_turns x WHERE x.scope = self.scope AND x.user_id <> self.user_id
    ORDER BY x.level LIMIT 1
) m
WHERE self.user_id = $1 AND t.scope = self.scope AND t.user_id = self.user_id AND t.level < m.level;
