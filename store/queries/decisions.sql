-- name: DecisionGet
SELECT body FROM decisions WHERE workflow_id = $1 AND stage = $2 AND seq = $3;

-- name: DecisionInsert
-- DO NOTHING plus the returned row count tells a caller that a concurrent copy of
-- the same activity got there first, so it rolls back instead of deciding twice.
-- A stage's decision ($11 its requirement) refers to its eligible set ($14) or
-- lists a product module's candidates ($15). A rule-routed one records its rules
-- ($12); rule_trace is only read, from decisions made before rule records.
INSERT INTO decisions (workflow_id, stage, seq, claim_id, method, assignee, actor, reason, policy_version, body,
                       requirement, rule_record, decided_seq, eligible_set, candidates)
VALUES ($1, $2, $3, $4, $5, nullif($6, ''), nullif($7, ''), $8, $9, $10, $11, $12, $13, $14, $15)
ON CONFLICT (workflow_id, stage, seq) DO NOTHING;

-- name: ExplanationGet
SELECT d.requirement, d.rule_trace, cardinality(coalesce(d.candidates, e.users)), d.body, d.rule_record
FROM decisions d LEFT JOIN eligible_sets e ON e.id = d.eligible_set
WHERE d.workflow_id = $1 AND d.stage = $2 AND d.seq = $3;

-- name: ExplanationCandidates
-- A page of a decision's candidates, in the order they were recorded.
SELECT u.id, u.name, u.email, u.role, u.active, u.perms, u.tags, u.credentials, u.ticket_priority, u.email_notifications
FROM decisions d LEFT JOIN eligible_sets e ON e.id = d.eligible_set,
     unnest((coalesce(d.candidates, e.users))[$4 + 1 : $4 + $5]) WITH ORDINALITY AS c (user_id, n)
JOIN users u ON u.id = c.user_id
WHERE d.workflow_id = $1 AND d.stage = $2 AND d.seq = $3
ORDER BY c.n;

-- name: ExplanationIsCandidate
SELECT coalesce($4 = ANY (coalesce(d.candidates, e.users)), false)
FROM decisions d LEFT JOIN eligible_sets e ON e.id = d.eligible_set
WHERE d.workflow_id = $1 AND d.stage = $2 AND d.seq = $3;

-- name: ExplanationExcluded
-- A page of the directory's users who were not candidates of a decision, in
-- directory order after position $4, with what the requirement needs to word why.
-- The candidates are hashed once (the anti-join), whatever their number.
WITH d AS (
    SELECT d.requirement->>'careTeam' AS care_team, coalesce(d.candidates, e.users) AS users
    FROM decisions d LEFT JOIN eligible_sets e ON e.id = d.eligible_set
    WHERE d.workflow_id = $1 AND d.stage = $2 AND d.seq = $3
), c AS (
    SELECT unnest(users) AS user_id FROM d
)
SELECT u.position, u.id, u.name, u.email, u.role, u.active, u.perms, u.tags, u.credentials, u.ticket_priority, u.email_notifications,
       EXISTS (SELECT 1 FROM teams t, d WHERE t.id = d.care_team),
       EXISTS (SELECT 1 FROM team_members m, d WHERE m.team_id = d.care_team AND m.user_id = u.id)
FROM users u
WHERE u.position > $4 AND EXISTS (SELECT 1 FROM d) AND NOT EXISTS (SELECT 1 FROM c WHERE c.user_id = u.id)
ORDER BY u.position LIMIT $5;

-- name: DecisionListByClaim
SELECT body FROM decisions WHERE claim_id = $1 ORDER BY seq;

-- name: DecisionCountByAssignee
-- For tests and the demo: how many assignments each user received at a stage.
SELECT assignee, count(*) FROM decisions
WHERE stage = $1 AND method = $2 AND assignee IS NOT NULL
GROUP BY assignee ORDER BY assignee;
