package bench

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"text/tabwriter"
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

// Rows turns results into the report's table.
func (r *Results) Rows() []Row {
	var rows []Row
	if f := r.Flow; f.Claims > 0 {
		rows = append(rows, r.flowRows()...)
	}
	return append(rows, r.otherRows()...)
}

func (r *Results) flowRows() []Row {
	f := r.Flow
	return []Row{
		{fmt.Sprintf("1 throughput, claims/s (all stages, %d+%d in flight, %s)", f.Parallel, f.Parallel, f.Window), fmt.Sprintf("%.2f", f.BatonRate), fmt.Sprintf("%.2f no-op claim", f.NoopRate),
			ratio(f.BatonRate, f.NoopRate), "≥ 0.85", ratio(f.BatonRate, f.NoopRate) >= 0.85},
		{"2 stage start → assignee recorded, p50", ms(f.BatonP50), ms(f.NoopP50) + " no-op activity",
			ratio(float64(f.BatonP50), float64(f.NoopP50)), "", true},
		{"2 stage start → assignee recorded, p99", ms(f.BatonP99), ms(f.NoopP99) + " no-op activity",
			ratio(float64(f.BatonP99), float64(f.NoopP99)), "≤ 1.3", ratio(float64(f.BatonP99), float64(f.NoopP99)) <= 1.3},
	}
}

