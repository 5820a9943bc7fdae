package report

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/tailgate-dev/tailgate/internal/format"
	"github.com/tailgate-dev/tailgate/results"
)

// CompareOptions shape a comparison.
type CompareOptions struct {
	// Labels name the two sides; default "before" and "after" (or the
	// selectors when A and B are set).
	Labels [2]string
	// A and B, when both set, compare two selections within the same
	// results (offset vs cursor in one run) instead of before vs after.
	A, B *results.Selector
	// Alpha is the significance level (0: DefaultAlpha).
	Alpha float64
	// Charts are images the Markdown output shows, paths relative to it.
	Charts []ChartRef
}

// ChartRef is an image shown by the Markdown comparison.
type ChartRef struct {
	Title string
	Path  string
}

// Comparison is the outcome of Compare: one row per request name, tag
// group and flow present on either side.
type Comparison struct {
	Labels [2]string
	// Sides describe the runs on each side.
	Sides [2]RunInfo
	Rows  []*CompareRow
	// Within is set when A/B selectors compared selections of one set of
	// results.
	Within bool
	Alpha  float64
	// Warnings say why the two sides may not be comparable.
	Warnings []string
	Charts   []ChartRef
}

// RunInfo describes the runs of one side.
type RunInfo struct {
	Runs        int
	Name        string
	Target      string
	Model       results.Model
	Profile     string
	PlannedRate float64
	// Rate is the mean achieved rate of the runs (all requests).
	Rate float64
	// Duration is the mean measured duration of the runs.
	Duration time.Duration
}

// Metric names one figure of a latency summary that a comparison shows:
// one of the reported percentiles (results.Reported, in its order), then
// the max and the mean.
type Metric int

// The figures after the percentiles.
const (
	Max Metric = Metric(results.NumReported) + iota
	Mean
	numMetrics
)

// PercentileMetric returns the metric of q, which must be one of
// results.Reported; for any other it returns -1, a metric that names nothing.
func PercentileMetric(q results.Percentile) Metric {
	for i, r := range results.Reported() {
		if r == q {
			return Metric(i)
		}
	}
	return -1
}

// String returns the metric's short name ("p99.9", "max").
func (m Metric) String() string {
	switch {
	case m >= 0 && m < Max:
		return results.Reported()[m].String()
	case m == Max:
		return "max"
	case m == Mean:
		return "mean"
	}
	return fmt.Sprintf("Metric(%d)", int(m))
}

// of returns the metric from a summary.
func (m Metric) of(p results.Percentiles) time.Duration {
	switch {
	case m >= 0 && m < Max:
		return p.At[m]
	case m == Max:
		return p.Max
	case m == Mean:
		return p.Mean
	}
	return 0
}

// p50 and p99 are the centre and the tail: the figures the significance
// tests and the regression gate single out; the Markdown summary table
// shows them and p99.9.
var p50, p99, p999 = PercentileMetric(50), PercentileMetric(99), PercentileMetric(99.9)

// testedMetrics are the figures that get a significance verdict: the centre,
// the tail, and the mean (the tail moves most from run to run, so it is the
// one that most needs a verdict).
var testedMetrics = []Metric{p50, p99, Mean}

// CompareRow compares one request name or tag group.
type CompareRow struct {
	// Key labels the row: "total", a request name, or "name{group}"; in a
	// within-result comparison "offset vs cursor" or the group.
	Key         string
	Name, Group string
	// Flow marks the row of a flow (Key "flow:NAME"): its requests are
	// the flow's iterations, its errors the failed ones, and its latency
	// the completed iterations'.
	Flow bool
	Side [2]SideStats
	// Tests hold the significance verdicts for P50, P99 and Mean when both
	// sides have more than one run.
	Tests []MetricTest
}

// MetricTest is a significance test of one metric across runs.
type MetricTest struct {
	Metric Metric
	Test
}

