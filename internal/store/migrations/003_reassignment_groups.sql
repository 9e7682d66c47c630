-- Reassignment groups route claims already in the system to a set of members,
-- with a default assignee for when nobody takes them. Member order is the order
-- turns are offered in. updated_by records who last edited a group: editing needs
-- the ManageReassignmentGroups permission. The group's turn state is an ordinary
-- round-robin cursor, scoped "group/<name>", so a round survives membership
-- changes exactly as stage round robin does.
CREATE TABLE reassignment_groups (
    name              text PRIMARY KEY,
    default_assignee  text NOT NULL REFERENCES users (id),
    method            text NOT NULL CHECK (method IN ('round_robin', 'broadcast')),
    offer_timeout_ms  bigint NOT NULL CHECK (offer_timeout_ms > 0),
    updated_by        text NOT NULL,
    updated_at        timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE reassignment_group_members (
    group_name  text NOT NULL REFERENCES reassignment_groups (name) ON DELETE CASCADE,
    user_id     text NOT NULL REFERENCES users (id),
    position    int NOT NULL,
    PRIMARY KEY (group_name, user_id)
);
