-- The tables these queries read and write, as the migrations leave them (a ? is
-- nullable); TestQueryFilesOpenWithTheirTablesShape holds them to the schema.
-- shape policies(name text, version integer, body text, checksum text, created_by text, created_at timestamptz)

-- name: PolicyLock
-- Serialises applies of one policy name so versions are gapless and unique.
SELECT pg_advisory_xact_lock(hashtext('baton.policy/' || $1));

-- name: PolicyLatest
SELECT version, body, checksum, created_by, created_at FROM policies
WHERE name = $1 ORDER BY version DESC LIMIT 1;

-- name: PolicyGet
SELECT version, body, checksum, created_by, created_at FROM policies
WHERE name = $1 AND version = $2;

-- name: PolicyInsert
INSERT INTO policies (name, version, body, checksum, created_by) VALUES ($1, $2, $3, $4, $5);

-- name: PolicyList
SELECT version, '' AS body, checksum, created_by, created_at FROM policies
WHERE name = $1 ORDER BY version;
