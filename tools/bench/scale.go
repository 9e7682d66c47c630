package bench

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/batonhq/baton/activities"
	"github.com/batonhq/baton/internal/store"
	"github.com/batonhq/baton/policy"
	"github.com/batonhq/baton/policy/yamlfile"
	"github.com/batonhq/baton/tools/policybench"
	"github.com/batonhq/baton/workflows"
)

// ScaleConfig sizes figure 10. The defaults are the issue's.
type ScaleConfig struct {
	Users     int // the directory (one in ten eligible)
	Open      int // open stages held by the eligible before the figure decides
	Decisions int // decisions per method, one at a time
	Changes   int // one-person directory loads before the requirements are counted
	// FirstDecisions is how many of those loads are each followed by a timed
	// decision.
	FirstDecisions int
	// History is the decisions the aged data holds, Generations the
	// directory generations it has been through, Waiting the stages waiting
	// in its backlog with everyone full.
	History, Generations, Waiting int
	Reads                         int // timed reads of each path, day one and aged
	// Schema prefixes the figure's schemas (default baton_scale).
	Schema string
}

// Defaults fills in zero fields with the sizes.
func (c *ScaleConfig) Defaults() {
	orDefault(&c.Users, 100_000)
	orDefault(&c.Open, 40_000)
	orDefault(&c.Decisions, 200)
	orDefault(&c.Changes, 100)
	orDefault(&c.FirstDecisions, 20)
	orDefault(&c.History, 1_000_000)
	orDefault(&c.Generations, 200)
	orDefault(&c.Waiting, 1000)
	orDefault(&c.Reads, 50)
	if c.Schema == "" {
		c.Schema = "baton_scale"
	}
}

// ScaleResult is figure 10: every method, a directory change, directory loads
// and the background and read paths at a whole organisation's size and after
// a year of history, each against its baseline measured in the same run.
type ScaleResult struct {
	Config   ScaleConfig
	Eligible int
	Away     int
	// Base is round robin at 10 users: each decision's time in ms.
	Base []float64
	// Methods are each method's decisions at Users, in ms.
	Methods []ScaleMethod
	// First are the first decisions after a one-person load, Steady round
	// robin's decisions at Users with nothing changed, in ms.
	First, Steady []float64
	// Requirements are the requirements table's rows after Changes loads;
	// Live those the decisions made refer to (a stage's, a module's pool).
	Requirements, Live int
	// MemberRows are requirement_members' rows, LiveMembers those current.
	MemberRows, LiveMembers int
	// FullLoads are loads of the directory on an empty database, Parse
	// reading its file, OneChange each load of a file that changes one person;
	// all in ms.
	FullLoads, OneChange []float64
	Parse                float64
	// Paths are the background and read paths, on day-one and aged data.
	Paths []AgedPath
	// Same reports whether an old decision's explanation page named the same
	// people on aged data as on day one.
	Same bool
}

// ScaleMethod is one method's decisions.
type ScaleMethod struct {
	Name    string
	Latency []float64 // ms
}

// AgedPath is one background or read path timed on day-one and on aged data.
type AgedPath struct {
	Name         string
	DayOne, Aged []float64 // ms
}

// scaleTeam and scaleCare are figure 10's teams: every eligible person, and
// a care team of scaleCareSize.
const (
	scaleTeam     = "everyone"
	scaleCare     = "care"
	scaleCareSize = 500
	scaleLimit    = 8
)

