package store

import (
	"context"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/batonhq/baton/policy"
)

// OpenStageClose records that a completed stage is no longer anyone's open work
// (its holder's counts move with it), nor waiting in the backlog.
func (qs *Queries) OpenStageClose(ctx context.Context, workflowID string, stage policy.Stage) error {
	if _, err := qs.db.Exec(ctx, q("OpenStageClose"), workflowID, string(stage)); err != nil {
		return fmt.Errorf("close open stage %s/%s: %w", workflowID, stage, err)
	}
	if _, err := qs.db.Exec(ctx, q("BacklogDrop"), workflowID, string(stage)); err != nil {
		return fmt.Errorf("drop %s/%s from the backlog: %w", workflowID, stage, err)
	}
	return nil
}

// BacklogTake leases up to n backlog stages user is eligible for, highest
// priority then oldest, and returns their workflows: the claims to ask to decide
// again now that user has room. A lease lasts two minutes; the claim's new
// decision ends it, by assigning or by putting the stage back with its age.
func (qs *Queries) BacklogTake(ctx context.Context, user string, n int) ([]string, error) {
	if n < 1 {
		return nil, nil
	}
	return collect(ctx, qs, "backlog for "+user, q("BacklogTake"), pgx.RowTo[string], user, n)
}

// UserWork is a person's workload as `starter user show` and the API present it.
type UserWork struct {
	ID          string               `json:"id"`
	Name        string               `json:"name"`
	Active      bool                 `json:"active"`
	Status      policy.Availability  `json:"status"`
	Capacity    policy.Capacity      `json:"capacity"`
	Open        int                  `json:"open"`
	OpenByStage map[policy.Stage]int `json:"openByStage"`
}

// UserWorkload reads a person with their status, limits and open stages.
func (qs *Queries) UserWorkload(ctx context.Context, id string) (UserWork, error) {
	u, err := qs.UserGet(ctx, id)
	if err != nil {
		return UserWork{}, err
	}
	w, _, err := qs.workload(ctx, q("UserWorkload"), id, policy.StageCapture)
	if err != nil {
		return UserWork{}, err
	}
	out := UserWork{ID: u.ID, Name: u.Name, Active: u.Active, Status: w.Status, Capacity: w.Capacity, Open: w.Open.Total,
		OpenByStage: map[policy.Stage]int{}}
	if out.Status == "" {
		out.Status = policy.Available
	}
	counts, err := countsBy[int](ctx, qs, "open stages of "+id, q("UserOpenByStage"), id)
	if err != nil {
		return UserWork{}, err
	}
	for s, n := range counts {
		out.OpenByStage[policy.Stage(s)] = n
	}
	return out, nil
}

// UserStatusSet sets target's status in its own transaction, as the system:
// who may set it is the caller's to decide (service.Service.SetStatus asks
// policy.AuthorizeStatusChange in the transaction it runs Queries.UserStatusSet in).
func (s *Store) UserStatusSet(ctx context.Context, target string, status policy.Availability) (old policy.Availability, drain []string, err error) {
	err = s.InTx(ctx, func(qs *Queries) error {
		old, drain, err = qs.UserStatusSet(ctx, target, status)
		return err
	})
	return old, drain, err
}

// UserStatusSet sets target's status and returns the one it had and, when
// they come back, the workflows of backlog stages to nudge (leased). An
// unknown target is ErrNotFound. A person becoming available again resumes
// every turn order at its lowest level (TurnsCatchUp), so the turns passed
// over while away do not come back as a run of catch-up work.
func (qs *Queries) UserStatusSet(ctx context.Context, target string, status policy.Availability) (policy.Availability, []string, error) {
	var old string
	var drain []string
	err := func() error {
		err := qs.db.QueryRow(ctx, q("UserStatusSet"), target, string(status)).Scan(&old)
		if errors.Is(err, pgx.ErrNoRows) {
			return fmt.Errorf("user %q: %w", target, ErrNotFound)
		}
		if err != nil {
			return fmt.Errorf("set status of %q: %w", target, err)
		}
		if old != string(status) {
			// In turn again, or out of it, in every turn order.
			if _, err := qs.db.Exec(ctx, q("TurnLoadSync"), []string{target}); err != nil {
				return fmt.Errorf("turn rows of %q: %w", target, err)
			}
		}
		if status == policy.Available && old != string(policy.Available) {
			if _, err := qs.db.Exec(ctx, q("TurnsCatchUp"), target); err != nil {
				return fmt.Errorf("resume turns of %q: %w", target, err)
			}
			// Back: the backlog stages they may take, as many as they have room for.
			w, _, err := qs.workload(ctx, q("UserWorkload"), target, policy.StageCapture)
			if err != nil {
				return err
			}
			room := backlogBatch
			if w.Capacity.Total > 0 {
				room = min(room, max(w.Capacity.Total-w.Open.Total, 0))
			}
			drain, err = qs.BacklogTake(ctx, target, room)
			return err
		}
		return nil
	}()
	return policy.Availability(old), drain, err
}

