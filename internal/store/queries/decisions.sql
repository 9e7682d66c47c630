-- The tables these queries read and write, as the migrations leave them (a ? is
-- nullable); TestQueryFilesOpenWithTheirTablesShape holds them to the schema.
-- shape decisions(workflow_id text, stage text, seq integer, claim_id text, method text, assignee text?, actor text?, reason text, policy_version text, body jsonb, created_at timestamptz, requirement jsonb?, candidates text[]?, rule_trace jsonb?, decided_seq integer?, requirement_id bigint?, generation bigint?, rule_record jsonb?)
-- shape requirement_members(requirement_id bigint, user_id text, position bigint, from_gen bigint, to_gen bigint?)
-- shape team_members(team_id text, user_id text, position integer)
-- shape teams(id text, name text, created_at timestamptz)
-- shape users(id text, name text, email text, role text, active boolean, position bigint, created_at timestamptz, updated_at timestamptz, tags text[], credentials text[], ticket_priority integer, email_notifications boolean, perms text[], tags_lc text[], credentials_lc text[], status text, cap_total integer, cap_capture integer, cap_review integer, cap_acknowledge integer, file_hash bigint?)

-- name: DecisionGet
SELECT body FROM decisions WHERE workflow_id = $1 AND stage = $2 AND seq = $3;

-- name: DecisionExists
SELECT EXISTS (SELECT 1 FROM decisions WHERE workflow_id = $1 AND stage = $2 AND seq = $3);

-- name: DecisionGetMany
-- The decisions already recorded among keys ($1 workflows, $2 stages, $3 seqs):
-- a batch of decisions checks the ledger once, under its scope's lock.
SELECT d.workflow_id, d.stage, d.seq, d.body
FROM unnest($1::text[], $2::text[], $3::int[]) AS k (workflow_id, stage, seq)
JOIN decisions d ON d.workflow_id = k.workflow_id AND d.stage = k.stage AND d.seq = k.seq;

-- name: DecisionInsert
-- The ledger rows of one or more decisions, a column an array, in their
-- order. DO NOTHING plus the returned row count tells a caller that a
-- concurrent copy of the same activity got there first, so it rolls back
-- instead of deciding twice. A stage's decision (its requirement) refers to the
-- requirement's members at a generation (@requirement_id, @generation) or lists
-- a product module's candidates (@candidates, each a JSON array). A
-- rule-routed one records its rules (@rule_record); rule_trace is only read,
-- from decisions made before rule records.
INSERT INTO decisions (workflow_id, stage, seq, claim_id, method, assignee, actor, reason, policy_version, body,
                       requirement, rule_record, decided_seq, requirement_id, generation, candidates)
SELECT d.workflow_id, d.stage, d.seq, d.claim_id, d.method, nullif(d.assignee, ''), nullif(d.actor, ''), d.reason,
       d.policy_version, d.body::jsonb, d.requirement::jsonb, d.rule_record::jsonb, d.decided_seq, d.requirement_id,
       d.generation, CASE WHEN d.candidates IS NOT NULL THEN ARRAY(SELECT jsonb_array_elements_text(d.candidates::jsonb)) END
FROM unnest(@workflow_id::text[], @stage::text[], @seq::int[], @claim_id::text[], @method::text[],
            @assignee::text[], @actor::text[], @reason::text[], @policy_version::text[], @body::text[],
            @requirement::text[], @rule_record::text[], @decided_seq::int[], @requirement_id::bigint[],
            @generation::bigint[], @candidates::text[])
     WITH ORDINALITY AS d (workflow_id, stage, seq, claim_id, method, assignee, actor, reason, policy_version,
                           body, requirement, rule_record, decided_seq, requirement_id, generation, candidates, n)
ORDER BY d.n
ON CONFLICT (workflow_id, stage, seq) DO NOTHING;

-- name: ExplanationGet
-- A decision's explanation header: its requirement, rule trace (decisions made
-- before rule records) or rule record, how many candidates it had (the product
-- module's list, or the requirement's members at its generation, as the
-- decision counted them), and its body.
SELECT d.requirement, d.rule_trace,
       CASE WHEN d.candidates IS NOT NULL THEN cardinality(d.candidates)
            WHEN d.requirement_id IS NOT NULL THEN (d.body->>'eligible')::int END,
       d.body, d.rule_record
FROM decisions d
WHERE d.workflow_id = $1 AND d.stage = $2 AND d.seq = $3;

-- name: ExplanationCandidates
-- A page of a decision's candidates, in the order they were recorded, from
-- offset $4 for $5: a product module's list, or the members of the decision's
-- requirement at its generation in directory order (read from the members'
-- index, the requirement and generation found once).
SELECT u.id, u.name, u.email, u.role, u.active, u.perms, u.tags, u.credentials, u.ticket_priority, u.email_notifications
FROM decisions d,
     unnest(d.candidates[$4 + 1 : $4 + $5]) WITH ORDINALITY AS c (user_id, n)
