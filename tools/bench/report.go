package bench

import (
	"cmp"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/batonhq/baton/tools/bench/baseline"
	"github.com/batonhq/baton/tools/policybench"
)

// Row is one line of the report: Baton's figure, the baseline's, their ratio and
// the target it is held to.
type Row struct {
	Figure, Baton, Baseline string
	Ratio                   float64
	Target                  string
	Met                     bool
}

const mb = 1 << 20

// noTarget is what a row held to nothing says in the target column.
const noTarget = "no target"

// Rows turns results into the report's table.
func (r *Results) Rows() []Row {
	var rows []Row
	rows = append(rows, r.flowRows(r.Flow, "")...)
	rows = append(rows, r.flowRows(r.FlowPG, fmt.Sprintf(", Temporal on PostgreSQL with %d shards", r.Config.Shards))...)
	return append(rows, r.otherRows()...)
}

// Misses names the figures that missed their targets.
func Misses(rows []Row) []string {
	var out []string
	for _, r := range rows {
		if r.Target != "" && !r.Met {
			out = append(out, r.Figure+" (target "+r.Target+")")
		}
	}
	return out
}

func (r *Results) flowRows(f FlowResult, on string) []Row {
	if f.Baton.Claims == 0 {
		return nil
	}
	shape := fmt.Sprintf("%d stages, %d per side in flight, %s%s", baseline.Stages, f.Parallel, f.Window, on)
	stubbed := ratio(f.Baton.Rate, f.Stubbed.Rate)
	p99 := ratio(float64(f.Baton.P99), float64(f.Stubbed.P99))
	return []Row{
		{"1 throughput, claims/s (" + shape + ")", fmt.Sprintf("%.2f", f.Baton.Rate),
			fmt.Sprintf("%.2f Baton's workflow, activities stubbed", f.Stubbed.Rate), stubbed, "≥ 0.85", stubbed >= 0.85},
		{"1 throughput, claims/s (" + shape + ")", fmt.Sprintf("%.2f", f.Baton.Rate),
			fmt.Sprintf("%.2f minimal 3-stage workflow", f.Minimal.Rate), ratio(f.Baton.Rate, f.Minimal.Rate), "", false},
		{"2 stage start → assignee visible in the state query, p50" + on, ms(f.Baton.P50), ms(f.Stubbed.P50) + " stubbed",
			ratio(float64(f.Baton.P50), float64(f.Stubbed.P50)), "", false},
		{"2 stage start → assignee visible in the state query, p99" + on, ms(f.Baton.P99), ms(f.Stubbed.P99) + " stubbed",
			p99, "≤ 1.3", p99 <= 1.3},
		{"2 stage start → assignee visible in the state query, p99" + on, ms(f.Baton.P99), ms(f.Minimal.P99) + " minimal",
			ratio(float64(f.Baton.P99), float64(f.Minimal.P99)), "", false},
	}
}