// scaleMethods are figure 10's policies, each deciding capture.
func scaleMethods() []struct{ name, doc string } {
	base := "claims:\n  enableClaimAssignments: true\n"
	var rules strings.Builder
	rules.WriteString("version: scale-rules\n" + base + "  claimAssignmentMethod: distribution\n  distribution:\n    rules:\n")
	for i := range policybench.RuleCount - 1 {
		fmt.Fprintf(&rules, "      - {id: r%d, when: [{attribute: customer_group, operator: IN, values: [group-%d, alt-%d]}, {attribute: email_from_domain, operator: CONTAINS, values: [domain%d.example]}], then: [{action: assign_team, team: %s}]}\n",
			i, i, i, i, scaleTeam)
	}
	fmt.Fprintf(&rules, "      - {id: r%d, when: [{attribute: team, operator: IN, values: [%s]}], then: [{action: assign_team, team: %s}]}\n",
		policybench.RuleCount-1, scaleTeam, scaleTeam)
	return []struct{ name, doc string }{
		{"round robin", "version: scale-rr\n" + base + "  claimAssignmentMethod: round_robin\n"},
		{"weighted round robin", "version: scale-weighted\n" + base + "  claimAssignmentMethod: round_robin\n  stages:\n    capture:\n      method: weighted_round_robin\n"},
		{"team order", "version: scale-team\n" + base + "  claimAssignmentMethod: distribution\n  distribution:\n    rules:\n      - {id: all, then: [{action: assign_team, team: " + scaleTeam + "}]}\n"},
		{"least loaded", "version: scale-ll\n" + base + "  claimAssignmentMethod: least_loaded\n"},
		{"care team", "version: scale-care\n" + base + "  claimAssignmentMethod: round_robin\n  stages:\n    capture:\n      method: care_team_random\n"},
		{fmt.Sprintf("%d rules", policybench.RuleCount), rules.String()},
		{"product module", "version: scale-module\n" + base + "  claimAssignmentMethod: product_module\n"},
	}
}

// scaleDirectory is figure 10's organisation: n people, one in ten eligible
// (policybench.Organisation), each limited to scaleLimit open stages, one in a
// hundred away, ticket priorities 1 to 3, a team of everyone eligible and a
// care team of the first scaleCareSize of them.
func scaleDirectory(n int) (*policy.Directory, int) {
	dir := policybench.Organisation(n, orgEvery(n))
	rng := rand.New(rand.NewPCG(10, 10))
	away := 0
	var eligible []string
	for i := range dir.Users {
		u := &dir.Users[i]
		u.Capacity = policy.Capacity{Total: scaleLimit}
		u.TicketPriority = 1 + i%3
		if rng.IntN(100) == 0 {
			u.Status = policy.Away
			away++
		}
		if slices.Contains(u.Permissions, policy.PermMakeClaimDecisions) {
			eligible = append(eligible, u.ID)
		}
	}
	dir.Teams = []policy.DirectoryTeam{
		{Team: policy.Team{ID: scaleTeam, Name: "Everyone eligible", Members: eligible}},
		{Team: policy.Team{ID: scaleCare, Name: "A care team", Members: eligible[:min(scaleCareSize, len(eligible))]}},
	}
	return dir, away
}

// scaler runs figure 10 on a PostgreSQL server.
type scaler struct {
	url, schema string
	log         *slog.Logger
}

// Scale measures figure 10 on the PostgreSQL at url. It needs nothing else:
// every measurement calls the store and the activities directly, in schemas
// of its own (cfg.Schema, with _base and _aged).
func Scale(ctx context.Context, url string, cfg ScaleConfig, log *slog.Logger) (ScaleResult, error) {
	cfg.Defaults()
	s := scaler{url: url, schema: cfg.Schema, log: cmp.Or(log, quietLog())}
	res := ScaleResult{Config: cfg}
	var err error
	if res.Base, err = s.scaleBaseline(ctx, cfg.Decisions); err != nil {
		return res, fmt.Errorf("10 users: %w", err)
	}
	if err := s.scaleOrganisation(ctx, cfg, &res); err != nil {
		return res, fmt.Errorf("%d users: %w", cfg.Users, err)
	}
	if err := s.scaleAged(ctx, cfg, &res); err != nil {
		return res, fmt.Errorf("aged data: %w", err)
	}
	return res, nil
}

