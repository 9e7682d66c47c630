-- The tables these queries read and write, as the migrations leave them (a ? is
-- nullable); TestQueryFilesOpenWithTheirTablesShape holds them to the schema.
-- shape absences(user_id text, starts_at timestamptz, ends_at timestamptz, delegate text, created_by text, created_at timestamptz, started_at timestamptz?)
-- shape requirement_members(requirement_id bigint, user_id text, position bigint, from_gen bigint, to_gen bigint?)
-- shape requirements(id bigint, key text, requirement jsonb, required text[], tags_one_of text[], tags_all_of text[], state_credential boolean, state text, care_team_filter boolean, care_team text, roles text[], size integer, live boolean, used_at timestamptz, created_at timestamptz)
-- shape rr_turns(scope text, user_id text, served bigint, level bigint, weight bigint, ord bigint, updated_at timestamptz, stage text, open_total integer, open_stage integer, cap_total integer, cap_stage integer, spare integer?, away_until timestamptz?, loads boolean)
-- shape team_members(team_id text, user_id text, position integer)
-- shape turn_pending(scope text, requirement_id bigint, user_id text)
-- shape turn_pools(scope text, requirement_id bigint)
-- shape turn_scopes(scope text, updated_at timestamptz)
-- shape user_load(user_id text, position bigint, open_total integer, open_capture integer, open_review integer, open_acknowledge integer)
-- shape users(id text, name text, email text, role text, active boolean, position bigint, created_at timestamptz, updated_at timestamptz, tags text[], credentials text[], ticket_priority integer, email_notifications boolean, perms text[], tags_lc text[], credentials_lc text[], status text, cap_total integer, cap_capture integer, cap_review integer, cap_acknowledge integer, file_hash bigint?)

-- name: TurnScopeLock
-- Creates the scope's row if missing and locks it, in one round trip: holding it
-- serialises the scope's turns across workers until the transaction ends.
INSERT INTO turn_scopes (scope) VALUES ($1)
ON CONFLICT (scope) DO UPDATE SET updated_at = now();

-- name: TurnPoolHas
-- Whether scope $1 has entered the members of requirement $2.
SELECT EXISTS (SELECT 1 FROM turn_pools WHERE scope = $1 AND requirement_id = $2);

-- name: TurnPoolMark
-- Records that scope $1 has entered the members of requirement $2: from now on
-- directory changes list the people it still has to enter in turn_pending.
INSERT INTO turn_pools (scope, requirement_id) VALUES ($1, $2) ON CONFLICT DO NOTHING;

-- name: TurnPendingTake
-- The people scope $1 still has to enter for requirement $2, taken off the list.
DELETE FROM turn_pending WHERE scope = $1 AND requirement_id = $2 RETURNING user_id;

-- name: TurnPendingPeek
-- The people scope $1 still has to enter for requirement $2, left on the list
-- (a decision that may not wait for them: People.NeverWait).
SELECT user_id FROM turn_pending WHERE scope = $1 AND requirement_id = $2;

-- name: TurnPendingAdd
-- After people $1 changed or joined requirements: each one who meets a
-- requirement that a scope has a pool for, and has no count in that scope, is
-- listed for the scope to enter at its next decision under the requirement.
INSERT INTO turn_pending (scope, requirement_id, user_id)
SELECT p.scope, p.requirement_id, m.user_id
FROM requirement_members m
JOIN turn_pools p ON p.requirement_id = m.requirement_id
WHERE m.user_id = ANY ($1::text[]) AND m.to_gen IS NULL
  AND NOT EXISTS (SELECT 1 FROM rr_turns t WHERE t.scope = p.scope AND t.user_id = m.user_id)
ON CONFLICT DO NOTHING;

-- name: TurnPendingRepair
-- After requirement $1 became live again: every member its pools have not
-- entered is listed for them.
INSERT INTO turn_pending (scope, requirement_id, user_id)
SELECT p.scope, p.requirement_id, m.user_id
FROM turn_pools p
JOIN requirement_members m ON m.requirement_id = p.requirement_id AND m.to_gen IS NULL
WHERE p.requirement_id = $1
  AND NOT EXISTS (SELECT 1 FROM rr_turns t WHERE t.scope = p.scope AND t.user_id = m.user_id)
ON CONFLICT DO NOTHING;

-- name: TurnLevels
-- Over the members of @requirement_id (and, for a team order, of @team) who
-- have a count in @scope: the lowest and highest level (NULL when nobody has
-- one), each read from one end of the scope's index.
SELECT (SELECT t.level FROM rr_turns t WHERE t.scope = @scope AND {{turnmember}} ORDER BY t.level LIMIT 1),
       (SELECT t.level FROM rr_turns t WHERE t.scope = @scope AND {{turnmember}} ORDER BY t.level DESC LIMIT 1);

