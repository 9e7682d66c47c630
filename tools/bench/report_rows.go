package bench

import (
	"cmp"
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/batonhq/baton/tools/bench/baseline"
	"github.com/batonhq/baton/tools/policybench"
)

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
			miss := r.Figure + " (target " + r.Target
			if r.Interval.Valid() {
				miss += fmt.Sprintf("; ratio %.2f, 95%% interval %s", r.Ratio, r.Interval)
			}
			out = append(out, miss+")")
		}
	}
	return out
}

// unit formats a figure's values: a printf verb and a suffix.
type unit struct{ verb, suffix string }

var (
	msUnit    = unit{"%.1f", " ms"}
	rateUnit  = unit{"%.2f", ""}
	nsUnit    = unit{"%.0f", ""}
	perSecond = unit{"%.0f", ""}
)

func (u unit) of(v float64) string { return fmt.Sprintf(u.verb, v) + u.suffix }

func (u unit) span(s Spread) string {
	if s.Of == "" {
		return "–"
	}
	return fmt.Sprintf(u.verb+"–"+u.verb, s.Lo, s.Hi) + u.suffix
}

// compared fills row's ratio, interval, n, repetitions and spread from c.
func compared(row Row, c Comparison, u unit) Row {
	row.Ratio, row.Interval = c.Ratio, c.Interval
	row.N, row.Reps = fmt.Sprintf("%d / %d", c.BatonN, c.BaseN), c.Reps
	row.Spread = "–"
	if of := cmp.Or(c.BatonSpread.Of, c.BaseSpread.Of); of != "" {
		row.Spread = fmt.Sprintf("%s / %s (%s)", u.span(c.BatonSpread), u.span(c.BaseSpread), of)
	}
	return row
}

// judged holds row to limit, on its interval's unfavourable bound.
func judged(row Row, limit Limit) Row {
	row.Target, row.Met = limit.String(), limit.Met(row.Interval)
	return row
}

func (r *Results) flowRows(f FlowResult, on string) []Row {
	if f.Baton.Claims == 0 {
		return nil
	}
	shape := fmt.Sprintf("%d stages, %d per side in flight, %d rounds of %s%s", baseline.Stages, f.Parallel, f.Rounds, f.Window/time.Duration(max(f.Rounds, 1)), on)
	rate := func(base FlowSide, what string) Row {
		c := Compare(rounds(f.Baton.RoundRates), rounds(base.RoundRates), Mean, true)
		row := compared(Row{Figure: "1 throughput, claims/s (" + shape + ")", Baton: rateUnit.of(c.Baton),
			Baseline: rateUnit.of(c.Base) + " " + what}, c, rateUnit)
		row.N = fmt.Sprintf("%d / %d claims", f.Baton.Claims, base.Claims)
		return row
	}
	latency := func(stat Statistic, base FlowSide, what string) Row {
		c := Compare(f.Baton.Latency, base.Latency, stat, false)
		return compared(Row{Figure: "2 stage start → assignee visible in the state query, " + stat.Name + on,
			Baton: msUnit.of(c.Baton), Baseline: msUnit.of(c.Base) + " " + what}, c, msUnit)
	}
	return []Row{
		judged(rate(f.Stubbed, "Baton's workflow, activities stubbed"), AtLeast(0.85)),
		rate(f.Minimal, "minimal 3-stage workflow"),
		latency(Median, f.Stubbed, "stubbed"),
		judged(latency(P99, f.Stubbed, "stubbed"), AtMost(1.3)),
		latency(P99, f.Minimal, "minimal"),
	}
}