// scaleStore makes a fresh schema and a store over it.
func (s scaler) scaleStore(ctx context.Context, schema string) (*store.Store, *pgxpool.Pool, error) {
	if err := resetSchema(ctx, s.url, schema); err != nil {
		return nil, nil, err
	}
	pool, err := store.NewPool(ctx, withPoolSize(store.WithSearchPath(s.url, schema), 8))
	if err != nil {
		return nil, nil, err
	}
	if _, err := store.Migrate(ctx, pool, nil); err != nil {
		pool.Close()
		return nil, nil, err
	}
	return store.New(pool), pool, nil
}

// scaleBaseline is round robin at 10 users, nothing else in the database.
func (s scaler) scaleBaseline(ctx context.Context, n int) ([]float64, error) {
	st, pool, err := s.scaleStore(ctx, s.schema+"_base")
	if err != nil {
		return nil, err
	}
	defer pool.Close()
	if _, err := st.LoadDirectory(ctx, policybench.Organisation(10, 1)); err != nil {
		return nil, err
	}
	acts := activities.New(st, mustPolicy("scale-rr.yaml", scaleMethods()[0].doc), nil, "", s.log)
	lat, err := timedDecisions(ctx, acts, "scale-base", n+1, nil)
	if err != nil {
		return nil, err
	}
	return Durations(lat[1:]), nil // the first enters the pool
}

// timedDecisions times n capture decisions made one at a time, each of a new
// claim with data.
func timedDecisions(ctx context.Context, acts *activities.Activities, prefix string, n int, data map[string]string) ([]time.Duration, error) {
	out := make([]time.Duration, 0, n)
	for i := range n {
		id := fmt.Sprintf("%s-%06d", prefix, i)
		t := time.Now()
		d, err := acts.ResolveAssignment(ctx, workflows.ResolveAssignmentInput{WorkflowID: id, Stage: policy.StageCapture, Seq: 1,
			At: time.Now(), Claim: policy.Claim{ID: id, Data: data}})
		if err != nil {
			return nil, err
		}
		if d.Assignee == "" {
			return nil, fmt.Errorf("%s: nobody assigned: %s", id, d.Reason)
		}
		out = append(out, time.Since(t))
	}
	return out, nil
}

