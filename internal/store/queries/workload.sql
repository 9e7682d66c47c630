-- The tables these queries read and write, as the migrations leave them (a ? is
-- nullable); TestQueryFilesOpenWithTheirTablesShape holds them to the schema.
-- shape absences(user_id text, starts_at timestamptz, ends_at timestamptz, delegate text, created_by text, created_at timestamptz, started_at timestamptz?)
-- shape backlog(workflow_id text, stage text, claim_id text, seq integer, priority integer, queue text, queued_at timestamptz, lease_until timestamptz?, requirement_id bigint)
-- shape decisions(workflow_id text, stage text, seq integer, claim_id text, method text, assignee text?, actor text?, reason text, policy_version text, body jsonb, created_at timestamptz, requirement jsonb?, candidates text[]?, rule_trace jsonb?, decided_seq integer?, requirement_id bigint?, generation bigint?, rule_record jsonb?)
-- shape open_stages(workflow_id text, stage text, claim_id text, user_id text, seq integer, assigned_at timestamptz, move_reason text?, move_absence boolean)
-- shape requirement_members(requirement_id bigint, user_id text, position bigint, from_gen bigint, to_gen bigint?)
-- shape requirements(id bigint, key text, requirement jsonb, required text[], tags_one_of text[], tags_all_of text[], state_credential boolean, state text, care_team_filter boolean, care_team text, roles text[], size integer, live boolean, used_at timestamptz, created_at timestamptz)
-- shape rr_turns(scope text, user_id text, served bigint, level bigint, weight bigint, ord bigint, updated_at timestamptz, stage text, open_total integer, open_stage integer, cap_total integer, cap_stage integer, spare integer?, away_until timestamptz?, loads boolean)
-- shape sweep_cursors(name text, at timestamptz)
-- shape user_load(user_id text, position bigint, open_total integer, open_capture integer, open_review integer, open_acknowledge integer)
-- shape users(id text, name text, email text, role text, active boolean, position bigint, created_at timestamptz, updated_at timestamptz, tags text[], credentials text[], ticket_priority integer, email_notifications boolean, perms text[], tags_lc text[], credentials_lc text[], status text, cap_total integer, cap_capture integer, cap_review integer, cap_acknowledge integer, file_hash bigint?)

-- name: OpenStageSet
-- The stage's holder after a recorded decision ($4 the assignee; '' removes the
-- row: the stage went back to its queue). A later seq always wins. The holders'
-- counts move with it (the LoadMove fragment). old is the row as the
-- statement found it (every part of one statement reads one snapshot): only
-- the claim's own workflow writes its stage's row, one step at a time.
WITH old AS (
    SELECT user_id FROM open_stages WHERE workflow_id = $1 AND stage = $2
), gone AS (
    DELETE FROM open_stages WHERE workflow_id = $1 AND stage = $2 AND seq <= $5 AND $4 = '' RETURNING user_id
), put AS (
    INSERT INTO open_stages (workflow_id, stage, claim_id, user_id, seq)
    SELECT $1, $2, $3, $4, $5 WHERE $4 <> ''
    ON CONFLICT (workflow_id, stage) DO UPDATE
    SET user_id = excluded.user_id, seq = excluded.seq, assigned_at = now(), move_reason = NULL, move_absence = false
    WHERE open_stages.seq <= excluded.seq
    RETURNING user_id
), moved AS (
    SELECT user_id, -1 AS d FROM gone
    UNION ALL SELECT o.user_id, -1 FROM old o WHERE EXISTS (SELECT 1 FROM put)
    UNION ALL SELECT user_id, 1 FROM put
), {{loadmove}};

-- name: OpenStageClose
-- A completed stage is no longer anyone's open work; its holder's counts move
-- with it.
WITH moved AS (
    DELETE FROM open_stages WHERE workflow_id = $1 AND stage = $2 RETURNING user_id, -1 AS d
), {{loadmove}};