func (r *Results) otherRows() []Row {
	var rows []Row
	rows = append(rows, r.contentionRows()...)
	for _, b := range r.Fairness {
		rows = append(rows, Row{Figure: fmt.Sprintf("4 fairness, burst of %d: max−min per user", b.Burst), Baton: fmt.Sprint(b.Baton),
			Baseline: fmt.Sprintf("%d timestamp modulus, %d seeded random", b.Modulus, b.Random), Ratio: ratio(float64(b.Baton), float64(b.Modulus)),
			N: fmt.Sprintf("%d / %d", b.Burst, b.Burst), Reps: 1, Target: "Baton ≤ 1", Met: b.Baton <= 1})
	}
	rows = append(rows, r.rulesRows()...)
	rows = append(rows, r.timerRows()...)
	rows = append(rows, r.memoryRows()...)
	rows = append(rows, r.orgRows()...)
	rows = append(rows, r.workloadRows()...)
	rows = append(rows, r.scaleRows()...)
	if r.Two.Claims > 0 {
		var workers []string
		for w, n := range r.Two.PerWorker {
			workers = append(workers, fmt.Sprintf("%s: %d", w, n))
		}
		sort.Strings(workers)
		rows = append(rows, Row{Figure: fmt.Sprintf("two worker processes, %d claims: RR max−min", r.Two.Claims), Baton: fmt.Sprint(r.Two.MaxSpread),
			Baseline: "activity tasks " + strings.Join(workers, ", "), N: fmt.Sprint(r.Two.Claims), Reps: 1,
			Target: "exactly even (0)", Met: r.Two.MaxSpread == 0 && len(r.Two.PerWorker) == 2})
	}
	return rows
}

// contentionRows are figure 3: one busy team against the same decisions over
// Teams teams and against a bare one-row commit loop, with the turn audit. The
// ratios are held to the targets at ContentionCallers callers; the
// audit at every number.
func (r *Results) contentionRows() []Row {
	var rows []Row
	for _, c := range r.Contention {
		what := fmt.Sprintf("3 one busy team, %d callers over %d processes, %d rules, e-mail: decisions/s", c.Callers, c.Procs, c.Rules)
		clean := "0 mismatched/missing/skipped"
		spread := Compare(c.Busy, c.Spread, Mean, true)
		vsTeams := compared(Row{Figure: what + ", against " + fmt.Sprint(Teams) + " teams", Baton: fmt.Sprintf("%.0f (%s)", spread.Baton, c.BusyCheck),
			Baseline: fmt.Sprintf("%.0f over %d teams (%s)", spread.Base, Teams, c.SpreadCheck)}, spread, perSecond)
		vsTeams.N = fmt.Sprintf("%d / %d decisions", c.BusyN, c.SpreadN)
		vsTeams.Target, vsTeams.Met = clean, c.BusyCheck.Clean() && c.SpreadCheck.Clean()
		bare := Compare(c.Busy, c.Bare, Mean, true)
		vsBare := compared(Row{Figure: what + ", against a bare one-row commit loop", Baton: fmt.Sprintf("%.0f (%d e-mails queued for %d decisions)", bare.Baton, c.Outbox, c.Decided),
			Baseline: fmt.Sprintf("%.0f commits/s, a bare one-row commit loop (%d lost)", bare.Base, c.BareLost)}, bare, perSecond)
		vsBare.N = fmt.Sprintf("%d decisions / %d commits", c.BusyN, c.BareN)
		if c.Callers == ContentionCallers {
			met := vsTeams.Met
			vsTeams = judged(vsTeams, AtLeast(0.5))
			vsTeams.Target, vsTeams.Met = vsTeams.Target+", "+clean, vsTeams.Met && met
			vsBare = judged(vsBare, AtLeast(1.0))
			vsBare.Target, vsBare.Met = vsBare.Target+", 0 lost", vsBare.Met && c.BareLost == 0
		}
		rows = append(rows, vsTeams, vsBare)
	}
	return rows
}

// MinTimerPairs is how many timers of each population figure 6's target
// needs: fewer measure something, but not what the target is about.
const MinTimerPairs = 2000

