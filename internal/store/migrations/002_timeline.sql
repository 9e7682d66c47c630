-- The claim timeline: every assignment, claim, offer, expiry, reassignment,
-- unassignment and escalation, with who, when, why and any comment. Events are
-- keyed by the claim workflow's own sequence number, so an activity retried after
-- writing one cannot write it twice. at is the workflow's time of the event, not
-- when the activity happened to run.
CREATE TABLE timeline (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    workflow_id  text NOT NULL,
    claim_id     text NOT NULL,
    stage        text NOT NULL,
    seq          int NOT NULL,
    kind         text NOT NULL,
    actor        text NOT NULL DEFAULT '',
    subject      text NOT NULL DEFAULT '',
    reason       text NOT NULL DEFAULT '',
    comment      text NOT NULL DEFAULT '',
    at           timestamptz NOT NULL,
    UNIQUE (workflow_id, seq)
);
CREATE INDEX timeline_claim ON timeline (claim_id, at, id);
