-- name: TimelineAdd
INSERT INTO timeline (workflow_id, claim_id, stage, seq, kind, actor, subject, reason, comment, at)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
ON CONFLICT (workflow_id, seq) DO NOTHING;

-- name: TimelineByClaim
SELECT stage, seq, kind, actor, subject, reason, comment, at
FROM timeline WHERE claim_id = $1 ORDER BY at, seq;

