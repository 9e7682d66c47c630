package bench

import (
	"cmp"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/batonhq/baton/tools/bench/baseline"
	"github.com/batonhq/baton/tools/policybench"
)

// Row is one line of the report: Baton's figure, the baseline's, their ratio
// with its 95% interval, how many samples and repetitions are behind them and
// how far they moved, and the target the row is held to.
type Row struct {
	Figure, Baton, Baseline string
	Ratio                   float64
	// Interval is the ratio's 95% bootstrap interval; the zero value: none
	// (a count, a size, a figure measured once).
	Interval Interval
	// N is the samples behind Baton's figure and the baseline's ("2000 /
	// 2000"); Reps the repetitions (rounds, waves, runs) they came from.
	N    string
	Reps int
	// Spread is how far the figures moved between repetitions, or their IQR.
	Spread string
	Target string
	Met    bool
}

const mb = 1 << 20

// noTarget is what a row held to nothing says in the target column.
const noTarget = "no target"

// PrintTable writes the rows as an aligned table.
func PrintTable(w io.Writer, rows []Row) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, strings.Join(columns, "\t")+"\t")
	for _, r := range rows {
		fmt.Fprintln(tw, strings.Join(r.cells(), "\t")+"\t")
	}
	tw.Flush()
	if miss := Misses(rows); len(miss) > 0 {
		fmt.Fprintf(w, "\nMISSED %d target(s):\n", len(miss))
		for _, m := range miss {
			fmt.Fprintln(w, "  "+m)
		}
	}
}

// columns are the table's headings, on stdout and in the report.
var columns = []string{"figure", "Baton", "baseline", "ratio", "95% interval", "n", "reps", "spread", "target"}

// cells are the row's columns as text.
func (r Row) cells() []string {
	reps := "–"
	if r.Reps > 0 {
		reps = strconv.Itoa(r.Reps)
	}
	return []string{r.Figure, r.Baton, r.Baseline, ratioText(r.Ratio), r.Interval.String(), cmp.Or(r.N, "–"), reps, cmp.Or(r.Spread, "–"), targetText(r)}
}

func ratioText(r float64) string {
	if r == 0 {
		return "–"
	}
	return fmt.Sprintf("%.2f", r)
}

func targetText(r Row) string {
	switch {
	case r.Target == "":
		return noTarget
	case r.Met:
		return r.Target + " ✓"
	default:
		return r.Target + " ✗ MISSED"
	}
}

// WriteReport writes report.md and fairness.svg into dir.
func WriteReport(dir string, r *Results) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(dir, "fairness.svg"), []byte(FairnessSVG(r.Fairness)), 0o644); err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(dir, "report.md"), []byte(r.Markdown()), 0o644)
}

