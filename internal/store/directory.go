package store

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/jackc/pgx/v5"

	"github.com/batonhq/baton/policy"
)

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

// LoadSummary says what a directory load changed.
type LoadSummary struct {
	Users int
	Teams int
	// Added, Changed and TeamsChanged count what the load wrote: users new to
	// the directory, users whose entry differed, teams whose name or members
	// differed. A file that matches the directory writes nothing.
	Added, Changed, TeamsChanged int
	// Left are the people the file deactivated who held stages, each with
	// the workflows of those stages, marked to move off them as a
	// deactivation marks them (Queries.UserActiveSet): the claims to
	// redistribute (service.Service.LoadDirectory does).
	Left []Leaver
}

// Leaver is someone a directory load deactivated and the workflows of the
// stages they held, oldest first.
type Leaver struct {
	User string   `json:"user"`
	Held []string `json:"held"`
}

// LoadDirectory makes the directory match a parsed file, in one transaction:
// the file's users are copied into a staging table (COPY) and compared with
// the directory, and only users and teams that differ are written; each
// changed person's memberships of the live requirements follow
// (DirectoryChanged). Users not in the file are left as they are. A team member
// unknown both to the file and the database fails the load with the file, line
// and row, and nothing is written.
func (s *Store) LoadDirectory(ctx context.Context, d *policy.Directory) (LoadSummary, error) {
	sum := LoadSummary{Users: len(d.Users), Teams: len(d.Teams)}
	err := s.InTx(ctx, func(qs *Queries) error {
		if _, err := qs.db.Exec(ctx, q("DirectoryLock")); err != nil {
			return fmt.Errorf("%s: lock the directory: %w", d.File, err)
		}
		var ch DirectoryChange
		if err := qs.loadUsers(ctx, d, &ch, &sum); err != nil {
			return err
		}
		if err := qs.loadTeams(ctx, d, &ch, &sum); err != nil {
			return err
		}
		if sum.Added > 0 {
			if _, err := qs.db.Exec(ctx, q("DirectoryStatsRefresh")); err != nil {
				return fmt.Errorf("count the directory: %w", err)
			}
		}
		return qs.DirectoryChanged(ctx, ch)
	})
	if err != nil {
		return LoadSummary{}, err
	}
	return sum, nil
}

// directoryColumns are the staging table's columns, in the order loadUsers
// copies them.
var directoryColumns = []string{"line", "id", "name", "email", "role", "active", "tags", "credentials", "ticket_priority",
	"email_notifications", "perms", "tags_lc", "credentials_lc", "status", "cap_total", "cap_capture", "cap_review", "cap_acknowledge", "file_hash"}

// loadUsers copies the file's users whose entry changed since it was last
// loaded (their fingerprint, entryHash, differs from the one kept with them)
// into the staging table, adds the new and rewrites the changed, and notes in
// ch whose memberships, turns and limits to bring up to date.
func (qs *Queries) loadUsers(ctx context.Context, d *policy.Directory, ch *DirectoryChange, sum *LoadSummary) error {
	if _, err := qs.db.Exec(ctx, q("DirectoryStage")); err != nil {
		return fmt.Errorf("%s: stage the load: %w", d.File, err)
	}
	kept := make(map[string]int64, len(d.Users))
	rows, err := qs.db.Query(ctx, q("DirectoryFingerprints"))
	if err != nil {
		return fmt.Errorf("%s: read fingerprints: %w", d.File, err)
	}
	var id string
	var h int64
	_, err = pgx.ForEachRow(rows, []any{&id, &h}, func() error { kept[id] = h; return nil })
	if err != nil {
		return fmt.Errorf("%s: read fingerprints: %w", d.File, err)
	}
	var changed [][]any
	for _, u := range d.Users {
		fp := fingerprint(u.User)
		if old, ok := kept[u.ID]; ok && old == fp {
			continue
		}
		c := u.Capacity
		changed = append(changed, []any{u.Line, u.ID, u.Name, u.Email, u.Role, u.Active, nonNil(u.Tags), nonNil(u.Credentials),
			max(u.TicketPriority, 1), u.EmailNotifications, permsOf(u.Permissions), lowerAll(u.Tags), lowerAll(u.Credentials),
			string(u.Status), c.Total, c.PerStage[policy.StageCapture], c.PerStage[policy.StageReview], c.PerStage[policy.StageAcknowledge], fp})
	}
	if len(changed) == 0 {
		return nil
	}
	if _, err := qs.db.CopyFrom(ctx, pgx.Identifier{"directory_load"}, directoryColumns, pgx.CopyFromRows(changed)); err != nil {
		return fmt.Errorf("%s: copy users: %w", d.File, err)
	}
	if err := qs.stagedUsers(ctx, d, ch, sum); err != nil {
		return err
	}
	if _, err := qs.db.Exec(ctx, q("DirectoryFingerprintsSet")); err != nil {
		return fmt.Errorf("%s: keep fingerprints: %w", d.File, err)
	}
	return nil
}