-- name: TurnPartWay
-- Whether anyone counted at @level among those members is part-way through
-- their share of a round (weighted round robin): asked only when everyone is at
-- one level, from the index of those part-way.
SELECT EXISTS (SELECT 1 FROM rr_turns t WHERE t.scope = @scope AND t.level = @level AND t.served % t.weight <> 0 AND {{turnmember}});

-- name: fragment TurnMember
-- Whether rr_turns row t is a current member of @requirement_id and, when
-- @team is not '', of that team. Included bare. Each is a probe of one key (a
-- scalar subquery with LIMIT 1, which the planner never turns into a scan of
-- every member hashed, as it may an EXISTS).
coalesce((SELECT true FROM requirement_members rm WHERE rm.requirement_id = @requirement_id AND rm.user_id = t.user_id AND rm.to_gen IS NULL LIMIT 1), false)
AND (@team::text = '' OR coalesce((SELECT true FROM team_members tm WHERE tm.team_id = @team AND tm.user_id = t.user_id LIMIT 1), false))

-- name: TurnEnter
-- Gives the members of requirement @requirement_id (of @team, when not ''; of
-- @only only, unless NULL) with no count in @scope one at @level: served =
-- level × weight (@weighted: weights by ticket priority), ordered by directory
-- or team position, with their load and limits at the scope's @stage ('' for a
-- team's scope), keeping copies of their counts when @loads (least_loaded).
-- Their load rows are locked first, in one order, so a completion cannot move
-- a count between the read and the insert.
WITH load AS (
    SELECT l.user_id, l.open_total,
           CASE @stage::text WHEN 'capture' THEN l.open_capture WHEN 'review' THEN l.open_review
                         WHEN 'acknowledge' THEN l.open_acknowledge ELSE 0 END AS open_stage
    FROM user_load l
    WHERE l.user_id IN (
        SELECT m.user_id FROM requirement_members m
        WHERE m.requirement_id = @requirement_id AND m.to_gen IS NULL AND (@only::text[] IS NULL OR m.user_id = ANY (@only::text[]))
          AND (@team::text = '' OR EXISTS (SELECT 1 FROM team_members x WHERE x.team_id = @team AND x.user_id = m.user_id))
          AND NOT EXISTS (SELECT 1 FROM rr_turns t WHERE t.scope = @scope AND t.user_id = m.user_id))
    ORDER BY l.user_id
    FOR UPDATE
)
INSERT INTO rr_turns (scope, user_id, served, level, weight, ord, stage, open_total, open_stage, cap_total, cap_stage, away_until, loads)
SELECT @scope, u.id, @level * w.weight, @level, w.weight, CASE WHEN @team::text = '' THEN u.position ELSE tm.position END, @stage,
       l.open_total, l.open_stage, u.cap_total,
       CASE @stage::text WHEN 'capture' THEN u.cap_capture WHEN 'review' THEN u.cap_review
                     WHEN 'acknowledge' THEN u.cap_acknowledge ELSE 0 END,
       {{awayuntil}}, @loads
FROM load l
JOIN users u ON u.id = l.user_id
LEFT JOIN team_members tm ON tm.team_id = @team AND tm.user_id = l.user_id
CROSS JOIN LATERAL (SELECT CASE WHEN @weighted::bool THEN greatest(u.ticket_priority, 1) ELSE 1 END::bigint AS weight) w
WHERE @team::text = '' OR tm.user_id IS NOT NULL
ON CONFLICT (scope, user_id) DO NOTHING;

-- name: fragment TurnRow
-- The columns a turn order reads for row b of a scope's batch: whether its
-- user is a current member of @requirement_id (and of @team), and their
-- workload at @stage (status, delegate, limits, open stages), from user_load
-- and the user's row, each membership a probe of one key (see TurnMember).
-- Included bare after SELECT b.user_id, b.served, b.weight, b.ord,.
coalesce((SELECT true FROM requirement_members m WHERE m.requirement_id = @requirement_id AND m.user_id = b.user_id AND m.to_gen IS NULL LIMIT 1), false)
    AND (@team::text = '' OR coalesce((SELECT true FROM team_members tm WHERE tm.team_id = @team AND tm.user_id = b.user_id LIMIT 1), false)),
coalesce({{effectivestatus}}, 'available'), coalesce({{currentdelegate}}, ''),
coalesce(u.cap_total, 0),
coalesce(CASE @stage::text WHEN 'capture' THEN u.cap_capture WHEN 'review' THEN u.cap_review
                       WHEN 'acknowledge' THEN u.cap_acknowledge ELSE 0 END, 0),
