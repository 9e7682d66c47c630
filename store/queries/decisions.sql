-- name: DecisionGet
SELECT body FROM decisions WHERE workflow_id = $1 AND stage = $2 AND seq = $3;

-- name: DecisionInsert
-- DO NOTHING plus the returned row count tells a caller that a concurrent copy of
-- the same activity got there first, so it rolls back instead of deciding twice.
INSERT INTO decisions (workflow_id, stage, seq, claim_id, method, assignee, actor, reason, policy_version, body)
VALUES ($1, $2, $3, $4, $5, nullif($6, ''), nullif($7, ''), $8, $9, $10)
ON CONFLICT (workflow_id, stage, seq) DO NOTHING;

-- name: DecisionListByClaim
SELECT body FROM decisions WHERE claim_id = $1 ORDER BY seq;

-- name: DecisionCountByAssignee
-- For tests and the demo: how many assignments each user received at a stage.
SELECT assignee, count(*) FROM decisions
WHERE stage = $1 AND method = $2 AND assignee IS NOT NULL
GROUP BY assignee ORDER BY assignee;