// scaleOrganisation measures the directory loads, every method, and the first
// decision after a one-person change, in one schema at cfg.Users.
func (s scaler) scaleOrganisation(ctx context.Context, cfg ScaleConfig, res *ScaleResult) error {
	st, pool, err := s.scaleStore(ctx, s.schema)
	if err != nil {
		return err
	}
	defer pool.Close()
	dir, away := scaleDirectory(cfg.Users)
	res.Away, res.Eligible = away, len(dir.Teams[0].Members)

	// The file, as starter directory load reads it; its parse is printed
	// beside the loads, with no target (the loads are the store's part).
	file := filepath.Join(os.TempDir(), fmt.Sprintf("baton-scale-%d.yaml", os.Getpid()))
	defer os.Remove(file)
	f, err := os.Create(file)
	if err != nil {
		return err
	}
	werr := policybench.WriteDirectory(f, dir)
	if err := errors.Join(werr, f.Close()); err != nil {
		return err
	}
	t := time.Now()
	if _, err := yamlfile.LoadDirectory(file); err != nil {
		return fmt.Errorf("parse %s: %w", file, err)
	}
	res.Parse = msSince(t)

	// Two full loads into a schema of their own, then the figure's.
	for range 2 {
		full, fullPool, err := s.scaleStore(ctx, s.schema+"_full")
		if err != nil {
			return err
		}
		t = time.Now()
		_, err = full.LoadDirectory(ctx, dir)
		res.FullLoads = append(res.FullLoads, msSince(t))
		fullPool.Close()
		if err != nil {
			return fmt.Errorf("full load: %w", err)
		}
	}
	t = time.Now()
	if _, err := st.LoadDirectory(ctx, dir); err != nil {
		return fmt.Errorf("full load: %w", err)
	}
	res.FullLoads = append(res.FullLoads, msSince(t))
	if sum, err := st.LoadDirectory(ctx, dir); err != nil || sum.Added+sum.Changed+sum.TeamsChanged != 0 {
		return fmt.Errorf("the same file again: %+v, %v (want nothing written)", sum, err)
	}

	// Open stages held by the eligible, and the load counts that go with them.
	if _, err := pool.Exec(ctx, `INSERT INTO open_stages (workflow_id, stage, claim_id, user_id, seq)
		SELECT 'held/' || g, (ARRAY['capture','review','acknowledge'])[1 + g % 3], 'held-' || g, e.id, 1
		FROM generate_series(1, $1::int) g
		JOIN (SELECT id, row_number() OVER (ORDER BY id) - 1 AS i FROM users WHERE 'MakeClaimDecisions' = ANY (perms)) e
		  ON e.i = (g * 7919) % $2::int`, cfg.Open, res.Eligible); err != nil {
		return fmt.Errorf("open stages: %w", err)
	}
	if _, err := pool.Exec(ctx, `UPDATE user_load l SET open_total = x.n, open_capture = x.c, open_review = x.r, open_acknowledge = x.a
		FROM (SELECT user_id, count(*) n, count(*) FILTER (WHERE stage = 'capture') c, count(*) FILTER (WHERE stage = 'review') r,
		             count(*) FILTER (WHERE stage = 'acknowledge') a FROM open_stages GROUP BY user_id) x
		WHERE x.user_id = l.user_id`); err != nil {
		return fmt.Errorf("load counts: %w", err)
	}

	data := map[string]string{"care_team": scaleCare, "team": scaleTeam, "customer_group": "GROUP-NONE", "email_from_domain": "mail.nowhere.example"}
	module := policy.RolesByStage{Users: st, Roles: map[policy.Stage][]string{policy.StageCapture: {"Claims handler"}}}
	var rr *activities.Activities
	for _, m := range scaleMethods() {
		p := mustPolicy("scale.yaml", m.doc)
		acts := activities.New(st, p, module, "", s.log)
		if rr == nil {
			rr = acts
		}
		// The first decision of a scope enters its pool; it is not steady.
		lat, err := timedDecisions(ctx, acts, "scale-"+strings.ReplaceAll(m.name, " ", "-"), cfg.Decisions+1, data)
		if err != nil {
			return fmt.Errorf("%s: %w", m.name, err)
		}
		res.Methods = append(res.Methods, ScaleMethod{Name: m.name, Latency: Durations(lat[1:])})
	}

	// One person changes, then a round-robin decision: the first after the
	// change, against round robin's steady decisions.
	steady, err := timedDecisions(ctx, rr, "scale-steady", cfg.Decisions, data)
	if err != nil {
		return err
	}
	res.Steady = Durations(steady)
	for i := range cfg.Changes {
		changeOne(dir, i)
		t := time.Now()
		if _, err := st.LoadDirectory(ctx, dir); err != nil {
			return fmt.Errorf("load %d: %w", i, err)
		}
		res.OneChange = append(res.OneChange, msSince(t))
		if i < cfg.FirstDecisions {
			lat, err := timedDecisions(ctx, rr, fmt.Sprintf("scale-first-%03d", i), 1, data)
			if err != nil {
				return fmt.Errorf("first decision after load %d: %w", i, err)
			}
			res.First = append(res.First, Durations(lat)...)
		}
	}
	return pool.QueryRow(ctx, `SELECT (SELECT count(*) FROM requirements),
		(SELECT count(DISTINCT requirement_id) FROM decisions),
		(SELECT count(*) FROM requirement_members), (SELECT count(*) FROM requirement_members WHERE to_gen IS NULL)`).
		Scan(&res.Requirements, &res.Live, &res.MemberRows, &res.LiveMembers)
}

// changeOne changes one eligible person of dir (never the first) for load i:
// they lose the stage permissions, get them back, then their name changes;
// every three loads, another person.
func changeOne(dir *policy.Directory, i int) {
	every := orgEvery(len(dir.Users))
	people := max(len(dir.Users)/every-1, 1)
	u := &dir.Users[min((i/3*7919%people+1)*every, len(dir.Users)-1)]
	switch i % 3 {
	case 0:
		u.Permissions = []string{"ViewClaims"}
	case 1:
		u.Permissions = policybench.StagePermissions
	default:
		u.Name += " (renamed)"
	}
}

