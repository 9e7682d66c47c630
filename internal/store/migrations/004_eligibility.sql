-- The care-team source's eligibility data: tags (matched one-of or all-of),
-- state credentials (the claim's state must be among them) and a ticket priority
-- (the user's weight in weighted round robin: assignments per round).
ALTER TABLE users
    ADD COLUMN tags            text[] NOT NULL DEFAULT '{}',
    ADD COLUMN credentials     text[] NOT NULL DEFAULT '{}',
    ADD COLUMN ticket_priority int NOT NULL DEFAULT 1 CHECK (ticket_priority >= 1);

-- Who hosted each subject (the patient, customer, policyholder a claim is about),
-- for the recent-host method: the latest row for a subject names its host.
CREATE TABLE subject_hosts (
    subject   text NOT NULL,
    user_id   text NOT NULL REFERENCES users (id),
    at        timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (subject, at, user_id)
);
CREATE INDEX subject_hosts_latest ON subject_hosts (subject, at DESC);