// SideStats are one side's figures for a row.
type SideStats struct {
	// Runs is the number of runs that measured this row.
	Runs     int
	Requests uint64
	Errors   uint64
	// Rate is the mean achieved request rate of this row per run.
	Rate float64
	// Latency pools the latency histograms of every run.
	Latency results.Percentiles
	// PerRun holds each run's value of the tested metrics, in seconds.
	PerRun map[Metric][]float64
}

// ErrorRate is Errors/Requests.
func (s SideStats) ErrorRate() float64 {
	if s.Requests == 0 {
		return 0
	}
	return float64(s.Errors) / float64(s.Requests)
}

// Present reports whether the side measured the row at all.
func (s SideStats) Present() bool { return s.Runs > 0 }

// Compare compares two sets of results. Before and after each hold one or
// more runs of the same plan (repeated runs make significance verdicts
// possible). With opts.A and opts.B set it compares two selections within
// the results instead, and before and after are usually the same slice.
func Compare(before, after []*results.Result, opts CompareOptions) (*Comparison, error) {
	if len(before) == 0 || len(after) == 0 {
		return nil, errors.New("compare needs at least one result on each side")
	}
	for _, r := range append(append([]*results.Result{}, before...), after...) {
		if r == nil || r.Total == nil {
			return nil, errors.New("compare: a result has no totals")
		}
	}
	c := &Comparison{Labels: opts.Labels, Alpha: opts.Alpha, Charts: opts.Charts}
	if c.Alpha <= 0 || c.Alpha >= 1 {
		c.Alpha = DefaultAlpha
	}
	if (opts.A == nil) != (opts.B == nil) {
		return nil, errors.New("compare: --a and --b go together")
	}
	if opts.A != nil && opts.A.Flow != opts.B.Flow {
		// A flow's figures count iterations (rate, failed), a request's
		// requests (rate, errors): one row cannot hold both meanings.
		return nil, fmt.Errorf("compare: --a %s and --b %s: one is a flow, the other is not; compare two flows or two requests", opts.A, opts.B)
	}
	c.Sides = [2]RunInfo{describeRuns(before), describeRuns(after)}
	var err error
	if opts.A != nil {
		c.Within = true
		if c.Labels[0] == "" {
			c.Labels[0] = opts.A.String()
		}
		if c.Labels[1] == "" {
			c.Labels[1] = opts.B.String()
		}
		c.Rows, err = withinRows(before, after, *opts.A, *opts.B, c.Alpha)
	} else {
		if c.Labels[0] == "" {
			c.Labels[0] = "before"
		}
		if c.Labels[1] == "" {
			c.Labels[1] = "after"
		}
		c.Rows, err = sideRows(before, after, c.Alpha)
		c.Warnings = comparability(c.Sides)
		c.Warnings = append(c.Warnings, mixedPlans(c.Labels[1], after)...)
		c.Warnings = append(c.Warnings, stolenRuns(c.Labels[0], before)...)
		c.Warnings = append(c.Warnings, stolenRuns(c.Labels[1], after)...)
	}
	first := c.Labels[0]
	if c.Within {
		first = "the results"
	}
	c.Warnings = append(mixedPlans(first, before), c.Warnings...)
	if err != nil {
		return nil, err
	}
	return c, nil
}

// describeRuns summarises the metadata of one side.
func describeRuns(rs []*results.Result) RunInfo {
	first := rs[0].Meta
	info := RunInfo{Runs: len(rs), Name: first.Name, Target: first.Target, Model: first.Model, Profile: first.Profile, PlannedRate: first.PlannedRate}
	var rate float64
	var dur time.Duration
	for _, r := range rs {
		rate += r.Rate()
		dur += r.Measured()
	}
	info.Rate = rate / float64(len(rs))
	info.Duration = (dur / time.Duration(len(rs))).Round(time.Millisecond)
	return info
}

