package metrics

import (
	"slices"
	"strconv"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	"github.com/tailgate-dev/tailgate/results"
	"google.golang.org/protobuf/types/known/timestamppb"
)

// The exported metric names. The Grafana dashboard's test checks that its
// queries name only these.
const (
	NameRequests        = "tailgate_requests_total"
	NameErrors          = "tailgate_errors_total"
	NameIterations      = "tailgate_iterations_total"
	NameRequestDuration = "tailgate_request_duration_seconds"
	NameServiceTime     = "tailgate_service_time_seconds"
	NameSendLag         = "tailgate_send_lag_seconds"
	NameInFlight        = "tailgate_in_flight"
	NamePlannedRate     = "tailgate_planned_rate"
	NameArrivalsSent    = "tailgate_arrivals_sent_total"
	NameArrivalsLate    = "tailgate_arrivals_late_total"
	NameArrivalsDropped = "tailgate_arrivals_dropped_total"
)

// Names lists every metric name the exporters emit (histograms by their
// family name).
var Names = []string{
	NameRequests, NameErrors, NameIterations, NameRequestDuration, NameServiceTime,
	NameSendLag, NameInFlight, NamePlannedRate, NameArrivalsSent, NameArrivalsLate,
	NameArrivalsDropped,
}

// descs are the Prometheus descriptions of one exporter's metrics.
type descs struct {
	requests, errors, iterations               *prometheus.Desc
	latency, service, sendLag                  *prometheus.Desc
	inFlight, plannedRate, sent, late, dropped *prometheus.Desc
}

func newDescs(l Labels) *descs {
	c := prometheus.Labels{"run_id": l.RunID, "shard": strconv.Itoa(l.Shard)}
	d := func(name, help string, labels ...string) *prometheus.Desc {
		return prometheus.NewDesc(name, help, labels, c)
	}
	return &descs{
		requests:    d(NameRequests, "Requests completed, by request name, tag group and HTTP status (or error kind when no response came).", "request", "group", "status"),
		errors:      d(NameErrors, "Failed requests, by request name, tag group and error kind (http_5xx, timeout, capture, …).", "request", "group", "kind"),
		iterations:  d(NameIterations, "Flow iterations completed (an arrival's whole flow), by flow.", "flow"),
		latency:     d(NameRequestDuration, "Request latency from the intended send time to the response, by request name, tag group and outcome (ok|failed).", "request", "group", "outcome"),
		service:     d(NameServiceTime, "Request service time from the actual send to the response, by request name, tag group and outcome.", "request", "group", "outcome"),
		sendLag:     d(NameSendLag, "Delay from a request's intended send time to its actual send, by request name, tag group and outcome.", "request", "group", "outcome"),
		inFlight:    d(NameInFlight, "Arrivals running or waiting for a worker."),
		plannedRate: d(NamePlannedRate, "Planned arrival rate of this shard now, in arrivals per second (open model; 0 for the closed model)."),
		sent:        d(NameArrivalsSent, "Arrivals (flow iterations) started."),
		late:        d(NameArrivalsLate, "Arrivals sent more than 10ms after their intended time."),
		dropped:     d(NameArrivalsDropped, "Arrivals dropped because no worker was free (--overload drop)."),
	}
}

// Collector returns the exporter as a prometheus.Collector. It is an
// unchecked collector (it describes nothing in advance): the run_id label
// is known only from the first snapshot.
func (e *Exporter) Collector() prometheus.Collector { return &collector{e: e} }

type collector struct {
	e      *Exporter
	d      *descs
	labels Labels // of d
}

// Describe implements prometheus.Collector.
func (c *collector) Describe(chan<- *prometheus.Desc) {}

// Collect implements prometheus.Collector: const metrics built from the
// cumulative state under the exporter's lock, yielding after each
// histogram. Before the first snapshot there is nothing to say, and no run
// id to say it with.
func (c *collector) Collect(ch chan<- prometheus.Metric) {
	e := c.e
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.start.IsZero() {
		return
	}
	if c.d == nil || c.labels != e.labels {
		c.d, c.labels = newDescs(e.labels), e.labels
	}
	d := c.d
	counter := func(desc *prometheus.Desc, v uint64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(desc, prometheus.CounterValue, float64(v), labels...)
	}
	for _, k := range e.sortedKeys() {
		st := e.series[k]
		for _, status := range sortedKeys(st.status) {
			counter(d.requests, st.status[status], k.name, k.group, status)
		}
		for _, kind := range sortedKeys(st.errors) {
			counter(d.errors, st.errors[kind], k.name, k.group, kind)
		}
		for o := range results.NumOutcomes {
			if st.latency[o].count == 0 {
				continue
			}
			for _, h := range []struct {
				desc *prometheus.Desc
				h    *hist
			}{{d.latency, st.latency[o]}, {d.service, st.service[o]}, {d.sendLag, st.sendLag[o]}} {
				ch <- newHistMetric(h.desc, h.h, e, k.name, k.group, o.String())
				yield()
			}
		}
	}
	for _, flow := range sortedKeys(e.iterations) {
		counter(d.iterations, e.iterations[flow], flow)
	}
	ch <- prometheus.MustNewConstMetric(d.inFlight, prometheus.GaugeValue, e.inFlight)
	ch <- prometheus.MustNewConstMetric(d.plannedRate, prometheus.GaugeValue, e.plannedRate)
	counter(d.sent, e.sent)
	counter(d.late, e.late)
	counter(d.dropped, e.dropped)
}

// sortedKeys returns the series keys in a stable order.
func (e *Exporter) sortedKeys() []seriesKey {
	keys := make([]seriesKey, 0, len(e.series))
	for k := range e.series {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, func(a, b seriesKey) int {
		if a.name != b.name {
			if a.name < b.name {
				return -1
			}
			return 1
		}
		if results.GroupLess(a.group, b.group) {
			return -1
		}
		if results.GroupLess(b.group, a.group) {
			return 1
		}
		return 0
	})
	return keys
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// histMetric is one histogram with classic and native buckets in one
// sample, which client_golang's const histograms offer only one at a time.
type histMetric struct {
	desc   *prometheus.Desc
	labels []*dto.LabelPair
	h      *dto.Histogram
}

func newHistMetric(desc *prometheus.Desc, h *hist, e *Exporter, labels ...string) prometheus.Metric {
	schema := int32(Schema)
	zero := prometheus.DefNativeHistogramZeroThreshold
	out := &dto.Histogram{
		SampleCount:   new(h.count),
		SampleSum:     new(h.sum),
		Schema:        &schema,
		ZeroThreshold: &zero,
		ZeroCount:     new(uint64(0)),
	}
	if !e.start.IsZero() {
		out.CreatedTimestamp = timestamppb.New(e.start)
	}
	for i, c := range h.cumulativeClassic() {
		out.Bucket = append(out.Bucket, &dto.Bucket{CumulativeCount: new(c), UpperBound: new(ClassicBounds[i])})
	}
	offsets, lengths, deltas := spans(h.populatedNative())
	for i := range offsets {
		out.PositiveSpan = append(out.PositiveSpan, &dto.BucketSpan{Offset: new(offsets[i]), Length: new(lengths[i])})
	}
	out.PositiveDelta = deltas
	return &histMetric{desc: desc, labels: prometheus.MakeLabelPairs(desc, labels), h: out}
}

// Desc implements prometheus.Metric.
func (m *histMetric) Desc() *prometheus.Desc { return m.desc }

// Write implements prometheus.Metric.
func (m *histMetric) Write(out *dto.Metric) error {
	out.Label = m.labels
	out.Histogram = m.h
	return nil
}
