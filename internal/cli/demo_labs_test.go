package cli

import (
	"image/png"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/tailgate-dev/tailgate/results"
)

// TestDemoLabsEndToEnd runs each lab with a scaled-down scenario against
// the real demo target and checks its files, charts and headline.
func TestDemoLabsEndToEnd(t *testing.T) {
	for _, tc := range []struct {
		lab      string
		charts   []string
		headline []string
	}{
		{"n-plus-one", []string{"latency-by-page-size.png", "spectrum.png", "timeline.png"}, []string{
			`N\+1: a page of 50 posts with their authors takes [0-9.]+× as long as with one JOIN at p50 .*: 51 queries instead of 1`,
			`the gap grows with the page, a query for every post: [0-9.]+× at 10 posts a page, [0-9.]+× at 50`,
		}},
		{"cache", []string{"spectrum.png", "misses.png"}, []string{
			`cache: a hit takes .* at p50 \(p99 .*\); a miss runs the query, .* at p50 with single flight \([0-9.]+× the hit\)`,
			`stampede: at each expiry the TTL cache ran the query [0-9.]+ times at once \([0-9]+ in all, against single flight's [0-9]+, one per expiry\)`,
		}},
		{"rate-limit", []string{"let-through.png", "refused.png"}, []string{
			`fixed window: [0-9]+ requests got through in the 1s burst across its window boundary`,
			`sliding window: [0-9]+ in the burst, at most [0-9]+ in any 10s; token bucket: [0-9]+ in the burst`,
			`refused with 429 and Retry-After: fixed window [0-9]+, sliding window [0-9]+, token bucket [0-9]+`,
		}},
		{"jobs", []string{"spectrum.png"}, []string{
			`sync: every export request takes the job's time \(p50 2[0-9.]+ms`,
			`202 \+ poll: the submit answers in .* at p99`,
			`the whole background flow, submit to done, takes the job's time: p50 [0-9.]+ms`,
		}},
	} {
		t.Run(tc.lab, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "out")
			code, stdout, stderr := runCLI(t, "demo", tc.lab, "--rows", "3000", "--scenario", "testdata/demo-"+tc.lab+"-small.yaml",
				"--out", dir, "--no-tui", "--size", "400x225")
			if code != 0 {
				t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", code, stdout, stderr)
			}
			for _, name := range append([]string{"results.json", "summary.md"}, tc.charts...) {
				path := filepath.Join(dir, name)
				if !strings.Contains(stdout, path) {
					t.Errorf("stdout does not list %s", path)
				}
				if !strings.HasSuffix(name, ".png") {
					continue
				}
				f, err := os.Open(path)
				if err != nil {
					t.Fatal(err)
				}
				cfg, err := png.DecodeConfig(f)
				f.Close()
				if err != nil || cfg.Width != 400 || cfg.Height != 225 {
					t.Errorf("%s: %dx%d, %v; want a 400x225 PNG", name, cfg.Width, cfg.Height, err)
				}
			}
			flat := strings.Join(strings.Fields(stdout), " ")
			md, err := os.ReadFile(filepath.Join(dir, "summary.md"))
			if err != nil {
				t.Fatal(err)
			}
			for _, re := range tc.headline {
				if !regexp.MustCompile(re).MatchString(flat) {
					t.Errorf("stdout lacks the headline %q:\n%s", re, stdout)
				}
				if !regexp.MustCompile(`\*\*` + re).Match(md) {
					t.Errorf("summary.md lacks the headline %q", re)
				}
			}
			if !strings.Contains(string(md), "## tailgate demo: "+findLab(tc.lab).title) {
				t.Errorf("summary.md lacks its title:\n%s", md)
			}
			if !strings.Contains(stderr, "demo finished in") {
				t.Errorf("no timing on stderr:\n%s", stderr)
			}
		})
	}
}

