-- The tables these queries read and write, as the migrations leave them (a ? is
-- nullable); TestQueryFilesOpenWithTheirTablesShape holds them to the schema.
-- shape outbox(id bigint, workflow_id text, stage text, seq integer, channel text, recipient text, claim_id text, address text, subject text, body text, link text, message_id text, attempts integer, last_error text?, lease_token text?, lease_until timestamptz?, created_at timestamptz, sent_at timestamptz?)

-- name: OutboxInsert
-- One or more messages, a column an array, in their order. DO NOTHING: a
-- retried activity cannot add a channel's row for a recipient twice.
INSERT INTO outbox (workflow_id, stage, seq, channel, recipient, claim_id, address, subject, body, link, message_id)
SELECT m.workflow_id, m.stage, m.seq, m.channel, m.recipient, m.claim_id, m.address, m.subject, m.body, m.link, m.message_id
FROM unnest(@workflow_id::text[], @stage::text[], @seq::int[], @channel::text[], @recipient::text[], @claim_id::text[],
            @address::text[], @subject::text[], @body::text[], @link::text[], @message_id::text[])
     WITH ORDINALITY AS m (workflow_id, stage, seq, channel, recipient, claim_id, address, subject, body, link, message_id, n)
ORDER BY m.n
ON CONFLICT (workflow_id, stage, seq, channel, recipient) DO NOTHING;

-- name: OutboxUnsent
SELECT id FROM outbox
WHERE workflow_id = $1 AND stage = $2 AND seq = $3 AND sent_at IS NULL
ORDER BY id;

-- name: OutboxLease
-- Takes an unsent row for one attempt until its lease ends; nothing while another
-- attempt's lease stands. The attempt is counted now, so a crash mid-send counts.
UPDATE outbox SET attempts = attempts + 1, lease_token = $2, lease_until = now() + make_interval(secs => $3)
WHERE id = $1 AND sent_at IS NULL AND (lease_until IS NULL OR lease_until < now())
RETURNING id, workflow_id, stage, seq, channel, recipient, claim_id, address, subject, body, link, message_id,
          attempts, coalesce(last_error, ''), created_at, sent_at;

-- name: OutboxIsSent
SELECT sent_at IS NOT NULL FROM outbox WHERE id = $1;

-- name: OutboxMarkSent
-- Whoever holds the lease: the message went out, so the row is sent.
UPDATE outbox SET sent_at = now(), lease_token = NULL, lease_until = NULL WHERE id = $1 AND sent_at IS NULL;

-- name: OutboxMarkFailed
-- Keeps the error; releases the lease only if it is still this attempt's.
UPDATE outbox SET last_error = $3,
    lease_until = CASE WHEN lease_token = $2 THEN NULL ELSE lease_until END,
    lease_token = CASE WHEN lease_token = $2 THEN NULL ELSE lease_token END
WHERE id = $1 AND sent_at IS NULL;

-- name: OutboxByKey
SELECT id, workflow_id, stage, seq, channel, recipient, claim_id, address, subject, body, link, message_id,
       attempts, coalesce(last_error, ''), created_at, sent_at
FROM outbox WHERE workflow_id = $1 AND stage = $2 AND seq = $3
ORDER BY id;

-- name: OutboxByClaim
SELECT id, workflow_id, stage, seq, channel, recipient, claim_id, address, subject, body, link, message_id,
       attempts, coalesce(last_error, ''), created_at, sent_at
FROM outbox WHERE claim_id = $1
ORDER BY id;

-- name: OutboxStale
-- Unsent rows older than $1 seconds that no attempt holds: their claim's own
-- SendNotifications gave up or was abandoned (the claim finished, or its worker
-- died), so the worker's sweeper sends them. Uses the outbox_unsent index. A row
-- the channel keeps refusing is given up after 20 attempts in all or a day, as the
-- activity gives up after a day, so a bad address is not retried every sweep.
SELECT id FROM outbox
WHERE sent_at IS NULL AND created_at < now() - make_interval(secs => $1)
  AND created_at > now() - interval '24 hours' AND attempts < 20
  AND (lease_until IS NULL OR lease_until < now())
ORDER BY created_at
LIMIT $2;