// Markdown is the whole report.
func (r *Results) Markdown() string {
	var b strings.Builder
	fmt.Fprintf(&b, "# Baton benchmark report\n\nMeasured %s at commit `%s` on %d CPUs (%s/%s) in %.0f s by `make bench`. ",
		r.Started.UTC().Format("2006-01-02 15:04 MST"), cmp.Or(r.Config.Commit, "unknown"), runtime.NumCPU(), runtime.GOOS, runtime.GOARCH, r.Took.Seconds())
	b.WriteString("Every baseline ran in the same run, against the same Temporal server and PostgreSQL, at the same time as Baton where the method says so. ")
	b.WriteString("A target is a limit the figure is held to; `make bench` exits non-zero, naming the row, when one is missed.\n\n")
	rows := r.Rows()
	b.WriteString("| " + strings.Join(columns, " | ") + " |\n|" + strings.Repeat("---|", len(columns)) + "\n")
	for _, row := range rows {
		b.WriteString("| " + strings.Join(row.cells(), " | ") + " |\n")
	}
	if miss := Misses(rows); len(miss) > 0 {
		fmt.Fprintf(&b, "\n**Missed:** %s.\n", strings.Join(miss, "; "))
	} else {
		b.WriteString("\nEvery target was met.\n")
	}
	b.WriteString("\n## Fairness\n\n![max − min assignments per user, by burst size](fairness.svg)\n\n")
	b.WriteString("| burst | Baton round robin | timestamp modulus (001) | seeded random | Baton per user |\n|---|---|---|---|---|\n")
	for _, f := range r.Fairness {
		var per []string
		for _, u := range Users {
			per = append(per, fmt.Sprintf("%s=%d", u, f.BatonUses[u]))
		}
		fmt.Fprintf(&b, "| %d | %d | %d | %d | %s |\n", f.Burst, f.Baton, f.Modulus, f.Random, strings.Join(per, " "))
	}
	if m := r.Memory; len(m.Baton) > 0 {
		fmt.Fprintf(&b, "\n## Worker memory (sticky cache %d)\n\n| open claims | Baton RSS | Baton heap in use | no-op RSS | no-op heap in use |\n|---|---|---|---|---|\n", m.Cache)
		for i, bs := range m.Baton {
			noopRSS, noopHeap := "–", "–"
			if i < len(m.Noop) {
				noopRSS, noopHeap = fmt.Sprintf("%.0f MB", float64(m.Noop[i].RSS)/mb), fmt.Sprintf("%.0f MB", float64(m.Noop[i].Heap)/mb)
			}
			fmt.Fprintf(&b, "| %d | %.0f MB | %.0f MB | %s | %s |\n", bs.Open, float64(bs.RSS)/mb, float64(bs.Heap)/mb, noopRSS, noopHeap)
		}
	}
	b.WriteString("\n## How each figure is measured\n\n" + r.Method())
	return b.String()
}

