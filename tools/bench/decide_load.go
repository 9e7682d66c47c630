package bench

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/batonhq/baton/activities"
	"github.com/batonhq/baton/config"
	"github.com/batonhq/baton/internal/notify"
	"github.com/batonhq/baton/internal/store"
	"github.com/batonhq/baton/policy"
	"github.com/batonhq/baton/policy/yamlfile"
	"github.com/batonhq/baton/workflows"
)

// DecideLoadConfig is one process of figure 3's load (bin/dev decide-load):
// Callers goroutines calling ResolveAssignment directly, as a worker's
// activities would, for Duration.
type DecideLoadConfig struct {
	// DatabaseURL is PostgreSQL with search_path set to the run's schema.
	DatabaseURL string
	PolicyFile  string
	Callers     int
	// Prefix starts every workflow and claim id this process decides:
	// <prefix>-<n>, n from 0; warm-up decisions use warm-<prefix>-<n>.
	Prefix string
	// Teams spreads claim n over the last Teams of the directory's teams
	// (n mod Teams from the last); 1 sends every claim to one busy team.
	Teams    int
	Duration time.Duration
	// Email configures e-mail as a worker would (an SMTP host), so each
	// decision queues its outbox row in its transaction. Nothing is sent:
	// sending is another activity.
	Email bool
	// Bare runs the baseline instead of decisions: each caller commits
	// UPDATE bare_commit SET n = n + 1 WHERE id = 1 in a loop.
	Bare bool
}

// DecideLoadResult is what one process did, printed as JSON.
type DecideLoadResult struct {
	Prefix  string `json:"prefix"`
	Callers int    `json:"callers"`
	// Within are decisions (or commits) finished inside the window; Asked
	// every decision asked for, including those in flight at its end.
	Within int `json:"within"`
	Asked  int `json:"asked"`
	// Mismatched are decisions asked twice at once answered with two
	// assignees.
	Mismatched int     `json:"mismatched"`
	Seconds    float64 `json:"seconds"`
	// Warmup are the decisions (commits) made before the window, one a
	// caller.
	Warmup int `json:"warmup"`
}

// BareTable is the bare baseline's one-row table.
const BareTable = "bare_commit"

// DecideLoad runs cfg. ready, when not nil, is called once every connection
// has done one decision (or commit) of warm-up; the window starts when it
// returns, so a parent can start several processes at once.
func DecideLoad(ctx context.Context, cfg DecideLoadConfig, ready func() error) (DecideLoadResult, error) {
	res := DecideLoadResult{Prefix: cfg.Prefix, Callers: cfg.Callers}
	if cfg.Callers < 1 || cfg.Duration <= 0 || (!cfg.Bare && (cfg.Teams < 1 || cfg.Teams > Teams)) {
		return res, fmt.Errorf("decide-load: callers %d, duration %s, teams %d: want callers ≥ 1, a duration, teams 1–%d",
			cfg.Callers, cfg.Duration, cfg.Teams, Teams)
	}
	pool, err := store.NewPool(ctx, withPoolSize(cfg.DatabaseURL, cfg.Callers))
	if err != nil {
		return res, err
	}
	defer pool.Close()
	one := func(ctx context.Context, id string, i int, mismatched *atomic.Int64) error {
		_, err := pool.Exec(ctx, "BEGIN; UPDATE "+BareTable+" SET n = n + 1 WHERE id = 1; COMMIT")
		return err
	}
	if !cfg.Bare {
		p, err := yamlfile.LoadPolicy(cfg.PolicyFile)
		if err != nil {
			return res, err
		}
		acts := activities.New(store.New(pool), p, nil, "", quietLog())
		if cfg.Email {
			c := config.Default()
			c.SMTPHost, c.SMTPFrom = "127.0.0.1", "baton@bench.example"
			acts.Email, acts.Slack = notify.FromConfig(c)
		}
		one = func(ctx context.Context, id string, i int, mismatched *atomic.Int64) error {
			t := Teams - 1 - i%cfg.Teams
			in := workflows.ResolveAssignmentInput{WorkflowID: id, Stage: policy.StageCapture, Seq: 1, At: time.Now(),
				Claim: policy.Claim{ID: id, Data: contentionClaimData(teamID(t))}}
			d, err := resolveMaybeTwice(ctx, acts, in, i%8 == 0, mismatched)
			if rule := contentionRule(t); err == nil && d.MatchedRule != rule {
				err = fmt.Errorf("%s: matched rule %q, not %s, which routes to %s", id, d.MatchedRule, rule, teamID(t))
			}
			if err == nil && d.Assignee == "" {
				err = fmt.Errorf("%s: nobody assigned: %s", id, d.Reason)
			}
			return err
		}
	}
	var mismatched atomic.Int64
	// Warm-up: one call a connection, so the window pays for no connection
	// set-up or first statement.
	if err := decideConcurrently(ctx, cfg.Callers, cfg.Callers, func(i int) error {
		return one(ctx, fmt.Sprintf("warm-%s-%06d", cfg.Prefix, i), i, &mismatched)
	}); err != nil {
		return res, fmt.Errorf("warm-up: %w", err)
	}
	mismatched.Store(0)
	res.Warmup = cfg.Callers
	if ready != nil {
		if err := ready(); err != nil {
			return res, err
		}
	}
	var next, within atomic.Int64
	start := time.Now()
	end := start.Add(cfg.Duration)
	var wg sync.WaitGroup
	errs := make([]error, cfg.Callers)
	for c := range cfg.Callers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for time.Now().Before(end) && ctx.Err() == nil {
				i := int(next.Add(1)) - 1
				if err := one(ctx, fmt.Sprintf("%s-%06d", cfg.Prefix, i), i, &mismatched); err != nil {
					errs[c] = err
					return
				}
				if !time.Now().After(end) {
					within.Add(1)
				}
			}
		}()
	}
	wg.Wait()
	res.Seconds = cfg.Duration.Seconds()
	res.Within, res.Asked, res.Mismatched = int(within.Load()), int(next.Load()), int(mismatched.Load())
	return res, errors.Join(errs...)
}