// timerRows are figure 6: Baton's span from its window firing to the fallback
// recorded against the sleep-only twin's firing to completing, the median
// judged on its interval's upper bound; then the same at p99, and the
// server's own firing lateness for both, with no target.
func (r *Results) timerRows() []Row {
	t := r.Timers
	if len(t.Span) == 0 {
		return nil
	}
	what := fmt.Sprintf(", %d pairs in waves of %d, %s window", t.Span.N(), t.Wave, t.Window)
	span := func(stat Statistic) Row {
		c := Compare(t.Span, t.SleepSpan, stat, true)
		return compared(Row{Figure: "6 timer fired → fallback recorded, " + stat.Name + what, Baton: msUnit.of(c.Baton),
			Baseline: msUnit.of(c.Base) + " sleep-only fired → completed, same deadline"}, c, msUnit)
	}
	median := judged(span(Median), AtMost(1.2))
	median.Target += fmt.Sprintf(", n ≥ %d", MinTimerPairs)
	median.Met = median.Met && t.Span.N() >= MinTimerPairs && t.SleepSpan.N() >= MinTimerPairs
	rows := []Row{median, span(P99)}
	for _, stat := range []Statistic{Median, P99} {
		// No ratio: lateness near zero makes one mean nothing.
		c := Compare(t.LateFire, t.SleepLateFire, stat, true)
		late := compared(Row{Figure: "6 the server's firing lateness (fired − deadline), " + stat.Name + what,
			Baton: msUnit.of(c.Baton) + " claim windows", Baseline: msUnit.of(c.Base) + " sleep-only"}, c, msUnit)
		late.Ratio, late.Interval = 0, Interval{}
		rows = append(rows, late)
	}
	g := t.DeadlineGap
	rows = append(rows, Row{Figure: "6 each twin's server deadline − its claim's, p1 / median / p99" + what,
		Baton:    fmt.Sprintf("%+.1f / %+.1f / %+.1f ms", Percentile(1).Of(g), Median.Of(g), P99.Of(g)),
		Baseline: fmt.Sprintf("%d pairs left out: the twin started after the deadline", t.TooLate), N: fmt.Sprint(len(g)), Reps: len(t.Span)})
	return rows
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
			Row{Figure: "7 worker RSS per 1,000 open claims, " + what, Baton: fmt.Sprintf("%.1f MB", bRSS/mb), Baseline: fmt.Sprintf("%.1f MB no-op worker", nRSS/mb),
				Ratio: ratio(bRSS, nRSS), Reps: 1},
			Row{Figure: "7 worker heap in use per 1,000 open claims, " + what, Baton: fmt.Sprintf("%.1f MB", bHeap/mb), Baseline: fmt.Sprintf("%.1f MB no-op worker", nHeap/mb),
				Ratio: ratio(bHeap, nHeap), Reps: 1})
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
		hist := Row{Figure: size + ": claim history", Baton: fmt.Sprintf("%.1f KB, %d events", float64(o.HistoryBytes)/1024, o.HistoryEvents),
			Baseline: fmt.Sprintf("%.1f KB, %d events", float64(base.HistoryBytes)/1024, base.HistoryEvents) + of,
			Ratio:    ratio(float64(o.HistoryBytes), float64(base.HistoryBytes)), N: "1 / 1", Reps: 1}
		state := Row{Figure: size + ": state answer", Baton: fmt.Sprintf("%.1f KB", float64(o.StateBytes)/1024),
			Baseline: fmt.Sprintf("%.1f KB", float64(base.StateBytes)/1024) + of, Ratio: ratio(float64(o.StateBytes), float64(base.StateBytes)), N: "1 / 1", Reps: 1}
		lat := func(stat Statistic) Row {
			c := Compare(Sample{o.Latency}, Sample{base.Latency}, stat, false)
			return compared(Row{Figure: size + ": decision " + stat.Name, Baton: msUnit.of(c.Baton), Baseline: msUnit.of(c.Base) + of}, c, msUnit)
		}
		p50 := lat(Median)
		if largest {
			hist.Target, hist.Met = "≤ 32 KB, ≤ 1.5", o.HistoryBytes <= 32<<10 && hist.Ratio <= 1.5
			state.Target, state.Met = "≤ 64 KB, ≤ 1.5", o.StateBytes <= 64<<10 && state.Ratio <= 1.5
			p50 = judged(p50, AtMost(3))
		}
		rows = append(rows, hist, state, p50,
			lat(P99),
			Row{Figure: fmt.Sprintf("%s: RR decisions/s, %d callers", size, OrgCallers), Baton: fmt.Sprintf("%.0f (%s)", o.Rate, o.TurnCheck),
				Baseline: fmt.Sprintf("%.0f (%s)", base.Rate, base.TurnCheck) + of, Ratio: ratio(o.Rate, base.Rate),
				N: fmt.Sprintf("%d / %d decisions", 2*r.Config.OrgDecisions, 2*r.Config.OrgDecisions), Reps: 1,
				Target: "0 mismatched/missing/skipped", Met: o.Clean() && base.Clean()})
		if o.OpenClaims > 0 {
			rows = append(rows, Row{Figure: fmt.Sprintf("%s: worker RSS per 1,000 open claims (of %d)", size, o.OpenClaims), Baton: fmt.Sprintf("%.1f MB", o.RSSPerThousand/mb),
				Baseline: fmt.Sprintf("%.1f MB", base.RSSPerThousand/mb) + of, Ratio: ratio(o.RSSPerThousand, base.RSSPerThousand), Reps: 1})
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
			Figure:   fmt.Sprintf("9 %s (%d each), %d callers: decisions/s", w.Name, w.Limit, OrgCallers),
			Baton:    fmt.Sprintf("%.0f (%d assigned, %d waiting, %d over a limit)", w.Rate, w.Assigned, w.Backlog, w.Breaches),
			Baseline: fmt.Sprintf("%.0f, %s", base.Rate, base.Name), Ratio: ratio(w.Rate, base.Rate),
			N: fmt.Sprintf("%d / %d decisions", r.Config.WorkloadDecisions, r.Config.WorkloadDecisions), Reps: 1,
			Target: fmt.Sprintf("0 over a limit, all %d slots filled", workloadUsers/workloadEvery*w.Limit),
			Met:    w.Breaches == 0 && w.Assigned == workloadUsers/workloadEvery*w.Limit,
		})
	}
	return rows
}