// backlogBatch is how many backlog stages a person coming back is offered at
// once; each claim decides again, and whoever's turn it is takes it.
const backlogBatch = 10

// UserActiveSet deactivates or reactivates target in its own transaction, as
// the system: who may is the caller's to decide (service.Service.SetActive
// asks policy.AuthorizeUserAdmin in the transaction it runs
// Queries.UserActiveSet in).
func (s *Store) UserActiveSet(ctx context.Context, target string, active bool) (held []string, changed bool, err error) {
	err = s.InTx(ctx, func(qs *Queries) error {
		held, changed, err = qs.UserActiveSet(ctx, target, active)
		return err
	})
	return held, changed, err
}

// UserActiveSet deactivates (active false) or reactivates a person. Their memberships of the
// live requirements follow at once (DirectoryChanged: a new generation, their
// rows closed or opened, nothing rebuilt), and their turns are forgotten: back,
// they join every turn order as a newcomer. It returns the workflows of the
// stages they still hold, oldest first: on deactivation, the claims to
// redistribute. Running it again returns only the stages not yet moved, and
// changed false: they were so already.
func (qs *Queries) UserActiveSet(ctx context.Context, target string, active bool) (held []string, changed bool, err error) {
	verb := "reactivate "
	if !active {
		verb = "deactivate "
	}
	err = func() error {
		if _, err := qs.db.Exec(ctx, q("DirectoryLock")); err != nil {
			return fmt.Errorf("%s%q: lock the directory: %w", verb, target, err)
		}
		var was bool
		err := qs.db.QueryRow(ctx, q("UserActiveSet"), target, active).Scan(&was)
		if errors.Is(err, pgx.ErrNoRows) {
			return fmt.Errorf("user %q: %w", target, ErrNotFound)
		}
		if err != nil {
			return fmt.Errorf("%s%q: %w", verb, target, err)
		}
		// Their open stages, marked to move when they leave (what a
		// redistribute signal for them may move): before anything below
		// locks their load row, in the order a decision moving one of those
		// stages takes the two (its stage's row, then the loads), so the two
		// never wait on each other.
		if active {
			held, err = collect(ctx, qs, "open stages of "+target, q("OpenStagesOf"), pgx.RowTo[string], target)
		} else {
			var marked map[string][]string
			marked, err = qs.markToMove(ctx, []string{target}, []string{deactivated(target)}, false)
			held = marked[target]
		}
		if err != nil {
			return err
		}
		changed = was != active
		if changed {
			if err := qs.DirectoryChanged(ctx, DirectoryChange{Eligibility: []string{target}, Turns: []string{target}}); err != nil {
				return fmt.Errorf("%s%q: %w", verb, target, err)
			}
		}
		return nil
	}()
	return held, changed, err
}

// StageMove is why stage of the claim workflowID is to be moved off user: ok
// is false when the stage is not theirs or nothing marked it (the only
// markers are a deactivation, UserActiveSet, and an absence beginning,
// StartAbsences). absence says it was an absence.
func (qs *Queries) StageMove(ctx context.Context, workflowID string, stage policy.Stage, user string) (reason string, absence, ok bool, err error) {
	err = qs.db.QueryRow(ctx, q("StageMove"), workflowID, string(stage), user).Scan(&reason, &absence)
	if errors.Is(err, pgx.ErrNoRows) {
		return "", false, false, nil
	}
	if err != nil {
		return "", false, false, fmt.Errorf("why %s of %s moves off %q: %w", stage, workflowID, user, err)
	}
	return reason, absence, true, nil
}

// Absence is an out-of-office period: the person is away from From until
// Until, and their new work goes to Delegate, if set, when the delegate can
// take it.
type Absence struct {
	From     time.Time `json:"from"`
	Until    time.Time `json:"until"`
	Delegate string    `json:"delegate,omitempty"`
}

// AbsenceAdd records an absence in its own transaction, as the system: who
// may is the caller's to decide (service.Service.AddAbsence asks
// policy.AuthorizeAbsence in the transaction it runs Queries.AbsenceAdd in).
func (s *Store) AbsenceAdd(ctx context.Context, actor, target string, a Absence) error {
	return s.InTx(ctx, func(qs *Queries) error { return qs.AbsenceAdd(ctx, actor, target, a) })
}