// Method is the report's method section, written from the parameters the run
// actually used.
func (r *Results) Method() string {
	c := r.Config
	var b strings.Builder
	line := func(format string, args ...any) { fmt.Fprintf(&b, format+"\n", args...) }
	line("Parameters: `%s`.\n", r.Flags())
	line("Each row gives n, the samples behind Baton's figure and the baseline's; reps, the repetitions (rounds, waves, runs) they came from; and spread, how far each side's figure moved between repetitions (smallest–largest), or, measured once, the samples' interquartile range. The 95%% interval of a ratio is a percentile bootstrap of %d resamples from a PCG seeded with %d, so the same samples always give the same interval: over each sample on its own (stage latencies, decision times), or over pairs taken side by side (rounds whose sides ran at once, timers with one deadline). A target on a ratio is judged on the interval's unfavourable bound: an at-most target on its upper bound, an at-least target on its lower; a row with too few samples for an interval misses. A row measured once, or a count, has no interval.\n",
		BootstrapResamples, BootstrapSeed)
	line("1. **Throughput**: three sides run at the same time, %d claims of each in flight, for %d windows of %s: Baton's worker; Baton's own claim workflow with every activity stubbed (the same stages, Updates, local activities, markers and search-attribute upserts; ResolveAssignment answers round robin from a counter with a decision of the real one's shape, the rest return at once): Temporal's cost for the same orchestration; and a minimal workflow of %d no-op activities each followed by an Update. Every claim goes through capture, review and acknowledge, each stage completed by its Update as soon as the state query shows its assignee. Claims per second finished inside the windows. Side by side, all get the same server, load and stalls. The ratio's interval pairs each round's two sides; its statistic is the mean rate.",
		c.Parallel, c.Rounds, c.FlowWindow, baseline.Stages)
	line("2. **Stage latency**: in the same runs, per stage, from the moment the caller saw the stage start (the start call returned, or the previous stage's Update returned) to the first state query that shows the stage's assignee; every driver asks every %s, so that is the resolution. The intervals resample the stage latencies of each side on their own.", flowPoll)
	line("3. **Turn contention**: ResolveAssignment called directly (its real transaction: the team's turn scope locked, ledger row, timeline, turn, inbox, and the e-mail's outbox row, since e-mail is configured as a worker configures it) by `bin/dev decide-load` processes, %s callers in all, split over %d processes as over two workers, each process with a pool of as many connections as its callers and one warm-up call a connection before all are released at once. The policy is %d distribution rules: the first %d never match (two conditions each, as tools/policybench writes them), the last %d route a claim to the team its data names, round robin inside it. Every eighth decision is asked twice at once as a retried activity would be. One busy team: every claim goes to the last team, matched by the last rule. The baselines: the same decisions over %d teams' turn scopes; and a bare one-row commit loop, each caller committing `BEGIN; UPDATE bare_commit SET n = n + 1 WHERE id = 1; COMMIT` in one round trip through pgx, in the same processes at the same concurrency. Each repetition runs the three for %s each, one after the other; %d repetitions; rates are what finished inside the windows, and the ratios' intervals pair each repetition's sides. Mismatched: a retry answered with another assignee. Missing: a decision with no ledger row. Skipped: per team, turns short of, or beyond, an exactly even share (the ledger's key makes a second row for one decision impossible, so it is not counted). Lost: commits a process counted that the row's counter does not hold. The ratio targets are the issue's, at %d callers; the audit holds at every number.",
		joinInts(c.Callers), contentionProcs, contentionRules, contentionRules-Teams, Teams, Teams, c.ContentionWindow, c.ContentionReps, ContentionCallers)
	line("4. **Fairness**: bursts of %s goroutines released at once. Baton: each runs ResolveAssignment through PostgreSQL. Timestamp modulus: each picks users[now_ms mod 7] at the moment it runs, as 001 describes. Random: a PCG seeded with 42.", joinInts(c.Bursts))
	line("5. **Rules**: `testing.Benchmark` over the fixtures in tools/policybench: %d rules, the match at the last, each rule testing customer_group IN two values and email_from_domain CONTAINS one. %d rounds; each round measures every function once, each engine figure beside its baseline; the figures are the median round, the ratio's interval pairs each round's sides (the spread is lowest–highest over the rounds). The decision path is Policy.RecordRules, the compiled rules (attribute slots, values folded once, an index on customer_group) with the rule record written as the ledger stores it; its baseline, policybench.HandWrittenDecision, does the same by hand: the claim's group, lowered once, names through a map the one rule that can match, whose domain is checked, and the same record bytes are written (a test checks they are identical). The hand-written matcher alone, indexed and not, is shown for context. The explanation is policy.RenderTraceJSON, the trace rendered from the record when read (every rule re-evaluated, each reason written), against policybench.HandWrittenTrace, a straightforward function writing the identical JSON. Ledger bytes: the record's JSON against the trace decisions wrote before. MatchRules is the interpretation the compiled engine is checked against. The whole decision is policy.Decide over a %d-user in-memory directory.",
		r.Rules.Rules, r.Rules.Rounds, r.Rules.Users)
	line("6. **Timers**: %d pairs, in waves of %d pairs (%d started at a time; each wave drained and its histories read before the next starts, so the server never holds more than %d timers of each kind). A pair is a claim whose capture waits in a queue with a %s claim window, then falls back to the default assignee, and a sleep-only twin started as soon as the claim's window timer appears in its history (followed by a long poll), given that timer's deadline as the server keeps it (the TimerStarted event's time plus the window) and sleeping until it, its sleep worked out from its own clock as its timer starts: both timers of a pair are due at the same moment, and both populations fire under the same load. The twin's own timer reaches the server later by the time its workflow task took (the server's deadline is its TimerStarted event's time plus its length); the report prints how far each twin's deadline fell from its claim's. A pair whose twin could only start after the deadline (a loaded machine) is left out and counted, and waves go on until %d pairs are measured, or twice as many tried. From history timestamps, Baton's span is the window timer firing to the fallback being recorded (the workflow task that ran the RecordAssignment local activity), the baseline's the twin's timer firing to it completing. The statistic is the median span (the p99 beside it has no target); its interval resamples pairs together; the target needs at least %d of each. The server's firing lateness, fired minus deadline, is printed for both populations with no target: it is the server's part, not Baton's.",
		c.Timers, c.TimerWave, timerStarters, c.TimerWave, c.Window, c.Timers, MinTimerPairs)
	line("7. **Memory**: Baton's worker binary with %d claims each assigned and waiting for its assignee, against bin/noopworker (built the same way, without the Temporal server: only the SDK and the minimal claim) with %d minimal claims each waiting for its first Update; both with a sticky cache of %d claims, so the second half of the run is past it and evicts. Sampled every %d claims once all are waiting: VmRSS from /proc, and heap in use (go_memstats_heap_inuse_bytes) from the process's own /metrics.",
		c.Memory, c.Memory, c.Cache, c.MemStep)
	line("8. **Organisation size**: sizes %s, each in a schema of its own with a generated directory (policybench.Organisation: one user in ten holds every stage permission; all ten at the smallest), compared with the smallest. Decision latency: ResolveAssignment called directly, one at a time, %d decisions; its intervals resample each size's decisions on their own. Rate: the same number on %d callers, each with its own connection, every eighth asked twice at once; checked as in figure 3 against an exactly even share among the eligible. History and state: one round-robin claim through every stage on an in-process worker, the history's size and length as the server reports them, the largest state query answer. Memory: the worker binary's VmRSS before and after opening %d claims, each waiting at capture; one step, so garbage collection can make it read low.",
		joinInts(c.OrgSizes), c.OrgDecisions, OrgCallers, c.OrgOpen)
	line("9. **Workload**: %d decisions per method on %d callers, each eligible person limited to %d open stages, against plain round robin.", c.WorkloadDecisions, OrgCallers, c.WorkloadLimit)
	sc := c.Scale
	line("10. **Flat with the organisation and with time**: PostgreSQL only, the store and the activities called directly, one decision at a time. Every method decides capture for %d new claims over a directory of %d people (one in ten eligible), each limited to %d open stages, one in a hundred away, ticket priorities 1 to 3, a team of everyone eligible and a care team of %d, with %d stages held open by the eligible; round robin, weighted round robin, team order (a rule assigning the team), least loaded, care team (care_team_random), %d rules (the match at the last) and a product module (roles_by_stage answering with a pool). Each method's first decision, which enters its scope's pool, is left out. The baseline is round robin over a 10-person directory with nothing else in its database. Then %d loads that each change one person (lose the stage permissions, get them back, a new name), the first %d each followed by one round-robin decision, against %d steady ones; the requirements table is counted after them. The full load is timed three times on an empty schema; reading the file (yamlfile.LoadDirectory) is printed beside it. Aged data: a second schema where everyone eligible holds their limit of one and %d stages wait; backlog take (a completion's lease, rolled back), the sweep (its leases cleared after each), the team view's first page and a page at the middle of the directory, and the candidates page of the first decision are each timed %d times; then the same database is given %d decisions spread over a year and %d directory generations (one person changed each, one in ten deactivated) and analysed, and each is timed again. The explanation page read on aged data must name the same people, in the same order, as on day one (their details, such as a name, are read as they are now).",
		sc.Decisions, sc.Users, scaleLimit, scaleCareSize, sc.Open, policybench.RuleCount, sc.Changes, sc.FirstDecisions, sc.Decisions, sc.Waiting, sc.Reads, sc.History, sc.Generations)
	line("\nThe two-worker row runs %d claims through two worker processes on one server and database. The PostgreSQL rows repeat figures 1 and 2 on a Temporal server whose persistence and visibility are PostgreSQL, created from Temporal's own schema, with %d history shards; every other figure runs on the embedded server persisted to SQLite.",
		c.TwoClaims, c.Shards)
	return b.String()
}