// rulesRows are figure 5: the decision path and the rendered explanation of a
// rule-routed decision, each held to 1.5 times a hand-written function doing
// the same work on the ratio's interval over paired rounds; the record's bytes
// held to 1 KB.
func (r *Results) rulesRows() []Row {
	ru := r.Rules
	if ru.Rules == 0 {
		return nil
	}
	decision := Compare(rounds(ru.Decision.Rounds), rounds(ru.DecisionHand.Rounds), Median, true)
	matcher := Compare(rounds(ru.Decision.Rounds), rounds(ru.Matcher.Rounds), Median, true)
	render := Compare(rounds(ru.Render.Rounds), rounds(ru.RenderHand.Rounds), Median, true)
	interp := Compare(rounds([]float64{ru.MatchNs}), rounds(ru.MatcherUnindexed.Rounds), Median, false)
	return []Row{
		judged(compared(Row{Figure: fmt.Sprintf("5 decision path: compiled rules + their record written as the ledger stores it, %d rules, ns", ru.Rules),
			Baton:    fmt.Sprintf("%.0f (%d alloc)", decision.Baton, ru.Decision.Allocs),
			Baseline: nsUnit.of(decision.Base) + " hand-written: same index, same record bytes"}, decision, nsUnit), AtMost(1.5)),
		compared(Row{Figure: fmt.Sprintf("5 decision path against a hand-written matcher alone (no record), %d rules, ns", ru.Rules),
			Baton: nsUnit.of(matcher.Baton), Baseline: fmt.Sprintf("%.0f indexed, %.0f not indexed", matcher.Base, ru.MatcherUnindexed.Best)}, matcher, nsUnit),
		judged(compared(Row{Figure: fmt.Sprintf("5 explanation: the trace rendered from the record when read, as JSON, %d rules, ns", ru.Rules),
			Baton:    fmt.Sprintf("%.0f (%d allocs)", render.Baton, ru.Render.Allocs),
			Baseline: nsUnit.of(render.Base) + " hand-written writer of the same bytes"}, render, nsUnit), AtMost(1.5)),
		{Figure: "5 ledger bytes per rule-routed decision (its rule record)", Baton: fmt.Sprintf("%d B", ru.RecordBytes),
			Baseline: fmt.Sprintf("%d B the trace decisions wrote before", ru.TraceBytes), Ratio: ratio(float64(ru.RecordBytes), float64(ru.TraceBytes)),
			N: "1 / 1", Reps: 1, Target: fmt.Sprintf("≤ %d B", policybench.MaxRecordBytes), Met: ru.RecordBytes <= policybench.MaxRecordBytes},
		compared(Row{Figure: fmt.Sprintf("5 rule evaluation, interpreted (MatchRules), %d rules, ns", ru.Rules), Baton: nsUnit.of(ru.MatchNs),
			Baseline: nsUnit.of(interp.Base) + " hand-written, not indexed"}, interp, nsUnit),
		{Figure: fmt.Sprintf("5 whole decision, %d users", ru.Users), Baton: fmt.Sprintf("%.2f ms, %d allocs, %.1f KB", ru.DecisionNs/1e6, ru.DecisionAllocs,
			float64(ru.DecisionBytesPerRun)/1024), Reps: ru.Rounds},
	}
}

