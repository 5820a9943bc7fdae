package cli

import (
	"fmt"
	"image/png"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/tailgate-dev/tailgate/results"
)

// cmpFixture is a committed results file of the report package's compare
// fixtures (offset vs cursor pagination, before and after an index).
func cmpFixture(side string, run int) string {
	return filepath.Join("..", "..", "report", "testdata", "compare", fmt.Sprintf("%s-%d.json", side, run))
}

func TestCompareCommand(t *testing.T) {
	dir := t.TempDir()
	md := filepath.Join(dir, "out", "cmp.md")
	if err := os.MkdirAll(filepath.Dir(md), 0o755); err != nil {
		t.Fatal(err)
	}
	charts := filepath.Join(dir, "charts")
	code, stdout, stderr := runCLI(t, "compare", cmpFixture("before", 1), cmpFixture("after", 1),
		"--md", md, "--png-dir", charts, "--size", "480x270", "--label", "main,index")
	if code != 0 {
		t.Fatalf("exit %d\n%s\n%s", code, stdout, stderr)
	}
	for _, want := range []string{"main:", "index:", "offset{depth=10000}", "p99.9", "--count ≥ 4"} {
		if !strings.Contains(stdout, want) {
			t.Errorf("text output lacks %q:\n%s", want, stdout)
		}
	}
	b, err := os.ReadFile(md)
	if err != nil {
		t.Fatal(err)
	}
	// The Markdown sits in out/, the charts in charts/: links are relative.
	for _, name := range []string{"spectrum", "bars", "timeline", "by-tag"} {
		link := "(../charts/" + name + ".png)"
		if !strings.Contains(string(b), link) {
			t.Errorf("Markdown lacks the link %s", link)
		}
		f, err := os.Open(filepath.Join(charts, name+".png"))
		if err != nil {
			t.Fatal(err)
		}
		cfg, err := png.DecodeConfig(f)
		f.Close()
		if err != nil || cfg.Width != 480 || cfg.Height != 270 {
			t.Errorf("%s.png: %v, %d×%d, want 480×270", name, err, cfg.Width, cfg.Height)
		}
	}
}

func TestCompareRepeatedSides(t *testing.T) {
	var before, after []string
	for i := 1; i <= 4; i++ {
		before = append(before, cmpFixture("before", i))
		after = append(after, cmpFixture("after", i))
	}
	// "--" separates the sides; flags may follow it.
	args := append(append(append([]string{"compare"}, before...), "--"), after...)
	args = append(args, "--md", "-")
	code, stdout, stderr := runCLI(t, args...)
	if code != 0 {
		t.Fatalf("exit %d\n%s\n%s", code, stdout, stderr)
	}
	// 4+4 runs: the smallest attainable p is 2/C(8,4) = 0.029.
	if !strings.Contains(stdout, "| offset | p50 |") || !strings.Contains(stdout, "| 0.029 | 4+4 |") || !strings.Contains(stdout, "no significant change") {
		t.Errorf("Markdown on stdout lacks the verdict table:\n%s", stdout)
	}
	code, stdout, stderr = runCLI(t, "compare", "--before", strings.Join(before[:2], ","), "--after", after[0], "--after", after[1])
	if code != 0 {
		t.Fatalf("--before/--after: exit %d\n%s", code, stderr)
	}
	if !strings.Contains(stdout, "n=2+2") {
		t.Errorf("text lacks the 2+2 verdicts:\n%s", stdout)
	}
}