-- name: fragment EffectiveStatus
-- The status of user u now: 'away' during an absence, else the one they set.
-- Written out, not the effective_status SQL function: a function whose body
-- holds a sub-select is never inlined, and PostgreSQL plans its body again in
-- every statement that calls it (a turn batch took 0.4 ms, not 0.1).
CASE WHEN EXISTS (SELECT 1 FROM absences a WHERE a.user_id = u.id AND a.starts_at <= now() AND now() < a.ends_at)
     THEN 'away' ELSE u.status END

-- name: fragment CurrentDelegate
-- The delegate of user u's absence now, or '' (see EffectiveStatus).
coalesce((SELECT a.delegate FROM absences a WHERE a.user_id = u.id AND a.starts_at <= now() AND now() < a.ends_at
          ORDER BY a.starts_at DESC LIMIT 1), '')

-- name: fragment LoadMove
-- The tail of a statement whose CTE moved (user_id, d) lists the open stages it
-- added (+1) and removed (-1) at stage $2: each person's counts in user_load
-- move by their net change, and every turn row of theirs that keeps a copy
-- (least_loaded's index; a limited person's rows, whether they are full)
-- takes the new counts. The counts are moved, not recounted, so concurrent
-- transactions cannot lose each other's changes: each waits for the other's
-- user_load row.
net AS (
    SELECT user_id, sum(d)::int AS d FROM moved GROUP BY user_id HAVING sum(d) <> 0
), load AS (
    UPDATE user_load l SET open_total = l.open_total + n.d,
        open_capture = l.open_capture + CASE WHEN $2 = 'capture' THEN n.d ELSE 0 END,
        open_review = l.open_review + CASE WHEN $2 = 'review' THEN n.d ELSE 0 END,
        open_acknowledge = l.open_acknowledge + CASE WHEN $2 = 'acknowledge' THEN n.d ELSE 0 END
    FROM net n WHERE l.user_id = n.user_id
    RETURNING l.*
)
UPDATE rr_turns t SET open_total = load.open_total,
    open_stage = CASE t.stage WHEN 'capture' THEN load.open_capture WHEN 'review' THEN load.open_review
                              WHEN 'acknowledge' THEN load.open_acknowledge ELSE 0 END
FROM load WHERE t.user_id = load.user_id AND (t.loads OR t.cap_total > 0 OR t.cap_stage > 0)

-- name: UserWorkload
-- A person's status, limits and open stages, in all and at stage $2.
SELECT {{effectivestatus}}, {{currentdelegate}}, u.cap_total, u.cap_capture, u.cap_review, u.cap_acknowledge,
       coalesce(l.open_total, 0),
       coalesce(CASE $2::text WHEN 'capture' THEN l.open_capture WHEN 'review' THEN l.open_review
                              WHEN 'acknowledge' THEN l.open_acknowledge ELSE 0 END, 0)
FROM users u LEFT JOIN user_load l ON l.user_id = u.id WHERE u.id = $1;

-- name: UserWorkloadLock
-- Locks a limited person's row until the transaction ends: concurrent decisions
-- that might fill their last slot take it one at a time. The counts are read
-- after, in a statement of their own, so they see what the decision that held
-- the lock before committed. Returns whether they are still active.
SELECT active FROM users WHERE id = $1 FOR UPDATE;

-- name: UserWorkloadLockSkip
-- UserWorkloadLock that skips a row another transaction holds (no row).
SELECT active FROM users WHERE id = $1 FOR UPDATE SKIP LOCKED;

-- name: UserHoldShareSkip
-- UserHoldShare that skips a row another transaction holds exclusively.
SELECT u.active, {{effectivestatus}} FROM users u WHERE u.id = $1 FOR SHARE SKIP LOCKED;

-- name: UserExists
SELECT EXISTS (SELECT 1 FROM users WHERE id = $1);

