package metrics

import (
	"context"
	"log/slog"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/batonhq/baton/internal/store"
)

// WorkloadFunc reads the workload figures (store.Queries.WorkloadStats).
type WorkloadFunc func(ctx context.Context) (store.WorkloadStats, error)

// RegisterWorkload exports, on every scrape under timeout: baton_open_stages
// {stage}, baton_open_stages_top{user} for the store.TopOpen people holding the
// most (a bounded label set), and baton_backlog{queue,stage} with
// baton_backlog_oldest_seconds{queue,stage}. When fn fails they are left out of
// that scrape (missing series, not false zeros) and the error is logged.
func (m *Metrics) RegisterWorkload(fn WorkloadFunc, timeout time.Duration, log *slog.Logger) error {
	if m == nil {
		return nil
	}
	if log == nil {
		log = slog.Default()
	}
	return m.reg.Register(&workloadCollector{fn: fn, timeout: timeout, log: log,
		open: prometheus.NewDesc("baton_open_stages", "Stages assigned and not completed, by stage.", []string{"stage"}, nil),
		top: prometheus.NewDesc("baton_open_stages_top",
			"Open stages of the people holding the most (at most 10 people).", []string{"user"}, nil),
		backlog: prometheus.NewDesc("baton_backlog",
			"Stages waiting because everyone eligible was away or full, by queue and stage.", []string{"queue", "stage"}, nil),
		oldest: prometheus.NewDesc("baton_backlog_oldest_seconds",
			"How long the oldest backlog stage has waited, by queue and stage.", []string{"queue", "stage"}, nil),
	})
}

type workloadCollector struct {
	fn                         WorkloadFunc
	timeout                    time.Duration
	log                        *slog.Logger
	open, top, backlog, oldest *prometheus.Desc
}

func (c *workloadCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- c.open
	ch <- c.top
	ch <- c.backlog
	ch <- c.oldest
}

func (c *workloadCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), c.timeout)
	defer cancel()
	st, err := c.fn(ctx)
	if err != nil {
		c.log.Warn("workload metrics not exported this scrape", "error", err)
		return
	}
	for stage, n := range st.OpenByStage {
		ch <- prometheus.MustNewConstMetric(c.open, prometheus.GaugeValue, float64(n), string(stage))
	}
	for _, u := range st.TopOpen {
		ch <- prometheus.MustNewConstMetric(c.top, prometheus.GaugeValue, float64(u.Open), u.UserID)
	}
	for _, b := range st.Backlog {
		ch <- prometheus.MustNewConstMetric(c.backlog, prometheus.GaugeValue, float64(b.Count), b.Queue, b.Stage)
		ch <- prometheus.MustNewConstMetric(c.oldest, prometheus.GaugeValue, b.OldestSecs, b.Queue, b.Stage)
	}
}
