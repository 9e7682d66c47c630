package store

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

// ListUsers returns every user in directory order with their permissions.
func (qs *Queries) ListUsers(ctx context.Context) ([]policy.User, error) {
	return collect(ctx, qs, "list users", q("UserList"), func(r pgx.CollectableRow) (policy.User, error) { return scanUser(r) })
}

// collect runs a query and scans every row, wrapping any error with what it was
// doing.
func collect[T any](ctx context.Context, qs *Queries, what, sql string, scan pgx.RowToFunc[T], args ...any) ([]T, error) {
	rows, err := qs.db.Query(ctx, sql, args...)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	out, err := pgx.CollectRows(rows, scan)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	return out, nil
}

// GetUser returns one user, or ErrNotFound.
func (qs *Queries) GetUser(ctx context.Context, id string) (policy.User, error) {
	u, err := scanUser(qs.db.QueryRow(ctx, q("UserGet"), id))
	if errors.Is(err, pgx.ErrNoRows) {
		return policy.User{}, fmt.Errorf("user %q: %w", id, ErrNotFound)
	}
	if err != nil {
		return policy.User{}, fmt.Errorf("get user %q: %w", id, err)
	}
	return u, nil
}

// ListTeams returns every team with its members in order.
func (qs *Queries) ListTeams(ctx context.Context) ([]policy.Team, error) {
	return collect(ctx, qs, "list teams", q("TeamList"), func(r pgx.CollectableRow) (policy.Team, error) {
		var t policy.Team
		err := r.Scan(&t.ID, &t.Name, &t.Members)
		return t, err
	})
}

// LoadSummary says what a directory load changed.
type LoadSummary struct {
	Users int
	Teams int
}

// LoadDirectory upserts a parsed directory in one transaction: users (replacing their
// permissions) and teams (replacing their members, in order). A team member unknown
// both to the file and the database fails the load with the file, line and row, and
// nothing is written.
func (s *Store) LoadDirectory(ctx context.Context, d *policy.Directory) (LoadSummary, error) {
	err := s.InTx(ctx, func(qs *Queries) error {
		if err := qs.upsertUsers(ctx, d); err != nil {
			return err
		}
		for i, t := range d.Teams {
			if err := qs.checkMembersExist(ctx, d.File, i, t); err != nil {
				return err
			}
			if _, err := qs.db.Exec(ctx, q("TeamUpsert"), t.ID, t.Name); err != nil {
				return fmt.Errorf("%s:%d: team %q: %w", d.File, t.Line, t.ID, err)
			}
			if _, err := qs.db.Exec(ctx, q("TeamMembersClear"), t.ID); err != nil {
				return fmt.Errorf("%s:%d: team %q: %w", d.File, t.Line, t.ID, err)
			}
			if _, err := qs.db.Exec(ctx, q("TeamMembersAdd"), t.ID, t.Members); err != nil {
				return fmt.Errorf("%s:%d: team %q: %w", d.File, t.Line, t.ID, err)
			}
		}
		if _, err := qs.db.Exec(ctx, q("DirectoryStatsRefresh")); err != nil {
			return fmt.Errorf("count the directory: %w", err)
		}
		return nil
	})
	if err != nil {
		return LoadSummary{}, err
	}
	return LoadSummary{Users: len(d.Users), Teams: len(d.Teams)}, nil
}

// loadBatch is how many users go in one pipelined round trip: a 100,000-user
// directory loads in a hundred of them, not 300,000.
const loadBatch = 1000

// upsertUsers writes the file's users (replacing their permissions) in pipelined
// batches. A user whose active flag, permissions, tags, credentials or ticket
// priority changed re-enters every turn order as a newcomer (TurnsForget).
func (qs *Queries) upsertUsers(ctx context.Context, d *policy.Directory) error {
	var changed []string
	for start := 0; start < len(d.Users); start += loadBatch {
		users := d.Users[start:min(start+loadBatch, len(d.Users))]
		b := &pgx.Batch{}
		for _, u := range users {
			c := u.Capacity
			b.Queue(q("UserUpsert"), u.ID, u.Name, u.Email, u.Role, u.Active,
				nonNil(u.Tags), nonNil(u.Credentials), max(u.TicketPriority, 1), u.EmailNotifications, nonNil(u.Permissions),
				string(u.Status), c.Total, c.PerStage[policy.StageCapture], c.PerStage[policy.StageReview], c.PerStage[policy.StageAcknowledge])
			b.Queue(q("UserPermissionsClear"), u.ID)
			b.Queue(q("UserPermissionsAdd"), u.ID, nonNil(u.Permissions))
		}
		br := qs.db.SendBatch(ctx, b)
		for _, u := range users {
			var diff bool
			err := br.QueryRow().Scan(&diff)
			if err == nil {
				_, err = br.Exec()
			}
			if err == nil {
				_, err = br.Exec()
			}
			if err != nil {
				_ = br.Close()
				return fmt.Errorf("%s:%d: user %q: %w", d.File, u.Line, u.ID, err)
			}
			if diff {
				changed = append(changed, u.ID)
			}
		}
		if err := br.Close(); err != nil {
			return fmt.Errorf("%s: load users: %w", d.File, err)
		}
	}
	if len(changed) > 0 {
		if _, err := qs.db.Exec(ctx, q("TurnsForget"), changed); err != nil {
			return fmt.Errorf("reset the turns of changed users: %w", err)
		}
	}
	return nil
}

// checkMembersExist runs after the file's users are upserted, so members defined in
// the same file count as known.
func (qs *Queries) checkMembersExist(ctx context.Context, file string, i int, t policy.DirectoryTeam) error {
	rows, err := qs.db.Query(ctx, q("UserIDsExisting"), t.Members)
	if err != nil {
		return fmt.Errorf("check team %q members: %w", t.ID, err)
	}
	known, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return fmt.Errorf("check team %q members: %w", t.ID, err)
	}
	set := map[string]bool{}
	for _, id := range known {
		set[id] = true
	}
	for j, m := range t.Members {
		if !set[m] {
			return &policy.FieldError{File: file, Line: t.MemberLines[j], Field: fmt.Sprintf("teams[%d].members[%d]", i, j),
				Msg: fmt.Sprintf("unknown user %q: not in this file or the directory", m)}
		}
	}
	return nil
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// HostRecord records that user hosted subject at a time (an appointment, a call):
// the recent-host method assigns the latest.
func (qs *Queries) HostRecord(ctx context.Context, subject, userID string, at time.Time) error {
	if _, err := qs.db.Exec(ctx, q("HostRecord"), subject, userID, at); err != nil {
		return fmt.Errorf("record host %s of %s: %w", userID, subject, err)
	}
	return nil
}

// RecentHost returns the user most recently recorded against subject, or "".
func (qs *Queries) RecentHost(ctx context.Context, subject string) (string, error) {
	if subject == "" {
		return "", nil
	}
	var id string
	err := qs.db.QueryRow(ctx, q("HostLatest"), subject).Scan(&id)
	if errors.Is(err, pgx.ErrNoRows) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("recent host of %s: %w", subject, err)
	}
	return id, nil
}
