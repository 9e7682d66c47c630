-- name: TurnScopeLock
-- Creates the scope's row if missing and locks it, in one round trip: holding it
-- serialises the scope's turns across workers until the transaction ends.
INSERT INTO turn_scopes (scope) VALUES ($1)
ON CONFLICT (scope) DO UPDATE SET updated_at = now();

-- name: TurnView
-- The scope's turn state over the users who meet the requirement ($1..$7) and, for
-- a team order ($10), belong to the team: aggregates over those with a count, the
-- counted one with the lowest level (turns / weight), and the first newcomer.
-- $9 weights by ticket priority. Bounded output, however many are eligible.
WITH pool AS (
    SELECT u.id,
           CASE WHEN $10::text = '' THEN u.position ELSE m.position END::bigint AS ord,
           CASE WHEN $9::bool THEN greatest(u.ticket_priority, 1) ELSE 1 END::bigint AS w,
           t.served
    FROM users u
    LEFT JOIN team_members m ON m.team_id = $10::text AND m.user_id = u.id
    LEFT JOIN rr_turns t ON t.scope = $8 AND t.user_id = u.id
    WHERE {{eligible $1}} AND ($10::text = '' OR m.user_id IS NOT NULL)
), stats AS (
    SELECT count(*)::bigint AS n, count(served)::bigint AS counted,
           coalesce(min(served / w), 0)::bigint AS minl, coalesce(max(served / w), 0)::bigint AS maxl,
           coalesce(bool_and(served % w = 0) FILTER (WHERE served IS NOT NULL), true) AS complete
    FROM pool
), best_counted AS (
    SELECT id, ord, w, served FROM pool WHERE served IS NOT NULL ORDER BY served / w, w DESC, ord LIMIT 1
), best_new AS (
    SELECT id, ord, w FROM pool WHERE served IS NULL ORDER BY w DESC, ord LIMIT 1
)
SELECT s.n, s.counted, s.minl, s.maxl, s.complete,
       c.id, c.ord, c.w, c.served, b.id, b.ord, b.w
FROM stats s LEFT JOIN best_counted c ON true LEFT JOIN best_new b ON true;

-- name: TurnSet
INSERT INTO rr_turns (scope, user_id, served) VALUES ($1, $2, $3)
ON CONFLICT (scope, user_id) DO UPDATE SET served = excluded.served, updated_at = now();

-- name: TurnCounts
-- Each person's turns in a scope: the evidence that turns are even.
SELECT user_id, served FROM rr_turns WHERE scope = $1 ORDER BY user_id;

-- name: TurnsForget
-- A person whose directory entry changed re-enters every scope as a newcomer, so
-- regaining a permission never brings a flood of catch-up turns.
DELETE FROM rr_turns WHERE user_id = ANY($1::text[]);