func (r *Results) otherRows() []Row {
	var rows []Row
	for _, c := range r.Contention {
		target, met := "", c.Duplicates == 0 && c.Skips == 0
		if c.Callers == 64 {
			target, met = "≥ 0.5, 0 dup/skip", met && ratio(c.OneTeam, c.Spread) >= 0.5
		}
		rows = append(rows, Row{fmt.Sprintf("3 RR decisions/s, %d callers, one team", c.Callers),
			fmt.Sprintf("%.0f (dup %d, skip %d)", c.OneTeam, c.Duplicates, c.Skips), fmt.Sprintf("%.0f over %d teams", c.Spread, Teams),
			ratio(c.OneTeam, c.Spread), target, met})
	}
	for _, b := range r.Fairness {
		rows = append(rows, Row{fmt.Sprintf("4 fairness, burst of %d: max−min per user", b.Burst), fmt.Sprint(b.Baton),
			fmt.Sprintf("%d timestamp modulus, %d seeded random", b.Modulus, b.Random), ratio(float64(b.Baton), float64(b.Modulus)),
			"Baton ≤ 1", b.Baton <= 1})
	}
	if ru := r.Rules; ru.Rules > 0 {
		rows = append(rows,
			Row{fmt.Sprintf("5 rule evaluation, %d rules, ns", ru.Rules), fmt.Sprintf("%.0f (%d allocs)", ru.EngineNs, ru.EngineAllocs),
				fmt.Sprintf("%.0f hand-written", ru.HandNs), ratio(ru.EngineNs, ru.HandNs), "≤ 1.5, 0 allocs",
				ratio(ru.EngineNs, ru.HandNs) <= 1.5 && ru.EngineAllocs == 0},
			Row{fmt.Sprintf("5 whole decision, %d users", ru.Users), fmt.Sprintf("%.2f ms, %d allocs, %.1f MB", ru.DecisionNs/1e6, ru.DecisionAllocs,
				float64(ru.DecisionBytesPerRun)/mb), "", 0, "", true},
		)
	}
	if t := r.Timers; t.Claims > 0 {
		rows = append(rows,
			Row{fmt.Sprintf("6 timer lateness, %d claims, %s window, p50", t.Claims, t.Window), ms(t.FallbackP50) + " fallback recorded",
				ms(t.SleepP50) + " sleep-only", ratio(float64(t.FallbackP50), float64(t.SleepP50)), "", true},
			Row{fmt.Sprintf("6 timer lateness, %d claims, %s window, p99", t.Claims, t.Window), ms(t.FallbackP99) + " fallback recorded",
				ms(t.SleepP99) + " sleep-only", ratio(float64(t.FallbackP99), float64(t.SleepP99)), "≤ 1.2",
				ratio(float64(t.FallbackP99), float64(t.SleepP99)) <= 1.2},
			Row{"6 window timer fired (Baton), p50 / p99", ms(t.FireP50) + " / " + ms(t.FireP99), "", 0, "", true},
		)
	}
	m := r.Memory
	if len(m.Baton) > 0 && len(m.Noop) > 0 {
		b, n := m.PerStep(m.Baton), m.PerStep(m.Noop)
		rows = append(rows, Row{fmt.Sprintf("7 worker RSS per %d open claims (of %d)", m.Step, m.Claims),
			fmt.Sprintf("%.1f MB (%.0f → %.0f MB)", b/mb, float64(m.Baton[0])/mb, float64(m.Baton[len(m.Baton)-1])/mb),
			fmt.Sprintf("%.1f MB no-op worker (%.0f → %.0f MB)", n/mb, float64(m.Noop[0])/mb, float64(m.Noop[len(m.Noop)-1])/mb),
			ratio(b, n), "", true})
	}
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
			ratio(float64(o.HistoryBytes), float64(base.HistoryBytes)), "", true}
		state := Row{size + ": state answer", fmt.Sprintf("%.1f KB", float64(o.StateBytes)/1024),
			fmt.Sprintf("%.1f KB", float64(base.StateBytes)/1024) + of, ratio(float64(o.StateBytes), float64(base.StateBytes)), "", true}
		p50 := Row{size + ": decision p50", ms(o.DecisionP50), ms(base.DecisionP50) + of,
			ratio(float64(o.DecisionP50), float64(base.DecisionP50)), "", true}
		if largest {
			hist.Target, hist.Met = "≤ 32 KB, ≤ 1.5", o.HistoryBytes <= 32<<10 && hist.Ratio <= 1.5
			state.Target, state.Met = "≤ 64 KB, ≤ 1.5", o.StateBytes <= 64<<10 && state.Ratio <= 1.5
			p50.Target, p50.Met = "≤ 3", p50.Ratio <= 3
		}
		rows = append(rows, hist, state, p50,
			Row{size + ": decision p99", ms(o.DecisionP99), ms(base.DecisionP99) + of, ratio(float64(o.DecisionP99), float64(base.DecisionP99)), "", true},
			Row{fmt.Sprintf("%s: RR decisions/s, %d callers", size, OrgCallers), fmt.Sprintf("%.0f (dup %d, skip %d)", o.Rate, o.Duplicates, o.Skips),
				fmt.Sprintf("%.0f (dup %d, skip %d)", base.Rate, base.Duplicates, base.Skips) + of, ratio(o.Rate, base.Rate),
				"0 dup/skip", o.Duplicates == 0 && o.Skips == 0 && base.Duplicates == 0 && base.Skips == 0})
		if o.OpenClaims > 0 {
			rows = append(rows, Row{fmt.Sprintf("%s: worker RSS per 1,000 open claims (of %d)", size, o.OpenClaims), fmt.Sprintf("%.1f MB", o.RSSPerThousand/mb),
				fmt.Sprintf("%.1f MB", base.RSSPerThousand/mb) + of, ratio(o.RSSPerThousand, base.RSSPerThousand), "", true})
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
			"0 over a limit", w.Breaches == 0 && w.Assigned == workloadUsers/workloadEvery*w.Limit,
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
		return ""
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
	var b strings.Builder
	fmt.Fprintf(&b, "# Baton benchmark report\n\nMeasured %s on %d CPUs (%s/%s) in %.0f s by `make bench`. ",
		r.Started.UTC().Format("2006-01-02 15:04 MST"), runtime.NumCPU(), runtime.GOOS, runtime.GOARCH, r.Took.Seconds())
	b.WriteString("Every baseline ran in the same process, against the same embedded Temporal server (SQLite) and PostgreSQL, in the same run.\n\n")
	b.WriteString("| figure | Baton | baseline | ratio | target |\n|---|---|---|---|---|\n")
	for _, row := range r.Rows() {
		fmt.Fprintf(&b, "| %s | %s | %s | %s | %s |\n", row.Figure, row.Baton, row.Baseline, ratioText(row.Ratio), targetText(row))
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
	if len(r.Memory.Baton) > 0 {
		b.WriteString("\n## Worker memory\n\n| open claims | Baton worker RSS | no-op worker RSS |\n|---|---|---|\n")
		for i := range r.Memory.Baton {
			noop := "–"
			if i < len(r.Memory.Noop) {
				noop = fmt.Sprintf("%.0f MB", float64(r.Memory.Noop[i])/mb)
			}
			fmt.Fprintf(&b, "| %d | %.0f MB | %s |\n", i*r.Memory.Step, float64(r.Memory.Baton[i])/mb, noop)
		}
	}
	b.WriteString("\n## How each figure is measured\n\n" + method)
	return os.WriteFile(filepath.Join(dir, "report.md"), []byte(b.String()), 0o644)
}

const method = `1. **Throughput**: claims driven through capture, review and acknowledge (round robin; each stage completed by the complete_stage Update as soon as the query shows its assignee), against a no-op workflow of four no-op activities each followed by an Update, driven the same way. Both run at the same time, the same number of each in flight, for three windows; claims per second finished inside the windows. Side by side, both get the same server, load and stalls; run one after the other, the ratio swung from 0.67 to 1.81 between identical runs.
2. **Stage latency**: from the server's history, ResolveAssignment's scheduled → completed (the assignee is in the ledger when it completes), against the no-op activity's scheduled → completed, from the same side-by-side runs.
3. **Turn contention**: ResolveAssignment called directly (its real transaction: the team's turn scope locked, ledger row, timeline, turn, inbox), 896 decisions per measurement, every eighth asked twice at once as a retried activity would be. One team shares one turn scope; the baseline spreads the same decisions over 64 teams' scopes. Duplicates: ledger rows beyond one per key, or a retry answered differently. Skips: turns short of an exactly even share.
4. **Fairness**: a burst of N goroutines released at once. Baton: each runs ResolveAssignment through PostgreSQL. Timestamp modulus: each picks users[now_ms mod 7] at the moment it runs, as 001 describes. Random: a PCG seeded with 42.
5. **Decisions**: ` + "`testing.Benchmark`" + ` over the fixtures in policy/policybench, best of five; the hand-written function encodes the same 200 rules with strings.EqualFold.
6. **Timers**: claims whose capture waits in a queue with a claim window, then falls back to the default assignee, each started together with a workflow that only sleeps for the window. Lateness from history timestamps: fallback recorded (the workflow task that ran the RecordAssignment local activity completed) or sleep-only workflow completed, minus (timer started + window).
7. **Memory**: VmRSS of Baton's worker binary with N claims each assigned and waiting for its assignee, against a worker process running only the no-op claim with N open, each waiting for its first Update. Sampled every step once all of the step's claims are waiting.

8. **Organisation size**: per size, a schema of its own with a generated directory (policybench.Organisation: one user in ten holds every stage permission; all ten at the smallest). Decision latency: ResolveAssignment called directly, one at a time. Rate: the same number of decisions on 64 callers, each with its own connection, every eighth asked twice at once; duplicates and skips as in figure 3, against an exactly even share of both measurements' decisions among the eligible. History and state: one round-robin claim through every stage on an in-process worker, the history's size and length as the server reports them (temporal workflow describe), the largest state query answer. Memory: the worker binary's VmRSS before and after opening the open claims, each waiting at capture; one step, so garbage collection can make it read low (even negative).`

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