-- name: LoadsLockSkip
-- Locks the row of stage $3 of workflow $2 and the load rows of person $1 and
-- of the stage's holder (whose counts a decision moves), in one order,
-- skipping any another transaction holds: whether it locked them all. A
-- batch's later decision takes them so and never waits while it holds the
-- rows of the decisions before it: a deactivation marking the stages it moves
-- would wait for it in turn.
WITH stage AS (
    SELECT user_id FROM open_stages WHERE workflow_id = $2 AND stage = $3
), stage_locked AS (
    SELECT user_id FROM open_stages WHERE workflow_id = $2 AND stage = $3 FOR UPDATE SKIP LOCKED
), wanted AS (
    SELECT user_id FROM user_load WHERE user_id = $1 OR user_id = (SELECT user_id FROM stage)
), locked AS (
    SELECT user_id FROM user_load WHERE user_id IN (SELECT user_id FROM wanted) ORDER BY user_id FOR UPDATE SKIP LOCKED
)
SELECT (SELECT count(*) FROM wanted) = (SELECT count(*) FROM locked)
   AND (SELECT count(*) FROM stage) = (SELECT count(*) FROM stage_locked);

-- name: UserHoldShare
-- Locks the row of a person without limits until the transaction ends, shared
-- with other decisions but not with a deactivation or a status change, which
-- wait for this decision to commit (and then see the stage it gives them) or
-- commit first (and then this reads what they wrote): whether the person is
-- still active, and their status.
SELECT u.active, {{effectivestatus}} FROM users u WHERE u.id = $1 FOR SHARE;

-- name: UserOpenByStage
-- How many stages a person holds open at each stage.
SELECT s.stage, s.n FROM user_load l
CROSS JOIN LATERAL (VALUES ('capture', l.open_capture), ('review', l.open_review), ('acknowledge', l.open_acknowledge)) AS s (stage, n)
WHERE l.user_id = $1 AND s.n > 0;

-- name: UserStatusSet
-- Sets a person's status; returns the one it had, or no row for an unknown user.
WITH old AS (SELECT status FROM users WHERE id = $1 FOR UPDATE)
UPDATE users u SET status = $2, file_hash = NULL, updated_at = now() FROM old WHERE u.id = $1
RETURNING old.status;

-- name: BacklogSet
-- After a stage decision: a stage waiting because everyone eligible was away or
-- full (@waits) joins the backlog of its requirement, keeping its first queued
-- time (a claim waiting keeps its age) and losing any lease; any other decision
-- takes it out.
WITH gone AS (
    DELETE FROM backlog WHERE workflow_id = @workflow_id AND stage = @stage AND NOT @waits::bool
)
INSERT INTO backlog (workflow_id, stage, claim_id, seq, priority, requirement_id, queue)
SELECT @workflow_id, @stage, @claim_id, @seq, @priority, @requirement_id, @queue WHERE @waits::bool
ON CONFLICT (workflow_id, stage) DO UPDATE
SET seq = excluded.seq, priority = excluded.priority, requirement_id = excluded.requirement_id, queue = excluded.queue,
    lease_until = NULL;

-- name: BacklogDrop
-- A stage that got an assignee, or was completed, no longer waits.
DELETE FROM backlog WHERE workflow_id = $1 AND stage = $2;

-- name: BacklogTake
-- Leases the $2 backlog stages person $1 is eligible for, highest priority then
-- oldest, not already leased: the claims to nudge now a slot of theirs is free.
-- The requirements they meet now come from their own rows; each requirement's
-- backlog is read from its index, so the cost follows the backlog and the
-- person, not the directory's history.
WITH pick AS (
    SELECT b.workflow_id, b.stage FROM backlog b
    WHERE b.requirement_id IN (SELECT m.requirement_id FROM requirement_members m WHERE m.user_id = $1 AND m.to_gen IS NULL)
      AND (b.lease_until IS NULL OR b.lease_until < now())
    ORDER BY b.priority DESC, b.queued_at
    LIMIT $2
    FOR UPDATE OF b SKIP LOCKED
)
UPDATE backlog b SET lease_until = now() + interval '2 minutes'
FROM pick WHERE b.workflow_id = pick.workflow_id AND b.stage = pick.stage
RETURNING b.workflow_id;

