-- The tables these queries read and write, as the migrations leave them (a ? is
-- nullable); TestQueryFilesOpenWithTheirTablesShape holds them to the schema.
-- shape directory_stats(id boolean, users bigint, generation bigint)
-- shape subject_hosts(subject text, user_id text, at timestamptz)
-- shape user_load(user_id text, position bigint, open_total integer, open_capture integer, open_review integer, open_acknowledge integer)
-- shape user_permissions(user_id text, permission text)
-- shape users(id text, name text, email text, role text, active boolean, position bigint, created_at timestamptz, updated_at timestamptz, tags text[], credentials text[], ticket_priority integer, email_notifications boolean, perms text[], tags_lc text[], credentials_lc text[], status text, cap_total integer, cap_capture integer, cap_review integer, cap_acknowledge integer, file_hash bigint?)

-- name: UserList
-- Users in directory order with their permissions, for eligibility.
SELECT u.id, u.name, u.email, u.role, u.active, u.perms, u.tags, u.credentials, u.ticket_priority, u.email_notifications
FROM users u
ORDER BY u.position;

-- name: UserGet
SELECT u.id, u.name, u.email, u.role, u.active, u.perms, u.tags, u.credentials, u.ticket_priority, u.email_notifications
FROM users u
WHERE u.id = $1;

-- name: DirectoryStage
-- A directory load's rows are copied (COPY) into this table, dropped at commit,
-- and compared with the directory in a few statements. Only the entries whose
-- fingerprint (file_hash) differs from the one kept with the user are copied:
-- a load costs what it changes, plus one pass over the file and one read of
-- the fingerprints.
CREATE TEMP TABLE directory_load (
    line                int NOT NULL,
    id                  text NOT NULL,
    name                text NOT NULL,
    email               text NOT NULL,
    role                text NOT NULL,
    active              boolean NOT NULL,
    tags                text[] NOT NULL,
    credentials         text[] NOT NULL,
    ticket_priority     int NOT NULL,
    email_notifications boolean NOT NULL,
    perms               text[] NOT NULL,
    tags_lc             text[] NOT NULL,
    credentials_lc      text[] NOT NULL,
    status              text NOT NULL,
    cap_total           int NOT NULL,
    cap_capture         int NOT NULL,
    cap_review          int NOT NULL,
    cap_acknowledge     int NOT NULL,
    file_hash           bigint NOT NULL
) ON COMMIT DROP;

-- name: DirectoryFingerprints
-- Each user's fingerprint of the file entry last loaded for them; NULL (left
-- out) once anything else changed what the file sets (their status or active
-- flag), so the next load compares them in full.
SELECT id, file_hash FROM users WHERE file_hash IS NOT NULL;

-- name: DirectoryFingerprintsSet
-- Keeps the fingerprints of the entries this load copied.
UPDATE users u SET file_hash = s.file_hash FROM directory_load s
WHERE u.id = s.id AND u.file_hash IS DISTINCT FROM s.file_hash;

-- name: DirectoryInsertNew
-- The file's users the directory does not have yet, in file order (their
-- position: round robin's directory order), each with an empty load row.
WITH added AS (
    INSERT INTO users (id, name, email, role, active, tags, credentials, ticket_priority, email_notifications, perms, tags_lc,
                       credentials_lc, status, cap_total, cap_capture, cap_review, cap_acknowledge, file_hash)
    SELECT s.id, s.name, s.email, s.role, s.active, s.tags, s.credentials, s.ticket_priority, s.email_notifications, s.perms,
           s.tags_lc, s.credentials_lc, coalesce(nullif(s.status, ''), 'available'), s.cap_total, s.cap_capture, s.cap_review,
           s.cap_acknowledge, s.file_hash
    FROM directory_load s
    WHERE NOT EXISTS (SELECT 1 FROM users u WHERE u.id = s.id)
    ORDER BY s.line
    RETURNING id, position
), loads AS (
    INSERT INTO user_load (user_id, position) SELECT id, position FROM added
)
SELECT id FROM added;

