package cli

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tailgate-dev/tailgate/report"
	"github.com/tailgate-dev/tailgate/results"
)

// mainCLI runs the command line in-process: status, stdout, stderr.
func mainCLI(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	code := Main(args, &Env{Stdout: &out, Stderr: &errb, Getenv: func(string) string { return "" }})
	return code, out.String(), errb.String()
}

// smallResult is a result of shard index/count (count 0: unsharded) with
// a few hundred known values.
func smallResult(index, count int) *results.Result {
	start := time.Date(2026, 5, 6, 7, 8, 9, 0, time.UTC)
	r := &results.Result{
		Version: results.ResultVersion,
		Meta: results.Meta{
			Tool: "tailgate", ToolVersion: "test", Name: "small", Target: "http://127.0.0.1:1/", Model: results.OpenModel,
			Profile: "constant 100/s for 2s", PlannedRate: 100, Start: start, End: start.Add(2 * time.Second),
			PlannedDuration: results.Duration(2 * time.Second), Shard: results.Shard{Index: index, Count: count}, PlanHash: "abc",
		},
		Total: results.NewStats("", ""),
	}
	st := results.NewStats("GET /", "")
	r.Requests = []*results.Stats{st}
	for sec := 0; sec < 2; sec++ {
		iv := results.Interval{
			Start: results.Duration(time.Duration(sec) * time.Second), Length: results.Duration(time.Second),
			Total:  results.IntervalStats{Latency: results.NewHistogram(), SendLag: results.NewHistogram()},
			Series: []results.IntervalStats{{Name: "GET /", Latency: results.NewHistogram()}},
		}
		for k := 0; k < 100; k++ {
			if count > 1 && k%count != index {
				continue
			}
			d := time.Duration(500+k*37+sec*1000) * time.Microsecond
			for _, s := range []*results.Stats{st, r.Total} {
				s.Requests++
				s.Status[200]++
				s.Latency.Record(d)
				s.Service.Record(d / 2)
				s.SendLag.Record(20 * time.Microsecond)
			}
			iv.Total.Requests++
			iv.Total.Latency.Record(d)
			iv.Total.SendLag.Record(20 * time.Microsecond)
			iv.Series[0].Requests++
			iv.Series[0].Latency.Record(d)
		}
		r.Timeline = append(r.Timeline, iv)
	}
	r.Schedule = results.Schedule{Planned: r.Total.Requests, Sent: r.Total.Requests}
	return r
}