-- name: UserActiveSet
-- Deactivates or reactivates a person; returns whether they were active, or no
-- row for an unknown user.
WITH old AS (SELECT active FROM users WHERE id = $1 FOR UPDATE)
UPDATE users u SET active = $2, file_hash = NULL, updated_at = now() FROM old WHERE u.id = $1
RETURNING old.active;

-- name: OpenStagesOf
-- The claims a person holds a stage of, oldest first.
SELECT workflow_id FROM open_stages WHERE user_id = $1 ORDER BY assigned_at, workflow_id;

-- name: OpenStagesMoveOff
-- Marks every stage the people $1 hold to be moved off them, each for the
-- reason beside them in $2 ($3: an absence began), in one statement however
-- many, and returns each one's claims, oldest first.
WITH marked AS (
    UPDATE open_stages o SET move_reason = r.reason, move_absence = $3
    FROM unnest($1::text[], $2::text[]) AS r(user_id, reason)
    WHERE o.user_id = r.user_id
    RETURNING o.user_id, o.workflow_id, o.assigned_at
)
SELECT user_id, workflow_id FROM marked ORDER BY user_id, assigned_at, workflow_id;

-- name: StageMove
-- Why stage $2 of workflow $1 is to be moved off person $3: no row when it is
-- not theirs, or not marked.
SELECT move_reason, move_absence FROM open_stages
WHERE workflow_id = $1 AND stage = $2 AND user_id = $3 AND move_reason IS NOT NULL;

-- name: AbsenceAdd
-- An out-of-office period; one starting at the same time replaces it.
INSERT INTO absences (user_id, starts_at, ends_at, delegate, created_by) VALUES ($1, $2, $3, $4, $5)
ON CONFLICT (user_id, starts_at) DO UPDATE SET ends_at = excluded.ends_at, delegate = excluded.delegate,
    created_by = excluded.created_by, created_at = now();

-- name: AbsenceList
-- A person's absences not yet over, soonest first.
SELECT starts_at, ends_at, delegate FROM absences WHERE user_id = $1 AND ends_at > now() ORDER BY starts_at;

-- name: OpenStagesByStage
SELECT stage, count(*)::int FROM open_stages GROUP BY stage;

-- name: OpenStagesTop
-- The people holding the most open stages: a bounded label set for the metrics.
SELECT user_id, open_total FROM user_load WHERE open_total > 0 ORDER BY (-open_total), position LIMIT $1;

-- name: BacklogByQueue
-- The backlog's size and its oldest wait, by queue and stage.
SELECT queue, stage, count(*)::int, extract(epoch FROM now() - min(queued_at))::float8 FROM backlog GROUP BY queue, stage;

-- name: TeamPage
-- A page of active people with their status, limits and open stages, the most
-- loaded first, then in directory order: the admins' team view. Keyset pages
-- after ($1 open stages, $2 position), read from user_load's index whatever the
-- directory's size; people who left are skipped as the index is read.
SELECT u.id, u.name, {{effectivestatus}}, u.cap_total, l.open_total, l.position
FROM user_load l JOIN users u ON u.id = l.user_id
WHERE u.active AND ((-l.open_total), l.position) > (-$1::int, $2::bigint)
ORDER BY (-l.open_total), l.position
LIMIT $3;

-- name: AbsencesStart
-- Marks the absences that have begun and were not yet acted on, and returns
-- each person and the end (the latest, should two begin at once).
WITH started AS (
    UPDATE absences SET started_at = now()
    WHERE started_at IS NULL AND starts_at <= now() AND ends_at > now()
    RETURNING user_id, ends_at
)
SELECT user_id, max(ends_at) FROM started GROUP BY user_id;

