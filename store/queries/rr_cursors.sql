-- name: CursorEnsure
INSERT INTO rr_cursors (scope) VALUES ($1) ON CONFLICT (scope) DO NOTHING;

-- name: CursorGetForUpdate
-- Holding this row lock is what serialises round-robin turns across workers.
SELECT round, served FROM rr_cursors WHERE scope = $1 FOR UPDATE;

-- name: CursorSet
UPDATE rr_cursors SET round = $2, served = $3, updated_at = now() WHERE scope = $1;

-- name: CursorGet
SELECT round, served FROM rr_cursors WHERE scope = $1;
