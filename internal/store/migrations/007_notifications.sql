-- E-mail and Slack notifications (issue 5). A user may turn e-mail off in the
-- directory file (emailNotifications: false); Slack and the in-app inbox still
-- reach them.
ALTER TABLE users ADD COLUMN email_notifications boolean NOT NULL DEFAULT true;

-- The notification outbox. Rows are written in the same transaction as the
-- decision or event that causes them, one per channel per recipient; the unique
-- key makes a retried activity unable to add one twice. SendNotifications sends
-- the unsent rows of one (workflow_id, stage, seq): it leases a row (lease_token,
-- lease_until: no other attempt sends it meanwhile, and no connection is held
-- during the send), sends, and sets sent_at as soon as the channel accepted it.
-- Every attempt counts in attempts; a failure leaves its message in last_error.
CREATE TABLE outbox (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    workflow_id  text NOT NULL,
    stage        text NOT NULL,
    seq          int NOT NULL,
    channel      text NOT NULL CHECK (channel IN ('email', 'slack')),
    recipient    text NOT NULL,           -- the user notified
    claim_id     text NOT NULL,
    address      text NOT NULL DEFAULT '', -- the e-mail address; '' for Slack
    subject      text NOT NULL,
    body         text NOT NULL,
    link         text NOT NULL,
    message_id   text NOT NULL,           -- the e-mail's Message-ID, stable across resends
    attempts     int NOT NULL DEFAULT 0,
    last_error   text,
    lease_token  text,
    lease_until  timestamptz,
    created_at   timestamptz NOT NULL DEFAULT now(),
    sent_at      timestamptz,
    UNIQUE (workflow_id, stage, seq, channel, recipient)
);
CREATE INDEX outbox_unsent ON outbox (created_at) WHERE sent_at IS NULL;
CREATE INDEX outbox_claim_id ON outbox (claim_id, id);
