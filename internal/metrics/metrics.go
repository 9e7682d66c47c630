// Package metrics is Baton's Prometheus instrumentation: the counters of decisions,
// reassignments, escalations, timeline events and notifications the activities
// record; the queue-depth gauge the API server computes on scrape; and the
// Temporal SDK's own metrics, all in one registry served on /metrics beside
// /healthz.
//
// Every recording method is safe on a nil *Metrics, so code paths instrumented
// with it run unchanged where no metrics are wanted (most tests).
//
// It imports internal/store (the workload figures) and policy.
package metrics

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/batonhq/baton/policy"
)

// ChannelInbox is the in-app inbox, so far the only notification channel.
const ChannelInbox = "inbox"

// Decision outcomes, the outcome label of baton_decisions_total.
const (
	OutcomeAssigned        = "assigned"         // someone was assigned
	OutcomeQueued          = "queued"           // nobody was: the stage waits in its queue
	OutcomeDefaultAssignee = "default_assignee" // the stage fell back to its default assignee
)

// Reassignment kinds, the kind label of baton_reassignments_total.
const (
	ReassignmentReassigned = "reassigned" // moved from one assignee to another
	ReassignmentUnassigned = "unassigned" // returned to its queue
	ReassignmentClaimed    = "claimed"    // an eligible user took it from the queue
	ReassignmentGroup      = "group"      // a reassignment group member accepted an offer
)

// Metrics holds Baton's registry and collectors. Create it with New.
type Metrics struct {
	reg *prometheus.Registry

	decisions        *prometheus.CounterVec
	defaultFallbacks *prometheus.CounterVec
	escalations      *prometheus.CounterVec
	reassignments    *prometheus.CounterVec
	timelineEvents   *prometheus.CounterVec
	notifications    *prometheus.CounterVec
	passedOver       *prometheus.CounterVec
	batches          prometheus.Histogram
	refusals         *prometheus.CounterVec
	redistributions  *prometheus.CounterVec
	nudges           prometheus.Counter

	sdk *sdkRegistry
}

// New creates a registry with Baton's collectors, plus the Go runtime and process
// collectors.
func New() *Metrics {
	reg := prometheus.NewRegistry()
	m := &Metrics{
		reg: reg,
		decisions: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "baton_decisions_total",
			Help: "Assignment decisions committed to the ledger, by stage, method and outcome (assigned, queued, default_assignee).",
		}, []string{"stage", "method", "outcome"}),
		defaultFallbacks: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "baton_default_assignee_fallbacks_total",
			Help: "Decisions that gave a stage to its default assignee (nobody eligible, claim window passed, or no group member took it).",
		}, []string{"stage"}),
		escalations: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "baton_escalations_total",
			Help: "Stages escalated because they were not completed by their due time.",
		}, []string{"stage"}),
		reassignments: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "baton_reassignments_total",
			Help: "Changes of assignee after the stage's first decision, by kind (reassigned, unassigned, claimed, group).",
		}, []string{"stage", "kind"}),
		timelineEvents: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "baton_timeline_events_total",
			Help: "Timeline events recorded, by kind.",
		}, []string{"kind"}),
		notifications: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "baton_notifications_total",
			Help: "Notifications written, by channel (inbox, email, slack) and result (sent, failed).",
		}, []string{"channel", "result"}),
	}
	m.passedOver = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "baton_passed_over_total",
		Help: "People an automatic decision passed over, by stage and why (away, capacity, other: four eyes or a leaver).",
	}, []string{"stage", "why"})
	m.refusals = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "baton_capacity_refusals_total",
		Help: "A person's assignments refused because the assignee was at a limit (no override), by stage.",
	}, []string{"stage"})
	m.redistributions = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "baton_redistributions_total",
		Help: "Stages decided again to move them off a leaver, by stage.",
	}, []string{"stage"})
	m.nudges = prometheus.NewCounter(prometheus.CounterOpts{
		Name: "baton_backlog_nudges_total",
		Help: "Backlog stages asked to decide again because a slot freed or someone came back.",
	})
	m.batches = prometheus.NewHistogram(prometheus.HistogramOpts{
		Name:    "baton_decision_batch_size",
		Help:    "Decisions a worker recorded together in one transaction because they waited on the same turn scope.",
		Buckets: []float64{2, 4, 8, 16, 32, 64},
	})
	reg.MustRegister(m.passedOver, m.refusals, m.redistributions, m.nudges, m.batches)
	reg.MustRegister(m.decisions, m.defaultFallbacks, m.escalations, m.reassignments, m.timelineEvents, m.notifications,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	m.sdk = newSDKRegistry(reg)
	return m
}