func TestDemoLabUsage(t *testing.T) {
	for _, tt := range []struct {
		args []string
		want string
	}{
		{[]string{"demo", "bogus"}, `unexpected argument "bogus"`},
		{[]string{"demo", "all", "--rate", "10/s"}, "for one lab"},
		{[]string{"demo", "all", "--scenario", "testdata/demo-small.yaml"}, "for one lab"},
		{[]string{"demo", "cache", "--duration", "10ms"}, "at least 1s"},
	} {
		code, stdout, stderr := runCLI(t, append(tt.args, "--out", t.TempDir())...)
		if code != ExitUsage || !strings.Contains(stderr, tt.want) {
			t.Errorf("%v: exit %d, want %d with %q\nstdout: %s\nstderr: %s", tt.args, code, ExitUsage, tt.want, stdout, stderr)
		}
	}
	code, stdout, _ := runCLI(t, "demo", "--help")
	for _, lab := range demoLabs {
		if !strings.Contains(stdout, "  "+lab.name+" ") {
			t.Errorf("demo --help does not describe the %s lab", lab.name)
		}
	}
	if code != 0 {
		t.Errorf("demo --help: exit %d", code)
	}
}

// TestDemoLabScenarios: every lab's scenario is shipped, and its requests
// are the series the lab's headline and charts read.
func TestDemoLabScenarios(t *testing.T) {
	for _, lab := range demoLabs {
		s, err := demoScenario(&Env{}, "", lab)
		if err != nil {
			t.Fatalf("%s: %v", lab.name, err)
		}
		plan, err := demoPlan(s, "http://127.0.0.1:9", demoCmdFlags{db: demoFlags{rows: 1000}})
		if err != nil {
			t.Fatalf("%s: %v", lab.name, err)
		}
		names := map[string]bool{}
		for _, n := range s.RequestNames() {
			names[n] = true
		}
		for _, want := range lab.series {
			if !names[want] {
				t.Errorf("%s: %s has no request %q (it has %v)", lab.name, lab.file, want, names)
			}
		}
		if planned := plan.PlannedDuration(); planned > 40*time.Second {
			t.Errorf("%s: plans %v of load; a lab takes under a minute with the fill", lab.name, planned)
		}
	}
}

// interval is one second of a synthetic timeline.
func interval(sec int, rate float64, series ...results.IntervalStats) results.Interval {
	return results.Interval{Start: results.Duration(time.Duration(sec) * time.Second), Length: results.Duration(time.Second),
		PlannedRate: rate, Series: series}
}

func TestRateLimitHeadline(t *testing.T) {
	res := &results.Result{Requests: []*results.Stats{
		results.NewStats("fixed_window", ""), results.NewStats("sliding_window", ""), results.NewStats("token_bucket", ""),
	}}
	res.Requests[0].ErrorKinds[results.RateLimited] = 4
	res.Requests[1].ErrorKinds[results.RateLimited] = 50
	res.Requests[2].ErrorKinds[results.RateLimited] = 70
	for s := range 20 {
		rate, f, sl, tb := 6.0, uint64(2), uint64(2), uint64(2)
		if s >= 8 && s < 12 {
			rate, f, sl, tb = 105, 35, 35, 10
			if s >= 10 {
				sl = 4
			}
		}
		res.Timeline = append(res.Timeline, interval(s, rate,
			results.IntervalStats{Name: "fixed_window", Requests: f + 1, Errors: 1},
			results.IntervalStats{Name: "sliding_window", Requests: sl},
			results.IntervalStats{Name: "token_bucket", Requests: tb}))
	}
	got := strings.Join(rateLimitHeadline(res), "\n")
	want := strings.Join([]string{
		"fixed window: 140 requests got through in the 4s burst across its window boundary, and 152 in its busiest 10s: 1.5× its limit of 100 per 10s, two quotas back to back",
		"sliding window: 78 in the burst, at most 90 in any 10s; token bucket: 40 in the burst (its burst, then the refill rate), 52 in its busiest 10s",
		"refused with 429 and Retry-After: fixed window 4, sliding window 50, token bucket 70",
	}, "\n")
	if got != want {
		t.Errorf("headline:\n%s\nwant:\n%s", got, want)
	}
	pts := perSecond(res, "fixed_window", admitted)
	if n, at := busiest(pts, 10*time.Second); n != 152 || at != 2 {
		t.Errorf("busiest 10s: %v at %vs, want 152 at 2s", n, at)
	}
	if got := rateLimitHeadline(&results.Result{}); len(got) != 1 || !strings.Contains(got[0], "no fixed-window") {
		t.Errorf("empty result: %q", got)
	}
}

