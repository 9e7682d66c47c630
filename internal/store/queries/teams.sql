-- The tables these queries read and write, as the migrations leave them (a ? is
-- nullable); TestQueryFilesOpenWithTheirTablesShape holds them to the schema.
-- shape team_members(team_id text, user_id text, position integer)
-- shape teams(id text, name text, created_at timestamptz)

-- name: TeamUpsert
INSERT INTO teams (id, name) VALUES ($1, $2)
ON CONFLICT (id) DO UPDATE SET name = excluded.name;

-- name: TeamMembersClear
DELETE FROM team_members WHERE team_id = $1;

-- name: TeamMembersAdd
INSERT INTO team_members (team_id, user_id, position)
SELECT $1, m.user_id, m.ord
FROM unnest($2::text[]) WITH ORDINALITY AS m (user_id, ord);

-- name: TeamMembersOf
-- The members of teams $1 now, in order: what a load compares the file's with.
SELECT t.id, t.name,
       coalesce(array_agg(m.user_id ORDER BY m.position) FILTER (WHERE m.user_id IS NOT NULL), '{}')::text[]
FROM teams t
LEFT JOIN team_members m ON m.team_id = t.id
WHERE t.id = ANY ($1::text[])
GROUP BY t.id;

-- name: TeamList
SELECT t.id, t.name,
       coalesce(array_agg(m.user_id ORDER BY m.position) FILTER (WHERE m.user_id IS NOT NULL), '{}')::text[]
FROM teams t
LEFT JOIN team_members m ON m.team_id = t.id
GROUP BY t.id
ORDER BY t.id;