coalesce(l.open_total, 0),
coalesce(CASE @stage::text WHEN 'capture' THEN l.open_capture WHEN 'review' THEN l.open_review
                       WHEN 'acknowledge' THEN l.open_acknowledge ELSE 0 END, 0)

-- name: fragment TurnBatchFrom
-- The FROM clause of a turn batch b, with its people's rows as u and their
-- load as l, which TurnRow reads.
FROM batch b
LEFT JOIN users u ON u.id = b.user_id
LEFT JOIN user_load l ON l.user_id = b.user_id

-- name: fragment AwayUntil
-- Until when user u is out of turn for being away: NULL while their work has
-- somewhere to go (available, or away with a delegate, who takes their turns),
-- 'infinity' for a status they set, an absence's end for an absence.
CASE WHEN {{currentdelegate}} <> '' THEN NULL
     WHEN u.status <> 'available' THEN 'infinity'::timestamptz
     ELSE (SELECT max(a.ends_at) FROM absences a WHERE a.user_id = u.id AND a.starts_at <= now() AND now() < a.ends_at) END

-- name: TurnNext
-- A batch of @scope's rows in turn order (lowest level, highest weight,
-- earliest order) among those in turn (not away, not full: the index of those
-- in turn, read from @offset for at most @limit rows), each with the TurnRow
-- columns (for @requirement_id, @team, @stage). The caller takes the first
-- eligible whom the workload rules do not pass over; the batch is taken from
-- the index before any user is looked at, so the plan never sorts the whole
-- scope.
WITH batch AS (
    SELECT user_id, served, weight, ord, level FROM rr_turns WHERE scope = @scope AND away_until IS NULL AND spare > 0
    ORDER BY level, weight DESC, ord OFFSET @offset LIMIT @limit
)
SELECT b.user_id, b.served, b.weight, b.ord, 0, 0, {{turnrow}}
{{turnbatchfrom}}
ORDER BY b.level, b.weight DESC, b.ord;

-- name: TurnNextEvenIfAway
-- TurnNext for a stage that assigns even when nobody is available: everyone not
-- full, away or not, in turn order.
WITH batch AS (
    SELECT user_id, served, weight, ord, level FROM rr_turns WHERE scope = @scope AND spare > 0
    ORDER BY level, weight DESC, ord OFFSET @offset LIMIT @limit
)
SELECT b.user_id, b.served, b.weight, b.ord, 0, 0, {{turnrow}}
{{turnbatchfrom}}
ORDER BY b.level, b.weight DESC, b.ord;

-- name: TurnLeastLoaded
-- least_loaded's batch of @scope: rows in turn in the order of its index
-- (fewest open stages, most spare capacity at the scope's stage, then turn
-- order), from @offset for at most @limit rows, each with the load the row
-- holds (to check against the live load) and the TurnRow columns.
WITH batch AS (
    SELECT user_id, served, weight, ord, level, open_total, spare FROM rr_turns
    WHERE scope = @scope AND away_until IS NULL AND spare > 0
    ORDER BY open_total, spare DESC, level, weight DESC, ord, user_id OFFSET @offset LIMIT @limit
)
SELECT b.user_id, b.served, b.weight, b.ord, b.open_total, b.spare, {{turnrow}}
{{turnbatchfrom}}
ORDER BY b.open_total, b.spare DESC, b.level, b.weight DESC, b.ord, b.user_id;

-- name: TurnOutOfTurn
-- The members of @requirement_id (of @team) out of turn in @scope (away, or
-- full; only full when @even_if_away, a stage that assigns even if away)
-- ahead, in turn order, of the pick's @level, @weight and @ord (the largest
-- values for everyone), at most @limit from @offset, with the TurnRow columns:
-- to say who was passed over and why. The index of those out of turn is read
-- from the scope's lowest level to the pick's, and no further.
WITH batch AS (
    SELECT t.user_id, t.served, t.weight, t.ord, t.level, t.open_total, t.spare FROM rr_turns t
    WHERE t.scope = @scope AND (t.away_until IS NOT NULL OR t.spare = 0) AND (NOT @even_if_away::bool OR t.spare = 0)
      AND t.level <= @level::bigint AND (t.level, -t.weight, t.ord) < (@level::bigint, -@weight::bigint, @ord::bigint)
      AND {{turnmember}}
    ORDER BY t.level, t.weight DESC, t.ord OFFSET @offset LIMIT @limit
)
SELECT b.user_id, b.served, b.weight, b.ord, b.open_total, b.spare, {{turnrow}}
{{turnbatchfrom}}
ORDER BY b.level, b.weight DESC, b.ord;

