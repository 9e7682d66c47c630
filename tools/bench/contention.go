package bench

import (
	"context"
	"fmt"
	"math/rand/v2"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/batonhq/baton/activities"
	"github.com/batonhq/baton/policy"
	"github.com/batonhq/baton/store"
	"github.com/batonhq/baton/workflows"
)

// ContentionRow is figure 3 at one level of concurrency: round-robin decisions
// per second when every caller wants the same team's cursor, against the same
// number of decisions spread over Teams teams.
type ContentionRow struct {
	Callers     int
	Connections int // the pool's size: one connection per caller
	Decisions   int
	OneTeam     float64 // decisions per second
	Spread      float64
	TurnCheck
}

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

// contentionDecisions is how many decisions each measurement makes: a multiple
// of 7 users × 64 teams, so an exactly even share is a whole number everywhere.
const contentionDecisions = 7 * Teams * 2

// Contention measures ResolveAssignment, the real activity with its real
// transaction, called directly by callers goroutines. Every eighth decision is
// asked twice at once, as a retried activity would be, and must come back the
// same without moving the cursor again.
func (s *Stack) Contention(ctx context.Context, callers []int) ([]ContentionRow, error) {
	var rows []ContentionRow
	for _, c := range callers {
		// As many connections as callers: a smaller pool would queue callers in
		// the pool instead of at the turn's row lock, and measure the pool.
		pool, err := store.NewPool(ctx, withPoolSize(s.URL, c))
		if err != nil {
			return nil, err
		}
		acts := activities.New(store.New(pool), mustPolicy("bench-teams.yaml", teamsPolicy()), nil, "", s.Log)
		row := ContentionRow{Callers: c, Connections: int(pool.Config().MaxConns), Decisions: contentionDecisions}
		for _, spreadOut := range []bool{false, true} {
			prefix := fmt.Sprintf("contention-%d-%t", c, spreadOut)
			team := func(i int) string {
				if spreadOut {
					return teamID(i % Teams)
				}
				return teamID(0)
			}
			rate, check, err := s.decideMany(ctx, acts, prefix, c, team)
			if err != nil {
				pool.Close()
				return nil, err
			}
			if check.Skips, err = s.skips(ctx, prefix, spreadOut); err != nil {
				pool.Close()
				return nil, err
			}
			row.TurnCheck = row.TurnCheck.add(check)
			if spreadOut {
				row.Spread = rate
			} else {
				row.OneTeam = rate
			}
		}
		pool.Close()
		rows = append(rows, row)
	}
	return rows, nil
}

// withPoolSize sets pool_max_conns in a PostgreSQL URL.
func withPoolSize(url string, n int) string {
	sep := "?"
	if strings.Contains(url, "?") {
		sep = "&"
	}
	return fmt.Sprintf("%s%spool_max_conns=%d", url, sep, n)
}

// decideMany makes contentionDecisions decisions with callers goroutines and
// returns the rate, the retries answered differently and the decisions with
// no ledger row.
func (s *Stack) decideMany(ctx context.Context, acts *activities.Activities, prefix string, callers int,
	team func(int) string) (float64, TurnCheck, error) {
	var next atomic.Int64
	var mismatched atomic.Int64
	errs := make(chan error, callers)
	var wg sync.WaitGroup
	start := time.Now()
	for range callers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1)) - 1
				if i >= contentionDecisions {
					return
				}
				in := workflows.ResolveAssignmentInput{
					WorkflowID: fmt.Sprintf("%s-%04d", prefix, i), Stage: policy.StageCapture, Seq: 1, At: time.Now(),
					Claim: policy.Claim{ID: fmt.Sprintf("%s-%04d", prefix, i), Data: map[string]string{"team": team(i)}},
				}
				d, err := s.resolveMaybeTwice(ctx, acts, in, i%8 == 0, &mismatched)
				if err == nil && d.Assignee == "" {
					err = fmt.Errorf("%s: nobody assigned: %s", in.WorkflowID, d.Reason)
				}
				if err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	close(errs)
	if err := <-errs; err != nil {
		return 0, TurnCheck{}, err
	}
	var rows int
	if err := s.Pool.QueryRow(ctx, `SELECT count(*) FROM decisions WHERE workflow_id LIKE $1 || '-%'`, prefix).Scan(&rows); err != nil {
		return 0, TurnCheck{}, err
	}
	check := TurnCheck{Mismatched: int(mismatched.Load()), Missing: max(0, contentionDecisions-rows)}
	return float64(contentionDecisions) / elapsed.Seconds(), check, nil
}