// comparability warns when the two sides ran different load: their
// percentiles then answer different questions.
func comparability(s [2]RunInfo) []string {
	var w []string
	if s[0].Model != s[1].Model {
		w = append(w, fmt.Sprintf("the sides ran different models (%s vs %s): their percentiles mean different things", s[0].Model, s[1].Model))
	}
	if s[0].PlannedRate > 0 && s[1].PlannedRate > 0 && math.Abs(s[0].PlannedRate-s[1].PlannedRate) > 0.01*s[0].PlannedRate {
		w = append(w, fmt.Sprintf("the sides planned different rates (%s vs %s)", format.Rate(s[0].PlannedRate), format.Rate(s[1].PlannedRate)))
	}
	// Different targets are the point of many comparisons (base and PR
	// builds on two ports), so they are shown, not warned about.
	return w
}

// stolenRuns warns when the hypervisor took results.StealWarning or more
// of the CPUs of some runs of one side: their tails include its stalls,
// so a difference between the sides' tails may be the hypervisor's. (A
// comparison within one set of results shares the stalls: no warning.)
func stolenRuns(label string, rs []*results.Result) []string {
	n, worst := 0, 0.0
	for _, r := range rs {
		if s := r.Meta.Steal.Share(); s >= results.StealWarning {
			n++
			worst = max(worst, s)
		}
	}
	if n == 0 {
		return nil
	}
	runs := fmt.Sprintf("%d of the %d runs of %s", n, len(rs), label)
	if len(rs) == 1 {
		runs = "the run of " + label
	}
	return []string{fmt.Sprintf("the hypervisor took %s of the CPUs' time in %s (CPU steal; up to %s): their send lag and latency include those stalls, so a difference in the tails may be the hypervisor's",
		format.Percent(results.StealWarning)+" or more", runs, format.Percent(worst))}
}

// mixedPlans warns when the runs of one side come from different plans
// (their plan hashes differ): pooling them mixes different loads.
func mixedPlans(label string, rs []*results.Result) []string {
	first := ""
	for _, r := range rs {
		h := r.Meta.PlanHash
		if h == "" {
			continue
		}
		if first == "" {
			first = h
			continue
		}
		if h != first {
			return []string{fmt.Sprintf("the runs of %s come from different plans (plan hashes %.8s… and %.8s…): pooling them mixes different loads", label, first, h)}
		}
	}
	return nil
}

// rowKey identifies a request name, tag group or flow across results.
type rowKey struct {
	name, group string
	flow        bool
}

func (k rowKey) label() string {
	if k.flow {
		return results.FlowSelector(k.name).String()
	}
	return (&results.Stats{Name: k.name, Group: k.group}).Key()
}

// sideRows builds the before/after rows: the total, each request name, each
// tag group, in the canonical order of the results, then each flow.
func sideRows(before, after []*results.Result, alpha float64) ([]*CompareRow, error) {
	keys := []rowKey{{}}
	seen := map[rowKey]bool{{}: true}
	var groups, flows []rowKey
	for _, r := range append(append([]*results.Result{}, before...), after...) {
		for _, s := range r.Requests {
			if k := (rowKey{name: s.Name}); !seen[k] {
				seen[k] = true
				keys = append(keys, k)
			}
		}
		for _, s := range r.Groups {
			if k := (rowKey{name: s.Name, group: s.Group}); !seen[k] {
				seen[k] = true
				groups = append(groups, k)
			}
		}
		for _, s := range r.Flows {
			if k := (rowKey{name: s.Name, flow: true}); !seen[k] {
				seen[k] = true
				flows = append(flows, k)
			}
		}
	}
	keys = append(append(keys, groups...), flows...)
	rows := make([]*CompareRow, 0, len(keys))
	for _, k := range keys {
		pick := func(r *results.Result) (*results.Stats, error) {
			switch {
			case k.flow:
				return r.LookupFlow(k.name), nil
			case k.name == "" && k.group == "":
				return r.Total, nil
			}
			return r.Lookup(k.name, k.group), nil
		}
		row := &CompareRow{Key: k.label(), Name: k.name, Group: k.group, Flow: k.flow}
		var err error
		if row.Side[0], err = sideStats(before, pick); err != nil {
			return nil, err
		}
		if row.Side[1], err = sideStats(after, pick); err != nil {
			return nil, err
		}
		row.Tests = testRow(row, alpha)
		rows = append(rows, row)
	}
	return rows, nil
}

