-- name: UserList
-- Users in directory order with their permissions, for eligibility.
SELECT u.id, u.name, u.email, u.role, u.active,
       coalesce(array_agg(p.permission ORDER BY p.permission) FILTER (WHERE p.permission IS NOT NULL), '{}')::text[],
       u.tags, u.credentials, u.ticket_priority, u.email_notifications
FROM users u
LEFT JOIN user_permissions p ON p.user_id = u.id
GROUP BY u.id
ORDER BY u.position;

-- name: UserGet
SELECT u.id, u.name, u.email, u.role, u.active,
       coalesce(array_agg(p.permission ORDER BY p.permission) FILTER (WHERE p.permission IS NOT NULL), '{}')::text[],
       u.tags, u.credentials, u.ticket_priority, u.email_notifications
FROM users u
LEFT JOIN user_permissions p ON p.user_id = u.id
WHERE u.id = $1
GROUP BY u.id;

-- name: UserUpsert
INSERT INTO users (id, name, email, role, active, tags, credentials, ticket_priority, email_notifications)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
ON CONFLICT (id) DO UPDATE
SET name = excluded.name, email = excluded.email, role = excluded.role, active = excluded.active,
    tags = excluded.tags, credentials = excluded.credentials, ticket_priority = excluded.ticket_priority,
    email_notifications = excluded.email_notifications, updated_at = now();

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