// resolveMaybeTwice runs the activity, and with twice a second copy at the same
// time; both must return the same assignee.
func (s *Stack) resolveMaybeTwice(ctx context.Context, acts *activities.Activities, in workflows.ResolveAssignmentInput,
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

// skips counts turns lost in a measurement: per team, how far each user falls
// short of an exactly even share.
func (s *Stack) skips(ctx context.Context, prefix string, spreadOut bool) (int, error) {
	rows, err := s.Pool.Query(ctx, `SELECT claim_id, assignee FROM decisions WHERE workflow_id LIKE $1 || '-%'`, prefix)
	if err != nil {
		return 0, err
	}
	defer rows.Close()
	counts := map[string]map[string]int{} // team → user → decisions
	var i int
	for rows.Next() {
		var claim, assignee string
		if err := rows.Scan(&claim, &assignee); err != nil {
			return 0, err
		}
		if _, err := fmt.Sscanf(claim[len(prefix)+1:], "%d", &i); err != nil {
			return 0, err
		}
		team := teamID(0)
		if spreadOut {
			team = teamID(i % Teams)
		}
		if counts[team] == nil {
			counts[team] = map[string]int{}
		}
		counts[team][assignee]++
	}
	if err := rows.Err(); err != nil {
		return 0, err
	}
	teams := 1
	if spreadOut {
		teams = Teams
	}
	skipped := 0
	for t := range teams {
		skipped += ShareShortfall(counts[teamID(t)], len(Users), contentionDecisions/teams)
	}
	return skipped, nil
}

// FairnessRow is figure 4 for one burst: max − min assignments per user.
type FairnessRow struct {
	Burst     int
	Baton     int
	Modulus   int
	Random    int
	BatonUses map[string]int
}

// Fairness sends bursts of simultaneous claims at round robin through the real
// activity and database, and the same bursts through 001's timestamp modulus
// (each claim picks with the clock at the moment it arrives) and a seeded random
// pick.
func (s *Stack) Fairness(ctx context.Context, bursts []int) ([]FairnessRow, error) {
	acts := activities.New(s.Store, mustPolicy("bench-rr.yaml", roundRobinPolicy), nil, "", s.Log)
	eligible := make([]policy.User, len(Users))
	for i, u := range Users {
		eligible[i] = policy.User{ID: u, Active: true}
	}
	var out []FairnessRow
	for _, b := range bursts {
		row := FairnessRow{Burst: b, BatonUses: map[string]int{}}
		var mu sync.Mutex
		modulus := map[string]int{}
		var wg sync.WaitGroup
		var first error
		gate := make(chan struct{})
		for i := range b {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-gate
				u, _ := policy.TimestampModulus(eligible, time.Now().UnixMilli())
				id := fmt.Sprintf("fair-%d-%04d", b, i)
				d, err := acts.ResolveAssignment(ctx, workflows.ResolveAssignmentInput{
					WorkflowID: id, Stage: policy.StageCapture, Seq: 1, At: time.Now(), Claim: policy.Claim{ID: id}})
				mu.Lock()
				defer mu.Unlock()
				modulus[u.ID]++
				if err != nil && first == nil {
					first = err
				}
				row.BatonUses[d.Assignee]++
			}()
		}
		close(gate)
		wg.Wait()
		if first != nil {
			return nil, first
		}
		rng := rand.New(rand.NewPCG(42, uint64(b)))
		random := map[string]int{}
		for range b {
			random[Users[rng.IntN(len(Users))]]++
		}
		row.Baton, row.Modulus, row.Random = spread(row.BatonUses, Users), spread(modulus, Users), spread(random, Users)
		out = append(out, row)
	}
	return out, nil
}