// withinRows compares selection a (from before) with b (from after): the
// selections themselves, then each tag group both request names share
// (offset{depth=100} vs cursor{depth=100}).
func withinRows(before, after []*results.Result, a, b results.Selector, alpha float64) ([]*CompareRow, error) {
	type pair struct {
		key    string
		ga, gb string
	}
	pairs := []pair{{key: a.String() + " vs " + b.String(), ga: a.Group, gb: b.Group}}
	if a.Group == "" && b.Group == "" && a.Name != "" && b.Name != "" && !a.Flow && !b.Flow {
		seen := map[string]bool{}
		for _, r := range before {
			for _, s := range r.Groups {
				if s.Name != a.Name || seen[s.Group] {
					continue
				}
				seen[s.Group] = true
				for _, r2 := range after {
					if r2.Lookup(b.Name, s.Group) != nil {
						pairs = append(pairs, pair{key: s.Group, ga: s.Group, gb: s.Group})
						break
					}
				}
			}
		}
	}
	rows := make([]*CompareRow, 0, len(pairs))
	for _, p := range pairs {
		row := &CompareRow{Key: p.key, Group: p.ga, Flow: a.Flow} // b.Flow is the same (Compare)
		var err error
		if row.Side[0], err = sideStats(before, selectStats(results.Selector{Name: a.Name, Group: p.ga, Flow: a.Flow})); err != nil {
			return nil, err
		}
		if row.Side[1], err = sideStats(after, selectStats(results.Selector{Name: b.Name, Group: p.gb, Flow: b.Flow})); err != nil {
			return nil, err
		}
		if !row.Side[0].Present() && p.key == pairs[0].key {
			return nil, noMatch("--a", a, before)
		}
		if !row.Side[1].Present() && p.key == pairs[0].key {
			return nil, noMatch("--b", b, after)
		}
		row.Tests = testRow(row, alpha)
		rows = append(rows, row)
	}
	return rows, nil
}

// noMatch says that selection sel (flag --a or --b) matches nothing in rs,
// with the names it could have matched.
func noMatch(flag string, sel results.Selector, rs []*results.Result) error {
	if sel.Flow {
		var names []string
		for _, r := range rs {
			for _, s := range r.Flows {
				if !slices.Contains(names, s.Name) {
					names = append(names, s.Name)
				}
			}
		}
		if len(names) == 0 {
			return fmt.Errorf("no flow matches %s %s (the results have no flows)", flag, sel)
		}
		return fmt.Errorf("no flow matches %s %s (flows in the results: %s)", flag, sel, strings.Join(names, ", "))
	}
	return fmt.Errorf("no request matches %s %s (names in the results: %s)%s", flag, sel, cmpRequestNames(rs), oldSpelling(sel))
}

// selectStats returns the stats a selector picks from a result.
func selectStats(sel results.Selector) func(*results.Result) (*results.Stats, error) {
	return func(r *results.Result) (*results.Stats, error) { return r.Select(sel) }
}

// oldSpelling points a selector written as compare used to take it
// ("name=offset,group=depth=100") to the one spelling.
func oldSpelling(sel results.Selector) string {
	name, ok := strings.CutPrefix(sel.Name, "name=")
	group := ""
	if n, g, found := strings.Cut(name, ",group="); found {
		name, group = n, g
	}
	if g, found := strings.CutPrefix(sel.Name, "group="); found {
		name, group, ok = "", g, true
	}
	if !ok {
		return ""
	}
	return fmt.Sprintf("; selections are written like thresholds: %s", results.Selector{Name: name, Group: group})
}

func cmpRequestNames(rs []*results.Result) string {
	var names []string
	seen := map[string]bool{}
	for _, r := range rs {
		for _, s := range r.Requests {
			if !seen[s.Name] {
				seen[s.Name] = true
				names = append(names, s.Name)
			}
		}
	}
	if len(names) == 0 {
		return "none"
	}
	return strings.Join(names, ", ")
}