func (r *Results) otherRows() []Row {
	var rows []Row
	maxCallers := 0
	for _, c := range r.Contention {
		maxCallers = max(maxCallers, c.Callers)
	}
	for _, c := range r.Contention {
		target, met := "0 mismatched/missing/skipped", c.Clean()
		if c.Callers == maxCallers {
			target, met = "≥ 0.5, "+target, met && ratio(c.OneTeam, c.Spread) >= 0.5
		}
		rows = append(rows, Row{fmt.Sprintf("3 RR decisions/s, %d callers on %d connections, one team", c.Callers, c.Connections),
			fmt.Sprintf("%.0f (%s)", c.OneTeam, c.TurnCheck), fmt.Sprintf("%.0f over %d teams", c.Spread, Teams),
			ratio(c.OneTeam, c.Spread), target, met})
	}
	for _, b := range r.Fairness {
		rows = append(rows, Row{fmt.Sprintf("4 fairness, burst of %d: max−min per user", b.Burst), fmt.Sprint(b.Baton),
			fmt.Sprintf("%d timestamp modulus, %d seeded random", b.Modulus, b.Random), ratio(float64(b.Baton), float64(b.Modulus)),
			"Baton ≤ 1", b.Baton <= 1})
	}
	rows = append(rows, r.rulesRows()...)
	for _, t := range r.Timers {
		late := ratio(float64(t.FallbackP99), float64(t.SleepP99))
		load := fmt.Sprintf("%d claims at once, %s window", t.Claims, t.Window)
		rows = append(rows,
			Row{"6 timer lateness, p50, " + load, ms(t.FallbackP50) + " fallback recorded", ms(t.SleepP50) + " sleep-only",
				ratio(float64(t.FallbackP50), float64(t.SleepP50)), "", false},
			Row{"6 timer lateness, p99, " + load, ms(t.FallbackP99) + " fallback recorded", ms(t.SleepP99) + " sleep-only",
				late, "≤ 1.2", late <= 1.2},
			Row{"6 timer fired → recorded, p50 / p99, " + load, ms(t.SpanP50) + " / " + ms(t.SpanP99) + " fallback",
				ms(t.SleepSpanP50) + " / " + ms(t.SleepSpanP99) + " sleep-only completed", ratio(float64(t.SpanP99), float64(t.SleepSpanP99)), "", false},
		)
	}
	rows = append(rows, r.memoryRows()...)
	rows = append(rows, r.orgRows()...)
	rows = append(rows, r.workloadRows()...)
	if r.Two.Claims > 0 {
		var workers []string
		for w, n := range r.Two.PerWorker {
			workers = append(workers, fmt.Sprintf("%s: %d", w, n))
		}
		sort.Strings(workers)
		rows = append(rows, Row{fmt.Sprintf("two worker processes, %d claims: RR max−min", r.Two.Claims), fmt.Sprint(r.Two.MaxSpread),
			"activity tasks " + strings.Join(workers, ", "), 0, "exactly even (0)", r.Two.MaxSpread == 0 && len(r.Two.PerWorker) == 2})
	}
	return rows
}

// rulesRows are figure 5: the decision path and the explanation of a
// rule-routed decision, each held to 1.5 times a hand-written function doing
// the same work, and the bytes it writes to the ledger, held to 1 KB.
func (r *Results) rulesRows() []Row {
	ru := r.Rules
	if ru.Rules == 0 {
		return nil
	}
	decision := ratio(ru.Decision.Best, ru.DecisionHand.Best)
	render := ratio(ru.Render.Best, ru.RenderHand.Best)
	return []Row{
		{fmt.Sprintf("5 decision path: compiled rules + their record written as the ledger stores it, %d rules", ru.Rules),
			fmt.Sprintf("%s, %d alloc", ru.Decision.String(ru.Rounds), ru.Decision.Allocs),
			fmt.Sprintf("%s hand-written: same index, same record bytes", ru.DecisionHand.String(ru.Rounds)), decision, "≤ 1.5", decision <= 1.5},
		{fmt.Sprintf("5 decision path against a hand-written matcher alone (no record), %d rules", ru.Rules), nsString(ru.Decision.Best),
			fmt.Sprintf("%s indexed, %s not indexed", ru.Matcher.String(ru.Rounds), nsString(ru.MatcherUnindexed.Best)),
			ratio(ru.Decision.Best, ru.Matcher.Best), "", false},
		{fmt.Sprintf("5 explanation: the trace rendered from the record when read, as JSON, %d rules", ru.Rules),
			fmt.Sprintf("%s, %d allocs", ru.Render.String(ru.Rounds), ru.Render.Allocs),
			fmt.Sprintf("%s hand-written writer of the same bytes", ru.RenderHand.String(ru.Rounds)), render, "≤ 1.5", render <= 1.5},
		{"5 ledger bytes per rule-routed decision (its rule record)", fmt.Sprintf("%d B", ru.RecordBytes),
			fmt.Sprintf("%d B the trace decisions wrote before", ru.TraceBytes), ratio(float64(ru.RecordBytes), float64(ru.TraceBytes)),
			"≤ 1 KB", ru.RecordBytes <= policybench.MaxRecordBytes},
		{fmt.Sprintf("5 rule evaluation, interpreted (MatchRules), %d rules", ru.Rules), nsString(ru.MatchNs),
			nsString(ru.MatcherUnindexed.Best) + " hand-written, not indexed", ratio(ru.MatchNs, ru.MatcherUnindexed.Best), "", false},
		{fmt.Sprintf("5 whole decision, %d users", ru.Users), fmt.Sprintf("%.2f ms, %d allocs, %.1f KB", ru.DecisionNs/1e6, ru.DecisionAllocs,
			float64(ru.DecisionBytesPerRun)/1024), "", 0, "", false},
	}
}

