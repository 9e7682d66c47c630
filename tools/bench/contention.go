package bench

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/batonhq/baton/activities"
	"github.com/batonhq/baton/policy"
	"github.com/batonhq/baton/workflows"
)

// TurnCheck is what can go wrong with turns under contention, each counted on
// its own so one cannot hide another. The ledger's primary key already makes a
// second row for one decision impossible, so it is not counted.
type TurnCheck struct {
	Mismatched int // a decision asked twice at once (a retried activity) answered with two assignees
	Missing    int // decisions asked for with no ledger row
	Skips      int // turns short of, or beyond, an exactly even share, summed over people
}

// Clean reports nothing went wrong.
func (t TurnCheck) Clean() bool { return t.Mismatched == 0 && t.Missing == 0 && t.Skips == 0 }

func (t TurnCheck) add(o TurnCheck) TurnCheck {
	return TurnCheck{t.Mismatched + o.Mismatched, t.Missing + o.Missing, t.Skips + o.Skips}
}

func (t TurnCheck) String() string {
	return fmt.Sprintf("mismatched %d, missing %d, skipped %d", t.Mismatched, t.Missing, t.Skips)
}

// withPoolSize sets pool_max_conns in a PostgreSQL URL.
func withPoolSize(url string, n int) string {
	sep := "?"
	if strings.Contains(url, "?") {
		sep = "&"
	}
	return fmt.Sprintf("%s%spool_max_conns=%d", url, sep, n)
}

// resolveMaybeTwice runs the activity, and with twice a second copy at the same
// time; both must return the same assignee.
func resolveMaybeTwice(ctx context.Context, acts *activities.Activities, in workflows.ResolveAssignmentInput,
	twice bool, mismatched *atomic.Int64) (policy.Decision, error) {
	if !twice {
		return acts.ResolveAssignment(ctx, in)
	}
	var (
		wg   sync.WaitGroup
		d    [2]policy.Decision
		errs [2]error
	)
	for k := range 2 {
		wg.Add(1)
		go func() { defer wg.Done(); d[k], errs[k] = acts.ResolveAssignment(ctx, in) }()
	}
	wg.Wait()
	if errs[0] != nil || errs[1] != nil {
		return d[0], fmt.Errorf("%s: %v / %v", in.WorkflowID, errs[0], errs[1])
	}
	if d[0].Assignee != d[1].Assignee {
		mismatched.Add(1)
	}
	return d[0], nil
}

// ContentionRow is figure 3 at one number of callers, spread over worker
// processes as a deployment's workers would be: round-robin decisions per
// second when every claim goes to one busy team, against the same decisions
// over Teams teams and against a bare one-row commit loop at the same
// concurrency, each repeated, the three interleaved in every repetition.
type ContentionRow struct {
	Callers, Procs int
	Rules          int
	Window         time.Duration
	// Busy, Spread and Bare are the decisions (commits, for Bare) per second
	// of each repetition.
	Busy, Spread, Bare Sample
	// BusyN, SpreadN and BareN are the decisions (commits) finished inside
	// the windows, over every repetition.
	BusyN, SpreadN, BareN int
	// Outbox is the e-mails the busy team's decisions queued, one each of
	// its Decided ledger rows (warm-ups aside).
	Outbox, Decided int
	// BusyCheck and SpreadCheck audit the turns of each, over every
	// repetition; every count must be 0.
	BusyCheck, SpreadCheck TurnCheck
	// BareLost are commits a process reported that the row's counter lacks,
	// or has beyond them; must be 0.
	BareLost int
}

// contentionProcs is how many decide-load processes share the callers, and
// ContentionCallers the callers figure 3's targets are set at.
const (
	contentionProcs   = 2
	ContentionCallers = 64
)

// The three measurements of a repetition.
const (
	modeBusy   = "busy"
	modeSpread = "spread"
	modeBare   = "bare"
)

// Contention measures figure 3 at each number of callers with devBin's
// decide-load processes, reps repetitions of window each.
func (s *Stack) Contention(ctx context.Context, devBin string, callers []int, reps int, window time.Duration) ([]ContentionRow, error) {
	policyFile, err := s.WritePolicy("bench-contention.yaml", contentionPolicy())
	if err != nil {
		return nil, err
	}
	if _, err := s.Pool.Exec(ctx, "CREATE TABLE IF NOT EXISTS "+BareTable+" (id int PRIMARY KEY, n bigint NOT NULL)"); err != nil {
		return nil, err
	}
	var rows []ContentionRow
	for _, c := range callers {
		row := ContentionRow{Callers: c, Procs: min(contentionProcs, c), Rules: contentionRules, Window: window}
		for rep := range reps {
			for _, mode := range []string{modeBusy, modeSpread, modeBare} {
				if err := s.contentionRun(ctx, devBin, policyFile, &row, mode, fmt.Sprintf("c%d-%s-r%02d", c, mode, rep)); err != nil {
					return rows, fmt.Errorf("%d callers, %s, repetition %d: %w", c, mode, rep+1, err)
				}
			}
		}
		rows = append(rows, row)
	}
	return rows, nil
}

