-- The tables these queries read and write, as the migrations leave them (a ? is
-- nullable); TestQueryFilesOpenWithTheirTablesShape holds them to the schema.
-- shape inbox(id bigint, user_id text, workflow_id text, claim_id text, stage text, seq integer, message text, link text, created_at timestamptz, read_at timestamptz?)

-- name: InboxInsert
-- One or more notifications, a column an array, in their order; a second for
-- the same decision and user is left out.
INSERT INTO inbox (user_id, workflow_id, claim_id, stage, seq, message, link)
SELECT i.user_id, i.workflow_id, i.claim_id, i.stage, i.seq, i.message, i.link
FROM unnest(@user_id::text[], @workflow_id::text[], @claim_id::text[], @stage::text[], @seq::int[], @message::text[],
            @link::text[])
     WITH ORDINALITY AS i (user_id, workflow_id, claim_id, stage, seq, message, link, n)
ORDER BY i.n
ON CONFLICT (workflow_id, stage, seq, user_id) DO NOTHING;

-- name: InboxList
SELECT id, user_id, claim_id, stage, message, link, created_at, read_at
FROM inbox WHERE user_id = $1 AND ($2 OR read_at IS NULL)
ORDER BY created_at DESC, id DESC LIMIT $3;

-- name: InboxMarkRead
UPDATE inbox SET read_at = now() WHERE user_id = $1 AND id = $2 AND read_at IS NULL;