-- name: BacklogStale
-- Leases the $1 highest-priority, oldest backlog stages that nobody holds a
-- lease on and that someone could take now: the sweeper's nudge, so a stage
-- whose nudge was lost is never left waiting for good, and a stage nobody can
-- take is not decided again for nothing. Each requirement waited on is checked
-- once, not once per stage, and from the turn orders that entered its
-- members: someone in turn (available, or away with a delegate, with room at
-- the stage), someone whose absence has ended since the order last looked, or
-- someone the order has still to enter, each read from an index, so the check
-- costs the same however many are full. A requirement no turn order entered
-- (its decisions read no turns) is checked member by member: an active,
-- available member under their total limit.
WITH reqs AS (
    SELECT DISTINCT b.requirement_id FROM backlog b
    WHERE (b.lease_until IS NULL OR b.lease_until < now()) AND b.queued_at < now() - interval '10 seconds'
), able AS (
    SELECT r.requirement_id FROM reqs r
    WHERE EXISTS (
        SELECT 1 FROM turn_pools p
        WHERE p.requirement_id = r.requirement_id
          AND (EXISTS (SELECT 1 FROM rr_turns t
                       WHERE t.scope = p.scope AND t.away_until IS NULL AND t.spare > 0
                         AND EXISTS (SELECT 1 FROM requirement_members rm
                                     WHERE rm.requirement_id = r.requirement_id AND rm.user_id = t.user_id AND rm.to_gen IS NULL))
               OR EXISTS (SELECT 1 FROM rr_turns t
                          WHERE t.scope = p.scope AND t.away_until < now() AND t.spare > 0
                            AND EXISTS (SELECT 1 FROM requirement_members rm
                                        WHERE rm.requirement_id = r.requirement_id AND rm.user_id = t.user_id AND rm.to_gen IS NULL))
               OR EXISTS (SELECT 1 FROM turn_pending tp WHERE tp.scope = p.scope AND tp.requirement_id = r.requirement_id)))
    OR (NOT EXISTS (SELECT 1 FROM turn_pools p WHERE p.requirement_id = r.requirement_id)
        AND EXISTS (
            SELECT 1 FROM requirement_members m
            JOIN user_load l ON l.user_id = m.user_id
            JOIN users u ON u.id = m.user_id
            WHERE m.requirement_id = r.requirement_id AND m.to_gen IS NULL AND u.active
              AND (u.cap_total = 0 OR l.open_total < u.cap_total) AND {{effectivestatus}} = 'available'))
), pick AS (
    SELECT b.workflow_id, b.stage FROM backlog b
    WHERE b.requirement_id IN (SELECT requirement_id FROM able)
      AND (b.lease_until IS NULL OR b.lease_until < now()) AND b.queued_at < now() - interval '10 seconds'
    ORDER BY b.priority DESC, b.queued_at
    LIMIT $1
    FOR UPDATE OF b SKIP LOCKED
)
UPDATE backlog b SET lease_until = now() + interval '2 minutes'
FROM pick WHERE b.workflow_id = pick.workflow_id AND b.stage = pick.stage
RETURNING b.workflow_id;

-- name: SweepLock
-- Whether this transaction may sweep: one sweeper at a time across workers,
-- per schema (two deployments sharing a database each sweep their own
-- backlog, and so do tests running side by side).
SELECT pg_try_advisory_xact_lock(7046217, hashtext(current_schema()));

-- name: OpenStagesOfClaim
-- The stages of workflow $1 someone holds open.
SELECT stage FROM open_stages WHERE workflow_id = $1;

-- name: BacklogDropClaim
-- Workflow $1's stages leave the backlog.
DELETE FROM backlog WHERE workflow_id = $1;

-- name: SweepCursor
-- How far sweep $1 has looked (no row: not yet).
SELECT at FROM sweep_cursors WHERE name = $1;

-- name: SweepCursorSet
-- Sweep $1 has looked as far as $2 (never back).
INSERT INTO sweep_cursors (name, at) VALUES ($1, $2)
ON CONFLICT (name) DO UPDATE SET at = greatest(sweep_cursors.at, excluded.at);
