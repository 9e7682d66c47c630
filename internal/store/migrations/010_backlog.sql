-- The backlog: stages waiting unassigned because everyone eligible was away or
-- full when they were decided. A freed slot or a person coming back hands the
-- highest priority, then oldest, out again: the lease stops two drains from
-- nudging the same claim at once.
CREATE TABLE backlog (
    workflow_id  text NOT NULL,
    stage        text NOT NULL,
    claim_id     text NOT NULL,
    seq          int NOT NULL,
    priority     int NOT NULL,
    queue        text NOT NULL,
    eligible_set bigint NOT NULL,
    queued_at    timestamptz NOT NULL DEFAULT now(),
    lease_until  timestamptz,
    PRIMARY KEY (workflow_id, stage)
);
CREATE INDEX backlog_order ON backlog (priority DESC, queued_at);
