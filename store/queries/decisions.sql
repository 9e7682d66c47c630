-- name: DecisionGet
SELECT body FROM decisions WHERE workflow_id = $1 AND stage = $2 AND seq = $3;

-- name: DecisionInsert
-- DO NOTHING plus the returned row count tells a caller that a concurrent copy of
-- the same activity got there first, so it rolls back instead of deciding twice.
-- A stage's decision ($11 its requirement) also records its candidates: those a
-- product module listed ($14), or every user meeting the requirement ($15..$21),
-- selected here in the same statement so no list crosses the wire.
INSERT INTO decisions (workflow_id, stage, seq, claim_id, method, assignee, actor, reason, policy_version, body,
                       requirement, rule_trace, decided_seq, candidates)
SELECT $1, $2, $3, $4, $5, nullif($6, ''), nullif($7, ''), $8, $9, $10, $11, $12, $13,
       CASE WHEN $11::jsonb IS NULL THEN NULL
            WHEN $14::text[] IS NOT NULL THEN $14::text[]
            ELSE (SELECT coalesce(array_agg(u.id ORDER BY u.position), '{}') FROM users u WHERE {{eligible $15}})
       END
ON CONFLICT (workflow_id, stage, seq) DO NOTHING;

-- name: ExplanationGet
SELECT requirement, rule_trace, cardinality(candidates), body FROM decisions WHERE workflow_id = $1 AND stage = $2 AND seq = $3;

-- name: ExplanationCandidates
-- A page of a decision's candidates, in the order they were recorded.
SELECT u.id, u.name, u.email, u.role, u.active, u.perms, u.tags, u.credentials, u.ticket_priority, u.email_notifications
FROM decisions d, unnest(d.candidates[$4 + 1 : $4 + $5]) WITH ORDINALITY AS c (user_id, n)
JOIN users u ON u.id = c.user_id
WHERE d.workflow_id = $1 AND d.stage = $2 AND d.seq = $3
ORDER BY c.n;

-- name: ExplanationIsCandidate
SELECT coalesce($4 = ANY (candidates), false) FROM decisions WHERE workflow_id = $1 AND stage = $2 AND seq = $3;

-- name: ExplanationExcluded
-- A page of the directory's users who were not candidates of a decision, in
-- directory order after position $4, with what the requirement needs to word why.
SELECT u.position, u.id, u.name, u.email, u.role, u.active, u.perms, u.tags, u.credentials, u.ticket_priority, u.email_notifications,
       EXISTS (SELECT 1 FROM teams t WHERE t.id = d.requirement->>'careTeam'),
       EXISTS (SELECT 1 FROM team_members m WHERE m.team_id = d.requirement->>'careTeam' AND m.user_id = u.id)
FROM decisions d, users u
WHERE d.workflow_id = $1 AND d.stage = $2 AND d.seq = $3 AND u.position > $4 AND NOT (u.id = ANY (d.candidates))
ORDER BY u.position LIMIT $5;

-- name: DecisionListByClaim
SELECT body FROM decisions WHERE claim_id = $1 ORDER BY seq;

-- name: DecisionCountByAssignee
-- For tests and the demo: how many assignments each user received at a stage.
SELECT assignee, count(*) FROM decisions
WHERE stage = $1 AND method = $2 AND assignee IS NOT NULL
GROUP BY assignee ORDER BY assignee;