func TestCompareWithin(t *testing.T) {
	code, stdout, stderr := runCLI(t, "compare", cmpFixture("after", 1), "--a", "offset", "--b", "cursor")
	if code != 0 {
		t.Fatalf("exit %d\n%s\n%s", code, stdout, stderr)
	}
	for _, want := range []string{"offset vs cursor", "depth=10000"} {
		if !strings.Contains(stdout, want) {
			t.Errorf("output lacks %q:\n%s", want, stdout)
		}
	}
	// Selections are spelt like thresholds; the spelling compare used to
	// take is pointed to it.
	code, stdout, stderr = runCLI(t, "compare", cmpFixture("after", 1), "--a", "offset{depth=10000}", "--b", "cursor{depth=10000}")
	if code != 0 || !strings.Contains(stdout, "offset{depth=10000} vs cursor{depth=10000}") {
		t.Errorf("groups: exit %d\n%s\n%s", code, stdout, stderr)
	}
	code, _, stderr = runCLI(t, "compare", cmpFixture("after", 1), "--a", "name=offset", "--b", "cursor")
	if code != 2 || !strings.Contains(stderr, "written like thresholds: offset") {
		t.Errorf("old spelling: exit %d, stderr %s", code, stderr)
	}
}

func TestCompareBadInput(t *testing.T) {
	b, a := cmpFixture("before", 1), cmpFixture("after", 1)
	garbage := filepath.Join(t.TempDir(), "garbage.json")
	if err := os.WriteFile(garbage, []byte("{\n  \"version\": 1,\n  \"total\": [\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"one file", []string{b}, "want BEFORE.json AFTER.json"},
		{"three files", []string{b, a, b}, "separate them with --"},
		{"empty side", []string{b, "--"}, "both sides of --"},
		{"missing file", []string{b, "nope.json"}, "nope.json"},
		{"broken file", []string{b, garbage}, "garbage.json:"},
		{"a without b", []string{b, "--a", "offset"}, "--a and --b go together"},
		{"unknown name", []string{b, "--a", "offset", "--b", "nope"}, "no request matches --b nope"},
		{"flow against a request", []string{b, "--a", "flow:checkout", "--b", "offset"}, "--a flow:checkout and --b offset: one is a flow, the other is not"},
		{"bad selector", []string{b, "--a", "offset{depth=1", "--b", "cursor"}, "no closing }"},
		{"bad label", []string{b, a, "--label", "one"}, "--label"},
		{"bad size", []string{b, a, "--size", "big"}, "--size"},
		{"bad alpha", []string{b, a, "--alpha", "2"}, "--alpha"},
		{"mixed sides", []string{b, "--before", a, "--after", b}, "either with --before/--after"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			code, stdout, stderr := runCLI(t, append([]string{"compare"}, tc.args...)...)
			if code != ExitUsage {
				t.Errorf("exit %d, want %d\n%s\n%s", code, ExitUsage, stdout, stderr)
			}
			if !strings.Contains(stderr, tc.want) || strings.Count(strings.TrimSpace(stderr), "\n") > 0 {
				t.Errorf("stderr %q: want one line containing %q", stderr, tc.want)
			}
		})
	}
}