func TestCacheAndNPlusOneHeadlines(t *testing.T) {
	stats := func(name, group string, n int, d time.Duration) *results.Stats {
		s := results.NewStats(name, group)
		for range n {
			s.Latency.Record(d)
		}
		s.Requests = uint64(n)
		return s
	}
	res := &results.Result{
		Requests: []*results.Stats{
			stats("uncached", "", 50, 40*time.Millisecond),
			stats("cached", "", 100, 3*time.Second),
			stats("single_flight", "", 100, 90*time.Millisecond),
		},
		Groups: []*results.Stats{
			stats("cached", cacheHit, 900, 200*time.Microsecond),
			stats("cached", cacheMiss, 96, 80*time.Millisecond),
			stats("single_flight", cacheHit, 990, 210*time.Microsecond),
			stats("single_flight", cacheMiss, 12, 40*time.Millisecond),
		},
	}
	want := "cache: a hit takes 200µs at p50 (p99 200µs); a miss runs the query, 40.0ms at p50 with single flight (200× the hit), and uncached every request does (p50 40.0ms)\n" +
		"stampede: at each expiry the TTL cache ran the query 8.0 times at once (96 in all, against single flight's 12, one per expiry), and its misses took 80.1ms at p50, 2.0× single flight's"
	if got := strings.Join(cacheHeadline(res), "\n"); got != want {
		t.Errorf("cache headline:\n%s\nwant:\n%s", got, want)
	}

	res = &results.Result{Groups: []*results.Stats{
		stats("n_plus_one", "per_page=10", 10, 400*time.Microsecond),
		stats("n_plus_one", "per_page=100", 10, 2*time.Millisecond),
		stats("join", "per_page=10", 10, 200*time.Microsecond),
		stats("join", "per_page=100", 10, 250*time.Microsecond),
	}}
	want = "N+1: a page of 100 posts with their authors takes 8.0× as long as with one JOIN at p50 (2.00ms vs 250µs) and 8.0× at p99 (2.00ms vs 250µs): 101 queries instead of 1\n" +
		"the gap grows with the page, a query for every post: 2.0× at 10 posts a page, 8.0× at 100 (p50)\n" +
		"each extra query cost 18µs here, in-process SQLite's CPU alone; against a database server each one also waits a network round trip"
	if got := strings.Join(nPlusOneHeadline(res), "\n"); got != want {
		t.Errorf("n+1 headline:\n%s\nwant:\n%s", got, want)
	}
}

func TestWriteDemoIndex(t *testing.T) {
	dir := t.TempDir()
	outcomes := []*demoOutcome{
		{lab: cacheLab, headline: []string{"a hit is fast"}, files: []string{filepath.Join(dir, "cache", "results.json"), filepath.Join(dir, "cache", "spectrum.png")}, took: 27 * time.Second},
		{lab: jobsLab, headline: []string{"the flow takes the job's time"}, took: 24 * time.Second},
	}
	path, err := writeDemoIndex(dir, outcomes)
	if err != nil {
		t.Fatal(err)
	}
	md, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"## [cache](cache/summary.md): " + cacheLab.title, "**a hit is fast**", "![" + cacheLab.title + "](cache/spectrum.png)", "(cache.yaml, in 27s)",
		"## [jobs](jobs/summary.md)", "**the flow takes the job's time**",
	} {
		if !strings.Contains(string(md), want) {
			t.Errorf("index lacks %q:\n%s", want, md)
		}
	}
}
