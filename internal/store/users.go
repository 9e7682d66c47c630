package store

// The users table (queries/users.sql): reading people, one or a page at a
// time; the directory load that writes them is directory.go.

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/batonhq/baton/policy"
)

func scanUser(row pgx.Row) (policy.User, error) {
	var u policy.User
	err := row.Scan(&u.ID, &u.Name, &u.Email, &u.Role, &u.Active, &u.Permissions, &u.Tags, &u.Credentials, &u.TicketPriority,
		&u.EmailNotifications)
	return u, err
}

// UserList returns every user in directory order with their permissions.
func (qs *Queries) UserList(ctx context.Context) ([]policy.User, error) {
	return collect(ctx, qs, "list users", q("UserList"), func(r pgx.CollectableRow) (policy.User, error) { return scanUser(r) })
}

// UserGet returns one user, or ErrNotFound.
func (qs *Queries) UserGet(ctx context.Context, id string) (policy.User, error) {
	u, err := scanUser(qs.db.QueryRow(ctx, q("UserGet"), id))
	if errors.Is(err, pgx.ErrNoRows) {
		return policy.User{}, fmt.Errorf("user %q: %w", id, ErrNotFound)
	}
	if err != nil {
		return policy.User{}, fmt.Errorf("get user %q: %w", id, err)
	}
	return u, nil
}

// HostRecord records that user hosted subject at a time (an appointment, a call):
// the recent-host method assigns the latest.
func (qs *Queries) HostRecord(ctx context.Context, subject, userID string, at time.Time) error {
	if _, err := qs.db.Exec(ctx, q("HostRecord"), subject, userID, at); err != nil {
		return fmt.Errorf("record host %s of %s: %w", userID, subject, err)
	}
	return nil
}

// UsersByID implements policy.ModuleDirectory: the users among ids the
// directory knows, active or not, in the order given, in one query.
func (qs *Queries) UsersByID(ctx context.Context, ids []string) ([]policy.User, error) {
	return collect(ctx, qs, fmt.Sprintf("look up %d users", len(ids)), q("UsersCheck"),
		func(r pgx.CollectableRow) (policy.User, error) { return scanUser(r) }, nonNil(ids))
}

// UsersPage implements policy.ModuleDirectory: up to limit active users
// matching q after position after, in directory order, read from the
// directory's index of active users.
func (qs *Queries) UsersPage(ctx context.Context, uq policy.UserQuery, after int64, limit int) (policy.UserPage, error) {
	if limit < 1 || limit > MaxPage {
		return policy.UserPage{}, fmt.Errorf("users page: limit %d: want 1 to %d", limit, MaxPage)
	}
	rows, err := qs.db.Query(ctx, q("UsersMatching"), nonNil(uq.Roles), permsOf(uq.Permissions), lowerAll(uq.Tags), after, limit)
	if err != nil {
		return policy.UserPage{}, fmt.Errorf("users (%s): %w", uq, err)
	}
	defer rows.Close()
	var page policy.UserPage
	for rows.Next() {
		var u policy.User
		if err := rows.Scan(&page.Next, &u.ID, &u.Name, &u.Email, &u.Role, &u.Active, &u.Permissions, &u.Tags, &u.Credentials,
			&u.TicketPriority, &u.EmailNotifications); err != nil {
			return policy.UserPage{}, fmt.Errorf("users (%s): %w", uq, err)
		}
		page.Users = append(page.Users, u)
	}
	if len(page.Users) < limit {
		page.Next = 0
	}
	return page, rows.Err()
}

// PoolPage reads a page of a product module's pool as the assignment-options
// endpoints present it: the members of its requirement now, from offset for
// limit, and how many there are. The requirement is made the first time.
func (s *Store) PoolPage(ctx context.Context, pool policy.UserQuery, stage policy.Stage, offset, limit int) ([]policy.User, int, error) {
	var users []policy.User
	var total int
	err := s.InTx(ctx, func(qs *Queries) error {
		p := qs.People()
		r, err := p.set(ctx, pool.Requirement(stage))
		if err != nil {
			return err
		}
		total = int(r.size)
		users, err = collect(ctx, qs, "pool ("+pool.String()+")", q("RequirementMembersPage"),
			func(r pgx.CollectableRow) (policy.User, error) { return scanUser(r) }, r.id, offset, limit)
		return err
	})
	return users, total, err
}
