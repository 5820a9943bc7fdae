package report

import (
	"bytes"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/tailgate-dev/tailgate/internal/golden"
	"github.com/tailgate-dev/tailgate/results"
)

// Fixture shape (the offset-vs-cursor story): 30 s at 100/s, half offset
// pagination, half cursor, over page depths 1…10000. Offset latency grows
// with depth, cursor stays flat; "after" adds an index that makes deep
// offset pages ~40% cheaper. The first "before" run stalls the target for
// 1.5 s (requests due then complete late, nothing completes during the
// stall) and a few requests fail in the stall's aftermath.
const (
	fixRate     = 100
	fixSeconds  = 30
	fixStallAt  = 18 * time.Second
	fixStallLen = 1500 * time.Millisecond
)

var fixDepths = []int{1, 10, 100, 1000, 10000}

var fixStart = time.Date(2026, 3, 4, 5, 6, 0, 0, time.UTC)

// genFixture builds run number run (1-based) of a side deterministically.
func genFixture(side string, run int) *results.Result {
	seed := uint64(run)
	if side == "after" {
		seed += 100
	}
	rng := rand.New(rand.NewPCG(seed, 0x7a11))
	runNoise := math.Exp(0.05 * rng.NormFloat64())
	start := fixStart.Add(time.Duration(run-1) * time.Minute)
	if side == "after" {
		start = start.Add(time.Hour)
	}
	r := &results.Result{
		Version: results.ResultVersion,
		Meta: results.Meta{
			Tool: "tailgate", ToolVersion: "test", Name: "pagination", Target: "http://127.0.0.1:8080",
			Model: results.OpenModel, Profile: "constant 100/s for 30s", PlannedRate: fixRate,
			PlannedRequests: fixRate * fixSeconds, Connections: 16, MaxInFlight: 160,
			Timeout: results.Duration(30 * time.Second), Start: start, End: start.Add(fixSeconds * time.Second),
			PlannedDuration: results.Duration(fixSeconds * time.Second),
			Host:            "fixture", GoVersion: "go1.26", OS: "linux/amd64", NumCPU: 2,
			Tags: map[string]string{"side": side},
		},
		Total:    results.NewStats("", ""),
		Schedule: results.Schedule{Planned: fixRate * fixSeconds, Sent: fixRate * fixSeconds},
	}
	names := map[string]*results.Stats{}
	groups := map[string]*results.Stats{}
	r.Timeline = make([]results.Interval, fixSeconds+1)
	for i := range r.Timeline {
		iv := &r.Timeline[i]
		iv.Start = results.Duration(time.Duration(i) * time.Second)
		iv.Length = results.Duration(time.Second)
		iv.PlannedRate = fixRate
		iv.Total = results.IntervalStats{Latency: results.NewHistogram(), SendLag: results.NewHistogram()}
		for _, n := range []string{"cursor", "offset"} {
			iv.Series = append(iv.Series, results.IntervalStats{Name: n, Latency: results.NewHistogram()})
		}
	}
	for k := 0; k < fixRate*fixSeconds; k++ {
		intended := time.Duration(k) * time.Second / fixRate
		name := "cursor"
		if rng.IntN(2) == 0 {
			name = "offset"
		}
		depth := fixDepths[rng.IntN(len(fixDepths))]
		// Service time in ms: log-normal around a base that depends on the
		// endpoint, with a 1% tail (GC pauses, cold caches) five times slower.
		base := 1.8
		if name == "offset" {
			perRow := 0.02
			if side == "after" {
				perRow = 0.012
			}
			base += perRow * float64(depth)
		}
		ms := base * runNoise * math.Exp(0.35*rng.NormFloat64())
		if rng.Float64() < 0.01 {
			ms *= 5
		}
		lat := time.Duration(ms * float64(time.Millisecond))
		// The stall: requests due during it wait until it ends.
		stalls := side == "before" && run == 1
		stall := fixStallAt
		if stalls && intended >= stall && intended < stall+fixStallLen {
			lat += stall + fixStallLen - intended
		}
		lag := time.Duration(40+rng.IntN(200)) * time.Microsecond
		done := intended + lat
		failed := stalls && done >= stall+fixStallLen && done < stall+fixStallLen+300*time.Millisecond && rng.IntN(4) == 0
		group := fmt.Sprintf("depth=%d", depth)
		for _, s := range []*results.Stats{r.Total, statsFor(names, name, ""), statsFor(groups, name, group)} {
			s.Requests++
			s.BytesIn += 512
			s.BytesOut += 90
			if failed {
				s.Errors++
				s.Status[503]++
				s.ErrorKinds["http_5xx"]++
				s.ErrorSamples["http_5xx"] = "503 Service Unavailable"
			} else {
				s.Status[200]++
			}
			s.Latency.Record(lat)
			s.Service.Record(lat - lag)
			s.SendLag.Record(lag)
		}
		sec := min(int(done/time.Second), fixSeconds)
		iv := &r.Timeline[sec]
		for _, is := range []*results.IntervalStats{&iv.Total, seriesFor(iv, name)} {
			is.Requests++
			if failed {
				is.Errors++
			}
			is.Latency.Record(lat)
		}
		r.Timeline[int(intended/time.Second)].Total.SendLag.Record(lag)
	}
	// The last interval only holds the completions after the planned end.
	last := &r.Timeline[fixSeconds]
	last.Length = results.Duration(200 * time.Millisecond)
	last.PlannedRate = 0
	for _, s := range names {
		r.Requests = append(r.Requests, s)
	}
	for _, s := range groups {
		r.Groups = append(r.Groups, s)
	}
	r.Sort()
	return r
}