// contentionRun is one measurement: the processes started, warmed up,
// released together, and what they did audited.
func (s *Stack) contentionRun(ctx context.Context, devBin, policyFile string, row *ContentionRow, mode, prefix string) error {
	if mode == modeBare {
		if _, err := s.Pool.Exec(ctx, "DELETE FROM "+BareTable+"; INSERT INTO "+BareTable+" VALUES (1, 0)"); err != nil {
			return err
		}
	}
	var args [][]string
	for k := range row.Procs {
		a := []string{"--prefix", fmt.Sprintf("%s-p%d", prefix, k), "--callers", fmt.Sprint(row.Callers/row.Procs + btoi(k < row.Callers%row.Procs)),
			"--duration", row.Window.String()}
		switch mode {
		case modeBare:
			a = append(a, "--bare")
		case modeBusy:
			a = append(a, "--policy", policyFile, "--teams", "1", "--email")
		case modeSpread:
			a = append(a, "--policy", policyFile, "--teams", fmt.Sprint(Teams), "--email")
		}
		args = append(args, a)
	}
	results, err := s.loadProcs(ctx, devBin, args, row.Window)
	if err != nil {
		return err
	}
	var within, asked, warm, mismatched int
	for _, r := range results {
		within, asked, warm, mismatched = within+r.Within, asked+r.Asked, warm+r.Warmup, mismatched+r.Mismatched
	}
	rate := []float64{float64(within) / row.Window.Seconds()}
	switch mode {
	case modeBare:
		row.Bare, row.BareN = append(row.Bare, rate), row.BareN+within
		var n int
		if err := s.Pool.QueryRow(ctx, "SELECT n FROM "+BareTable+" WHERE id = 1").Scan(&n); err != nil {
			return err
		}
		row.BareLost += abs(n - (asked + warm))
		return nil
	case modeBusy:
		row.Busy, row.BusyN = append(row.Busy, rate), row.BusyN+within
	case modeSpread:
		row.Spread, row.SpreadN = append(row.Spread, rate), row.SpreadN+within
	}
	teams := map[string]int{modeBusy: 1, modeSpread: Teams}[mode]
	check, decided, outbox, err := s.contentionAudit(ctx, prefix, teams, asked, mismatched)
	if err != nil {
		return err
	}
	if mode == modeBusy {
		row.BusyCheck, row.Outbox, row.Decided = row.BusyCheck.add(check), row.Outbox+outbox, row.Decided+decided
	} else {
		row.SpreadCheck = row.SpreadCheck.add(check)
	}
	return nil
}

// contentionAudit checks one measurement's decisions (ids prefix-p<k>-<n>):
// decisions asked with no ledger row, retries answered differently, and, per
// team, turns short of or beyond an exactly even share of that team's
// decisions; and counts the decisions recorded and the e-mails they queued.
func (s *Stack) contentionAudit(ctx context.Context, prefix string, teams, asked, mismatched int) (_ TurnCheck, decided, outbox int, _ error) {
	rows, err := s.Pool.Query(ctx, `SELECT workflow_id, assignee FROM decisions WHERE workflow_id LIKE $1 || '-%'`, prefix)
	if err != nil {
		return TurnCheck{}, 0, 0, err
	}
	defer rows.Close()
	counts := map[int]map[string]int{} // team → user → decisions
	total := 0
	for rows.Next() {
		var id, assignee string
		if err := rows.Scan(&id, &assignee); err != nil {
			return TurnCheck{}, 0, 0, err
		}
		n, err := strconv.Atoi(id[strings.LastIndex(id, "-")+1:])
		if err != nil {
			return TurnCheck{}, 0, 0, fmt.Errorf("decision %s: %w", id, err)
		}
		t := n % teams
		if counts[t] == nil {
			counts[t] = map[string]int{}
		}
		counts[t][assignee]++
		total++
	}
	if err := rows.Err(); err != nil {
		return TurnCheck{}, 0, 0, err
	}
	check := TurnCheck{Mismatched: mismatched, Missing: max(0, asked-total)}
	for _, c := range counts {
		sum := 0
		for _, n := range c {
			sum += n
		}
		check.Skips += ShareShortfall(c, len(Users), sum)
	}
	err = s.Pool.QueryRow(ctx, `SELECT count(*) FROM outbox WHERE workflow_id LIKE $1 || '-%'`, prefix).Scan(&outbox)
	return check, total, outbox, err
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}

func abs(n int) int { return max(n, -n) }
