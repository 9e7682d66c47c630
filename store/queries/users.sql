-- name: UserList
-- Users in directory order with their permissions, for eligibility.
SELECT u.id, u.name, u.email, u.role, u.active, u.perms, u.tags, u.credentials, u.ticket_priority, u.email_notifications
FROM users u
ORDER BY u.position;

-- name: UserGet
SELECT u.id, u.name, u.email, u.role, u.active, u.perms, u.tags, u.credentials, u.ticket_priority, u.email_notifications
FROM users u
WHERE u.id = $1;

-- name: UserUpsert
-- perms mirrors user_permissions (sorted) and tags_lc, credentials_lc the lower-cased
-- arrays, for indexed eligibility. A status ($11) is written only when the file
-- sets one: people set their own, and a reload must not undo it. Capacity
-- ($12..$15, 0 for no limit) is the file's. It returns whether anything
-- eligibility reads changed, so the caller can reset that user's turns.
WITH old AS (SELECT active, perms, tags_lc, credentials_lc, ticket_priority FROM users WHERE id = $1)
INSERT INTO users (id, name, email, role, active, tags, credentials, ticket_priority, email_notifications, perms, tags_lc, credentials_lc,
                   status, cap_total, cap_capture, cap_review, cap_acknowledge)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9,
        (SELECT coalesce(array_agg(DISTINCT p ORDER BY p), '{}') FROM unnest($10::text[]) p),
        (SELECT coalesce(array_agg(lower(t)), '{}') FROM unnest($6::text[]) t),
        (SELECT coalesce(array_agg(lower(c)), '{}') FROM unnest($7::text[]) c),
        coalesce(nullif($11::text, ''), 'available'), $12, $13, $14, $15)
ON CONFLICT (id) DO UPDATE
SET name = excluded.name, email = excluded.email, role = excluded.role, active = excluded.active,
    tags = excluded.tags, credentials = excluded.credentials, ticket_priority = excluded.ticket_priority,
    email_notifications = excluded.email_notifications, perms = excluded.perms, tags_lc = excluded.tags_lc,
    credentials_lc = excluded.credentials_lc, status = coalesce(nullif($11::text, ''), users.status),
    cap_total = excluded.cap_total, cap_capture = excluded.cap_capture, cap_review = excluded.cap_review,
    cap_acknowledge = excluded.cap_acknowledge, updated_at = now()
RETURNING coalesce((SELECT (o.active, o.perms, o.tags_lc, o.credentials_lc, o.ticket_priority)
                           IS DISTINCT FROM (users.active, users.perms, users.tags_lc, users.credentials_lc, users.ticket_priority)
                    FROM old o), false);

-- name: DirectoryStatsRefresh
-- After a load: the directory's size, and a new generation, so eligible sets and
-- turn pools are made again from the directory as it now is.
INSERT INTO directory_stats (id, users) SELECT true, count(*) FROM users
ON CONFLICT (id) DO UPDATE SET users = excluded.users, generation = directory_stats.generation + 1;

-- name: UserPermissionsClear
DELETE FROM user_permissions WHERE user_id = $1;

-- name: UserPermissionsAdd
INSERT INTO user_permissions (user_id, permission)
SELECT $1, unnest($2::text[]);

-- name: UserIDsExisting
SELECT id FROM users WHERE id = ANY($1::text[]);

-- name: HostRecord
INSERT INTO subject_hosts (subject, user_id, at) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING;

-- name: HostLatest
SELECT user_id FROM subject_hosts WHERE subject = $1 ORDER BY at DESC, user_id LIMIT 1;
