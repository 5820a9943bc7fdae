package results

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/tailgate-dev/tailgate/internal/suggest"
)

// Metric names one figure of a series, as thresholds write it: a latency
// percentile ("p99", "p99.9", "median"), "max", "min" or "mean" of a
// histogram, optionally prefixed by the histogram ("latency.", the
// default, "service.", "send_lag."), or a figure of the whole series:
// "error_rate", "rate" (requests per second) or "requests". "failed_latency."
// reads the latency of failed requests. "error_rate.KIND" is the share of
// requests that failed with one error kind, e.g. "error_rate.rate_limited".
type Metric struct {
	Kind MetricKind
	// Hist is the histogram a latency figure reads.
	Hist HistKind
	// Percent is the percentile of a KindPercentile metric, e.g. 99.9.
	Percent float64
	// ErrorKind narrows a KindErrorRate metric to one error kind (one of
	// ErrorKindNames); "" counts every failed request.
	ErrorKind string
	// name is the metric as written, kept so that String round-trips
	// "median" and "latency.p99".
	name string
}

// MetricKind is what a Metric measures.
type MetricKind uint8

// The kinds of metrics.
const (
	KindPercentile MetricKind = iota + 1
	KindMax
	KindMin
	KindMean
	KindErrorRate
	KindRate
	KindRequests
)

// HistKind names one of the three histograms of a series.
type HistKind uint8

// The histograms of a series.
const (
	// HistLatency is completion − intended send time, the headline figure.
	HistLatency HistKind = iota
	// HistService is completion − actual send time.
	HistService
	// HistSendLag is actual − intended send time.
	HistSendLag
	// HistFailed is the latency of failed requests.
	HistFailed
)

// histPrefixes spell the histograms in metric names.
var histPrefixes = []struct {
	prefix string
	kind   HistKind
}{{"latency.", HistLatency}, {"service.", HistService}, {"send_lag.", HistSendLag}, {"failed_latency.", HistFailed}}

// metricNames are suggested for a misspelt metric: the reported
// percentiles, then every other name.
var metricNames = func() []string {
	var out []string
	for _, q := range reported {
		out = append(out, q.String())
	}
	return append(out, "median", "max", "min", "mean", "error_rate", "rate", "requests")
}()

// String writes the metric as it was parsed.
func (m Metric) String() string { return m.name }

// IsLatency reports whether the metric reads a histogram (its value is a
// duration).
func (m Metric) IsLatency() bool { return m.Kind >= KindPercentile && m.Kind <= KindMean }

// ParseMetric reads a metric name (see Metric).
func ParseMetric(s string) (Metric, error) {
	s = strings.TrimSpace(s)
	m := Metric{name: s}
	name := s
	for _, p := range histPrefixes {
		if rest, ok := strings.CutPrefix(name, p.prefix); ok {
			m.Hist, name = p.kind, rest
			break
		}
	}
	if kind, ok := strings.CutPrefix(name, "error_rate."); ok && name == s {
		if !KnownErrorKind(kind) {
			hint := suggest.DidYouMean(kind, ErrorKindNames)
			if hint == "" {
				hint = " (use one of " + strings.Join(ErrorKindNames, ", ") + ")"
			}
			return m, fmt.Errorf("%q: unknown error kind %q%s", s, kind, hint)
		}
		m.Kind, m.ErrorKind = KindErrorRate, kind
		return m, nil
	}
	switch name {
	case "max":
		m.Kind = KindMax
	case "min":
		m.Kind = KindMin
	case "mean":
		m.Kind = KindMean
	case "median":
		m.Kind, m.Percent = KindPercentile, 50
	case "error_rate", "rate", "requests":
		if name != s {
			return m, fmt.Errorf("%q: %s has no latency prefix", s, name)
		}
		m.Kind = map[string]MetricKind{"error_rate": KindErrorRate, "rate": KindRate, "requests": KindRequests}[name]
	default:
		p, ok := strings.CutPrefix(name, "p")
		if !ok {
			hint := suggest.DidYouMean(s, metricNames)
			if hint == "" {
				hint = " (use p50, p90, p99, p99.9 or any pN, max, min, mean, error_rate, error_rate.KIND, rate or requests; prefix service. for service time, failed_latency. for the latency of failed requests)"
			}
			return m, fmt.Errorf("unknown metric %q%s", s, hint)
		}
		v, err := strconv.ParseFloat(p, 64)
		if err != nil || math.IsNaN(v) || v <= 0 || v > 100 {
			return m, fmt.Errorf("unknown metric %q: a percentile is p followed by a number in (0, 100], e.g. p99.9", s)
		}
		m.Kind, m.Percent = KindPercentile, v
	}
	return m, nil
}

// Histogram returns the histogram of st a latency metric reads.
func (m Metric) Histogram(st *Stats) *Histogram {
	switch m.Hist {
	case HistService:
		return st.Service
	case HistSendLag:
		return st.SendLag
	case HistFailed:
		return st.FailedLatency
	}
	return st.Latency
}

// Duration returns a latency metric's value in h.
func (m Metric) Duration(h *Histogram) time.Duration {
	switch m.Kind {
	case KindPercentile:
		return h.Percentile(m.Percent)
	case KindMax:
		return h.Max()
	case KindMin:
		return h.Min()
	}
	return h.Mean()
}