// fingerprint is FNV-1a over every field of a user's entry that a load
// writes, each value ended by a separator, computed without allocating: a
// load fingerprints every entry of the file, and copies only those whose
// fingerprint differs from the one kept.
func fingerprint(u policy.User) int64 {
	h := fnv64(14695981039346656037)
	for _, s := range []string{u.ID, u.Name, u.Email, u.Role, string(u.Status)} {
		h.str(s)
	}
	for _, list := range [][]string{u.Tags, u.Credentials, u.Permissions} {
		for _, s := range list {
			h.str(s)
		}
		h.byte(0xfe)
	}
	c := u.Capacity
	for _, n := range []int{max(u.TicketPriority, 1), c.Total, c.PerStage[policy.StageCapture], c.PerStage[policy.StageReview],
		c.PerStage[policy.StageAcknowledge], boolInt(u.Active), boolInt(u.EmailNotifications)} {
		h.num(n)
	}
	return int64(h)
}

type fnv64 uint64

func (h *fnv64) byte(b byte) { *h = (*h ^ fnv64(b)) * 1099511628211 }

func (h *fnv64) str(s string) {
	for i := 0; i < len(s); i++ {
		h.byte(s[i])
	}
	h.byte(0xff)
}

func (h *fnv64) num(n int) {
	for i := range 8 {
		h.byte(byte(uint64(n) >> (8 * i)))
	}
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

// stagedUsers adds the staged users that are new and rewrites those that
// changed.
func (qs *Queries) stagedUsers(ctx context.Context, d *policy.Directory, ch *DirectoryChange, sum *LoadSummary) error {
	added, err := collect(ctx, qs, d.File+": add users", q("DirectoryInsertNew"), pgx.RowTo[string])
	if err != nil {
		return err
	}
	sum.Added = len(added)
	ch.Eligibility = append(ch.Eligibility, added...)
	permsChanged := slices.Clone(added)
	rows, err := qs.db.Query(ctx, q("DirectoryUpdateChanged"))
	if err != nil {
		return fmt.Errorf("%s: update users: %w", d.File, err)
	}
	var left []string
	for rows.Next() {
		var id string
		var elig, turns, caps, leaves bool
		if err := rows.Scan(&id, &elig, &turns, &caps, &leaves); err != nil {
			rows.Close()
			return fmt.Errorf("%s: update users: %w", d.File, err)
		}
		if leaves {
			left = append(left, id)
		}
		sum.Changed++
		if elig {
			ch.Eligibility = append(ch.Eligibility, id)
			permsChanged = append(permsChanged, id)
		}
		if turns {
			ch.Turns = append(ch.Turns, id)
		}
		if caps {
			ch.Limits = append(ch.Limits, id)
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return fmt.Errorf("%s: update users: %w", d.File, err)
	}
	// Leavers: their open stages are marked to move, as a deactivation
	// marks them, after their user rows (the order UserActiveSet takes).
	if len(left) > 0 {
		reasons := make([]string, len(left))
		for i, id := range left {
			reasons[i] = deactivated(id)
		}
		marked, err := qs.markToMove(ctx, left, reasons, false)
		if err != nil {
			return fmt.Errorf("%s: %w", d.File, err)
		}
		slices.Sort(left)
		for _, id := range left {
			if held := marked[id]; len(held) > 0 {
				sum.Left = append(sum.Left, Leaver{User: id, Held: held})
			}
		}
	}
	if len(permsChanged) > 0 {
		if _, err := qs.db.Exec(ctx, q("DirectoryPermissionsSet"), permsChanged); err != nil {
			return fmt.Errorf("%s: user permissions: %w", d.File, err)
		}
	}
	return nil
}

// permsOf is a user's permissions as the directory stores them: sorted, once each.
func permsOf(p []string) []string {
	return nonNil(slices.Compact(slices.Sorted(slices.Values(p))))
}

// loadTeams writes the file's teams whose name or members differ from the
// directory's, and notes in ch the people who joined or left one (the
// care-team filter reads team membership).
func (qs *Queries) loadTeams(ctx context.Context, d *policy.Directory, ch *DirectoryChange, sum *LoadSummary) error {
	if len(d.Teams) == 0 {
		return nil
	}
	ids := make([]string, len(d.Teams))
	for i, t := range d.Teams {
		ids[i] = t.ID
	}
	now, err := collect(ctx, qs, d.File+": read teams", q("TeamMembersOf"), func(r pgx.CollectableRow) (policy.Team, error) {
		var t policy.Team
		err := r.Scan(&t.ID, &t.Name, &t.Members)
		return t, err
	}, ids)
	if err != nil {
		return err
	}
	have := make(map[string]policy.Team, len(now))
	for _, t := range now {
		have[t.ID] = t
	}
	for i, t := range d.Teams {
		old, exists := have[t.ID]
		if exists && old.Name == t.Name && slices.Equal(old.Members, t.Members) {
			continue
		}
		sum.TeamsChanged++
		if _, err := qs.db.Exec(ctx, q("TeamUpsert"), t.ID, t.Name); err != nil {
			return fmt.Errorf("%s:%d: team %q: %w", d.File, t.Line, t.ID, err)
		}
		if slices.Equal(old.Members, t.Members) {
			continue
		}
		// Only a team whose members changed is checked: an unchanged one
		// was checked when it was written.
		if err := qs.checkMembersExist(ctx, d.File, i, t); err != nil {
			return err
		}
		if _, err := qs.db.Exec(ctx, q("TeamMembersClear"), t.ID); err != nil {
			return fmt.Errorf("%s:%d: team %q: %w", d.File, t.Line, t.ID, err)
		}
		if _, err := qs.db.Exec(ctx, q("TeamMembersAdd"), t.ID, nonNil(t.Members)); err != nil {
			return fmt.Errorf("%s:%d: team %q: %w", d.File, t.Line, t.ID, err)
		}
		ch.Eligibility = append(ch.Eligibility, symmetricDifference(old.Members, t.Members)...)
		ch.Joined = append(ch.Joined, without(t.Members, old.Members)...)
		if left := without(old.Members, t.Members); len(left) > 0 {
			if _, err := qs.db.Exec(ctx, q("TurnsLeaveTeam"), t.ID, left); err != nil {
				return fmt.Errorf("%s:%d: team %q: %w", d.File, t.Line, t.ID, err)
			}
		}
	}
	return nil
}

// without is who is in a but not in b.
func without(a, b []string) []string {
	in := make(map[string]bool, len(b))
	for _, x := range b {
		in[x] = true
	}
	var out []string
	for _, x := range a {
		if !in[x] {
			out = append(out, x)
		}
	}
	return out
}

// symmetricDifference is who is in a or b but not both.
func symmetricDifference(a, b []string) []string {
	return append(without(a, b), without(b, a)...)
}

// DirectoryChange is what a directory change touched, person by person.
type DirectoryChange struct {
	// Eligibility: people whose active flag, permissions, tags, credentials,
	// role or teams changed, or who are new: their memberships of the live
	// requirements are worked out again.
	Eligibility []string
	// Turns: people who re-enter every turn order as newcomers.
	Turns []string
	// Limits: people whose capacity limits or status changed: their turn
	// rows take them (and whether they are in turn).
	Limits []string
	// Joined: people who joined a team: listed to enter the turn orders they
	// have no count in (the team's), as newcomers.
	Joined []string
}

// DirectoryChanged brings what is derived from the directory up to date with a
// change the caller made in this transaction, holding the directory lock
// (DirectoryLock): a new generation, each changed person's memberships of the
// live requirements (and the requirements' sizes), the turns of those who
// re-enter as newcomers, their limits on their turn rows, and the people the
// turn pools must enter. It costs what changed: nothing when nothing did.
func (qs *Queries) DirectoryChanged(ctx context.Context, ch DirectoryChange) error {
	var entering []string
	if len(ch.Eligibility) > 0 {
		var gen int64
		if err := qs.db.QueryRow(ctx, q("DirectoryGeneration")).Scan(&gen); err != nil {
			return fmt.Errorf("start a directory generation: %w", err)
		}
		rows, err := qs.db.Query(ctx, q("MembersChange"), ch.Eligibility, gen)
		if err != nil {
			return fmt.Errorf("update requirement members: %w", err)
		}
		for rows.Next() {
			var req int64
			var id string
			if err := rows.Scan(&req, &id); err != nil {
				rows.Close()
				return fmt.Errorf("update requirement members: %w", err)
			}
			entering = append(entering, id)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return fmt.Errorf("update requirement members: %w", err)
		}
		// Whoever of them was deactivated loses their API tokens.
		if _, err := qs.db.Exec(ctx, q("TokenRevokeInactive"), ch.Eligibility); err != nil {
			return fmt.Errorf("revoke the API tokens of the deactivated: %w", err)
		}
	}
	if len(ch.Turns) > 0 {
		if _, err := qs.db.Exec(ctx, q("TurnsForget"), ch.Turns); err != nil {
			return fmt.Errorf("reset the turns of changed users: %w", err)
		}
		entering = append(entering, ch.Turns...)
	}
	entering = append(entering, ch.Joined...)
	if len(ch.Limits) > 0 {
		if _, err := qs.db.Exec(ctx, q("TurnLoadSync"), ch.Limits); err != nil {
			return fmt.Errorf("copy the limits and status of changed users: %w", err)
		}
	}
	if len(entering) > 0 {
		slices.Sort(entering)
		if _, err := qs.db.Exec(ctx, q("TurnPendingAdd"), slices.Compact(entering)); err != nil {
			return fmt.Errorf("list newcomers for the turn orders: %w", err)
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
