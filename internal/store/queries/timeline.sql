-- The tables these queries read and write, as the migrations leave them (a ? is
-- nullable); TestQueryFilesOpenWithTheirTablesShape holds them to the schema.
-- shape timeline(id bigint, workflow_id text, claim_id text, stage text, seq integer, kind text, actor text, subject text, reason text, comment text, at timestamptz)

-- name: TimelineAdd
-- One or more events, a column an array, in their order; an event already
-- recorded (workflow, seq) is left as it is.
INSERT INTO timeline (workflow_id, claim_id, stage, seq, kind, actor, subject, reason, comment, at)
SELECT e.workflow_id, e.claim_id, e.stage, e.seq, e.kind, e.actor, e.subject, e.reason, e.comment, e.at
FROM unnest(@workflow_id::text[], @claim_id::text[], @stage::text[], @seq::int[], @kind::text[], @actor::text[],
            @subject::text[], @reason::text[], @comment::text[], @at::timestamptz[])
     WITH ORDINALITY AS e (workflow_id, claim_id, stage, seq, kind, actor, subject, reason, comment, at, n)
ORDER BY e.n
ON CONFLICT (workflow_id, seq) DO NOTHING;

-- name: TimelineByClaim
SELECT stage, seq, kind, actor, subject, reason, comment, at
FROM timeline WHERE claim_id = $1 ORDER BY at, seq;

-- name: TimelineSubject
-- The subject of an event already recorded: how a retried offer finds whom it offered.
SELECT subject FROM timeline WHERE workflow_id = $1 AND seq = $2;

-- name: TimelineHas
-- Whether event $2 of workflow $1 is recorded: a retried action's first attempt committed.
SELECT EXISTS (SELECT 1 FROM timeline WHERE workflow_id = $1 AND seq = $2);
