package metrics

import (
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"go.temporal.io/sdk/client"
)

// SDKHandler is a Temporal SDK metrics handler recording into the same registry:
// pass it as client.Options.MetricsHandler. Counters, gauges and timers become
// Prometheus counters, gauges and histograms (in seconds) under the SDK's own
// names (temporal_request, temporal_activity_execution_latency, ...), with its
// tags as labels. A nil Metrics returns the SDK's no-op handler.
func (m *Metrics) SDKHandler() client.MetricsHandler {
	if m == nil {
		return client.MetricsNopHandler
	}
	return &sdkHandler{r: m.sdk}
}

// sdkBuckets are the timer histogram's buckets, in seconds: from a fast
// in-process call to a long poll.
var sdkBuckets = []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30, 60, 120}

type sdkKind int

const (
	sdkCounter sdkKind = iota
	sdkGauge
	sdkTimer
)

// sdkRegistry creates the SDK's metrics lazily, one vector per metric name and
// set of tag keys. It is an unchecked collector (it describes nothing), so a name
// the SDK happens to emit with two different tag sets is two vectors exported as
// one family, each series with its own labels, rather than a registration error.
// A name already used with another type is dropped.
type sdkRegistry struct {
	mu    sync.RWMutex
	kinds map[string]sdkKind
	vecs  map[string]prometheus.Collector // name + "\xff" + sorted label names
}

func newSDKRegistry(reg *prometheus.Registry) *sdkRegistry {
	r := &sdkRegistry{kinds: map[string]sdkKind{}, vecs: map[string]prometheus.Collector{}}
	reg.MustRegister(r)
	return r
}

// Describe describes nothing: the registry treats the SDK's metrics as unchecked.
func (r *sdkRegistry) Describe(chan<- *prometheus.Desc) {}

// Collect collects every vector created so far.
func (r *sdkRegistry) Collect(ch chan<- prometheus.Metric) {
	r.mu.RLock()
	vecs := make([]prometheus.Collector, 0, len(r.vecs))
	for _, v := range r.vecs {
		vecs = append(vecs, v)
	}
	r.mu.RUnlock()
	for _, v := range vecs {
		v.Collect(ch)
	}
}

// reserved are name prefixes of metrics registered elsewhere in the registry; an
// SDK metric under one would collide with them.
var reserved = []string{"baton_", "go_", "process_", "promhttp_"}

// vec returns the vector for name and labels, creating it, or nil when the name
// is unusable or already has another type.
func (r *sdkRegistry) vec(kind sdkKind, name string, labels []string) prometheus.Collector {
	key := name + "\xff" + strings.Join(labels, "\xff")
	r.mu.RLock()
	v, ok := r.vecs[key]
	k, named := r.kinds[name]
	r.mu.RUnlock()
	if ok && k == kind {
		return v
	}
	if (named && k != kind) || name == "" {
		return nil
	}
	for _, p := range reserved {
		if strings.HasPrefix(name, p) {
			return nil
		}
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if k, named := r.kinds[name]; named && k != kind {
		return nil
	}
	if v, ok := r.vecs[key]; ok {
		return v
	}
	help := "Temporal SDK metric " + name + "."
	switch kind {
	case sdkCounter:
		v = prometheus.NewCounterVec(prometheus.CounterOpts{Name: name, Help: help}, labels)
	case sdkGauge:
		v = prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: name, Help: help}, labels)
	default:
		v = prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: name, Help: help + " Seconds.", Buckets: sdkBuckets}, labels)
	}
	r.kinds[name] = kind
	r.vecs[key] = v
	return v
}

// sdkHandler is one set of tags (sanitized to label names) over the registry.
type sdkHandler struct {
	r      *sdkRegistry
	tags   prometheus.Labels
	labels []string // tags' keys, sorted
}

// WithTags returns a handler whose tags are these over the current ones.
func (h *sdkHandler) WithTags(tags map[string]string) client.MetricsHandler {
	merged := prometheus.Labels{}
	for k, v := range h.tags {
		merged[k] = v
	}
	for k, v := range tags {
		if name := labelName(k); name != "" {
			merged[name] = v
		}
	}
	labels := make([]string, 0, len(merged))
	for k := range merged {
		labels = append(labels, k)
	}
	slices.Sort(labels)
	return &sdkHandler{r: h.r, tags: merged, labels: labels}
}

// Counter returns the counter of name with the handler's tags.
func (h *sdkHandler) Counter(name string) client.MetricsCounter {
	if v, ok := h.r.vec(sdkCounter, metricName(name), h.labels).(*prometheus.CounterVec); ok {
		if c, err := v.GetMetricWith(h.tags); err == nil {
			return sdkCounterFunc(func(d int64) {
				if d > 0 { // a Prometheus counter only goes up
					c.Add(float64(d))
				}
			})
		}
	}
	return client.MetricsNopHandler.Counter(name)
}

// Gauge returns the gauge of name with the handler's tags.
func (h *sdkHandler) Gauge(name string) client.MetricsGauge {
	if v, ok := h.r.vec(sdkGauge, metricName(name), h.labels).(*prometheus.GaugeVec); ok {
		if g, err := v.GetMetricWith(h.tags); err == nil {
			return sdkGaugeFunc(g.Set)
		}
	}
	return client.MetricsNopHandler.Gauge(name)
}

// Timer returns the timer of name, a histogram in seconds, with the handler's tags.
func (h *sdkHandler) Timer(name string) client.MetricsTimer {
	if v, ok := h.r.vec(sdkTimer, metricName(name), h.labels).(*prometheus.HistogramVec); ok {
		if o, err := v.GetMetricWith(h.tags); err == nil {
			return sdkTimerFunc(func(d time.Duration) { o.Observe(d.Seconds()) })
		}
	}
	return client.MetricsNopHandler.Timer(name)
}

type sdkCounterFunc func(int64)

func (f sdkCounterFunc) Inc(d int64) { f(d) }

type sdkGaugeFunc func(float64)

func (f sdkGaugeFunc) Update(v float64) { f(v) }

type sdkTimerFunc func(time.Duration)

func (f sdkTimerFunc) Record(d time.Duration) { f(d) }

// metricName is s in Prometheus's metric name form: [a-zA-Z_:][a-zA-Z0-9_:]*.
func metricName(s string) string {
	return sanitize(s, true)
}

// labelName is s in Prometheus's label name form, [a-zA-Z_][a-zA-Z0-9_]*, not
// starting with the reserved "__"; "" when nothing is left.
func labelName(s string) string {
	n := sanitize(s, false)
	if strings.HasPrefix(n, "__") {
		n = "tag" + strings.TrimLeft(n, "_")
	}
	return n
}

func sanitize(s string, colon bool) string {
	if s == "" {
		return ""
	}
	var b strings.Builder
	for i, c := range s {
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c == '_', colon && c == ':':
			b.WriteRune(c)
		case c >= '0' && c <= '9':
			if i == 0 {
				b.WriteByte('_')
			}
			b.WriteRune(c)
		default:
			b.WriteByte('_')
		}
	}
	return b.String()
}