func msSince(t time.Time) float64 { return float64(time.Since(t)) / float64(time.Millisecond) }

// errRollBack ends a timed transaction without keeping what it wrote.
var errRollBack = errors.New("rolled back")

// scaleAged times the background and read paths on day-one data (everyone
// eligible full, cfg.Waiting stages in the backlog), then ages the same
// database (cfg.History decisions, cfg.Generations one-person loads, people who
// left) and times them again.
func (s scaler) scaleAged(ctx context.Context, cfg ScaleConfig, res *ScaleResult) error {
	st, pool, err := s.scaleStore(ctx, s.schema+"_aged")
	if err != nil {
		return err
	}
	defer pool.Close()
	dir := policybench.Organisation(cfg.Users, orgEvery(cfg.Users))
	for i := range dir.Users {
		dir.Users[i].Capacity = policy.Capacity{Total: 1}
	}
	if _, err := st.LoadDirectory(ctx, dir); err != nil {
		return err
	}
	acts := activities.New(st, mustPolicy("scale-rr.yaml", scaleMethods()[0].doc), nil, "", s.log)
	// Fill everyone eligible, then queue the waiting stages.
	eligible := (cfg.Users + orgEvery(cfg.Users) - 1) / orgEvery(cfg.Users)
	if _, err := timedDecisions(ctx, acts, "aged-fill", eligible, nil); err != nil {
		return fmt.Errorf("fill: %w", err)
	}
	for i := range cfg.Waiting {
		id := fmt.Sprintf("aged-wait-%06d", i)
		d, err := acts.ResolveAssignment(ctx, workflows.ResolveAssignmentInput{WorkflowID: id, Stage: policy.StageCapture, Seq: 1,
			At: time.Now(), Claim: policy.Claim{ID: id}})
		if err != nil {
			return err
		}
		if !d.Backlog {
			return fmt.Errorf("%s: want it waiting with everyone full, got %q", id, d.Reason)
		}
	}
	old := policy.DecisionKey{WorkflowID: "aged-fill-000000", Stage: policy.StageCapture, Seq: 1}
	var deepPos int64
	if err := pool.QueryRow(ctx, `SELECT position FROM users ORDER BY position OFFSET $1 LIMIT 1`, cfg.Users/2).Scan(&deepPos); err != nil {
		return err
	}
	deep := fmt.Sprintf("0.%d", deepPos) // those with nothing open, from the middle of the directory on
	// The stages have waited past the sweeper's ten seconds.
	if _, err := pool.Exec(ctx, `UPDATE backlog SET queued_at = queued_at - interval '1 minute'`); err != nil {
		return err
	}
	holder := dir.Users[0].ID // eligible, full: their completion would take from the backlog

	paths := []struct {
		name string
		run  func() (any, error)
	}{
		{"backlog take on a completion", func() (any, error) {
			err := st.InTx(ctx, func(qs *store.Queries) error {
				got, err := qs.BacklogTake(ctx, holder, 1)
				if err == nil && len(got) == 0 {
					err = fmt.Errorf("%s took nothing from a backlog of %d", holder, cfg.Waiting)
				}
				return cmp.Or(err, errRollBack)
			})
			if errors.Is(err, errRollBack) {
				err = nil
			}
			return nil, err
		}},
		{"backlog sweep", func() (any, error) {
			_, err := st.BacklogStale(ctx, 20)
			if err == nil { // let the next sweep find the same stages waiting
				_, err = pool.Exec(ctx, `UPDATE backlog SET lease_until = NULL WHERE lease_until IS NOT NULL`)
			}
			return nil, err
		}},
		{"team view, first page", func() (any, error) { _, _, err := st.TeamPage(ctx, store.TeamCursor{}, 50); return nil, err }},
		{"team view, page at the middle of the directory", func() (any, error) {
			c, err := store.ParseTeamCursor(deep)
			if err != nil {
				return nil, err
			}
			_, _, err = st.TeamPage(ctx, c, 50)
			return nil, err
		}},
		{"explanation page of a day-one decision", func() (any, error) {
			page, err := st.ExplanationCandidates(ctx, old, 0, 50)
			// Who the candidates were; their details are read as they are now.
			ids := make([]string, len(page))
			for i, u := range page {
				ids[i] = u.ID
			}
			return ids, err
		}},
	}
	// Day-one data as a running database has it: analysed (autovacuum would
	// have), as the aged data is below.
	if _, err := pool.Exec(ctx, "ANALYZE"); err != nil {
		return err
	}
	measure := func(run func() (any, error)) ([]float64, any, error) {
		var out []float64
		var last any
		for range cfg.Reads + 1 {
			t := time.Now()
			v, err := run()
			if err != nil {
				return nil, nil, err
			}
			out, last = append(out, msSince(t)), v
		}
		return out[1:], last, nil // the first warms the plan cache
	}
	dayOne := make([][]float64, len(paths))
	var page any
	for i, p := range paths {
		var v any
		if dayOne[i], v, err = measure(p.run); err != nil {
			return fmt.Errorf("day one, %s: %w", p.name, err)
		}
		if v != nil {
			page = v
		}
	}
	if err := age(ctx, st, pool, dir, cfg); err != nil {
		return err
	}
	for i, p := range paths {
		aged, v, err := measure(p.run)
		if err != nil {
			return fmt.Errorf("aged, %s: %w", p.name, err)
		}
		if v != nil {
			res.Same = reflect.DeepEqual(v, page)
		}
		res.Paths = append(res.Paths, AgedPath{Name: p.name, DayOne: dayOne[i], Aged: aged})
	}
	return nil
}