// Registry is the registry everything is collected in; nil for a nil Metrics.
func (m *Metrics) Registry() *prometheus.Registry {
	if m == nil {
		return nil
	}
	return m.reg
}

// Outcome is the outcome label of a decision.
func Outcome(d policy.Decision) string {
	switch {
	case d.Method == policy.MethodDefaultAssignee:
		return OutcomeDefaultAssignee
	case d.Assignee == "":
		return OutcomeQueued
	default:
		return OutcomeAssigned
	}
}

// ReassignmentKind is the kind label of a decision that changed an existing
// assignment, or "" when the decision is not one; previous is the assignee it
// replaced.
func ReassignmentKind(d policy.Decision, previous string) string {
	if d.Method == policy.MethodReassignmentGroup {
		return ReassignmentGroup
	}
	switch policy.EventKindOf(d, previous) {
	case policy.EventReassigned:
		return ReassignmentReassigned
	case policy.EventUnassigned:
		return ReassignmentUnassigned
	case policy.EventClaimed:
		return ReassignmentClaimed
	}
	return ""
}

// Decision counts a committed decision, and a default-assignee fallback when it
// is one. Call it once per decision, after its transaction commits.
func (m *Metrics) Decision(d policy.Decision) {
	if m == nil {
		return
	}
	outcome := Outcome(d)
	m.decisions.WithLabelValues(string(d.Stage), string(d.Method), outcome).Inc()
	if outcome == OutcomeDefaultAssignee {
		m.defaultFallbacks.WithLabelValues(string(d.Stage)).Inc()
	}
}

// Reassignment counts a committed decision that changed an existing assignment
// (see ReassignmentKind); other decisions are ignored.
func (m *Metrics) Reassignment(d policy.Decision, previous string) {
	if m == nil {
		return
	}
	if kind := ReassignmentKind(d, previous); kind != "" {
		m.reassignments.WithLabelValues(string(d.Stage), kind).Inc()
	}
}

// PassedOver counts who a committed decision passed over.
func (m *Metrics) PassedOver(stage policy.Stage, away, full, other int) {
	if m == nil {
		return
	}
	for why, n := range map[string]int{"away": away, "capacity": full, "other": other} {
		if n > 0 {
			m.passedOver.WithLabelValues(string(stage), why).Add(float64(n))
		}
	}
}

// DecisionBatch records how many decisions of one turn scope a committed
// transaction recorded together.
func (m *Metrics) DecisionBatch(n int) {
	if m == nil {
		return
	}
	m.batches.Observe(float64(n))
}

// CapacityRefusal counts a person's assignment refused at a limit.
func (m *Metrics) CapacityRefusal(stage policy.Stage) {
	if m != nil {
		m.refusals.WithLabelValues(string(stage)).Inc()
	}
}

// Redistribution counts a stage decided again off a leaver.
func (m *Metrics) Redistribution(stage policy.Stage) {
	if m != nil {
		m.redistributions.WithLabelValues(string(stage)).Inc()
	}
}

// Nudges counts backlog stages asked to decide again.
func (m *Metrics) Nudges(n int) {
	if m != nil {
		m.nudges.Add(float64(n))
	}
}

// Escalation counts a stage escalated for missing its due time.
func (m *Metrics) Escalation(stage policy.Stage) {
	if m == nil {
		return
	}
	m.escalations.WithLabelValues(string(stage)).Inc()
}

// TimelineEvent counts a recorded timeline event of the kind (policy.Event*).
func (m *Metrics) TimelineEvent(kind string) {
	if m == nil {
		return
	}
	m.timelineEvents.WithLabelValues(kind).Inc()
}

// Notification counts a notification on the channel: sent when err is nil,
// failed otherwise.
func (m *Metrics) Notification(channel string, err error) {
	if m == nil {
		return
	}
	result := "sent"
	if err != nil {
		result = "failed"
	}
	m.notifications.WithLabelValues(channel, result).Inc()
}