JOIN users u ON u.id = c.user_id
WHERE d.workflow_id = $1 AND d.stage = $2 AND d.seq = $3 AND d.candidates IS NOT NULL
UNION ALL
(SELECT u.id, u.name, u.email, u.role, u.active, u.perms, u.tags, u.credentials, u.ticket_priority, u.email_notifications
 FROM requirement_members m JOIN users u ON u.id = m.user_id
 WHERE m.requirement_id = (SELECT requirement_id FROM decisions WHERE workflow_id = $1 AND stage = $2 AND seq = $3 AND candidates IS NULL)
   AND m.from_gen <= (SELECT generation FROM decisions WHERE workflow_id = $1 AND stage = $2 AND seq = $3)
   AND (m.to_gen IS NULL OR m.to_gen > (SELECT generation FROM decisions WHERE workflow_id = $1 AND stage = $2 AND seq = $3))
 ORDER BY m.position
 OFFSET $4 LIMIT $5);

-- name: ExplanationIsCandidate
-- Whether user $4 was a candidate of a decision: on its product module's list,
-- or a member of its requirement at its generation.
SELECT CASE WHEN d.candidates IS NOT NULL THEN $4 = ANY (d.candidates)
            ELSE coalesce((SELECT true FROM requirement_members m WHERE m.requirement_id = d.requirement_id AND m.user_id = $4
                           AND m.from_gen <= d.generation AND (m.to_gen IS NULL OR m.to_gen > d.generation) LIMIT 1), false) END
FROM decisions d
WHERE d.workflow_id = $1 AND d.stage = $2 AND d.seq = $3;

-- name: ExplanationExcluded
-- A page of the directory's users who were not candidates of a decision, in
-- directory order after position $4, with what the requirement needs to word why.
-- Each user read is checked against the decision's candidates by key (the
-- requirement's members at its generation) or, for a product module's list,
-- against the list hashed once.
WITH d AS (
    SELECT d.requirement->>'careTeam' AS care_team, d.candidates, d.requirement_id, d.generation
    FROM decisions d
    WHERE d.workflow_id = $1 AND d.stage = $2 AND d.seq = $3
), c AS (
    SELECT unnest(candidates) AS user_id FROM d
)
SELECT u.position, u.id, u.name, u.email, u.role, u.active, u.perms, u.tags, u.credentials, u.ticket_priority, u.email_notifications,
       EXISTS (SELECT 1 FROM teams t, d WHERE t.id = d.care_team),
       EXISTS (SELECT 1 FROM team_members m, d WHERE m.team_id = d.care_team AND m.user_id = u.id)
FROM users u CROSS JOIN d
WHERE u.position > $4
  AND CASE WHEN d.candidates IS NOT NULL THEN NOT EXISTS (SELECT 1 FROM c WHERE c.user_id = u.id)
           ELSE (SELECT true FROM requirement_members m WHERE m.requirement_id = d.requirement_id AND m.user_id = u.id
                 AND m.from_gen <= d.generation AND (m.to_gen IS NULL OR m.to_gen > d.generation) LIMIT 1) IS NULL END
ORDER BY u.position LIMIT $5;

-- name: DecisionListByClaim
SELECT body FROM decisions WHERE claim_id = $1 ORDER BY seq;

-- name: DecisionCountByAssignee
-- For tests and the demo: how many assignments each user received at a stage.
SELECT assignee, count(*) FROM decisions
WHERE stage = $1 AND method = $2 AND assignee IS NOT NULL
GROUP BY assignee ORDER BY assignee;

-- name: ClaimInvolves
-- Whether person $2 was ever assigned claim $1's stage by a recorded decision,
-- or acted in one: from the claim's own ledger rows (its primary key's prefix).
SELECT EXISTS (SELECT 1 FROM decisions WHERE workflow_id = $1 AND (assignee = $2 OR actor = $2));

-- name: ReadableAmong
-- Of the claims $1 (workflow ids) at the stages $2 (the same order), those
-- person $3 may read without being their owner or an admin: they were given a
-- stage of it or acted in one, or they were a candidate of the latest stage
-- decision of its current stage. Each claim is read by its primary key's
-- prefix, so a page costs a few index probes per claim.
SELECT w.id
FROM unnest($1::text[], $2::text[]) AS w (id, stage)
WHERE EXISTS (SELECT 1 FROM decisions d WHERE d.workflow_id = w.id AND (d.assignee = $3 OR d.actor = $3))
   OR coalesce((SELECT CASE WHEN d.candidates IS NOT NULL THEN $3 = ANY (d.candidates)
                            ELSE EXISTS (SELECT 1 FROM requirement_members m WHERE m.requirement_id = d.requirement_id AND m.user_id = $3
                                         AND m.from_gen <= d.generation AND (m.to_gen IS NULL OR m.to_gen > d.generation)) END
                FROM decisions d
                WHERE d.workflow_id = w.id AND d.stage = w.stage AND (d.candidates IS NOT NULL OR d.requirement_id IS NOT NULL)
                ORDER BY d.seq DESC LIMIT 1), false);

-- name: AssigneeActive
-- Whether person $1, to whom a decision gives a stage, is still active, with
-- their row share-locked until the decision commits: a deactivation running
-- now (it updates the row, then marks the stages they hold to move) either
-- committed first, and the pick is refused, or waits for this decision and
-- then finds its stage among those to move. NOWAIT: a decision never waits
-- on a person's row (see ErrPersonBusy); it is retried instead.
SELECT active FROM users WHERE id = $1 FOR SHARE NOWAIT;

