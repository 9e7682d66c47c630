package store

// The teams and team_members tables (queries/teams.sql).

import (
	"context"

	"github.com/jackc/pgx/v5"

	"github.com/batonhq/baton/policy"
)

// TeamList returns every team with its members in order.
func (qs *Queries) TeamList(ctx context.Context) ([]policy.Team, error) {
	return collect(ctx, qs, "list teams", q("TeamList"), func(r pgx.CollectableRow) (policy.Team, error) {
		var t policy.Team
		err := r.Scan(&t.ID, &t.Name, &t.Members)
		return t, err
	})
}