// memoryRows are figure 7: growth per 1,000 open claims up to the sticky
// cache and past it, RSS and heap, Baton's worker against the no-op worker.
func (r *Results) memoryRows() []Row {
	m := r.Memory
	if len(m.Baton) < 2 || len(m.Noop) < 2 {
		return nil
	}
	var rows []Row
	for _, span := range [][2]int{{0, min(m.Cache, m.Claims)}, {m.Cache, m.Claims}} {
		bRSS, bHeap, ok1 := Growth(m.Baton, span[0], span[1])
		nRSS, nHeap, ok2 := Growth(m.Noop, span[0], span[1])
		if !ok1 || !ok2 {
			continue
		}
		what := fmt.Sprintf("%d → %d open claims, cache %d", span[0], span[1], m.Cache)
		rows = append(rows,
			Row{"7 worker RSS per 1,000 open claims, " + what, fmt.Sprintf("%.1f MB", bRSS/mb), fmt.Sprintf("%.1f MB no-op worker", nRSS/mb),
				ratio(bRSS, nRSS), "", false},
			Row{"7 worker heap in use per 1,000 open claims, " + what, fmt.Sprintf("%.1f MB", bHeap/mb), fmt.Sprintf("%.1f MB no-op worker", nHeap/mb),
				ratio(bHeap, nHeap), "", false})
	}
	return rows
}

// orgRows are figure 8: each size against the smallest, measured in the same run.
func (r *Results) orgRows() []Row {
	if len(r.Org) < 2 {
		return nil
	}
	base := r.Org[0]
	var rows []Row
	for i, o := range r.Org[1:] {
		largest := i == len(r.Org)-2
		size := fmt.Sprintf("8 %d users (%d eligible)", o.Users, o.Eligible)
		of := fmt.Sprintf(" at %d users", base.Users)
		hist := Row{size + ": claim history", fmt.Sprintf("%.1f KB, %d events", float64(o.HistoryBytes)/1024, o.HistoryEvents),
			fmt.Sprintf("%.1f KB, %d events", float64(base.HistoryBytes)/1024, base.HistoryEvents) + of,
			ratio(float64(o.HistoryBytes), float64(base.HistoryBytes)), "", false}
		state := Row{size + ": state answer", fmt.Sprintf("%.1f KB", float64(o.StateBytes)/1024),
			fmt.Sprintf("%.1f KB", float64(base.StateBytes)/1024) + of, ratio(float64(o.StateBytes), float64(base.StateBytes)), "", false}
		p50 := Row{size + ": decision p50", ms(o.DecisionP50), ms(base.DecisionP50) + of,
			ratio(float64(o.DecisionP50), float64(base.DecisionP50)), "", false}
		if largest {
			hist.Target, hist.Met = "≤ 32 KB, ≤ 1.5", o.HistoryBytes <= 32<<10 && hist.Ratio <= 1.5
			state.Target, state.Met = "≤ 64 KB, ≤ 1.5", o.StateBytes <= 64<<10 && state.Ratio <= 1.5
			p50.Target, p50.Met = "≤ 3", p50.Ratio <= 3
		}
		rows = append(rows, hist, state, p50,
			Row{size + ": decision p99", ms(o.DecisionP99), ms(base.DecisionP99) + of, ratio(float64(o.DecisionP99), float64(base.DecisionP99)), "", false},
			Row{fmt.Sprintf("%s: RR decisions/s, %d callers", size, OrgCallers), fmt.Sprintf("%.0f (%s)", o.Rate, o.TurnCheck),
				fmt.Sprintf("%.0f (%s)", base.Rate, base.TurnCheck) + of, ratio(o.Rate, base.Rate),
				"0 mismatched/missing/skipped", o.Clean() && base.Clean()})
		if o.OpenClaims > 0 {
			rows = append(rows, Row{fmt.Sprintf("%s: worker RSS per 1,000 open claims (of %d)", size, o.OpenClaims), fmt.Sprintf("%.1f MB", o.RSSPerThousand/mb),
				fmt.Sprintf("%.1f MB", base.RSSPerThousand/mb) + of, ratio(o.RSSPerThousand, base.RSSPerThousand), "", false})
		}
	}
	return rows
}