// Handler serves /metrics (the registry, in the Prometheus text or OpenMetrics
// format) and /healthz (200 "ok"). A nil Metrics serves /healthz and an empty
// /metrics.
func (m *Metrics) Handler() http.Handler {
	mux := http.NewServeMux()
	reg := prometheus.NewRegistry()
	if m != nil {
		reg = m.reg
	}
	mux.Handle("/metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{
		Registry:          reg, // counts promhttp's own errors
		ErrorHandling:     promhttp.ContinueOnError,
		EnableOpenMetrics: true,
	}))
	mux.HandleFunc("/healthz", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		_, _ = w.Write([]byte("ok"))
	})
	return mux
}

// Serve listens on addr and serves Handler until stop is called or ctx is done.
// An empty addr serves nothing (stop is then a no-op). The listen happens before
// Serve returns, so a taken address is an error naming it.
func (m *Metrics) Serve(ctx context.Context, addr string, log *slog.Logger) (stop func(), err error) {
	if addr == "" {
		return func() {}, nil
	}
	if log == nil {
		log = slog.Default()
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("serve metrics on %s (metrics_address, BATON_METRICS_ADDRESS; empty disables it): %w", addr, err)
	}
	// The API server's limits (httpapi.NewHTTPServer), which this package
	// cannot import: a slow or silent client is cut off.
	srv := &http.Server{Handler: m.Handler(), ReadHeaderTimeout: 10 * time.Second, ReadTimeout: 30 * time.Second,
		WriteTimeout: 60 * time.Second, IdleTimeout: 2 * time.Minute, MaxHeaderBytes: 64 << 10}
	done := make(chan struct{})
	go func() {
		defer close(done)
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			log.Error("metrics server stopped", "address", ln.Addr().String(), "error", err)
		}
	}()
	log.Info("serving metrics", "address", ln.Addr().String(), "metrics", "http://"+ln.Addr().String()+"/metrics")
	stopped := make(chan struct{})
	var once sync.Once
	go func() {
		select {
		case <-ctx.Done():
		case <-stopped:
		}
		shutdown, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(shutdown)
	}()
	return func() {
		once.Do(func() { close(stopped) })
		<-done
	}, nil
}

// QueueDepth is how many unassigned claims wait in one queue at one stage.
type QueueDepth struct {
	Queue, Stage string
	Count        int
}

// QueueDepthFunc counts the unassigned claims per queue and stage.
type QueueDepthFunc func(ctx context.Context) ([]QueueDepth, error)

// RegisterQueueDepth exports baton_queue_depth{queue,stage}, computed by fn on
// every scrape under timeout. When fn fails the gauge is left out of that scrape
// (a missing series, not a false zero) and the error is logged.
func (m *Metrics) RegisterQueueDepth(fn QueueDepthFunc, timeout time.Duration, log *slog.Logger) error {
	if m == nil {
		return nil
	}
	if log == nil {
		log = slog.Default()
	}
	return m.reg.Register(&queueDepthCollector{
		desc: prometheus.NewDesc("baton_queue_depth",
			"Unassigned claims waiting in each queue at each stage, counted on scrape from Temporal visibility.",
			[]string{"queue", "stage"}, nil),
		fn: fn, timeout: timeout, log: log,
	})
}

type queueDepthCollector struct {
	desc    *prometheus.Desc
	fn      QueueDepthFunc
	timeout time.Duration
	log     *slog.Logger
}

func (c *queueDepthCollector) Describe(ch chan<- *prometheus.Desc) { ch <- c.desc }

func (c *queueDepthCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), c.timeout)
	defer cancel()
	depths, err := c.fn(ctx)
	if err != nil {
		c.log.Warn("queue depth not exported this scrape", "error", err)
		return
	}
	type key struct{ queue, stage string }
	sum := map[key]int{}
	var order []key
	for _, d := range depths {
		k := key{d.Queue, d.Stage}
		if _, ok := sum[k]; !ok {
			order = append(order, k)
		}
		sum[k] += d.Count
	}
	for _, k := range order {
		g, err := prometheus.NewConstMetric(c.desc, prometheus.GaugeValue, float64(sum[k]), k.queue, k.stage)
		if err != nil { // a label value that is not UTF-8: skip the series, keep the rest
			c.log.Warn("queue depth series skipped", "queue", k.queue, "stage", k.stage, "error", err)
			continue
		}
		ch <- g
	}
}
