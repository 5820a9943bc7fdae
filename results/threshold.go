package results

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/tailgate-dev/tailgate/internal/format"
)

// Threshold is one pass/fail check of a result, such as "p99 < 250ms" for
// the whole run or "offset{depth=100}: p99.9 < 1s" for one series. The
// same type serves --threshold flags, scenario files and the outcomes kept
// in results files, so a threshold is parsed and judged one way wherever
// it comes from.
type Threshold struct {
	// Selector picks the series; Total for the whole run.
	Selector Selector
	// Metric is the figure compared.
	Metric Metric
	// Op is one of <, <=, >, >=, ==.
	Op string
	// Value is the bound in the metric's unit: seconds for latencies, a
	// fraction for error_rate and rate as a share of the plan, per second
	// for rates, a count for requests.
	Value float64
	// OfPlan is set for "rate >= 95%": the bound is a share of the
	// planned arrival rate.
	OfPlan bool
	// Expr is the expression as written, e.g. "p99.9 < 1s".
	Expr string
}

// String writes the threshold as ParseThreshold reads it back.
func (t *Threshold) String() string {
	if t.Selector.IsTotal() {
		return t.Expr
	}
	return t.Selector.String() + ": " + t.Expr
}

// ParseThreshold reads a threshold: an expression such as "p99 < 250ms",
// optionally after a selector and a colon, e.g. "offset{depth=10000}:
// p99.9 < 1s". The expression holds no colon, so the last one ends the
// selector and names and groups may contain colons.
func ParseThreshold(s string) (*Threshold, error) {
	sel := Total
	expr := s
	if i := strings.LastIndexByte(s, ':'); i >= 0 {
		var err error
		if strings.TrimSpace(s[:i]) == "" {
			return nil, errors.New("empty request name before ':'")
		}
		if sel, err = ParseSelector(s[:i]); err != nil {
			return nil, err
		}
		expr = s[i+1:]
	}
	return NewThreshold(sel, expr)
}

// NewThreshold parses expr ("p99 < 250ms") as a threshold of the series
// sel picks; a scenario file gives the two apart.
func NewThreshold(sel Selector, expr string) (*Threshold, error) {
	s := strings.TrimSpace(expr)
	t := &Threshold{Selector: sel, Expr: s}
	i := strings.IndexAny(s, "<>=!")
	if i < 0 {
		return nil, fmt.Errorf("%q: want METRIC OP VALUE, e.g. p99 < 250ms", s)
	}
	op := s[i : i+1]
	if i+1 < len(s) && s[i+1] == '=' {
		op = s[i : i+2]
	}
	switch op {
	case "<", "<=", ">", ">=", "==":
	default:
		return nil, fmt.Errorf("%q: unknown comparison %q (use <, <=, >, >= or ==)", s, op)
	}
	left := strings.TrimSpace(s[:i])
	right := strings.TrimSpace(s[i+len(op):])
	if right != "" && strings.ContainsRune("<>=!", rune(right[0])) {
		return nil, fmt.Errorf("%q: unknown comparison %q (use <, <=, >, >= or ==)", s, op+right[:1])
	}
	if left == "" {
		return nil, fmt.Errorf("%q: no metric before %s", s, op)
	}
	if right == "" {
		return nil, fmt.Errorf("%q: no value after %s", s, op)
	}
	m, err := ParseMetric(left)
	if err != nil {
		return nil, err
	}
	t.Metric, t.Op = m, op
	switch m.Kind {
	case KindPercentile, KindMax, KindMin, KindMean:
		d, err := time.ParseDuration(right)
		if err != nil || d < 0 {
			return nil, fmt.Errorf("%s: want a duration such as 250ms, got %q", left, right)
		}
		t.Value = d.Seconds()
	case KindErrorRate:
		if t.Value, err = parseFraction(right); err != nil {
			return nil, fmt.Errorf("%s: %v", left, err)
		}
	case KindRate:
		if strings.HasSuffix(right, "%") {
			if t.Value, err = parseFraction(right); err != nil {
				return nil, fmt.Errorf("rate: %v", err)
			}
			t.OfPlan = true
			if !sel.IsTotal() {
				return nil, fmt.Errorf("%q: rate as a share of the planned rate applies to the whole run only, not to %s; use a rate such as 100/s", s, sel)
			}
		} else if t.Value, err = format.ParseRate(right); err != nil {
			return nil, fmt.Errorf("rate: want a share of the planned rate such as 95%% or a rate such as 500/s: %v", err)
		}
	case KindRequests:
		n, err := strconv.ParseUint(right, 10, 64)
		if err != nil {
			return nil, fmt.Errorf("requests: want a whole number, got %q", right)
		}
		t.Value = float64(n)
	}
	return t, nil
}

