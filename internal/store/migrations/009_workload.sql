-- Workload: whether a person takes new work now (status), how many stages they
-- may hold open at once (capacity; 0 is no limit), and which stages they hold.

ALTER TABLE users
    ADD COLUMN status text NOT NULL DEFAULT 'available' CHECK (status IN ('available', 'away', 'offline')),
    ADD COLUMN cap_total int NOT NULL DEFAULT 0 CHECK (cap_total >= 0),
    ADD COLUMN cap_capture int NOT NULL DEFAULT 0 CHECK (cap_capture >= 0),
    ADD COLUMN cap_review int NOT NULL DEFAULT 0 CHECK (cap_review >= 0),
    ADD COLUMN cap_acknowledge int NOT NULL DEFAULT 0 CHECK (cap_acknowledge >= 0);

-- One row per stage a person holds open: written in the transaction that records
-- the assignment, removed in the one that records its completion, unassignment
-- or reassignment away. The primary key is the claim's stage: it has one holder.
CREATE TABLE open_stages (
    workflow_id text NOT NULL,
    stage       text NOT NULL,
    claim_id    text NOT NULL,
    user_id     text NOT NULL,
    seq         int NOT NULL,
    assigned_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (workflow_id, stage)
);
CREATE INDEX open_stages_by_user ON open_stages (user_id, stage);

-- Stages open when this migration runs: each claim stage's latest decision, when
-- it names an assignee and the stage has not been completed since.
INSERT INTO open_stages (workflow_id, stage, claim_id, user_id, seq, assigned_at)
SELECT d.workflow_id, d.stage, d.claim_id, d.assignee, d.seq, d.created_at
FROM (SELECT DISTINCT ON (workflow_id, stage) * FROM decisions ORDER BY workflow_id, stage, seq DESC) d
WHERE d.assignee IS NOT NULL AND d.assignee <> '' AND d.stage <> 'finalise'
  AND NOT EXISTS (SELECT 1 FROM timeline t WHERE t.workflow_id = d.workflow_id AND t.stage = d.stage
                  AND t.kind = 'completed' AND t.seq > d.seq);