// sideStats gathers one row's figures over the runs of one side.
func sideStats(runs []*results.Result, pick func(*results.Result) (*results.Stats, error)) (SideStats, error) {
	out := SideStats{PerRun: map[Metric][]float64{}}
	pooled := results.NewHistogram()
	var rate float64
	for _, r := range runs {
		s, err := pick(r)
		if err != nil {
			return out, err
		}
		if s == nil {
			continue
		}
		out.Runs++
		out.Requests += s.Requests
		out.Errors += s.Errors
		rate += r.RequestRate(s)
		if s.Latency == nil || s.Latency.Count() == 0 {
			continue
		}
		sum := s.Latency.Summary()
		for _, m := range testedMetrics {
			out.PerRun[m] = append(out.PerRun[m], m.of(sum).Seconds())
		}
		if err := pooled.Merge(s.Latency); err != nil {
			return out, fmt.Errorf("pool %s: %w", s.Key(), err)
		}
	}
	if out.Runs > 0 {
		out.Rate = rate / float64(out.Runs)
	}
	out.Latency = pooled.Summary()
	return out, nil
}

// testRow runs the significance tests of a row when both sides repeat.
func testRow(row *CompareRow, alpha float64) []MetricTest {
	a, b := row.Side[0].PerRun, row.Side[1].PerRun
	if len(a[p50]) < 2 || len(b[p50]) < 2 {
		return nil
	}
	out := make([]MetricTest, 0, len(testedMetrics))
	for _, m := range testedMetrics {
		out = append(out, MetricTest{Metric: m, Test: MannWhitneyRatio(a[m], b[m], alpha)})
	}
	return out
}

// Repeated reports whether any row has significance tests (several runs on
// both sides).
func (c *Comparison) Repeated() bool {
	for _, r := range c.Rows {
		if len(r.Tests) > 0 {
			return true
		}
	}
	return false
}

// minRunsForPower returns the smallest equal number of runs per side whose
// exact test can reach significance at alpha.
func minRunsForPower(alpha float64) int {
	for n := 2; n < 50; n++ {
		if 2/mwBinomial(2*n, n) <= alpha {
			return n
		}
	}
	return 50
}

// Regressions lists the figures that got slower by more than limit (0.1:
// 10%) from the first side to the second, one sentence each, named by the
// row's key (flow:NAME for a flow). It looks at p50 and p99 of the total,
// of each request name and of each flow (its completed iterations: a
// checkout that got slower is a regression however its steps moved), or
// of the selections compared within one set of results; tag groups are
// too small to gate on. With repeated runs a figure counts only when its
// verdict is significant and the change of the per-run medians exceeds the
// limit; with single runs the pooled figures decide, since nothing better
// is known.
func (c *Comparison) Regressions(limit float64) []string {
	var out []string
	for i, row := range c.Rows {
		if c.Within && i > 0 || !c.Within && row.Group != "" {
			continue
		}
		a, b := row.Side[0], row.Side[1]
		if !a.Present() || !b.Present() {
			continue
		}
		for _, m := range []Metric{p50, p99} {
			if len(row.Tests) > 0 {
				for _, t := range row.Tests {
					if t.Metric != m || !t.Significant() || t.Center1 <= 0 {
						continue
					}
					if rel := t.Center2/t.Center1 - 1; rel > limit {
						out = append(out, fmt.Sprintf("%s %s %s (%s → %s, %s, n=%d+%d) is more than %.3g%% slower",
							row.Key, m, cmpRel(rel), format.Duration(cmpSecs(t.Center1)), format.Duration(cmpSecs(t.Center2)), cmpP(t.P), t.N1, t.N2, 100*limit))
					}
				}
				continue
			}
			x, y := m.of(a.Latency), m.of(b.Latency)
			if x > 0 {
				if rel := float64(y)/float64(x) - 1; rel > limit {
					out = append(out, fmt.Sprintf("%s %s %s (%s → %s, single runs) is more than %.3g%% slower",
						row.Key, m, cmpRel(rel), format.Duration(x), format.Duration(y), 100*limit))
				}
			}
		}
	}
	return out
}