// scaleRows are figure 10: every method at a whole organisation's size
// against round robin at 10 users; the first decision after a directory
// change against steady ones; directory loads; and the background and read
// paths on aged data against the same on day-one data.
func (r *Results) scaleRows() []Row {
	sc := r.Scale
	if len(sc.Base) == 0 || len(sc.Methods) == 0 {
		return nil
	}
	c := sc.Config
	size := fmt.Sprintf("10 %d users (%d eligible, %d open stages, %d away, limit %d)", c.Users, sc.Eligible, c.Open, sc.Away, scaleLimit)
	var rows []Row
	for _, m := range sc.Methods {
		for _, lim := range []struct {
			stat  Statistic
			limit float64
		}{{Median, 3}, {P99, 5}} {
			cmpd := Compare(Sample{m.Latency}, Sample{sc.Base}, lim.stat, false)
			rows = append(rows, judged(compared(Row{Figure: fmt.Sprintf("%s: %s decision %s", size, m.Name, lim.stat.Name),
				Baton: msUnit.of(cmpd.Baton), Baseline: msUnit.of(cmpd.Base) + " round robin at 10 users"}, cmpd, msUnit), AtMost(lim.limit)))
		}
	}
	first := Compare(Sample{sc.First}, Sample{sc.Steady}, Median, false)
	rows = append(rows, judged(compared(Row{Figure: fmt.Sprintf("10 first round-robin decision after a load that changed one person, %d users, median", c.Users),
		Baton: msUnit.of(first.Baton), Baseline: msUnit.of(first.Base) + " steady round robin, same directory"}, first, msUnit), AtMost(10)))
	rows = append(rows, Row{Figure: fmt.Sprintf("10 requirements after %d one-person loads", len(sc.OneChange)),
		Baton:    fmt.Sprintf("%d rows (%d member stretches, %d current)", sc.Requirements, sc.MemberRows, sc.LiveMembers),
		Baseline: fmt.Sprintf("%d requirements the decisions refer to", sc.Live), Ratio: ratio(float64(sc.Requirements), float64(sc.Live)),
		N: "1 / 1", Reps: 1, Target: "≤ 2× live", Met: sc.Live > 0 && sc.Requirements <= 2*sc.Live})
	one := Compare(Sample{sc.OneChange}, Sample{sc.FullLoads}, Median, false)
	oneRow := judged(compared(Row{Figure: fmt.Sprintf("10 directory load of a file that changes one person, %d users, median", c.Users),
		Baton: msUnit.of(one.Baton), Baseline: msUnit.of(one.Base) + " the first full load"}, one, msUnit), AtMost(0.05))
	oneRow.Target += ", ≤ 1 s"
	oneRow.Met = oneRow.Met && one.Baton <= 1000
	full := slices.Max(sc.FullLoads)
	rows = append(rows, oneRow,
		Row{Figure: fmt.Sprintf("10 full directory load on an empty database, %d users, slowest", c.Users), Baton: msUnit.of(full),
			Baseline: fmt.Sprintf("reading the file: %s (no target)", msUnit.of(sc.Parse)), N: fmt.Sprint(len(sc.FullLoads)), Reps: len(sc.FullLoads),
			Target: "≤ 10 s", Met: full <= 10_000})
	aged := fmt.Sprintf("%d decisions, %d directory generations, %d waiting with everyone full", c.History, c.Generations, c.Waiting)
	for _, p := range sc.Paths {
		cmpd := Compare(Sample{p.Aged}, Sample{p.DayOne}, Median, false)
		row := judged(compared(Row{Figure: fmt.Sprintf("10 %s, aged data (%s), median", p.Name, aged),
			Baton: msUnit.of(cmpd.Baton), Baseline: msUnit.of(cmpd.Base) + " day-one data"}, cmpd, msUnit), AtMost(2))
		row.Target += ", ≤ 100 ms"
		row.Met = row.Met && cmpd.Baton <= 100
		rows = append(rows, row)
	}
	return append(rows, Row{Figure: "10 the explanation page of a day-one decision, read again on aged data", Baton: map[bool]string{true: "the same page", false: "a different page"}[sc.Same],
		Baseline: "as read on day one", N: "1 / 1", Reps: 1, Target: "identical", Met: sc.Same})
}