// workloadRows are figure 9: round robin and least loaded with limits against
// plain round robin, measured in the same run.
func (r *Results) workloadRows() []Row {
	if len(r.Workload) < 2 {
		return nil
	}
	base := r.Workload[0]
	var rows []Row
	for _, w := range r.Workload[1:] {
		rows = append(rows, Row{
			fmt.Sprintf("9 %s (%d each), %d callers: decisions/s", w.Name, w.Limit, OrgCallers),
			fmt.Sprintf("%.0f (%d assigned, %d waiting, %d over a limit)", w.Rate, w.Assigned, w.Backlog, w.Breaches),
			fmt.Sprintf("%.0f, %s", base.Rate, base.Name), ratio(w.Rate, base.Rate),
			fmt.Sprintf("0 over a limit, all %d slots filled", workloadUsers/workloadEvery*w.Limit),
			w.Breaches == 0 && w.Assigned == workloadUsers/workloadEvery*w.Limit,
		})
	}
	return rows
}

// PrintTable writes the rows as an aligned table.
func PrintTable(w io.Writer, rows []Row) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "figure\tBaton\tbaseline\tratio\ttarget\t")
	for _, r := range rows {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t\n", r.Figure, r.Baton, r.Baseline, ratioText(r.Ratio), targetText(r))
	}
	tw.Flush()
	if miss := Misses(rows); len(miss) > 0 {
		fmt.Fprintf(w, "\nMISSED %d target(s):\n", len(miss))
		for _, m := range miss {
			fmt.Fprintln(w, "  "+m)
		}
	}
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
	b.WriteString("| figure | Baton | baseline | ratio | target |\n|---|---|---|---|---|\n")
	for _, row := range rows {
		fmt.Fprintf(&b, "| %s | %s | %s | %s | %s |\n", row.Figure, row.Baton, row.Baseline, ratioText(row.Ratio), targetText(row))
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
	line("1. **Throughput**: three sides run at the same time, %d claims of each in flight, for %d windows of %s: Baton's worker; Baton's own claim workflow with every activity stubbed (the same stages, Updates, local activities, markers and search-attribute upserts; ResolveAssignment answers round robin from a counter with a decision of the real one's shape, the rest return at once): Temporal's cost for the same orchestration; and a minimal workflow of %d no-op activities each followed by an Update. Every claim goes through capture, review and acknowledge, each stage completed by its Update as soon as the state query shows its assignee. Claims per second finished inside the windows. Side by side, all get the same server, load and stalls.",
		c.Parallel, c.Rounds, c.FlowWindow, baseline.Stages)
	line("2. **Stage latency**: in the same runs, per stage, from the moment the caller saw the stage start (the start call returned, or the previous stage's Update returned) to the first state query that shows the stage's assignee; every driver asks every %s, so that is the resolution.", flowPoll)
	line("3. **Turn contention**: ResolveAssignment called directly (its real transaction: the team's turn scope locked, ledger row, timeline, turn, inbox), %d decisions per measurement on %s callers, each level with a pool of exactly as many connections as callers, every eighth decision asked twice at once as a retried activity would be. One team shares one turn scope; the baseline spreads the same decisions over %d teams' scopes. Mismatched: a retry answered with another assignee. Missing: a decision with no ledger row. Skipped: turns short of, or beyond, an exactly even share (the ledger's key makes a second row for one decision impossible, so it is not counted).",
		contentionDecisions, joinInts(c.Callers), Teams)
	line("4. **Fairness**: bursts of %s goroutines released at once. Baton: each runs ResolveAssignment through PostgreSQL. Timestamp modulus: each picks users[now_ms mod 7] at the moment it runs, as 001 describes. Random: a PCG seeded with 42.", joinInts(c.Bursts))
	line("5. **Rules**: `testing.Benchmark` over the fixtures in tools/policybench: %d rules, the match at the last, each rule testing customer_group IN two values and email_from_domain CONTAINS one. %d rounds; each round measures every function once, each engine figure beside its baseline, and the best round counts (the range is best–worst over the rounds, n the operations in the best). The decision path is Policy.RecordRules, the compiled rules (attribute slots, values folded once, an index on customer_group) with the rule record written as the ledger stores it; its baseline, policybench.HandWrittenDecision, does the same by hand: the claim's group, lowered once, names through a map the one rule that can match, whose domain is checked, and the same record bytes are written (a test checks they are identical). The hand-written matcher alone, indexed and not, is shown for context. The explanation is policy.RenderTraceJSON, the trace rendered from the record when read (every rule re-evaluated, each reason written), against policybench.HandWrittenTrace, a straightforward function writing the identical JSON. Ledger bytes: the record's JSON against the trace decisions wrote before. MatchRules is the interpretation the compiled engine is checked against. The whole decision is policy.Decide over a %d-user in-memory directory.",
		r.Rules.Rules, r.Rules.Rounds, r.Rules.Users)
	line("6. **Timers**: at each load (%s claims started at once), claims whose capture waits in a queue with a %s claim window, then falls back to the default assignee, each started together with a workflow that only sleeps for the window. From history timestamps: lateness is fallback recorded (the workflow task that ran the RecordAssignment local activity) or sleep-only completed, minus (timer started + window); fired → recorded isolates the span from the timer firing to the fallback being recorded, against the sleep-only workflow's timer firing to its completion.",
		joinInts(c.TimerLoads), c.Window)
	line("7. **Memory**: Baton's worker binary with %d claims each assigned and waiting for its assignee, against bin/noopworker (built the same way, without the Temporal server: only the SDK and the minimal claim) with %d minimal claims each waiting for its first Update; both with a sticky cache of %d claims, so the second half of the run is past it and evicts. Sampled every %d claims once all are waiting: VmRSS from /proc, and heap in use (go_memstats_heap_inuse_bytes) from the process's own /metrics.",
		c.Memory, c.Memory, c.Cache, c.MemStep)
	line("8. **Organisation size**: sizes %s, each in a schema of its own with a generated directory (policybench.Organisation: one user in ten holds every stage permission; all ten at the smallest), compared with the smallest. Decision latency: ResolveAssignment called directly, one at a time, %d decisions. Rate: the same number on %d callers, each with its own connection, every eighth asked twice at once; checked as in figure 3 against an exactly even share among the eligible. History and state: one round-robin claim through every stage on an in-process worker, the history's size and length as the server reports them, the largest state query answer. Memory: the worker binary's VmRSS before and after opening %d claims, each waiting at capture; one step, so garbage collection can make it read low.",
		joinInts(c.OrgSizes), c.OrgDecisions, OrgCallers, c.OrgOpen)
	line("9. **Workload**: %d decisions per method on %d callers, each eligible person limited to %d open stages, against plain round robin.", c.WorkloadDecisions, OrgCallers, c.WorkloadLimit)
	line("\nThe two-worker row runs %d claims through two worker processes on one server and database. The PostgreSQL rows repeat figures 1 and 2 on a Temporal server whose persistence and visibility are PostgreSQL, created from Temporal's own schema, with %d history shards; every other figure runs on the embedded server persisted to SQLite.",
		c.TwoClaims, c.Shards)
	return b.String()
}

// Flags are the dev bench flags that reproduce the run's parameters.
func (r *Results) Flags() string {
	c := r.Config
	return fmt.Sprintf("--flow-window %s --rounds %d --parallel %d --callers %s --bursts %s --timer-loads %s --window %s --memory %d --memory-step %d --cache %d --two-claims %d --org-sizes %s --org-decisions %d --org-open %d --workload-decisions %d --workload-limit %d --shards %d",
		c.FlowWindow, c.Rounds, c.Parallel, joinInts(c.Callers), joinInts(c.Bursts), joinInts(c.TimerLoads), c.Window, c.Memory, c.MemStep, c.Cache,
		c.TwoClaims, joinInts(c.OrgSizes), c.OrgDecisions, c.OrgOpen, c.WorkloadDecisions, c.WorkloadLimit, c.Shards)
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