// AbsenceAdd records an absence for target, by actor (recorded). The delegate
// must be another known user. An unknown user is ErrNotFound; a bad period or
// delegate ErrInvalid.
func (qs *Queries) AbsenceAdd(ctx context.Context, actor, target string, a Absence) error {
	if !a.Until.After(a.From) {
		return fmt.Errorf("absence of %s: until (%s) must be after from (%s): %w", target,
			a.Until.Format(time.RFC3339), a.From.Format(time.RFC3339), ErrInvalid)
	}
	if a.Delegate == target {
		return fmt.Errorf("absence of %s: %s cannot be their own delegate: %w", target, target, ErrInvalid)
	}
	if _, err := qs.UserGet(ctx, target); err != nil {
		return err
	}
	if a.Delegate != "" {
		d, err := qs.UserGet(ctx, a.Delegate)
		switch {
		case errors.Is(err, ErrNotFound):
			return fmt.Errorf("absence of %s: delegate %q is not in the directory: %w", target, a.Delegate, ErrInvalid)
		case err != nil:
			return err
		case !d.Active:
			// Their turns' work would go to someone who can take none.
			return fmt.Errorf("absence of %s: delegate %q is deactivated: %w", target, a.Delegate, ErrInvalid)
		}
	}
	if _, err := qs.db.Exec(ctx, q("AbsenceAdd"), target, a.From, a.Until, a.Delegate, actor); err != nil {
		return fmt.Errorf("record the absence of %s: %w", target, err)
	}
	// An absence under way now takes them out of turn at once.
	if _, err := qs.db.Exec(ctx, q("TurnLoadSync"), []string{target}); err != nil {
		return fmt.Errorf("turn rows of %s: %w", target, err)
	}
	return nil
}

// Absences lists a person's absences not yet over, soonest first.
func (qs *Queries) Absences(ctx context.Context, id string) ([]Absence, error) {
	return collect(ctx, qs, "absences of "+id, q("AbsenceList"), func(r pgx.CollectableRow) (Absence, error) {
		var a Absence
		err := r.Scan(&a.From, &a.Until, &a.Delegate)
		return a, err
	}, id)
}

// WorkloadStats is what the workload metrics export, each bounded in size:
// open stages by stage, the TopOpen people holding the most, and the backlog by
// queue and stage.
type WorkloadStats struct {
	OpenByStage map[policy.Stage]int
	TopOpen     []UserOpen
	Backlog     []BacklogQueue
}

// UserOpen is one person's open stages.
type UserOpen struct {
	UserID string
	Open   int
}

// BacklogQueue is the backlog of one queue and stage: how many wait, and the
// oldest wait in seconds.
type BacklogQueue struct {
	Queue      string  `json:"queue"`
	Stage      string  `json:"stage"`
	Count      int     `json:"count"`
	OldestSecs float64 `json:"oldestSeconds"`
}

// TopOpen is how many people WorkloadStats names.
const TopOpen = 10

// WorkloadStats reads the workload figures.
func (qs *Queries) WorkloadStats(ctx context.Context) (WorkloadStats, error) {
	var st WorkloadStats
	by, err := countsBy[int](ctx, qs, "open stages by stage", q("OpenStagesByStage"))
	if err != nil {
		return st, err
	}
	st.OpenByStage = map[policy.Stage]int{}
	for s, n := range by {
		st.OpenByStage[policy.Stage(s)] = n
	}
	if st.TopOpen, err = collect(ctx, qs, "top open stages", q("OpenStagesTop"), func(r pgx.CollectableRow) (UserOpen, error) {
		var u UserOpen
		return u, r.Scan(&u.UserID, &u.Open)
	}, TopOpen); err != nil {
		return st, err
	}
	st.Backlog, err = qs.BacklogByQueue(ctx)
	return st, err
}

// BacklogByQueue reads the backlog's size and oldest wait by queue and stage.
func (qs *Queries) BacklogByQueue(ctx context.Context) ([]BacklogQueue, error) {
	return collect(ctx, qs, "backlog by queue", q("BacklogByQueue"), func(r pgx.CollectableRow) (BacklogQueue, error) {
		var b BacklogQueue
		return b, r.Scan(&b.Queue, &b.Stage, &b.Count, &b.OldestSecs)
	})
}

// TeamMember is one row of the admins' team view.
type TeamMember struct {
	ID     string              `json:"id"`
	Name   string              `json:"name"`
	Status policy.Availability `json:"status"`
	Limit  int                 `json:"limit,omitempty"` // the total limit; 0 for none
	Open   int                 `json:"open"`
	// position is the person's place in the directory, for the page's cursor.
	position int64
}