// LatencyBound returns the latency an upper-bound threshold on latency
// allows ("p99 < 40ms" gives 40ms), and false for any other threshold
// (error rates, service time, lower bounds). A capacity search takes the
// tightest one as the scale of a catastrophic probe and of its probe length.
func (t *Threshold) LatencyBound() (time.Duration, bool) {
	if t.Metric.Hist != HistLatency || !t.Metric.IsLatency() || (t.Op != "<" && t.Op != "<=") || t.Metric.Kind == KindMin {
		return 0, false
	}
	return time.Duration(t.Value * float64(time.Second)), true
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

// Verdict is the outcome of one threshold on one result, as the results
// file keeps it.
type Verdict struct {
	// Threshold is the threshold as ParseThreshold reads it.
	Threshold string `json:"threshold"`
	Pass      bool   `json:"pass"`
	// Measured is the value compared, in the threshold's unit (see
	// Threshold.Value); absent when it could not be measured.
	Measured *float64 `json:"measured,omitempty"`
	// Detail says what was measured ("p99 = 212ms") or why the threshold
	// could not be evaluated.
	Detail string `json:"detail"`
}

// String formats the outcome for people: "pass  p99 < 250ms  (p99 = 212ms)".
func (o Verdict) String() string {
	verdict := "pass"
	if !o.Pass {
		verdict = "FAIL"
	}
	return fmt.Sprintf("%s  %s  (%s)", verdict, o.Threshold, o.Detail)
}

// Evaluate judges the threshold against r.
func (t *Threshold) Evaluate(r *Result) Verdict {
	out := Verdict{Threshold: t.String()}
	fail := func(reason string) Verdict {
		out.Detail = reason
		return out
	}
	st, err := r.Select(t.Selector)
	if err != nil {
		return fail(err.Error())
	}
	if st == nil {
		return fail("no results for " + t.Selector.describe())
	}
	if st.Requests == 0 && t.Metric.Kind != KindRate {
		return fail("no requests were measured")
	}
	var v float64
	var shown string
	switch t.Metric.Kind {
	case KindPercentile, KindMax, KindMin, KindMean:
		h := t.Metric.Histogram(st)
		if (h == nil || h.Count() == 0) && t.Metric.Hist == HistFailed {
			// No request failed: nothing breaks a bound on failures.
			out.Pass, out.Detail = true, t.Metric.String()+" = none (no request failed)"
			return out
		}
		if h == nil || h.Count() == 0 {
			return fail("no latencies were recorded")
		}
		d := t.Metric.Duration(h)
		v, shown = d.Seconds(), format.Duration(d)
	case KindErrorRate:
		v = st.KindRate(t.Metric.ErrorKind)
		shown = format.Percent(v)
	case KindRate:
		if t.OfPlan {
			// The share of the plan kept (ArrivalRatio): a client that
			// sends every arrival but late stretches the schedule and fails
			// this as surely as one that drops or was stopped; the drain of
			// requests in flight plays no part.
			ratio, ok := r.ArrivalRatio()
			if !ok {
				return fail("the run planned no arrivals (closed model): use a rate such as 100/s")
			}
			v = ratio
			shown = fmt.Sprintf("%s (%s achieved of %s planned; %d of %d arrivals sent)",
				format.Percent(v), format.Rate(r.IterationRate()), format.Rate(r.PlannedRate()), r.MeasuredSent(), r.MeasuredPlanned())
			break
		}
		if r.Measured() <= 0 {
			return fail("the run measured no time")
		}
		v = r.RequestRate(st)
		shown = format.Rate(v)
	case KindRequests:
		v = float64(st.Requests)
		shown = strconv.FormatUint(st.Requests, 10)
	}
	out.Measured = &v
	out.Detail = t.Metric.String() + " = " + shown
	out.Pass = compare(v, t.Op, t.Value)
	return out
}

// describe names the series a selector picks, for messages.
func (s Selector) describe() string {
	switch {
	case s.IsTotal():
		return "the whole run"
	case s.Flow:
		return fmt.Sprintf("flow %q", s.Name)
	case s.Name == "":
		return fmt.Sprintf("tag group %q", s.Group)
	case s.Group == "":
		return fmt.Sprintf("request %q", s.Name)
	}
	return fmt.Sprintf("request %q with tag group %q", s.Name, s.Group)
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

// Judge evaluates every threshold against r and keeps the outcomes in
// r.Thresholds (replacing earlier ones), so they travel with the results
// file. It returns the thresholds that failed, as written.
func (r *Result) Judge(ts []*Threshold) (failed []string) {
	r.Thresholds = nil
	for _, t := range ts {
		o := t.Evaluate(r)
		r.Thresholds = append(r.Thresholds, o)
		if !o.Pass {
			failed = append(failed, o.Threshold)
		}
	}
	return failed
}

// Failed lists the thresholds whose kept outcome is a failure.
func (r *Result) Failed() []string {
	var out []string
	for _, o := range r.Thresholds {
		if !o.Pass {
			out = append(out, o.Threshold)
		}
	}
	return out
}

// rejudge judges the shards' thresholds (as written) again on their
// merge: a shard's verdict covers only its part of the load. A threshold
// this build cannot parse (written by a newer one) fails with the reason.
func rejudge(merged *Result, thresholds []string) {
	var ts []*Threshold
	merged.Thresholds = nil
	for _, s := range thresholds {
		t, err := ParseThreshold(s)
		if err != nil {
			merged.Thresholds = append(merged.Thresholds, Verdict{Threshold: s, Detail: "cannot re-evaluate: " + err.Error()})
			continue
		}
		ts = append(ts, t)
	}
	kept := merged.Thresholds
	merged.Judge(ts)
	merged.Thresholds = append(merged.Thresholds, kept...)
}
