-- The directory: who can be assigned. position keeps the order users were first
-- loaded in, because round robin walks users in directory order and that order must
-- not change when a user is edited.
CREATE TABLE users (
    id          text PRIMARY KEY,
    name        text NOT NULL,
    email       text NOT NULL,
    role        text NOT NULL DEFAULT '',
    active      boolean NOT NULL DEFAULT true,
    position    bigint GENERATED ALWAYS AS IDENTITY,
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE user_permissions (
    user_id     text NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    permission  text NOT NULL,
    PRIMARY KEY (user_id, permission)
);

-- Teams keep member order: the distribution-policy source assigns a team's work
-- round robin "in the order users were added to the team".
CREATE TABLE teams (
    id          text PRIMARY KEY,
    name        text NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE team_members (
    team_id     text NOT NULL REFERENCES teams (id) ON DELETE CASCADE,
    user_id     text NOT NULL REFERENCES users (id),
    position    int NOT NULL,
    PRIMARY KEY (team_id, user_id)
);

-- One row per round-robin scope. Decisions lock it FOR UPDATE, so concurrent
-- workers take turns one at a time and no turn is skipped or doubled.
CREATE TABLE rr_cursors (
    scope       text PRIMARY KEY,
    round       bigint NOT NULL DEFAULT 0,
    served      jsonb NOT NULL DEFAULT '{}',
    updated_at  timestamptz NOT NULL DEFAULT now()
);

-- The decision ledger. The key is the claim workflow's own (stage, seq), so a
-- retried activity finds the decision it already made instead of making another.
CREATE TABLE decisions (
    workflow_id     text NOT NULL,
    stage           text NOT NULL,
    seq             int NOT NULL,
    claim_id        text NOT NULL,
    method          text NOT NULL,
    assignee        text,
    actor           text,
    reason          text NOT NULL,
    policy_version  text NOT NULL,
    body            jsonb NOT NULL,
    created_at      timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (workflow_id, stage, seq)
);
CREATE INDEX decisions_claim_id ON decisions (claim_id, created_at);

-- The in-app inbox. Written in the same transaction as the decision that caused
-- it; the unique key makes a retried decision unable to notify twice.
CREATE TABLE inbox (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    user_id      text NOT NULL,
    workflow_id  text NOT NULL,
    claim_id     text NOT NULL,
    stage        text NOT NULL,
    seq          int NOT NULL,
    message      text NOT NULL,
    link         text NOT NULL,
    created_at   timestamptz NOT NULL DEFAULT now(),
    read_at      timestamptz,
    UNIQUE (workflow_id, stage, seq, user_id)
);
CREATE INDEX inbox_user_unread ON inbox (user_id, created_at) WHERE read_at IS NULL;