-- name: TurnOutOfTurnAny
-- Whether scope $1 has anyone out of turn (away or full), from their index:
-- when nobody is, a decision does not look for them.
SELECT EXISTS (SELECT 1 FROM rr_turns t WHERE t.scope = $1 AND (t.away_until IS NOT NULL OR t.spare = 0));

-- name: TurnOutOfTurnLeastLoaded
-- TurnOutOfTurn in least_loaded's order: those out of turn ahead of the
-- pick's @open stages, @spare, @level, @weight, @ord and @user_id.
WITH batch AS (
    SELECT t.user_id, t.served, t.weight, t.ord, t.level, t.open_total, t.spare FROM rr_turns t
    WHERE t.scope = @scope AND (t.away_until IS NOT NULL OR t.spare = 0) AND (NOT @even_if_away::bool OR t.spare = 0)
      AND t.open_total <= @open::int
      AND (t.open_total, -t.spare, t.level, -t.weight, t.ord, t.user_id)
          < (@open::int, -@spare::int, @level::bigint, -@weight::bigint, @ord::bigint, @user_id::text)
      AND {{turnmember}}
    ORDER BY t.open_total, t.spare DESC, t.level, t.weight DESC, t.ord, t.user_id OFFSET @offset LIMIT @limit
)
SELECT b.user_id, b.served, b.weight, b.ord, b.open_total, b.spare, {{turnrow}}
{{turnbatchfrom}}
ORDER BY b.open_total, b.spare DESC, b.level, b.weight DESC, b.ord, b.user_id;

-- name: TurnAwayExpire
-- The rows of scope $1 whose absence has ended come back into turn (or stay
-- out, should another absence have begun). A row another decision holds is
-- left for the next decision: this never waits.
WITH ended AS (
    SELECT t.scope, t.user_id FROM rr_turns t
    WHERE t.scope = $1 AND t.away_until < now()
    FOR UPDATE SKIP LOCKED
)
UPDATE rr_turns t SET away_until = {{awayuntil}}
FROM ended e JOIN users u ON u.id = e.user_id
WHERE t.scope = e.scope AND t.user_id = e.user_id;

-- name: TurnScopeWithoutLoads
-- Whether scope $1 has rows that keep no copy of their counts (entered by a
-- round robin): least_loaded, ordering by them, copies them first.
SELECT EXISTS (SELECT 1 FROM rr_turns WHERE scope = $1 AND NOT loads);

-- name: TurnScopeLoadsOn
-- Makes every row of scope $1 keep a copy of its person's counts, copied now
-- (their load rows locked, in one order): once, when least_loaded first reads
-- a scope a round robin entered.
WITH l AS (
    SELECT * FROM user_load WHERE user_id IN (SELECT user_id FROM rr_turns WHERE scope = $1 AND NOT loads)
    ORDER BY user_id FOR UPDATE
)
UPDATE rr_turns t SET loads = true, open_total = l.open_total,
    open_stage = CASE t.stage WHEN 'capture' THEN l.open_capture WHEN 'review' THEN l.open_review
                              WHEN 'acknowledge' THEN l.open_acknowledge ELSE 0 END
FROM l WHERE t.scope = $1 AND t.user_id = l.user_id;

-- name: TurnLoadSync
-- Copies persons $1's load, limits and whether they are away from user_load and
-- their user rows into every turn row of theirs (their load rows locked, in
-- one order, so no count moves meanwhile): after their limits or status
-- changed, an absence began, or a read found a row out of step.
WITH l AS (
    SELECT * FROM user_load WHERE user_id = ANY ($1::text[]) ORDER BY user_id FOR UPDATE
)
UPDATE rr_turns t SET open_total = l.open_total,
    open_stage = CASE t.stage WHEN 'capture' THEN l.open_capture WHEN 'review' THEN l.open_review
                              WHEN 'acknowledge' THEN l.open_acknowledge ELSE 0 END,
    cap_total = u.cap_total,
    cap_stage = CASE t.stage WHEN 'capture' THEN u.cap_capture WHEN 'review' THEN u.cap_review
                             WHEN 'acknowledge' THEN u.cap_acknowledge ELSE 0 END,
    away_until = {{awayuntil}}
FROM l JOIN users u ON u.id = l.user_id
WHERE t.user_id = l.user_id;

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

-- name: TurnsLeaveTeam
-- People $2 who left team $1 leave its turn orders (under every policy,
-- team/POLICY/TEAM): no decision reads past their rows, and should they join
-- again they enter as newcomers, never with a run of catch-up turns.
DELETE FROM rr_turns
WHERE user_id = ANY ($2::text[]) AND scope LIKE 'team/%' AND right(scope, length($1) + 1) = '/' || $1;

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
