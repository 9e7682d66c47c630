-- name: OpenStageSet
-- The stage's holder after a recorded decision ($4 the assignee; '' removes the
-- row: the stage went back to its queue). A later seq always wins.
WITH gone AS (
    DELETE FROM open_stages WHERE workflow_id = $1 AND stage = $2 AND seq <= $5 AND $4 = ''
)
INSERT INTO open_stages (workflow_id, stage, claim_id, user_id, seq)
SELECT $1, $2, $3, $4, $5 WHERE $4 <> ''
ON CONFLICT (workflow_id, stage) DO UPDATE
SET user_id = excluded.user_id, seq = excluded.seq, assigned_at = now()
WHERE open_stages.seq <= excluded.seq;

-- name: OpenStageClose
-- A completed stage is no longer anyone's open work.
DELETE FROM open_stages WHERE workflow_id = $1 AND stage = $2;

-- name: UserWorkload
-- A person's status, limits and open stages, in all and at stage $2.
SELECT effective_status(u.id, u.status), current_delegate(u.id), u.cap_total, u.cap_capture, u.cap_review, u.cap_acknowledge,
       (SELECT count(*) FROM open_stages o WHERE o.user_id = u.id)::int,
       (SELECT count(*) FROM open_stages o WHERE o.user_id = u.id AND o.stage = $2)::int
FROM users u WHERE u.id = $1;

-- name: UserWorkloadLock
-- Locks a limited person's row until the transaction ends: concurrent decisions
-- that might fill their last slot take it one at a time. The counts are read
-- after, in a statement of their own, so they see what the decision that held
-- the lock before committed. Returns whether they are still active.
SELECT active FROM users WHERE id = $1 FOR UPDATE;

-- name: UserHoldShare
-- Locks the row of a person without limits until the transaction ends, shared
-- with other decisions but not with a deactivation or a status change, which
-- wait for this decision to commit (and then see the stage it gives them) or
-- commit first (and then this reads what they wrote): whether the person is
-- still active, and their status.
SELECT active, effective_status(id, status) FROM users WHERE id = $1 FOR SHARE;

-- name: UserOpenByStage
-- How many stages a person holds open at each stage.
SELECT stage, count(*)::int FROM open_stages WHERE user_id = $1 GROUP BY stage;

-- name: UserStatusSet
-- Sets a person's status; returns the one it had, or no row for an unknown user.
WITH old AS (SELECT status FROM users WHERE id = $1 FOR UPDATE)
UPDATE users u SET status = $2, updated_at = now() FROM old WHERE u.id = $1
RETURNING old.status;

-- name: BacklogSet
-- After a stage decision: a stage waiting because everyone eligible was away or
-- full ($7) joins the backlog, keeping its first queued time (a claim waiting
-- keeps its age) and losing any lease; any other decision takes it out.
WITH gone AS (
    DELETE FROM backlog WHERE workflow_id = $1 AND stage = $2 AND NOT $7::bool
)
INSERT INTO backlog (workflow_id, stage, claim_id, seq, priority, eligible_set, queue)
SELECT $1, $2, $3, $4, $5, $6, $8 WHERE $7::bool
ON CONFLICT (workflow_id, stage) DO UPDATE
SET seq = excluded.seq, priority = excluded.priority, eligible_set = excluded.eligible_set, queue = excluded.queue,
    lease_until = NULL;

-- name: BacklogDrop
-- A stage that got an assignee, or was completed, no longer waits.
DELETE FROM backlog WHERE workflow_id = $1 AND stage = $2;

-- name: BacklogTake
-- Leases the $2 backlog stages person $1 is eligible for, highest priority then
-- oldest, not already leased: the claims to nudge now a slot of theirs is free.
WITH pick AS (
    SELECT b.workflow_id, b.stage FROM backlog b JOIN eligible_sets e ON e.id = b.eligible_set
    WHERE e.users @> ARRAY[$1::text] AND (b.lease_until IS NULL OR b.lease_until < now())
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
UPDATE users u SET active = $2, updated_at = now() FROM old WHERE u.id = $1
RETURNING old.active;

-- name: OpenStagesOf
-- The claims a person holds a stage of, oldest first.
SELECT workflow_id FROM open_stages WHERE user_id = $1 ORDER BY assigned_at, workflow_id;

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
SELECT user_id, count(*)::int AS n FROM open_stages GROUP BY user_id ORDER BY n DESC, user_id LIMIT $1;

-- name: BacklogByQueue
-- The backlog's size and its oldest wait, by queue and stage.
SELECT queue, stage, count(*)::int, extract(epoch FROM now() - min(queued_at))::float8 FROM backlog GROUP BY queue, stage;

-- name: TeamPage
-- Active people with their status, limits and open stages, the most loaded
-- first: a page of the admins' team view.
SELECT u.id, u.name, effective_status(u.id, u.status), u.cap_total, coalesce(o.n, 0)::int
FROM users u
LEFT JOIN (SELECT user_id, count(*) AS n FROM open_stages GROUP BY user_id) o ON o.user_id = u.id
WHERE u.active
ORDER BY coalesce(o.n, 0) DESC, u.position
OFFSET $1 LIMIT $2;

-- name: AbsencesStart
-- Marks the absences that have begun and were not yet acted on, and returns
-- each person, the end, and the claims whose stage they hold.
WITH started AS (
    UPDATE absences SET started_at = now()
    WHERE started_at IS NULL AND starts_at <= now() AND ends_at > now()
    RETURNING user_id, ends_at
)
SELECT s.user_id, s.ends_at, coalesce(array_agg(o.workflow_id ORDER BY o.assigned_at) FILTER (WHERE o.workflow_id IS NOT NULL), '{}')
FROM started s LEFT JOIN open_stages o ON o.user_id = s.user_id
GROUP BY s.user_id, s.ends_at;

-- name: BacklogStale
-- Leases the $1 highest-priority, oldest backlog stages that nobody holds a
-- lease on and that someone could take now (an active, available member of
-- their eligible set under their total limit): the sweeper's nudge, so a stage
-- whose nudge was lost is never left waiting for good, and a stage nobody can
-- take is not decided again for nothing.
WITH pick AS (
    SELECT b.workflow_id, b.stage FROM backlog b
    WHERE (b.lease_until IS NULL OR b.lease_until < now()) AND b.queued_at < now() - interval '10 seconds'
      AND EXISTS (
          SELECT 1 FROM eligible_sets e, unnest(e.users) AS m (user_id)
          JOIN users u ON u.id = m.user_id
          WHERE e.id = b.eligible_set AND u.active AND effective_status(u.id, u.status) = 'available'
            AND (u.cap_total = 0 OR (SELECT count(*) FROM open_stages o WHERE o.user_id = u.id) < u.cap_total))
    ORDER BY b.priority DESC, b.queued_at
    LIMIT $1
    FOR UPDATE OF b SKIP LOCKED
)
UPDATE backlog b SET lease_until = now() + interval '2 minutes'
FROM pick WHERE b.workflow_id = pick.workflow_id AND b.stage = pick.stage
RETURNING b.workflow_id;