// TeamCursor is where a page of the team view ends: the last row's open stages
// and directory position. The zero cursor starts at the most loaded.
type TeamCursor struct {
	Open     int
	Position int64
}

// String is the cursor as the API and the CLI pass it ("3.1042"); "" for the start.
func (c TeamCursor) String() string {
	if c == (TeamCursor{}) {
		return ""
	}
	return fmt.Sprintf("%d.%d", c.Open, c.Position)
}

// ParseTeamCursor reads a cursor String wrote; "" is the start.
func ParseTeamCursor(s string) (TeamCursor, error) {
	if s == "" {
		return TeamCursor{}, nil
	}
	var c TeamCursor
	open, pos, ok := strings.Cut(s, ".")
	var err1, err2 error
	c.Open, err1 = strconv.Atoi(open)
	c.Position, err2 = strconv.ParseInt(pos, 10, 64)
	if !ok || err1 != nil || err2 != nil || c.Open < 0 || c.Position < 0 {
		return TeamCursor{}, fmt.Errorf("cursor %q: want the next value a page returned, such as 3.1042: %w", s, ErrInvalid)
	}
	return c, nil
}

// TeamPage reads a page of active people after cursor, the most loaded first,
// then in directory order, and the cursor of the next page (zero at the end).
// Each page is read from user_load's index: its cost does not depend on how
// deep it is or how many people the directory has.
func (qs *Queries) TeamPage(ctx context.Context, after TeamCursor, limit int) ([]TeamMember, TeamCursor, error) {
	if after == (TeamCursor{}) {
		after = TeamCursor{Open: math.MaxInt32} // before everyone: -open > -MaxInt32
	}
	page, err := collect(ctx, qs, "team", q("TeamPage"), func(r pgx.CollectableRow) (TeamMember, error) {
		var m TeamMember
		var status string
		err := r.Scan(&m.ID, &m.Name, &status, &m.Limit, &m.Open, &m.position)
		m.Status = policy.Availability(status)
		return m, err
	}, after.Open, after.Position, limit)
	if err != nil || len(page) < limit {
		return page, TeamCursor{}, err
	}
	last := page[len(page)-1]
	return page, TeamCursor{Open: last.Open, Position: last.position}, nil
}

// AbsenceStart is an absence that has just begun: the person and its end.
type AbsenceStart struct {
	UserID string
	Until  time.Time
}

// AbsencesStart claims, once each, the absences that have begun since last
// asked: the worker's sweeper asks every few seconds, and the command that
// records an absence starting now asks at once.
func (qs *Queries) AbsencesStart(ctx context.Context) ([]AbsenceStart, error) {
	return collect(ctx, qs, "absences starting", q("AbsencesStart"), func(r pgx.CollectableRow) (AbsenceStart, error) {
		var a AbsenceStart
		err := r.Scan(&a.UserID, &a.Until)
		return a, err
	})
}

// StartAbsences acts, once each, on the absences that have begun: for each, it
// asks redistribute (claimclient.Client.RedistributeAbsent) to tell every claim
// whose current stage the absent person holds, which moves the stage where its
// policy says onAbsence: redistribute. It returns how many claims were told.
func (qs *Queries) StartAbsences(ctx context.Context, redistribute func(ctx context.Context, workflowIDs []string, user, reason string) error) (int, error) {
	started, err := qs.AbsencesStart(ctx)
	if err != nil {
		return 0, err
	}
	if len(started) > 0 {
		ids := make([]string, len(started))
		for i, a := range started {
			ids[i] = a.UserID
		}
		// Out of turn for as long as they are away, unless a delegate takes their turns.
		if _, err := qs.db.Exec(ctx, q("TurnLoadSync"), ids); err != nil {
			return 0, fmt.Errorf("turn rows of the absent: %w", err)
		}
	}
	n := 0
	for _, a := range started {
		reason := fmt.Sprintf("%s is away until %s", a.UserID, a.Until.UTC().Format(time.RFC3339))
		// Marked to move: what a redistribute signal for them may move.
		marked, err := qs.markToMove(ctx, []string{a.UserID}, []string{reason}, true)
		if err != nil {
			return n, err
		}
		held := marked[a.UserID]
		if err := redistribute(ctx, held, a.UserID, reason); err != nil {
			return n, err
		}
		n += len(held)
	}
	return n, nil
}