// age gives the database a year: cfg.History decisions spread over it (copies
// of a real decision's row under other keys), cfg.Generations one-person
// loads, a tenth of which remove someone (people who left).
func age(ctx context.Context, st *store.Store, pool *pgxpool.Pool, dir *policy.Directory, cfg ScaleConfig) error {
	var cols []string
	rows, err := pool.Query(ctx, `SELECT column_name FROM information_schema.columns
		WHERE table_schema = current_schema() AND table_name = 'decisions' AND is_generated = 'NEVER' ORDER BY ordinal_position`)
	if err == nil {
		for rows.Next() {
			var c string
			if err = rows.Scan(&c); err != nil {
				break
			}
			cols = append(cols, c)
		}
		rows.Close()
		err = errors.Join(err, rows.Err())
	}
	if err != nil {
		return fmt.Errorf("decisions' columns: %w", err)
	}
	sel := make([]string, len(cols))
	for i, c := range cols {
		switch c {
		case "workflow_id":
			sel[i] = "'aged/' || g"
		case "claim_id":
			sel[i] = "'aged-' || g"
		case "created_at":
			sel[i] = "now() - interval '1 year' + (g * interval '31 seconds')"
		default:
			sel[i] = "d." + c
		}
	}
	const batch = 100_000
	for from := 0; from < cfg.History; from += batch {
		if _, err := pool.Exec(ctx, `INSERT INTO decisions (`+strings.Join(cols, ", ")+`) SELECT `+strings.Join(sel, ", ")+`
			FROM decisions d, generate_series($1::int, $2::int) g WHERE d.workflow_id = 'aged-fill-000001'`,
			from, min(from+batch, cfg.History)-1); err != nil {
			return fmt.Errorf("history: %w", err)
		}
	}
	for i := range cfg.Generations {
		if i%10 == 9 {
			dir.Users[1+i/10].Active = false // someone left
		} else {
			changeOne(dir, i+1)
		}
		if _, err := st.LoadDirectory(ctx, dir); err != nil {
			return fmt.Errorf("generation %d: %w", i, err)
		}
	}
	_, err = pool.Exec(ctx, "ANALYZE")
	return err
}