// Flags are the dev bench flags that reproduce the run's parameters.
func (r *Results) Flags() string {
	c := r.Config
	return fmt.Sprintf("--flow-window %s --rounds %d --parallel %d --callers %s --contention-reps %d --contention-window %s --bursts %s --timers %d --timer-wave %d --window %s --memory %d --memory-step %d --cache %d --two-claims %d --org-sizes %s --org-decisions %d --org-open %d --workload-decisions %d --workload-limit %d --scale-users %d --scale-decisions %d --scale-changes %d --scale-history %d --scale-generations %d --shards %d",
		c.FlowWindow, c.Rounds, c.Parallel, joinInts(c.Callers), c.ContentionReps, c.ContentionWindow, joinInts(c.Bursts), c.Timers, c.TimerWave, c.Window, c.Memory, c.MemStep, c.Cache,
		c.TwoClaims, joinInts(c.OrgSizes), c.OrgDecisions, c.OrgOpen, c.WorkloadDecisions, c.WorkloadLimit, c.Scale.Users, c.Scale.Decisions, c.Scale.Changes, c.Scale.History, c.Scale.Generations, c.Shards)
}

func joinInts(ns []int) string {
	parts := make([]string, len(ns))
	for i, n := range ns {
		parts[i] = strconv.Itoa(n)
	}
	return strings.Join(parts, ",")
}