func statsFor(m map[string]*results.Stats, name, group string) *results.Stats {
	k := name + "{" + group + "}"
	if m[k] == nil {
		m[k] = results.NewStats(name, group)
	}
	return m[k]
}

func seriesFor(iv *results.Interval, name string) *results.IntervalStats {
	for i := range iv.Series {
		if iv.Series[i].Name == name {
			return &iv.Series[i]
		}
	}
	panic("unknown series " + name)
}

// fixtureRuns returns the committed fixture results of a side, rewriting the
// files from genFixture with -update (the chart tests read them too).
func fixtureRuns(t *testing.T, side string, n int) []*results.Result {
	t.Helper()
	var out []*results.Result
	for run := 1; run <= n; run++ {
		path := filepath.Join("testdata", "compare", fmt.Sprintf("%s-%d.json", side, run))
		if golden.Updating() {
			if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := genFixture(side, run).WriteFile(path); err != nil {
				t.Fatal(err)
			}
		}
		r, err := results.ReadResultFile(path)
		if err != nil {
			t.Fatalf("%v (run go test ./report -run Compare -update to create it)", err)
		}
		out = append(out, r)
	}
	return out
}

const fixtureRunsPerSide = 5

func TestCompareGolden(t *testing.T) {
	before := fixtureRuns(t, "before", fixtureRunsPerSide)
	after := fixtureRuns(t, "after", fixtureRunsPerSide)
	offset, cursor := results.Selector{Name: "offset"}, results.Selector{Name: "cursor"}
	deep := results.Selector{Name: "offset", Group: "depth=10000"}
	charts := []ChartRef{{Title: "Latency by percentile", Path: "charts/spectrum.png"}, {Title: "Latency percentiles", Path: "charts/bars.png"}}
	tests := []struct {
		name          string
		before, after []*results.Result
		opts          CompareOptions
	}{
		{"single", before[:1], after[:1], CompareOptions{}},
		{"repeated", before, after, CompareOptions{Charts: charts}},
		{"repeated-3", before[:3], after[:3], CompareOptions{Labels: [2]string{"main", "index"}}},
		{"within", before[:1], before[:1], CompareOptions{A: &offset, B: &cursor}},
		{"within-repeated", before, before, CompareOptions{A: &deep, B: &results.Selector{Name: "cursor", Group: "depth=10000"}}},
		{"same", before[:3], before[2:5], CompareOptions{}},
		{"flows", withFlows(t, "before"), withFlows(t, "after"), CompareOptions{}},
		{"flows-repeated", withFlowRuns(t, "before", fixtureRunsPerSide), withFlowRuns(t, "after", fixtureRunsPerSide), CompareOptions{}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c, err := Compare(tc.before, tc.after, tc.opts)
			if err != nil {
				t.Fatal(err)
			}
			var txt, md bytes.Buffer
			if err := WriteCompareText(&txt, c); err != nil {
				t.Fatal(err)
			}
			if err := WriteCompareMarkdown(&md, c); err != nil {
				t.Fatal(err)
			}
			golden.Check(t, filepath.Join("testdata", "compare", tc.name+".txt"), txt.Bytes())
			golden.Check(t, filepath.Join("testdata", "compare", tc.name+".md"), md.Bytes())
		})
	}
}

