-- name: fragment Eligible
-- Whether user u meets a requirement ($E1 permissions, $E2 tags one of, $E3 tags
-- all of (both lower-cased), $E4 the state-credential filter is on, $E5 the
-- claim's state (lower-cased), $E6 the care-team filter is on, $E7 the claim's care
-- team). Included in queries as {{eligible $N}}, its parameters numbered from $N.
u.active
AND u.perms @> $E1::text[]
AND (cardinality($E2::text[]) = 0 OR u.tags_lc && $E2::text[])
AND u.tags_lc @> $E3::text[]
AND (NOT $E4::bool OR ($E5::text <> '' AND u.credentials_lc @> ARRAY[$E5::text]))
AND (NOT $E6::bool OR EXISTS (SELECT 1 FROM team_members cm WHERE cm.team_id = $E7::text AND cm.user_id = u.id))

-- name: EligibleSetGet
-- The set for a requirement at the directory's current generation, if made: its
-- id, size, first $2 members (of its head) and the directory's size.
SELECT e.id, e.size, e.head[1:$2], d.users
FROM directory_stats d JOIN eligible_sets e ON e.requirement_key = $1 AND e.generation = d.generation;

-- name: EligibleSetMake
-- Makes the set for a requirement ($1 key, $2 requirement, $3..$9 its fragment
-- parameters, $10 the head's length) at the current generation: the one scan of
-- everyone eligible.
WITH s AS (
    SELECT coalesce(array_agg(u.id ORDER BY u.position), '{}') AS users FROM users u WHERE {{eligible $3}}
)
INSERT INTO eligible_sets (requirement_key, generation, requirement, users, size, head)
SELECT $1, d.generation, $2, s.users, cardinality(s.users), s.users[1:$10]
FROM directory_stats d, s
ON CONFLICT (requirement_key, generation) DO NOTHING;

-- name: UserCheck
-- One user with whether the claim's care team exists and has them as a member.
SELECT u.id, u.name, u.email, u.role, u.active, u.perms, u.tags, u.credentials, u.ticket_priority, u.email_notifications,
       EXISTS (SELECT 1 FROM teams t WHERE t.id = $2),
       EXISTS (SELECT 1 FROM team_members m WHERE m.team_id = $2 AND m.user_id = u.id)
FROM users u WHERE u.id = $1;

-- name: TeamEligible
SELECT u.id, u.name, u.email, u.role, u.active, u.perms, u.tags, u.credentials, u.ticket_priority, u.email_notifications
FROM team_members m JOIN users u ON u.id = m.user_id
WHERE m.team_id = $8 AND {{eligible $1}}
ORDER BY m.position;

-- name: TeamExists
SELECT EXISTS (SELECT 1 FROM teams WHERE id = $1);