// FairnessSVG draws grouped bars: per burst, max − min for each method.
func FairnessSVG(rows []FairnessRow) string {
	const w, h, left, bottom, top = 640, 320, 60, 50, 40
	maxV := 1
	for _, r := range rows {
		maxV = max(maxV, r.Baton, r.Modulus, r.Random)
	}
	colors := []string{"#2b6cb0", "#c05621", "#718096"}
	names := []string{"Baton round robin", "timestamp modulus (001)", "seeded random"}
	var b strings.Builder
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" font-family="sans-serif" font-size="12">`+"\n", w, h)
	fmt.Fprintf(&b, `<rect width="%d" height="%d" fill="white"/>`+"\n", w, h)
	fmt.Fprintf(&b, `<text x="%d" y="20" font-size="14">Max − min assignments per user, 7 users (lower is fairer)</text>`+"\n", left)
	plotH := float64(h - bottom - top)
	fmt.Fprintf(&b, `<line x1="%d" y1="%d" x2="%d" y2="%d" stroke="black"/>`+"\n", left, h-bottom, w-10, h-bottom)
	for i := 0; i <= 4; i++ {
		v := float64(maxV) * float64(i) / 4
		y := float64(h-bottom) - plotH*float64(i)/4
		fmt.Fprintf(&b, `<text x="%d" y="%.0f" text-anchor="end">%.0f</text><line x1="%d" y1="%.0f" x2="%d" y2="%.0f" stroke="#e2e8f0"/>`+"\n",
			left-6, y+4, v, left, y, w-10, y)
	}
	group := float64(w-left-20) / float64(max(len(rows), 1))
	bar := group / 4
	for i, r := range rows {
		x0 := float64(left) + group*float64(i) + bar/2
		for k, v := range []int{r.Baton, r.Modulus, r.Random} {
			bh := plotH * float64(v) / float64(maxV)
			x := x0 + bar*float64(k)
			fmt.Fprintf(&b, `<rect x="%.0f" y="%.0f" width="%.0f" height="%.0f" fill="%s"/>`, x, float64(h-bottom)-bh, bar-4, bh, colors[k])
			fmt.Fprintf(&b, `<text x="%.0f" y="%.0f" text-anchor="middle">%d</text>`+"\n", x+(bar-4)/2, float64(h-bottom)-bh-4, v)
		}
		fmt.Fprintf(&b, `<text x="%.0f" y="%d" text-anchor="middle">burst of %d</text>`+"\n", x0+bar*1.5, h-bottom+18, r.Burst)
	}
	for k, n := range names {
		x := left + k*190
		fmt.Fprintf(&b, `<rect x="%d" y="%d" width="12" height="12" fill="%s"/><text x="%d" y="%d">%s</text>`+"\n", x, h-18, colors[k], x+16, h-8, n)
	}
	b.WriteString("</svg>\n")
	return b.String()
}
