package scenarios

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/tailgate-dev/tailgate/internal/format"
	"github.com/tailgate-dev/tailgate/results"
)

// Threshold is one pass/fail check of a run's results, such as
// "p99 < 250ms" for the whole run or for one request (and tag group).
type Threshold struct {
	// Pos is where the threshold was written (zero for --threshold flags).
	Pos Pos
	// Request and Group select the stats: both empty for the whole run.
	Request, Group string
	// Expr is the expression as written, e.g. "p99.9 < 1s".
	Expr string

	metric metric
	op     string
	value  float64
	unit   unit
}

type metricKind uint8

const (
	mPercentile metricKind = iota + 1
	mMax
	mMin
	mMean
	mErrorRate
	mRate
	mRequests
)

type histKind uint8

const (
	hLatency histKind = iota
	hService
	hSendLag
	hFailed
)

type metric struct {
	kind    metricKind
	hist    histKind
	percent float64
	name    string
}

type unit uint8

const (
	uSeconds unit = iota + 1
	uFraction
	uPlanned // fraction of the planned arrivals
	uPerSecond
	uCount
)

// String writes the threshold as it can be given to --threshold.
func (t *Threshold) String() string {
	sel := t.Request
	if t.Group != "" {
		sel += "{" + t.Group + "}"
	}
	if sel == "" {
		return t.Expr
	}
	return sel + ": " + t.Expr
}

// ParseThreshold parses a threshold: an expression such as "p99 < 250ms",
// optionally prefixed by a request name and tag group, e.g.
// "offset{depth=10000}: p99.9 < 1s".
func ParseThreshold(s string) (*Threshold, error) {
	s = strings.TrimSpace(s)
	t := &Threshold{}
	if i := strings.Index(s, ":"); i >= 0 {
		sel := strings.TrimSpace(s[:i])
		s = strings.TrimSpace(s[i+1:])
		if j := strings.IndexByte(sel, '{'); j >= 0 {
			if !strings.HasSuffix(sel, "}") {
				return nil, fmt.Errorf("%q: write a tag group as name{key=value}", sel)
			}
			t.Group = sel[j+1 : len(sel)-1]
			sel = strings.TrimSpace(sel[:j])
		}
		if sel == "" {
			return nil, errors.New("empty request name before ':'")
		}
		t.Request = sel
	}
	if err := t.parseExpr(s); err != nil {
		return nil, err
	}
	return t, nil
}

var metricNames = []string{"p50", "p90", "p95", "p99", "p99.9", "max", "min", "mean", "error_rate", "rate", "requests"}

func (t *Threshold) parseExpr(s string) error {
	s = strings.TrimSpace(s)
	t.Expr = s
	i := strings.IndexAny(s, "<>=!")
	if i < 0 {
		return fmt.Errorf("%q: want METRIC OP VALUE, e.g. p99 < 250ms", s)
	}
	op := s[i : i+1]
	if i+1 < len(s) && s[i+1] == '=' {
		op = s[i : i+2]
	}
	switch op {
	case "<", "<=", ">", ">=", "==":
	default:
		return fmt.Errorf("%q: unknown comparison %q (use <, <=, >, >= or ==)", s, op)
	}
	left := strings.TrimSpace(s[:i])
	right := strings.TrimSpace(s[i+len(op):])
	if right != "" && strings.ContainsRune("<>=!", rune(right[0])) {
		return fmt.Errorf("%q: unknown comparison %q (use <, <=, >, >= or ==)", s, op+right[:1])
	}
	if left == "" {
		return fmt.Errorf("%q: no metric before %s", s, op)
	}
	if right == "" {
		return fmt.Errorf("%q: no value after %s", s, op)
	}
	m, err := parseMetric(left)
	if err != nil {
		return err
	}
	t.metric, t.op = m, op
	switch m.kind {
	case mPercentile, mMax, mMin, mMean:
		d, err := time.ParseDuration(right)
		if err != nil || d < 0 {
			return fmt.Errorf("%s: want a duration such as 250ms, got %q", left, right)
		}
		t.value, t.unit = d.Seconds(), uSeconds
	case mErrorRate:
		v, err := parseFraction(right)
		if err != nil {
			return fmt.Errorf("error_rate: %v", err)
		}
		t.value, t.unit = v, uFraction
	case mRate:
		if strings.HasSuffix(right, "%") {
			v, err := parseFraction(right)
			if err != nil {
				return fmt.Errorf("rate: %v", err)
			}
			t.value, t.unit = v, uPlanned
		} else {
			v, err := format.ParseRate(right)
			if err != nil {
				return fmt.Errorf("rate: want a share of the planned rate such as 95%% or a rate such as 500/s: %v", err)
			}
			t.value, t.unit = v, uPerSecond
		}
	case mRequests:
		n, err := strconv.ParseUint(right, 10, 64)
		if err != nil {
			return fmt.Errorf("requests: want a whole number, got %q", right)
		}
		t.value, t.unit = float64(n), uCount
	}
	return nil
}