func writeResult(t *testing.T, r *results.Result, name string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	if err := r.WriteFile(path); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestReportFormats(t *testing.T) {
	path := writeResult(t, smallResult(0, 0), "r.json")
	tests := []struct {
		format string
		check  func(t *testing.T, out string)
	}{
		{"text", func(t *testing.T, out string) {
			for _, w := range []string{"small → http://127.0.0.1:1/", "GET /", "p99.9", "total"} {
				if !strings.Contains(out, w) {
					t.Errorf("text lacks %q:\n%s", w, out)
				}
			}
		}},
		{"markdown", func(t *testing.T, out string) {
			if !strings.Contains(out, "| request | requests | rate | errors | p50 |") || !strings.Contains(out, "| **total** | 200 |") {
				t.Errorf("markdown lacks its table:\n%s", out)
			}
		}},
		{"json", func(t *testing.T, out string) {
			var doc struct {
				Total struct {
					Requests  int                `json:"requests"`
					Rate      float64            `json:"rate"`
					LatencyMs map[string]float64 `json:"latency_ms"`
					ServiceMs map[string]float64 `json:"service_ms"`
				} `json:"total"`
				Requests map[string]json.RawMessage `json:"requests"`
			}
			if err := json.Unmarshal([]byte(out), &doc); err != nil {
				t.Fatal(err)
			}
			if doc.Total.Requests != 200 || doc.Total.Rate != 100 || len(doc.Requests) != 1 || doc.Requests["GET /"] == nil {
				t.Errorf("json: %+v", doc)
			}
			for _, k := range []string{"p50", "p90", "p95", "p99", "p99.9", "max"} {
				if doc.Total.LatencyMs[k] <= 0 || doc.Total.ServiceMs[k] <= 0 {
					t.Errorf("json: %s missing or zero: %v %v", k, doc.Total.LatencyMs, doc.Total.ServiceMs)
				}
			}
		}},
		{"hlog", func(t *testing.T, out string) {
			log, err := report.ReadHlog(strings.NewReader(out))
			if err != nil {
				t.Fatal(err)
			}
			all, _ := log.Merged("")
			if len(log.Intervals) != 4 || all.Count() != 200 {
				t.Errorf("hlog: %d intervals with %d values, want 4 and 200", len(log.Intervals), all.Count())
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.format, func(t *testing.T) {
			code, out, errOut := mainCLI(t, "report", path, "--format", tt.format)
			if code != ExitOK || errOut != "" {
				t.Fatalf("exit %d, stderr %q", code, errOut)
			}
			tt.check(t, out)

			// -o writes the same bytes to a file, nothing to stdout.
			file := filepath.Join(t.TempDir(), "out."+tt.format)
			code, stdout, _ := mainCLI(t, "report", path, "--format", tt.format, "-o", file)
			got, err := os.ReadFile(file)
			if code != ExitOK || err != nil || stdout != "" || string(got) != out {
				t.Errorf("-o: exit %d, err %v, stdout %q, file equal to stdout: %v", code, err, stdout, string(got) == out)
			}
		})
	}
}

func TestReportErrors(t *testing.T) {
	dir := t.TempDir()
	write := func(name, content string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	good := writeResult(t, smallResult(0, 0), "good.json")
	data, _ := os.ReadFile(good)
	truncated := write("truncated.json", string(data[:len(data)/3]))
	tests := []struct {
		name string
		args []string
		want []string
	}{
		{"missing file", []string{filepath.Join(dir, "nope.json")}, []string{"nope.json", "no such file"}},
		{"truncated", []string{truncated}, []string{"truncated.json:", "unexpected end of JSON input"}},
		{"wrong version", []string{write("v9.json", `{"version": 9}`)}, []string{"v9.json: unsupported results version 9"}},
		{"not JSON", []string{write("csv.json", "a,b\n1,2\n")}, []string{"csv.json: not a tailgate results file: it is not a JSON object"}},
		{"null total", []string{write("null.json", `{"version": 1, "total": null}`)}, []string{`null.json: results file has no "total"`}},
		{"unknown format", []string{good, "--format", "yaml"}, []string{`--format "yaml": use text, markdown, json or hlog`}},
		{"no file", nil, []string{"want exactly one results file, got 0"}},
		{"two files", []string{good, good}, []string{"want exactly one results file, got 2"}},
		{"bad size", []string{good, "--size", "big"}, []string{`--size "big": want WIDTHxHEIGHT`}},
		{"tiny size", []string{good, "--size", "10x10"}, []string{`--size "10x10": width must be`}},
		{"bad flag", []string{good, "--colour"}, []string{"unknown flag: --colour"}},
		{"bad threshold", []string{good, "--threshold", "p99 <"}, []string{`--threshold "p99 <"`}},
		{"threshold on an unknown request", []string{good, "--threshold", "nosuch: p99 < 1s"},
			[]string{`the results have no request "nosuch"`, `(they have "GET /")`}},
		{"scenario without thresholds", []string{good, "--scenario", write("plain.yaml", "target: http://127.0.0.1:1\nrequests:\n  root:\n    path: /\n")},
			[]string{"plain.yaml: the scenario has no thresholds"}},
		{"missing scenario", []string{good, "--scenario", filepath.Join(dir, "nope.yaml")}, []string{"nope.yaml"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, out, errOut := mainCLI(t, append([]string{"report"}, tt.args...)...)
			if code != ExitUsage {
				t.Errorf("exit %d, want %d", code, ExitUsage)
			}
			if out != "" {
				t.Errorf("stdout %q, want nothing", out)
			}
			if strings.Count(errOut, "\n") != 1 || !strings.HasPrefix(errOut, "tailgate report: ") {
				t.Errorf("stderr %q: want one line starting with 'tailgate report: '", errOut)
			}
			for _, w := range tt.want {
				if !strings.Contains(errOut, w) {
					t.Errorf("stderr %q lacks %q", errOut, w)
				}
			}
		})
	}
}

// TestReportThresholds checks thresholds against a results file: the
// outcome follows a text report on stdout, goes to stderr when stdout holds
// another format or nothing, becomes a section of a Markdown report, and
// a failure exits 1 after everything is written.
func TestReportThresholds(t *testing.T) {
	path := writeResult(t, smallResult(0, 0), "r.json") // p50 ≈ 2.3ms, p99 ≈ 5.1ms
	scenario := filepath.Join(t.TempDir(), "s.yaml")
	if err := os.WriteFile(scenario, []byte(`target: http://127.0.0.1:1
requests:
  root:
    path: /
thresholds:
  - p99 < 1s
  - p50 < 1ms
`), 0o644); err != nil {
		t.Fatal(err)
	}
	pass := "pass  p99 < 1s  (p99 = "
	fail := "FAIL  p50 < 1ms  (p50 = "
	tests := []struct {
		name                string
		args                []string
		code                int
		stdout, not, stderr []string
	}{
		{"flags pass, text", []string{"--threshold", "p99 < 1s", "--threshold", "GET /: error_rate < 1%"}, ExitOK,
			[]string{"GET /", "thresholds:\n  " + pass, "pass  GET /: error_rate < 1%  (error_rate = 0%)"}, nil, nil},
		{"scenario fails, text", []string{"--scenario", scenario}, ExitThreshold,
			[]string{"thresholds:\n  " + pass, fail}, nil, []string{"1 threshold(s) failed: p50 < 1ms"}},
		{"scenario and a flag", []string{"--scenario", scenario, "--threshold", "p99.9 < 1s"}, ExitThreshold,
			[]string{pass, fail, "pass  p99.9 < 1s"}, nil, nil},
		{"markdown", []string{"--scenario", scenario, "--format", "markdown"}, ExitThreshold,
			[]string{"| **total** |", "#### Thresholds: 1 of 2 failed", "| ❌ **FAIL** | `p50 < 1ms` | p50 = "},
			[]string{"thresholds:"}, []string{"thresholds:\n  " + pass}},
		{"json stays JSON", []string{"--scenario", scenario, "--format", "json"}, ExitThreshold,
			[]string{`"latency_ms"`, `"thresholds": [`, `"detail": "p50 = `}, []string{"thresholds:"}, []string{fail}},
		{"text to a file", []string{"--scenario", scenario, "-o", filepath.Join(t.TempDir(), "r.txt")}, ExitThreshold,
			nil, []string{"thresholds"}, []string{fail}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, out, errOut := mainCLI(t, append([]string{"report", path}, tt.args...)...)
			if code != tt.code {
				t.Fatalf("exit %d, want %d; stderr:\n%s", code, tt.code, errOut)
			}
			for _, w := range tt.stdout {
				if !strings.Contains(out, w) {
					t.Errorf("stdout lacks %q:\n%s", w, out)
				}
			}
			for _, w := range tt.not {
				if strings.Contains(out, w) {
					t.Errorf("stdout has %q:\n%s", w, out)
				}
			}
			for _, w := range tt.stderr {
				if !strings.Contains(errOut, w) {
					t.Errorf("stderr lacks %q:\n%s", w, errOut)
				}
			}
			if strings.Contains(tt.name, "json") {
				var v map[string]any
				if err := json.Unmarshal([]byte(out), &v); err != nil {
					t.Errorf("stdout is not JSON: %v", err)
				}
			}
		})
	}
}

func TestReportHelp(t *testing.T) {
	code, out, _ := mainCLI(t, "report", "--help")
	if code != ExitOK {
		t.Fatalf("exit %d", code)
	}
	for _, w := range []string{"Usage: tailgate report RESULTS.json", "--format", "hlog", "--png-dir", "--size", "1600x900", "-o, --output"} {
		if !strings.Contains(out, w) {
			t.Errorf("help lacks %q:\n%s", w, out)
		}
	}
}

func TestReportPartial(t *testing.T) {
	r := smallResult(0, 0)
	r.Meta.Partial, r.Meta.StopReason = true, "interrupted twice"
	path := writeResult(t, r, "partial.json")
	code, out, errOut := mainCLI(t, "report", path)
	if code != ExitOK {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	if !strings.Contains(errOut, "partial.json is a partial result (interrupted twice)") {
		t.Errorf("stderr %q does not say the result is partial", errOut)
	}
	if !strings.Contains(out, "[PARTIAL]") || !strings.Contains(out, "warning: partial result (interrupted twice)") {
		t.Errorf("summary does not say the result is partial:\n%s", out)
	}
	code, out, _ = mainCLI(t, "report", path, "--format", "json")
	if code != ExitOK || !strings.Contains(out, `"partial": true`) {
		t.Errorf("json summary lacks partial: %s", out)
	}
}

func TestParseSize(t *testing.T) {
	tests := []struct {
		in   string
		w, h int
		ok   bool
	}{
		{"1600x900", 1600, 900, true},
		{"800X600", 800, 600, true},
		{" 1200x675 ", 1200, 675, true},
		{"1600", 0, 0, false},
		{"x900", 0, 0, false},
		{"100x100", 0, 0, false},
		{"20000x900", 0, 0, false},
		{"-5x9", 0, 0, false},
	}
	for _, tt := range tests {
		w, h, err := parseSize(tt.in)
		if (err == nil) != tt.ok || w != tt.w || h != tt.h {
			t.Errorf("parseSize(%q) = %d, %d, %v", tt.in, w, h, err)
		}
	}
}

func TestMergeCommand(t *testing.T) {
	dir := t.TempDir()
	var files []string
	for i := 0; i < 3; i++ {
		files = append(files, writeResult(t, smallResult(i, 3), "shard-"+string(rune('0'+i))+".json"))
	}
	out := filepath.Join(dir, "merged.json")
	code, stdout, errOut := mainCLI(t, append([]string{"merge", "-o", out}, files...)...)
	if code != ExitOK {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	merged, err := results.ReadResultFile(out)
	if err != nil {
		t.Fatal(err)
	}
	whole := smallResult(0, 0)
	if merged.Total.Requests != 200 || !merged.Total.Latency.Equal(whole.Total.Latency) || !merged.Requests[0].Service.Equal(whole.Requests[0].Service) {
		t.Errorf("merged %d requests; histograms equal to the unsharded run: %v", merged.Total.Requests, merged.Total.Latency.Equal(whole.Total.Latency))
	}
	if !strings.Contains(stdout, "small → http://127.0.0.1:1/") || !strings.Contains(errOut, "merged 3 results into") {
		t.Errorf("stdout %q stderr %q", stdout, errOut)
	}

	// Guards name the offending file.
	code, _, errOut = mainCLI(t, "merge", "-o", out, files[0], files[1], files[1])
	if code != ExitUsage || !strings.Contains(errOut, files[1]+" (shard 1/3): results are not shards of one plan: shard 1/3 already given as "+files[1]) {
		t.Errorf("duplicate shard: exit %d, %q", code, errOut)
	}
	code, _, errOut = mainCLI(t, "merge", files[0])
	if code != ExitUsage || !strings.Contains(errOut, "-o/--output is required") {
		t.Errorf("no -o: exit %d, %q", code, errOut)
	}
	code, _, errOut = mainCLI(t, "merge", "-o", out, filepath.Join(dir, "missing.json"))
	if code != ExitUsage || !strings.Contains(errOut, "missing.json") {
		t.Errorf("missing file: exit %d, %q", code, errOut)
	}

	// The thresholds the shards were judged by are judged again on the
	// merge: 200 requests pass what each shard's 66 failed, and a failed
	// threshold makes the exit status 1 (issue 12, item 11).
	var judged []string
	for i := 0; i < 3; i++ {
		r := smallResult(i, 3)
		r.Judge([]*results.Threshold{mustParseThreshold(t, "requests >= 150"), mustParseThreshold(t, "p99 < 1us")})
		judged = append(judged, writeResult(t, r, "judged-"+string(rune('0'+i))+".json"))
	}
	code, stdout, _ = mainCLI(t, append([]string{"merge", "-o", out}, judged...)...)
	merged, err = results.ReadResultFile(out)
	if err != nil {
		t.Fatal(err)
	}
	if code != ExitThreshold || len(merged.Thresholds) != 2 || !merged.Thresholds[0].Pass || merged.Thresholds[1].Pass ||
		!strings.Contains(stdout, "pass  requests >= 150  (requests = 200)") {
		t.Errorf("merge of judged shards: exit %d, outcomes %+v\n%s", code, merged.Thresholds, stdout)
	}

	// Two of three shards merge into a partial result.
	code, _, errOut = mainCLI(t, "merge", "-q", "-o", out, files[0], files[2])
	if code != ExitOK || !strings.Contains(errOut, "partial result: merged 2 of 3 shards (missing 1)") {
		t.Errorf("missing shard: exit %d, %q", code, errOut)
	}
	code, _, errOut = mainCLI(t, "report", out)
	if code != ExitOK || !strings.Contains(errOut, "is a partial result (merged 2 of 3 shards (missing 1))") {
		t.Errorf("report of a partial merge: exit %d, %q", code, errOut)
	}
}

// TestHitThenReportJSON runs a short real load against a local server and
// reads its results file back through 'tailgate report --format json'.
func TestHitThenReportJSON(t *testing.T) {
	srv, n := countingServer(t)
	path := filepath.Join(t.TempDir(), "r.json")
	code, _, errOut := mainCLI(t, "hit", srv.URL+"/", "-r", "200/s", "-d", "1s", "-o", path, "--quiet")
	if code != ExitOK {
		t.Fatalf("hit: exit %d: %s", code, errOut)
	}
	code, out, errOut := mainCLI(t, "report", path, "--format", "json")
	if code != ExitOK {
		t.Fatalf("report: exit %d: %s", code, errOut)
	}
	var doc struct {
		Total struct {
			Requests  int64              `json:"requests"`
			Errors    int64              `json:"errors"`
			LatencyMs map[string]float64 `json:"latency_ms"`
		} `json:"total"`
		Requests map[string]struct {
			Requests int64 `json:"requests"`
		} `json:"requests"`
	}
	if err := json.Unmarshal([]byte(out), &doc); err != nil {
		t.Fatal(err)
	}
	if doc.Total.Requests != 200 || doc.Total.Requests != n.Load() || doc.Requests["GET /"].Requests != 200 {
		t.Errorf("report says %d requests (GET / %d), server counted %d, want 200", doc.Total.Requests, doc.Requests["GET /"].Requests, n.Load())
	}
	if p := doc.Total.LatencyMs; p["p50"] <= 0 || p["p50"] > p["p99"] || p["p99"] > p["p99.9"] || p["p99.9"] > p["max"] {
		t.Errorf("percentiles out of order: %v", p)
	}
}

func TestReportPNGDir(t *testing.T) {
	path := writeResult(t, smallResult(0, 0), "r.json")
	dir := filepath.Join(t.TempDir(), "charts")
	code, _, errOut := mainCLI(t, "report", path, "--png-dir", dir, "--size", "400x300", "-o", filepath.Join(t.TempDir(), "r.txt"))
	if code != ExitOK {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	lines := strings.Split(strings.TrimSpace(errOut), "\n")
	if len(lines) == 0 || lines[0] == "" {
		t.Fatal("no chart file names printed")
	}
	for _, line := range lines {
		name, ok := strings.CutPrefix(line, "chart written to ")
		if !ok {
			t.Errorf("unexpected stderr line %q", line)
			continue
		}
		if fi, err := os.Stat(name); err != nil || fi.Size() == 0 {
			t.Errorf("chart %s: %v", name, err)
		}
	}
}

// TestShardedHitsMerge runs one plan as two shards against one server and
// merges them: the merged run made exactly the planned requests, and a
// shard of another plan is refused.
func TestShardedHitsMerge(t *testing.T) {
	srv, n := countingServer(t)
	dir := t.TempDir()
	shard := func(name, rate, spec string) string {
		path := filepath.Join(dir, name)
		code, _, errOut := mainCLI(t, "hit", srv.URL+"/", "-r", rate, "-d", "1s", "--shard", spec, "-o", path, "--quiet")
		if code != ExitOK {
			t.Fatalf("hit --shard %s: exit %d: %s", spec, code, errOut)
		}
		return path
	}
	a, b := shard("a.json", "150/s", "0/2"), shard("b.json", "150/s", "1/2")
	out := filepath.Join(dir, "merged.json")
	code, _, errOut := mainCLI(t, "merge", "-q", "-o", out, a, b)
	if code != ExitOK {
		t.Fatalf("merge: exit %d: %s", code, errOut)
	}
	merged, err := results.ReadResultFile(out)
	if err != nil {
		t.Fatal(err)
	}
	if merged.Total.Requests != 150 || n.Load() != 150 || merged.Schedule.Planned != 150 || merged.Meta.Partial {
		t.Errorf("merged %d requests, planned %d, partial %v; server counted %d; want 150",
			merged.Total.Requests, merged.Schedule.Planned, merged.Meta.Partial, n.Load())
	}
	other := shard("other.json", "100/s", "1/2")
	code, _, errOut = mainCLI(t, "merge", "-q", "-o", out, a, other)
	if code != ExitUsage || !strings.Contains(errOut, "other.json (shard 1/2): results are not shards of one plan: plan hash") {
		t.Errorf("merge of different plans: exit %d, %q", code, errOut)
	}
}

func mustParseThreshold(t *testing.T, s string) *results.Threshold {
	t.Helper()
	th, err := results.ParseThreshold(s)
	if err != nil {
		t.Fatal(err)
	}
	return th
}