-- name: DirectoryUpdateChanged
-- The file's users whose entry differs from the directory's, rewritten; the
-- rest are not touched. A status is written only when the file sets one: people
-- set their own, and a reload must not undo it. Returns, for each one
-- rewritten, whether what eligibility reads changed (active, permissions, tags,
-- credentials, role), whether what turn orders read changed (those, or the
-- ticket priority: they re-enter as newcomers), whether their limits or
-- status changed (their turn rows take them), and whether the file
-- deactivated them (a leaver: the stages they hold are marked to move).
WITH old AS (
    SELECT u.* FROM users u JOIN directory_load s ON s.id = u.id
)
UPDATE users u SET name = s.name, email = s.email, role = s.role, active = s.active, tags = s.tags, credentials = s.credentials,
    ticket_priority = s.ticket_priority, email_notifications = s.email_notifications, perms = s.perms, tags_lc = s.tags_lc,
    credentials_lc = s.credentials_lc, status = coalesce(nullif(s.status, ''), u.status), cap_total = s.cap_total,
    cap_capture = s.cap_capture, cap_review = s.cap_review, cap_acknowledge = s.cap_acknowledge, updated_at = now()
FROM directory_load s JOIN old o ON o.id = s.id
WHERE u.id = s.id
  AND (s.name, s.email, s.role, s.active, s.tags, s.credentials, s.ticket_priority, s.email_notifications, s.perms, s.tags_lc,
       s.credentials_lc, coalesce(nullif(s.status, ''), o.status), s.cap_total, s.cap_capture, s.cap_review, s.cap_acknowledge)
      IS DISTINCT FROM
      (o.name, o.email, o.role, o.active, o.tags, o.credentials, o.ticket_priority, o.email_notifications, o.perms, o.tags_lc,
       o.credentials_lc, o.status, o.cap_total, o.cap_capture, o.cap_review, o.cap_acknowledge)
RETURNING u.id,
    (s.active, s.perms, s.tags_lc, s.credentials_lc, s.role) IS DISTINCT FROM (o.active, o.perms, o.tags_lc, o.credentials_lc, o.role),
    (s.active, s.perms, s.tags_lc, s.credentials_lc, s.ticket_priority) IS DISTINCT FROM (o.active, o.perms, o.tags_lc, o.credentials_lc, o.ticket_priority),
    (s.cap_total, s.cap_capture, s.cap_review, s.cap_acknowledge, coalesce(nullif(s.status, ''), o.status))
        IS DISTINCT FROM (o.cap_total, o.cap_capture, o.cap_review, o.cap_acknowledge, o.status),
    o.active AND NOT s.active;

-- name: DirectoryPermissionsSet
-- user_permissions mirrors perms for the users $1 (added, or whose permissions changed).
WITH gone AS (
    DELETE FROM user_permissions p USING directory_load s
    WHERE p.user_id = s.id AND s.id = ANY ($1::text[]) AND NOT (p.permission = ANY (s.perms))
)
INSERT INTO user_permissions (user_id, permission)
SELECT s.id, p FROM directory_load s, unnest(s.perms) AS p WHERE s.id = ANY ($1::text[])
ON CONFLICT DO NOTHING;

-- name: DirectoryGeneration
-- Starts a directory generation: what a change to who meets a requirement is
-- recorded at. The caller holds the directory lock.
UPDATE directory_stats SET generation = generation + 1 RETURNING generation;

-- name: DirectoryLock
-- Directory changes one at a time, and never while a requirement's first members
-- are being read (that holds it shared).
SELECT pg_advisory_xact_lock(7046217300);

-- name: DirectoryStatsRefresh
-- After a load that added people: the directory's size.
INSERT INTO directory_stats (id, users) SELECT true, count(*) FROM users
ON CONFLICT (id) DO UPDATE SET users = excluded.users;

-- name: UserIDsExisting
SELECT id FROM users WHERE id = ANY($1::text[]);

-- name: HostRecord
INSERT INTO subject_hosts (subject, user_id, at) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING;

-- name: HostLatest
SELECT user_id FROM subject_hosts WHERE subject = $1 ORDER BY at DESC, user_id LIMIT 1;

-- name: DirectoryLockShared
-- Held while a requirement's first members are read from the directory: no
-- change is half-way through meanwhile.
SELECT pg_advisory_xact_lock_shared(7046217300);