// flowFixture writes the compare fixture's first run of side to dir with a
// flow "checkout" of 1000 iterations over [checkout, 2·checkout), and
// returns its path.
func flowFixture(t *testing.T, dir, side string, checkout time.Duration) string {
	t.Helper()
	r, err := results.ReadResultFile(cmpFixture(side, 1))
	if err != nil {
		t.Fatal(err)
	}
	st := results.NewStats("checkout", "")
	for i := range 1000 {
		st.Requests++
		st.Latency.Record(checkout + time.Duration(i)*checkout/1000)
	}
	r.Flows = append(r.Flows, st)
	path := filepath.Join(dir, fmt.Sprintf("%s-%s.json", side, checkout))
	if err := r.WriteFile(path); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestCompareGatesFlows: --max-slowdown fails (exit 1) on a flow that got
// slower even when every request got faster, naming the flow; a flow
// within the bound passes (exit 0); a bad bound is bad usage (exit 2).
func TestCompareGatesFlows(t *testing.T) {
	dir := t.TempDir()
	// before → after: every request name and the total got faster.
	before := flowFixture(t, dir, "before", 100*time.Millisecond)
	slower := flowFixture(t, dir, "after", 150*time.Millisecond)
	same := flowFixture(t, dir, "after", 104*time.Millisecond)
	tests := []struct {
		name   string
		args   []string
		code   int
		stderr []string
	}{
		{"flow slower", []string{before, slower, "--max-slowdown", "10%"}, ExitThreshold,
			[]string{"tailgate compare: 2 slowdown(s) beyond --max-slowdown: flow:checkout p50 +49.9% (150ms → 225ms, single runs) is more than 10% slower", "flow:checkout p99 +50.1% (199ms → 298ms, single runs)"}},
		{"flow slower, Markdown on stdout", []string{before, slower, "--max-slowdown", "10", "--md", "-"}, ExitThreshold,
			[]string{"flow:checkout p99 +50.1%"}},
		{"flow within the bound", []string{before, same, "--max-slowdown", "10%"}, 0, nil},
		{"flow slower, bound above", []string{before, slower, "--max-slowdown", "60%"}, 0, nil},
		{"no gate", []string{before, slower}, 0, nil},
		{"bad bound", []string{before, slower, "--max-slowdown", "ten%"}, ExitUsage, []string{"--max-slowdown \"ten%\""}},
		{"negative bound", []string{before, slower, "--max-slowdown", "-5%"}, ExitUsage, []string{"--max-slowdown"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			code, stdout, stderr := runCLI(t, append([]string{"compare"}, tc.args...)...)
			if code != tc.code {
				t.Fatalf("exit %d, want %d\n%s\n%s", code, tc.code, stdout, stderr)
			}
			for _, want := range tc.stderr {
				if !strings.Contains(stderr, want) {
					t.Errorf("stderr lacks %q:\n%s", want, stderr)
				}
			}
			if tc.code == 0 && strings.TrimSpace(stderr) != "" {
				t.Errorf("a passing gate writes to stderr:\n%s", stderr)
			}
			if tc.code == ExitThreshold && strings.Contains(stderr, "offset") {
				t.Errorf("requests that got faster gate:\n%s", stderr)
			}
			if tc.code != ExitUsage && !strings.Contains(stdout, "flow:checkout") {
				t.Errorf("the comparison lacks the flow:\n%s", stdout)
			}
			if slices.Contains(tc.args, "--md") && !strings.Contains(stdout, "| flow | p50 | p99 | p99.9 | iterations/s | failed |") {
				t.Errorf("the Markdown lacks the flows' table:\n%s", stdout)
			}
		})
	}
}

func TestNumberedOutput(t *testing.T) {
	tests := []struct {
		out      string
		i, count int
		want     string
	}{
		{"r.json", 2, 5, "r-2.json"},
		{"dir.v2/r", 1, 3, "dir.v2/r-1"},
		{"results", 3, 3, "results-3"},
		{"r.json", 1, 1, "r.json"},
		{"", 1, 4, ""},
	}
	for _, tc := range tests {
		if got := numberedOutput(tc.out, tc.i, tc.count); got != filepath.FromSlash(tc.want) && got != tc.want {
			t.Errorf("numberedOutput(%q, %d, %d) = %q, want %q", tc.out, tc.i, tc.count, got, tc.want)
		}
	}
}

// TestHitCountThenCompare runs a short hit four times and compares two
// pairs of its results: the repeated-run workflow end to end.
func TestHitCountThenCompare(t *testing.T) {
	srv, n := countingServer(t)
	dir := t.TempDir()
	out := filepath.Join(dir, "r.json")
	code, stdout, stderr := runCLI(t, "hit", srv.URL+"/", "-r", "40/s", "-d", "500ms", "--count", "4", "-o", out, "-q")
	if code != 0 {
		t.Fatalf("exit %d\n%s\n%s", code, stdout, stderr)
	}
	if got := n.Load(); got != 4*20 {
		t.Errorf("server counted %d requests, want %d", got, 4*20)
	}
	for i := 1; i <= 4; i++ {
		r, err := results.ReadResultFile(filepath.Join(dir, fmt.Sprintf("r-%d.json", i)))
		if err != nil {
			t.Fatal(err)
		}
		if r.Total.Requests != 20 {
			t.Errorf("run %d: %d requests, want 20", i, r.Total.Requests)
		}
	}
	if _, err := os.Stat(out); err == nil {
		t.Error("r.json itself must not be written by a repeated run")
	}
	if !strings.Contains(stdout, "4 runs:") {
		t.Errorf("no spread summary:\n%s", stdout)
	}
	code, stdout, stderr = runCLI(t, "compare", filepath.Join(dir, "r-1.json"), filepath.Join(dir, "r-2.json"), "--", filepath.Join(dir, "r-3.json"), filepath.Join(dir, "r-4.json"))
	if code != 0 {
		t.Fatalf("compare: exit %d\n%s\n%s", code, stdout, stderr)
	}
	if !strings.Contains(stdout, "too few runs") {
		t.Errorf("2+2 runs must say the test has no power:\n%s", stdout)
	}
	if code, _, stderr := runCLI(t, "hit", srv.URL, "--count", "0"); code != ExitUsage || !strings.Contains(stderr, "--count") {
		t.Errorf("--count 0: exit %d, %q", code, stderr)
	}
}

func TestABInterleaves(t *testing.T) {
	var order []string
	var mu = make(chan struct{}, 1)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu <- struct{}{}
		if len(order) == 0 || order[len(order)-1] != r.URL.Path {
			order = append(order, r.URL.Path)
		}
		<-mu
		if r.URL.Path == "/b" {
			time.Sleep(2 * time.Millisecond)
		}
	}))
	t.Cleanup(srv.Close)
	dir := t.TempDir()
	for _, side := range []string{"a", "b"} {
		y := fmt.Sprintf("name: side-%s\ntarget: http://127.0.0.1:9\nrequests:\n  home:\n    path: /%s\nload:\n  rate: 20/s\n  duration: 1s\n", side, side)
		if err := os.WriteFile(filepath.Join(dir, side+".yaml"), []byte(y), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	md := filepath.Join(dir, "ab.md")
	code, stdout, stderr := runCLI(t, "ab", filepath.Join(dir, "a.yaml"), filepath.Join(dir, "b.yaml"),
		"--target", srv.URL, "-d", "300ms", "--count", "2", "-o", filepath.Join(dir, "ab"), "--md", md, "-q")
	if code != 0 {
		t.Fatalf("exit %d\n%s\n%s", code, stdout, stderr)
	}
	if got := strings.Join(order, " "); got != "/a /b /a /b" {
		t.Errorf("request order %q, want interleaved /a /b /a /b", got)
	}
	for _, f := range []string{"ab-a-1.json", "ab-b-1.json", "ab-a-2.json", "ab-b-2.json", "ab.md"} {
		if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
			t.Error(err)
		}
	}
	if !strings.Contains(stdout, "a:") || !strings.Contains(stdout, "n=2+2") {
		t.Errorf("comparison lacks the sides or the verdicts:\n%s", stdout)
	}
	if code, _, stderr := runCLI(t, "ab", filepath.Join(dir, "a.yaml")); code != ExitUsage || !strings.Contains(stderr, "two scenario files") {
		t.Errorf("one scenario: exit %d, %q", code, stderr)
	}
	// Two shards would compare halves of A and B, not A and B.
	if code, _, stderr := runCLI(t, "ab", filepath.Join(dir, "a.yaml"), filepath.Join(dir, "b.yaml"), "--shard", "0/2"); code != ExitUsage || !strings.Contains(stderr, "unknown flag: --shard") {
		t.Errorf("--shard: exit %d, %q", code, stderr)
	}
}

func FuzzParseSlowdown(f *testing.F) {
	for _, s := range []string{"10%", "0", "12.5", "", "%", "-3%", "1e9", "NaN"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		v, err := parseSlowdown(s)
		if err != nil {
			return
		}
		if s == "" {
			if v != -1 {
				t.Fatalf("empty: %v, want -1 (no gate)", v)
			}
			return
		}
		if !(v >= 0 && v <= 100) {
			t.Fatalf("parseSlowdown(%q) = %v accepted out of range", s, v)
		}
	})
}