// contentionClaimData is a claim of figure 3: it fails the policy's filler
// rules on both of their attributes (compared ignoring case, as every claim's
// are) and names its team for the rule that routes it.
func contentionClaimData(team string) map[string]string {
	return map[string]string{"customer_group": "GROUP-NONE", "email_from_domain": "mail.nowhere.example", "team": team}
}

// contentionRules is figure 3's policy size.
const contentionRules = 200

// contentionPolicy is figure 3's distribution policy: contentionRules rules,
// the first of them never matching (two conditions each, as tools/policybench
// writes them), the last Teams routing a claim to the team its data names. A
// claim of the busy team, the last, is matched by the last rule.
func contentionPolicy() string {
	var b strings.Builder
	b.WriteString("version: bench-contention\nclaims:\n  enableClaimAssignments: true\n  claimAssignmentMethod: distribution\n  distribution:\n    rules:\n")
	filler := contentionRules - Teams
	for i := range filler {
		fmt.Fprintf(&b, "      - {id: r%d, when: [{attribute: customer_group, operator: IN, values: [group-%d, alt-%d]}, {attribute: email_from_domain, operator: CONTAINS, values: [domain%d.example]}], then: [{action: assign_team, team: %s}]}\n",
			i, i, i, i, teamID(i%Teams))
	}
	for t := range Teams {
		fmt.Fprintf(&b, "      - {id: %s, when: [{attribute: team, operator: IN, values: [%s]}], then: [{action: assign_team, team: %s}]}\n",
			contentionRule(t), teamID(t), teamID(t))
	}
	return b.String()
}

// contentionRule is the rule that routes a claim to team t.
func contentionRule(t int) string { return fmt.Sprintf("r%d", contentionRules-Teams+t) }

// ReadyLine is what a decide-load process started with --wait prints once
// warmed up; GoLine what it waits for on its standard input.
const (
	ReadyLine = "ready"
	GoLine    = "go"
)

// WaitForGo is DecideLoad's ready for a child process: it prints ReadyLine on
// out and waits for GoLine on in.
func WaitForGo(out io.Writer, in io.Reader) func() error {
	return func() error {
		if _, err := fmt.Fprintln(out, ReadyLine); err != nil {
			return err
		}
		line, err := bufio.NewReader(in).ReadString('\n')
		if strings.TrimSpace(line) != GoLine {
			return fmt.Errorf("decide-load: waiting for %q on standard input, got %s (%v)", GoLine, strconv.Quote(line), err)
		}
		return nil
	}
}