// BacklogStale leases up to n of the oldest backlog stages that have waited
// ten seconds with no lease and that someone could take now, and returns their
// workflows: the sweeper asks each to decide again, so a stage whose nudge was
// lost (a crash between the lease and the signal) still gets one. One sweeper
// at a time: while another worker's sweep runs, it returns nothing.
func (s *Store) BacklogStale(ctx context.Context, n int) ([]string, error) {
	var out []string
	err := s.InTx(ctx, func(qs *Queries) error {
		var mine bool
		if err := qs.db.QueryRow(ctx, q("SweepLock")).Scan(&mine); err != nil || !mine {
			return err
		}
		var err error
		out, err = collect(ctx, qs, "stale backlog", q("BacklogStale"), pgx.RowTo[string], n)
		return err
	})
	return out, err
}

// RequirementsRetire retires the requirements no decision has used since
// idle, except those a backlog stage waits on: directory changes stop keeping
// their members, whose stretches end at a new generation. A decision that needs
// one again makes it live from the directory as it is then; old decisions read
// their candidates as before. It returns how many it retired.
func (s *Store) RequirementsRetire(ctx context.Context, idle time.Time) (int, error) {
	var n int
	err := s.InTx(ctx, func(qs *Queries) error {
		var any bool
		if err := qs.db.QueryRow(ctx, q("RequirementsIdle"), idle).Scan(&any); err != nil || !any {
			return err
		}
		if _, err := qs.db.Exec(ctx, q("DirectoryLock")); err != nil {
			return err
		}
		var gen int64
		if err := qs.db.QueryRow(ctx, q("DirectoryGeneration")).Scan(&gen); err != nil {
			return err
		}
		return qs.db.QueryRow(ctx, q("RequirementsRetire"), idle, gen).Scan(&n)
	})
	if err != nil {
		return 0, fmt.Errorf("retire unused requirements: %w", err)
	}
	return n, nil
}

// ClaimClosed releases what a claim whose workflow ended without finalising
// still holds (terminated by hand, timed out, failed, cancelled): its open
// stages stop counting against their holders' capacity, and its stages leave
// the backlog. It returns how many open stages it released; a claim released
// before releases nothing.
func (s *Store) ClaimClosed(ctx context.Context, workflowID string) (int, error) {
	var n int
	err := s.InTx(ctx, func(qs *Queries) error {
		stages, err := collect(ctx, qs, "open stages of "+workflowID, q("OpenStagesOfClaim"), pgx.RowTo[string], workflowID)
		if err != nil {
			return err
		}
		for _, st := range stages {
			if err := qs.OpenStageClose(ctx, workflowID, policy.Stage(st)); err != nil {
				return err
			}
		}
		n = len(stages)
		if _, err := qs.db.Exec(ctx, q("BacklogDropClaim"), workflowID); err != nil {
			return fmt.Errorf("backlog of %s: %w", workflowID, err)
		}
		return nil
	})
	return n, err
}

// SweepCursor is how far the sweep named has looked, or def when it has not.
func (s *Store) SweepCursor(ctx context.Context, name string, def time.Time) (time.Time, error) {
	var at time.Time
	err := s.db.QueryRow(ctx, q("SweepCursor"), name).Scan(&at)
	if errors.Is(err, pgx.ErrNoRows) {
		return def, nil
	}
	if err != nil {
		return def, fmt.Errorf("sweep cursor %s: %w", name, err)
	}
	return at, nil
}

// SweepCursorSet records that the sweep named has looked as far as at.
func (s *Store) SweepCursorSet(ctx context.Context, name string, at time.Time) error {
	if _, err := s.db.Exec(ctx, q("SweepCursorSet"), name, at); err != nil {
		return fmt.Errorf("sweep cursor %s: %w", name, err)
	}
	return nil
}

// markToMove marks every stage the people hold to be moved off them, each for
// the reason beside them (the store's, never a signal's: "ann was
// deactivated", "ann is away until …" with absence), in one statement however
// many they are, and returns each one's claims, oldest first: what a
// redistribute signal for them may move.
func (qs *Queries) markToMove(ctx context.Context, users, reasons []string, absence bool) (map[string][]string, error) {
	type row struct{ User, Workflow string }
	rows, err := collect(ctx, qs, fmt.Sprintf("open stages of %d people", len(users)), q("OpenStagesMoveOff"),
		pgx.RowToStructByPos[row], users, reasons, absence)
	if err != nil {
		return nil, err
	}
	out := map[string][]string{}
	for _, r := range rows {
		out[r.User] = append(out[r.User], r.Workflow)
	}
	return out, nil
}

// deactivated is why a leaver's stages move.
func deactivated(user string) string { return user + " was deactivated" }
