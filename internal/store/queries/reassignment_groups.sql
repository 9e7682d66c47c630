-- The tables these queries read and write, as the migrations leave them (a ? is
-- nullable); TestQueryFilesOpenWithTheirTablesShape holds them to the schema.
-- shape reassignment_group_members(group_name text, user_id text, position integer)
-- shape reassignment_groups(name text, default_assignee text, method text, offer_timeout_ms bigint, updated_by text, updated_at timestamptz)

-- name: GroupUpsert
INSERT INTO reassignment_groups (name, default_assignee, method, offer_timeout_ms, updated_by)
VALUES ($1, $2, $3, $4, $5)
ON CONFLICT (name) DO UPDATE
SET default_assignee = excluded.default_assignee, method = excluded.method,
    offer_timeout_ms = excluded.offer_timeout_ms, updated_by = excluded.updated_by, updated_at = now();

-- name: GroupMembersClear
DELETE FROM reassignment_group_members WHERE group_name = $1;

-- name: GroupMembersAdd
INSERT INTO reassignment_group_members (group_name, user_id, position)
SELECT $1, m.user_id, m.ord
FROM unnest($2::text[]) WITH ORDINALITY AS m (user_id, ord);

-- name: GroupGet
SELECT g.name, g.default_assignee, g.method, g.offer_timeout_ms,
       coalesce(array_agg(m.user_id ORDER BY m.position) FILTER (WHERE m.user_id IS NOT NULL), '{}')::text[]
FROM reassignment_groups g
LEFT JOIN reassignment_group_members m ON m.group_name = g.name
WHERE g.name = $1
GROUP BY g.name;

-- name: GroupList
SELECT g.name, g.default_assignee, g.method, g.offer_timeout_ms,
       coalesce(array_agg(m.user_id ORDER BY m.position) FILTER (WHERE m.user_id IS NOT NULL), '{}')::text[]
FROM reassignment_groups g
LEFT JOIN reassignment_group_members m ON m.group_name = g.name
GROUP BY g.name
ORDER BY g.name;