func parseMetric(s string) (metric, error) {
	m := metric{name: s}
	name := s
	for prefix, h := range map[string]histKind{"latency.": hLatency, "service.": hService, "send_lag.": hSendLag, "failed_latency.": hFailed} {
		if rest, ok := strings.CutPrefix(name, prefix); ok {
			m.hist, name = h, rest
			break
		}
	}
	switch name {
	case "max":
		m.kind = mMax
	case "min":
		m.kind = mMin
	case "mean":
		m.kind = mMean
	case "median":
		m.kind, m.percent = mPercentile, 50
	case "error_rate", "rate", "requests":
		if name != s {
			return m, fmt.Errorf("%q: %s has no latency prefix", s, name)
		}
		m.kind = map[string]metricKind{"error_rate": mErrorRate, "rate": mRate, "requests": mRequests}[name]
	default:
		p, ok := strings.CutPrefix(name, "p")
		if !ok {
			hint := suggest(s, metricNames)
			if hint == "" {
				hint = " (use p50, p90, p99, p99.9 or any pN, max, min, mean, error_rate, rate or requests; prefix service. for service time, failed_latency. for the latency of failed requests)"
			}
			return m, fmt.Errorf("unknown metric %q%s", s, hint)
		}
		v, err := strconv.ParseFloat(p, 64)
		if err != nil || math.IsNaN(v) || v <= 0 || v > 100 {
			return m, fmt.Errorf("unknown metric %q: a percentile is p followed by a number in (0, 100], e.g. p99.9", s)
		}
		m.kind, m.percent = mPercentile, v
	}
	return m, nil
}

// parseFraction reads "1%" as 0.01. A bare number is refused: "1" reads
// as 1% to a person and as 100% as a fraction.
func parseFraction(s string) (float64, error) {
	num, pct := strings.CutSuffix(s, "%")
	num = strings.TrimSpace(num)
	v, err := strconv.ParseFloat(num, 64)
	if err != nil || math.IsNaN(v) || math.IsInf(v, 0) {
		return 0, fmt.Errorf("want a percentage such as 1%%, got %q", s)
	}
	if !pct {
		return 0, fmt.Errorf("%q: write a percentage, e.g. %s%%", s, num)
	}
	v /= 100
	if v < 0 || v > 1 {
		return 0, fmt.Errorf("%q is outside 0%%–100%%", s)
	}
	return v, nil
}

// ThresholdResult is the outcome of one threshold.
type ThresholdResult struct {
	Threshold *Threshold
	Pass      bool
	// Actual is the measured value, e.g. "212ms" or "0.4%".
	Actual string
	// Reason says why a threshold could not be evaluated ("" otherwise).
	Reason string
}

// String formats the outcome for people, e.g. "pass  p99 < 250ms (p99 = 212ms)".
func (r ThresholdResult) String() string {
	verdict := "pass"
	if !r.Pass {
		verdict = "FAIL"
	}
	return fmt.Sprintf("%s  %s  (%s)", verdict, r.Threshold, r.Detail())
}

// Detail says what was measured, e.g. "p99 = 212ms", or why the threshold
// could not be evaluated.
func (r ThresholdResult) Detail() string {
	if r.Reason != "" {
		return r.Reason
	}
	return r.Threshold.metric.name + " = " + r.Actual
}

// Evaluate checks the threshold against a result.
func (t *Threshold) Evaluate(r *results.Result) ThresholdResult {
	out := ThresholdResult{Threshold: t}
	st := r.Total
	if t.Request != "" {
		st = r.Lookup(t.Request, t.Group)
		if st == nil {
			what := fmt.Sprintf("request %q", t.Request)
			if t.Group != "" {
				what += fmt.Sprintf(" with tag group %q", t.Group)
			}
			out.Reason = "no results for " + what
			return out
		}
	}
	if st == nil || (st.Requests == 0 && t.metric.kind != mRate) {
		out.Reason = "no requests were measured"
		return out
	}
	var actual float64
	switch t.metric.kind {
	case mPercentile, mMax, mMin, mMean:
		h := st.Latency
		switch t.metric.hist {
		case hService:
			h = st.Service
		case hSendLag:
			h = st.SendLag
		case hFailed:
			h = st.FailedLatency
		}
		if h.Count() == 0 && t.metric.hist == hFailed {
			// No request failed: nothing breaks a bound on failures.
			out.Pass, out.Actual = true, "none (no request failed)"
			return out
		}
		if h.Count() == 0 {
			out.Reason = "no latencies were recorded"
			return out
		}
		var d time.Duration
		switch t.metric.kind {
		case mPercentile:
			d = h.Percentile(t.metric.percent)
		case mMax:
			d = h.Max()
		case mMin:
			d = h.Min()
		case mMean:
			d = h.Mean()
		}
		actual, out.Actual = d.Seconds(), format.Duration(d)
	case mErrorRate:
		actual = st.ErrorRate()
		out.Actual = format.Percent(actual)
	case mRate:
		if t.unit == uPlanned {
			// The share of the plan kept (results.ArrivalRatio): a client
			// that sends every arrival but late stretches the schedule and
			// fails this as surely as one that drops or was stopped; the
			// drain of requests in flight plays no part.
			ratio, ok := r.ArrivalRatio()
			if !ok {
				out.Reason = "the run planned no arrivals (closed model): use a rate such as 100/s"
				return out
			}
			actual = ratio
			out.Actual = fmt.Sprintf("%s (%s achieved of %s planned; %d of %d arrivals sent)",
				format.Percent(actual), format.Rate(r.IterationRate()), format.Rate(r.PlannedRate()), r.MeasuredSent(), r.MeasuredPlanned())
		} else {
			if r.Measured() <= 0 {
				out.Reason = "the run measured no time"
				return out
			}
			actual = r.RequestRate(st)
			out.Actual = format.Rate(actual)
		}
	case mRequests:
		actual = float64(st.Requests)
		out.Actual = strconv.FormatUint(st.Requests, 10)
	}
	out.Pass = compare(actual, t.op, t.value)
	return out
}

