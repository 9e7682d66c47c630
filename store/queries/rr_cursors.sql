-- name: CursorLock
-- Creates the scope's cursor if missing and locks its row, in one round trip: ON
-- CONFLICT DO UPDATE waits for and locks the existing row and returns its latest
-- committed values. Holding this row lock is what serialises round-robin turns
-- across workers.
INSERT INTO rr_cursors (scope) VALUES ($1)
ON CONFLICT (scope) DO UPDATE SET scope = EXCLUDED.scope
RETURNING round, served;

-- name: CursorSet
UPDATE rr_cursors SET round = $2, served = $3, updated_at = now() WHERE scope = $1;

-- name: CursorGet
SELECT round, served FROM rr_cursors WHERE scope = $1;