// TestCompareFindsTheFixtureStory checks the figures behind the goldens: a
// golden file only proves the output did not change, not that it is right.
func TestCompareFindsTheFixtureStory(t *testing.T) {
	before := fixtureRuns(t, "before", fixtureRunsPerSide)
	after := fixtureRuns(t, "after", fixtureRunsPerSide)
	c, err := Compare(before, after, CompareOptions{})
	if err != nil {
		t.Fatal(err)
	}
	row := func(key string) *CompareRow {
		for _, r := range c.Rows {
			if r.Key == key {
				return r
			}
		}
		t.Fatalf("no row %q in %v", key, rowKeys(c))
		return nil
	}
	test := func(r *CompareRow, m Metric) MetricTest {
		for _, mt := range r.Tests {
			if mt.Metric == m {
				return mt
			}
		}
		t.Fatalf("row %s has no test of %s", r.Key, m)
		return MetricTest{}
	}
	// Deep offset pages got ~40% faster: detected with 5+5 runs.
	deep := row("offset{depth=10000}")
	if mt := test(deep, p50); !mt.Significant() || mt.Center2 >= mt.Center1 {
		t.Errorf("deep offset p50 change not detected: %s", mt.Verdict())
	}
	if rel := (deep.Side[1].Latency.Of(50).Seconds() - deep.Side[0].Latency.Of(50).Seconds()) / deep.Side[0].Latency.Of(50).Seconds(); rel > -0.3 || rel < -0.5 {
		t.Errorf("deep offset p50 change %.1f%%, want about −40%%", 100*rel)
	}
	// Cursor did not change: no verdict of a change.
	if mt := test(row("cursor"), p50); mt.Significant() {
		t.Errorf("cursor p50 reported as changed: %s", mt.Verdict())
	}
	if got := row("total").Side[0].Requests; got != fixtureRunsPerSide*fixRate*fixSeconds {
		t.Errorf("total requests %d, want %d", got, fixtureRunsPerSide*fixRate*fixSeconds)
	}
	if len(c.Warnings) != 0 {
		t.Errorf("unexpected warnings %q", c.Warnings)
	}
	// Single runs: no tests, and the note says how to get them.
	single, err := Compare(before[:1], after[:1], CompareOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if single.Repeated() {
		t.Error("single runs must not carry significance tests")
	}
	var buf bytes.Buffer
	if err := WriteCompareText(&buf, single); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(buf.String(), "--count ≥ 4") {
		t.Errorf("single-run output does not explain how to get a verdict:\n%s", buf.String())
	}
}

func rowKeys(c *Comparison) []string {
	var out []string
	for _, r := range c.Rows {
		out = append(out, r.Key)
	}
	sort.Strings(out)
	return out
}

// withFlows returns the first fixture run of side with timed flows:
// checkout (faster after), browse (every 25th iteration failing before,
// none after) and, after only, signup.
func withFlows(t *testing.T, side string) []*results.Result {
	t.Helper()
	return withFlowRuns(t, side, 1)
}

// withFlowRuns returns the first n fixture runs of side with the flows of
// withFlows, each run's iterations a few percent slower or faster.
func withFlowRuns(t *testing.T, side string, n int) []*results.Result {
	t.Helper()
	runs := fixtureRuns(t, side, n)
	for i, r := range runs {
		addFixtureFlows(r, side == "after", 1+0.01*float64(i%3)-0.01*float64(i%2))
	}
	return runs
}

// addFixtureFlows adds the flows of withFlows to r, their latencies
// scaled by noise.
func addFixtureFlows(r *results.Result, after bool, noise float64) {
	flow := func(name string, n int, base time.Duration, failEvery int) {
		st := results.NewStats(name, "")
		for i := range n {
			d := time.Duration(noise * float64(base+time.Duration((i*7919)%5000)*10*time.Microsecond))
			st.Requests++
			if failEvery > 0 && i%failEvery == 7 {
				st.Errors++
				st.ErrorKinds["http_5xx"]++
				continue
			}
			st.Latency.Record(d)
		}
		r.Flows = append(r.Flows, st)
	}
	if after {
		flow("checkout", 600, 80*time.Millisecond, 0)
		flow("browse", 1500, 20*time.Millisecond, 0)
		flow("signup", 90, 150*time.Millisecond, 0)
	} else {
		flow("checkout", 600, 120*time.Millisecond, 0)
		flow("browse", 1500, 22*time.Millisecond, 25)
	}
}

// TestCompareFlowRows: plain compare has a row per flow (flow:NAME), after
// the requests and groups, counted in iterations; a flow on one side only
// says so; the gate (Regressions) looks at flows as at requests.
func TestCompareFlowRows(t *testing.T) {
	c, err := Compare(withFlows(t, "before"), withFlows(t, "after"), CompareOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var keys []string
	for _, row := range c.Rows {
		if row.Flow {
			keys = append(keys, row.Key)
		}
	}
	if got := strings.Join(keys, " "); got != "flow:checkout flow:browse flow:signup" {
		t.Fatalf("flow rows %q", got)
	}
	last := c.Rows[len(c.Rows)-1]
	if last.Key != "flow:signup" || last.Side[0].Present() || last.Side[1].Requests != 90 {
		t.Errorf("signup row %+v", last)
	}
	browse := c.Rows[len(c.Rows)-2]
	if a, b := browse.Side[0], browse.Side[1]; a.Requests != 1500 || a.Errors != 60 || b.Errors != 0 || a.Rate <= 0 {
		t.Errorf("browse row %+v", browse)
	}
	// Swapped, checkout is 31-38% slower and gates; browse, 3-5% slower,
	// does not, nor does signup, on one side only.
	back, err := Compare(withFlows(t, "after"), withFlows(t, "before"), CompareOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var flowGates []string
	for _, r := range back.Regressions(0.1) {
		if strings.HasPrefix(r, "flow:") {
			flowGates = append(flowGates, r)
		}
	}
	if len(flowGates) != 2 || !strings.HasPrefix(flowGates[0], "flow:checkout p50 +38.") || !strings.HasPrefix(flowGates[1], "flow:checkout p99 +30.9%") {
		t.Errorf("flow regressions %q, want checkout's p50 and p99", flowGates)
	}
}

// TestCompareWithinFlows: --a and --b select flows as thresholds do, and
// compare their iterations' latency.
func TestCompareWithinFlows(t *testing.T) {
	r := fixtureRuns(t, "before", 1)[0]
	for i, name := range []string{"fast", "slow"} {
		st := results.NewStats(name, "")
		for v := range 500 {
			st.Latency.Record(time.Duration(i*10+1)*time.Millisecond + time.Duration(v)*time.Microsecond)
		}
		st.Requests = 500
		r.Flows = append(r.Flows, st)
	}
	a, b := results.FlowSelector("fast"), results.FlowSelector("slow")
	c, err := Compare([]*results.Result{r}, []*results.Result{r}, CompareOptions{A: &a, B: &b})
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Rows) != 1 || c.Rows[0].Key != "flow:fast vs flow:slow" || !c.Rows[0].Side[0].Present() || !c.Rows[0].Side[1].Present() {
		t.Fatalf("rows %+v; want flow:fast vs flow:slow", c.Rows)
	}
}

func TestCompareWithinErrors(t *testing.T) {
	before := fixtureRuns(t, "before", 1)
	bad := results.Selector{Name: "nope"}
	ok := results.Selector{Name: "cursor"}
	if _, err := Compare(before, before, CompareOptions{A: &bad, B: &ok}); err == nil || !strings.Contains(err.Error(), "cursor, offset") {
		t.Errorf("unknown selector: err = %v, want the list of names", err)
	}
	// The spelling compare took before selectors were written like
	// thresholds gets the one spelling in its error.
	old := results.Selector{Name: "name=offset,group=depth=100"}
	if _, err := Compare(before, before, CompareOptions{A: &old, B: &ok}); err == nil || !strings.Contains(err.Error(), "written like thresholds: offset{depth=100}") {
		t.Errorf("old spelling: err = %v, want the new spelling", err)
	}
	if _, err := Compare(before, before, CompareOptions{A: &ok}); err == nil {
		t.Error("--a without --b must fail")
	}
	flow := results.FlowSelector("cursor")
	if _, err := Compare(before, before, CompareOptions{A: &flow, B: &flow}); err == nil || !strings.Contains(err.Error(), "no flow matches --a flow:cursor (the results have no flows)") {
		t.Errorf("a flow the results lack: err = %v", err)
	}
	if _, err := Compare(before, before, CompareOptions{A: &flow, B: &ok}); err == nil || !strings.Contains(err.Error(), "one is a flow, the other is not") {
		t.Errorf("a flow against a request: err = %v, want it refused", err)
	}
	if _, err := Compare(nil, before, CompareOptions{}); err == nil {
		t.Error("an empty side must fail")
	}
}

func TestCompareWarnsOnDifferentLoad(t *testing.T) {
	a := genFixture("before", 1)
	b := genFixture("after", 1)
	b.Meta.PlannedRate = 300
	b.Meta.Model = results.ClosedModel
	c, err := Compare([]*results.Result{a}, []*results.Result{b}, CompareOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Warnings) != 2 {
		t.Errorf("warnings %q, want model and rate", c.Warnings)
	}
	a2 := genFixture("before", 2)
	a.Meta.PlanHash, a2.Meta.PlanHash = "0123456789abcdef", "fedcba9876543210"
	c, err = Compare([]*results.Result{a, a2}, []*results.Result{genFixture("after", 1)}, CompareOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Warnings) != 1 || !strings.Contains(c.Warnings[0], "runs of before come from different plans") {
		t.Errorf("warnings %q, want mixed plans in before", c.Warnings)
	}
}

// TestCompareWarnsOnSteal: a side whose runs lost 1% or more of their
// CPUs to the hypervisor is named, with how many runs and the worst;
// below 1%, and within one set of results, nothing is said.
func TestCompareWarnsOnSteal(t *testing.T) {
	steal := func(r *results.Result, share float64) *results.Result {
		r.Meta.Steal = &results.Steal{CPUs: 1, Stolen: results.Duration(share * float64(10*time.Second)), Time: results.Duration(10 * time.Second)}
		return r
	}
	before := []*results.Result{steal(genFixture("before", 1), 0.002), steal(genFixture("before", 2), 0.031), steal(genFixture("before", 3), 0.012)}
	after := []*results.Result{steal(genFixture("after", 1), 0.009)}
	c, err := Compare(before, after, CompareOptions{})
	if err != nil {
		t.Fatal(err)
	}
	want := "the hypervisor took 1.00% or more of the CPUs' time in 2 of the 3 runs of before (CPU steal; up to 3.10%): their send lag and latency include those stalls, so a difference in the tails may be the hypervisor's"
	if len(c.Warnings) != 1 || c.Warnings[0] != want {
		t.Errorf("warnings %q, want [%q]", c.Warnings, want)
	}
	c, err = Compare(after, []*results.Result{steal(genFixture("after", 2), 0.05)}, CompareOptions{Labels: [2]string{"base", "pr"}})
	if err != nil || len(c.Warnings) != 1 || !strings.Contains(c.Warnings[0], "in the run of pr (CPU steal; up to 5.00%)") {
		t.Errorf("warnings %q (%v), want the run of pr", c.Warnings, err)
	}
	offset, cursor := results.Selector{Name: "offset"}, results.Selector{Name: "cursor"}
	c, err = Compare(before, before, CompareOptions{A: &offset, B: &cursor})
	if err != nil || len(c.Warnings) != 0 {
		t.Errorf("a comparison within one set of results: warnings %q (%v), want none", c.Warnings, err)
	}
}

func TestRegressions(t *testing.T) {
	before := fixtureRuns(t, "before", fixtureRunsPerSide)
	after := fixtureRuns(t, "after", fixtureRunsPerSide)
	// after is faster: no regression in that direction…
	c, err := Compare(before, after, CompareOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if got := c.Regressions(0.05); len(got) != 0 {
		t.Errorf("faster side reported as regressions: %q", got)
	}
	// …and the reverse is one: offset p50 +23% with p=0.008.
	c, err = Compare(after, before, CompareOptions{})
	if err != nil {
		t.Fatal(err)
	}
	got := c.Regressions(0.10)
	found := false
	for _, g := range got {
		if strings.HasPrefix(g, "offset p50 +") && strings.Contains(g, "p=0.008") {
			found = true
		}
		if strings.HasPrefix(g, "cursor") {
			t.Errorf("unchanged cursor reported: %q", g)
		}
	}
	if !found {
		t.Errorf("offset p50 slowdown not reported: %q", got)
	}
	if got := c.Regressions(1.0); len(got) != 0 {
		t.Errorf("nothing is 100%% slower, got %q", got)
	}
}