func compare(a float64, op string, b float64) bool {
	switch op {
	case "<":
		return a < b
	case "<=":
		return a <= b
	case ">":
		return a > b
	case ">=":
		return a >= b
	case "==":
		return a == b
	}
	return false
}

// EvaluateAll checks every threshold; failed lists the ones that failed.
func EvaluateAll(ts []*Threshold, r *results.Result) (results []ThresholdResult, failed []string) {
	for _, t := range ts {
		res := t.Evaluate(r)
		results = append(results, res)
		if !res.Pass {
			failed = append(failed, t.String())
		}
	}
	return results, failed
}

var thresholdKeys = []string{"request", "group", "expr"}

func (d *decoder) thresholds(n *yaml.Node) []*Threshold {
	if n.Kind != yaml.SequenceNode {
		d.errf(n, "thresholds: want a list, got %s", kindName(n))
		return nil
	}
	var out []*Threshold
	for _, tn := range n.Content {
		tn = resolve(tn)
		if tn.Kind == yaml.ScalarNode {
			s, ok := d.str("threshold", tn)
			if !ok {
				continue
			}
			t, err := ParseThreshold(s)
			if err != nil {
				d.errf(tn, "threshold: %v", err)
				continue
			}
			t.Pos = d.pos(tn)
			out = append(out, t)
			continue
		}
		t := &Threshold{Pos: d.pos(tn)}
		var exprNode *yaml.Node
		d.fields(tn, "threshold", thresholdKeys, func(key string, k, v *yaml.Node) {
			switch key {
			case "request":
				t.Request, _ = d.name(key, v)
			case "group":
				t.Group, _ = d.name(key, v)
			case "expr":
				exprNode = v
			}
		})
		if tn.Kind != yaml.MappingNode {
			continue
		}
		if exprNode == nil {
			d.errf(tn, "threshold: no expr (e.g. expr: p99 < 250ms)")
			continue
		}
		s, ok := d.str("expr", exprNode)
		if !ok {
			continue
		}
		if err := t.parseExpr(s); err != nil {
			d.errf(exprNode, "threshold: %v", err)
			continue
		}
		if t.Group != "" && t.Request == "" {
			d.errf(tn, "threshold: a group needs the request it belongs to")
			continue
		}
		out = append(out, t)
	}
	return out
}

// CheckThreshold checks that a threshold names requests of the scenario and
// uses whole-run metrics only on the whole run.
func (s *Scenario) CheckThreshold(t *Threshold) error {
	if t.Request != "" {
		if s.request(t.Request) == nil {
			return fmt.Errorf("threshold %q: no request named %q%s", t.String(), t.Request, suggest(t.Request, s.RequestNames()))
		}
		if t.unit == uPlanned {
			return fmt.Errorf("threshold %q: rate as a share of the planned rate applies to the whole run only; use a rate such as 100/s", t.String())
		}
	}
	return nil
}

func (s *Scenario) request(name string) *request {
	for _, r := range s.requests {
		if r.name == name {
			return r
		}
	}
	return nil
}

// LatencyBound returns the latency an upper-bound threshold on latency
// allows ("p99 < 40ms" gives 40ms), and false for any other threshold
// (error rates, service time, lower bounds). A capacity search takes the
// tightest one as the scale of a catastrophic probe and of its probe length.
func (t *Threshold) LatencyBound() (time.Duration, bool) {
	if t.metric.hist != hLatency || t.unit != uSeconds || (t.op != "<" && t.op != "<=") {
		return 0, false
	}
	switch t.metric.kind {
	case mPercentile, mMax, mMean:
		return time.Duration(t.value * float64(time.Second)), true
	}
	return 0, false
}
