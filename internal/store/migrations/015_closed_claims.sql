-- How far the worker's sweeper has looked for claims whose workflow ended
-- without finalising (terminated by hand, timed out, failed, cancelled): their
-- open stages and backlog rows are released (ClaimClosed), so nobody's
-- capacity counts them for ever. One row per sweep, by name.
CREATE TABLE sweep_cursors (
    name text PRIMARY KEY,
    at   timestamptz NOT NULL
);
