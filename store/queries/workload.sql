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
SELECT u.status, u.cap_total, u.cap_capture, u.cap_review, u.cap_acknowledge,
       (SELECT count(*) FROM open_stages o WHERE o.user_id = u.id)::int,
       (SELECT count(*) FROM open_stages o WHERE o.user_id = u.id AND o.stage = $2)::int
FROM users u WHERE u.id = $1;

-- name: UserWorkloadLock
-- Locks a person's row until the transaction ends: concurrent decisions that
-- might fill their last slot take it one at a time. The counts are read after,
-- in a statement of their own, so they see what the decision that held the lock
-- before committed.
SELECT 1 FROM users WHERE id = $1 FOR UPDATE;

-- name: UserOpenByStage
-- How many stages a person holds open at each stage.
SELECT stage, count(*)::int FROM open_stages WHERE user_id = $1 GROUP BY stage;

-- name: UserStatusSet
-- Sets a person's status; returns the one it had, or no row for an unknown user.
WITH old AS (SELECT status FROM users WHERE id = $1 FOR UPDATE)
UPDATE users u SET status = $2, updated_at = now() FROM old WHERE u.id = $1
RETURNING old.status;
