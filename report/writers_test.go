package report_test

import (
	"bytes"
	"encoding/json"
	"io"
	"math"
	"path/filepath"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/tailgate-dev/tailgate/internal/golden"
	"github.com/tailgate-dev/tailgate/report"
	"github.com/tailgate-dev/tailgate/results"
)

func TestWritersGolden(t *testing.T) {
	writers := []struct {
		ext   string
		write func(io.Writer, *results.Result) error
	}{
		{"txt", report.WriteText},
		{"md", report.WriteMarkdown},
		{"json", report.WriteJSON},
	}
	for _, variant := range []string{"ok", "behind", "closed", "flows", "steal"} {
		for _, w := range writers {
			t.Run(variant+"."+w.ext, func(t *testing.T) {
				var buf bytes.Buffer
				if err := w.write(&buf, fixture(t, variant)); err != nil {
					t.Fatal(err)
				}
				golden.Check(t, filepath.Join("testdata", "summary-"+variant+"."+w.ext), buf.Bytes())
			})
		}
	}
}

// TestChecksMarkdownGolden: the Thresholds section, with user text that
// must neither break the table nor turn into markup.
func TestChecksMarkdownGolden(t *testing.T) {
	r := fixture(t, "ok")
	r.Thresholds = []results.Verdict{
		{Pass: true, Threshold: "p99 < 250ms", Detail: "p99 = 212ms"},
		{Pass: false, Threshold: "login|auth: error_rate < 1%", Detail: "error_rate = 3.2%"},
		{Pass: false, Threshold: "`search`: p99.9 < 1s", Detail: `no results for request "search_*"`},
	}
	section := func(r *results.Result) string {
		var buf bytes.Buffer
		if err := report.WriteMarkdown(&buf, r); err != nil {
			t.Fatal(err)
		}
		_, after, _ := strings.Cut(buf.String(), "\n#### Thresholds")
		if after == "" {
			return ""
		}
		return "\n#### Thresholds" + after
	}
	golden.Check(t, filepath.Join("testdata", "checks.md"), []byte(section(r)))

	r.Thresholds = r.Thresholds[:1]
	if got := section(r); !strings.Contains(got, "#### Thresholds: all 1 passed") {
		t.Errorf("all passed:\n%s", got)
	}
	r.Thresholds = nil
	if got := section(r); got != "" {
		t.Errorf("no thresholds wrote %q, want nothing", got)
	}
}

// TestThresholdsInEveryFormat: the outcomes a result carries are shown by
// the text, Markdown and JSON writers alike (issue 12, item 11).
func TestThresholdsInEveryFormat(t *testing.T) {
	r := fixture(t, "ok")
	var ths []*results.Threshold
	for _, s := range []string{"p99 < 250ms", "GET /offset{depth=100}: p99.9 < 10ms", "error_rate < 1%", "rate >= 95%"} {
		th, err := results.ParseThreshold(s)
		if err != nil {
			t.Fatal(err)
		}
		ths = append(ths, th)
	}
	if failed := r.Judge(ths); len(failed) != 1 {
		t.Fatalf("failed = %q, want the depth=100 one", failed)
	}
	for _, w := range []struct {
		ext   string
		write func(io.Writer, *results.Result) error
	}{{"txt", report.WriteText}, {"md", report.WriteMarkdown}, {"json", report.WriteJSON}} {
		var buf bytes.Buffer
		if err := w.write(&buf, r); err != nil {
			t.Fatal(err)
		}
		golden.Check(t, filepath.Join("testdata", "thresholds."+w.ext), buf.Bytes())
		if !strings.Contains(buf.String(), "p99.9 = 34.9ms") {
			t.Errorf("%s does not show the failed threshold's measured value:\n%s", w.ext, buf.String())
		}
	}
}

func TestTextFitsEightyColumns(t *testing.T) {
	for _, variant := range []string{"ok", "behind", "closed", "steal"} {
		var buf bytes.Buffer
		if err := report.WriteText(&buf, fixture(t, variant)); err != nil {
			t.Fatal(err)
		}
		for i, line := range strings.Split(buf.String(), "\n") {
			if n := utf8.RuneCountInString(line); n > 80 {
				t.Errorf("%s line %d has %d columns: %q", variant, i+1, n, line)
			}
		}
	}
}

func TestTextSaysWhatMatters(t *testing.T) {
	tests := []struct {
		variant string
		want    []string
		not     []string
	}{
		{"ok", []string{"open: constant 100/s", "GET /cursor", "depth=100", "http_5xx", "503 Service Unavailable", "send lag"},
			[]string{"warning:", "PARTIAL", "closed model"}},
		{"behind", []string{"[PARTIAL]", "warning: partial result (interrupted by a signal)", "client behind schedule",
			"20 of 1150 planned arrivals dropped", "30 of 1150 planned arrivals were never sent", "50 late"}, nil},
		{"closed", []string{"note: closed model of 20 VUs", "not open-model latencies"}, []string{"send lag", "schedule"}},
	}
	for _, tt := range tests {
		var buf bytes.Buffer
		if err := report.WriteText(&buf, fixture(t, tt.variant)); err != nil {
			t.Fatal(err)
		}
		flat := strings.Join(strings.Fields(buf.String()), " ")
		for _, w := range tt.want {
			if !strings.Contains(flat, strings.Join(strings.Fields(w), " ")) {
				t.Errorf("%s: summary lacks %q:\n%s", tt.variant, w, buf.String())
			}
		}
		for _, w := range tt.not {
			if strings.Contains(flat, w) {
				t.Errorf("%s: summary should not say %q:\n%s", tt.variant, w, buf.String())
			}
		}
	}
}

func TestWarnings(t *testing.T) {
	tests := []struct {
		name   string
		modify func(*results.Result)
		want   []string // substrings, one per expected warning, in order
	}{
		{"healthy", func(*results.Result) {}, nil},
		{"late share alone", func(r *results.Result) { r.Schedule.Late = r.Schedule.Sent / 50 },
			[]string{"client behind schedule: send lag p99 "}},
		{"lag p99 alone", func(r *results.Result) {
			for i := 0; i < 100; i++ {
				r.Total.SendLag.Record(30 * time.Millisecond)
			}
		}, []string{"client behind schedule: send lag p99 30.0ms, max 30.0ms"}},
		{"closed model ignores lag", func(r *results.Result) {
			r.Meta.Model = results.ClosedModel
			r.Schedule.Late = r.Schedule.Sent
		}, nil},
		{"dropped", func(r *results.Result) { r.Schedule.Dropped = 7 }, []string{"7 of 1100 planned arrivals dropped"}},
		{"unsent", func(r *results.Result) { r.Schedule.Unsent = 9 }, []string{"9 of 1100 planned arrivals were never sent"}},
		{"partial", func(r *results.Result) { r.Meta.Partial = true }, []string{"partial result (the run did not finish)"}},
		{"stopped", func(r *results.Result) { r.Meta.StopReason = "stopped by the user" }, []string{"the run stopped early: stopped by the user"}},
		{"errors", func(r *results.Result) { r.Total.Errors = 100 }, []string{"10.0% of requests failed (100 of 1000), mostly http_5xx"}},
		{"nothing", func(r *results.Result) { r.Total = results.NewStats("", "") }, []string{"no requests were measured"}},
		{"folded groups", func(r *results.Result) {
			g := results.NewStats("page", results.OtherGroup)
			g.Requests = 42
			r.Groups = append(r.Groups, g)
		}, []string{"request page has more tag groups than the 1000 a run keeps: 42 requests of the others are counted in page{other}"}},
		{"folded response groups", func(r *results.Result) {
			for _, group := range []string{"size=s,x-request-id=other", "size=l,x-request-id=other", "size=s,x-request-id=7"} {
				g := results.NewStats("item", group)
				g.Requests = 10
				r.Groups = append(r.Groups, g)
			}
			r.GroupByFolds = []results.GroupByFold{{Name: "item", Label: "x-request-id", Limit: 20}}
		}, []string{"request item is grouped by x-request-id, which took more than the 20 distinct values kept: 20 requests with the others are counted as x-request-id=other"}},
		{"steal below the bound", func(r *results.Result) {
			r.Meta.Steal = &results.Steal{CPUs: 2, Stolen: results.Duration(219 * time.Millisecond), Time: results.Duration(22 * time.Second), Worst: 0.2}
		}, nil},
		{"steal at the bound", func(r *results.Result) {
			r.Meta.Steal = &results.Steal{CPUs: 2, Stolen: results.Duration(220 * time.Millisecond), Time: results.Duration(22 * time.Second)}
		}, []string{"the hypervisor took 1.00% of this machine's CPU time during the run (steal on the 2 CPUs tailgate could run on); send lag and latency include those stalls"}},
		{"steal behind schedule", func(r *results.Result) {
			r.Meta.Steal = &results.Steal{CPUs: 1, Stolen: results.Duration(time.Second), Time: results.Duration(10 * time.Second), Worst: 0.5, WorstAt: results.Duration(3 * time.Second)}
			r.Schedule.Late = r.Schedule.Sent / 50
		}, []string{"The cause: the hypervisor took 10.0% of the CPUs' time (steal).",
			"the hypervisor took 10.0% of this machine's CPU time during the run (steal on the CPU tailgate could run on, 50.0% in its worst second at 3s)"}},
		{"behind, steal measured but small", func(r *results.Result) {
			r.Meta.Steal = &results.Steal{CPUs: 1, Stolen: results.Duration(10 * time.Millisecond), Time: results.Duration(10 * time.Second)}
			r.Schedule.Late = r.Schedule.Sent / 50
		}, []string{"Not the CPU (9.78% busy), the hypervisor (0.10% stolen), --max-in-flight"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := fixture(t, "ok")
			tt.modify(r)
			got := report.Warnings(r)
			if len(got) != len(tt.want) {
				t.Fatalf("got %d warnings %q, want %d", len(got), got, len(tt.want))
			}
			for i := range got {
				if !strings.Contains(got[i], tt.want[i]) {
					t.Errorf("warning %d = %q, want it to contain %q", i, got[i], tt.want[i])
				}
			}
		})
	}
}

// TestJSONShape checks the contract of the JSON summary: these keys, with
// these types, and nothing renamed.
func TestTextLongNames(t *testing.T) {
	r := fixture(t, "ok")
	long := "GET /api/v2/products?page[size]=100&page[cursor]=abcdef"
	r.Requests[0].Name = long
	var buf bytes.Buffer
	if err := report.WriteText(&buf, r); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(buf.String(), "\n")
	for i, line := range lines {
		if utf8.RuneCountInString(line) > 80 {
			t.Errorf("line %d has %d columns: %q", i+1, utf8.RuneCountInString(line), line)
		}
		if line == "  "+long {
			// The figures follow on the next line, under their columns.
			if next := lines[i+1]; !strings.HasPrefix(next, "                ") || !strings.Contains(next, "ms") {
				t.Errorf("figures of a long name: %q", next)
			}
			return
		}
	}
	t.Errorf("long name not on a line of its own:\n%s", buf.String())
}

func TestJSONShape(t *testing.T) {
	var buf bytes.Buffer
	r := fixture(t, "ok")
	// Two of the cursor endpoint's requests were refused with a 429.
	for _, st := range []*results.Stats{r.Total, r.Requests[0]} {
		st.ErrorKinds[results.RateLimited] += 2
	}
	if err := report.WriteJSON(&buf, r); err != nil {
		t.Fatal(err)
	}
	var doc map[string]any
	if err := json.Unmarshal(buf.Bytes(), &doc); err != nil {
		t.Fatal(err)
	}
	checkStats := func(where string, v any) {
		m, ok := v.(map[string]any)
		if !ok {
			t.Fatalf("%s: not an object: %v", where, v)
		}
		for _, k := range []string{"requests", "errors", "rate_limited", "rate"} {
			if _, ok := m[k].(float64); !ok {
				t.Errorf("%s.%s: want a number, got %v", where, k, m[k])
			}
		}
		if n := m["requests"].(float64); n != math.Trunc(n) {
			t.Errorf("%s.requests = %v, want an integer", where, n)
		}
		for _, h := range []string{"latency_ms", "service_ms"} {
			p, ok := m[h].(map[string]any)
			if !ok {
				t.Fatalf("%s.%s missing", where, h)
			}
			for _, k := range []string{"p50", "p90", "p95", "p99", "p99.9", "max"} {
				if _, ok := p[k].(float64); !ok {
					t.Errorf("%s.%s.%s: want a number, got %v", where, h, k, p[k])
				}
			}
		}
	}
	checkStats("total", doc["total"])
	reqs, ok := doc["requests"].(map[string]any)
	if !ok || len(reqs) != 2 {
		t.Fatalf("requests = %v, want 2 names", doc["requests"])
	}
	for name, v := range reqs {
		checkStats("requests."+name, v)
	}
	for where, want := range map[string]float64{"total": 2, "requests.GET /cursor": 2, "requests.GET /offset": 0} {
		m := doc["total"].(map[string]any)
		if name, ok := strings.CutPrefix(where, "requests."); ok {
			m = reqs[name].(map[string]any)
		}
		if got := m["rate_limited"].(float64); got != want {
			t.Errorf("%s.rate_limited = %v, want %v", where, got, want)
		}
	}
	total := doc["total"].(map[string]any)
	p99 := total["latency_ms"].(map[string]any)["p99"].(float64)
	if want := float64(r.Total.Latency.Percentile(99)) / 1e6; p99 != want {
		t.Errorf("total.latency_ms.p99 = %v, want %v", p99, want)
	}
	if rate := total["rate"].(float64); rate != 100 {
		t.Errorf("total.rate = %v, want 100 (1000 requests in 10 measured seconds)", rate)
	}
}

// TestResultsFileRoundTrip writes a result, reads it back and checks that
// every histogram is identical, not just similar.
func TestResultsFileRoundTrip(t *testing.T) {
	for _, variant := range []string{"ok", "behind", "closed"} {
		r := fixture(t, variant)
		path := t.TempDir() + "/results.json"
		if err := r.WriteFile(path); err != nil {
			t.Fatal(err)
		}
		back, err := results.ReadResultFile(path)
		if err != nil {
			t.Fatal(err)
		}
		checkSameStats(t, "total", r.Total, back.Total)
		checkSameStats(t, "warmup", r.Warmup, back.Warmup)
		if len(back.Requests) != len(r.Requests) || len(back.Groups) != len(r.Groups) {
			t.Fatalf("%d requests %d groups back, want %d and %d", len(back.Requests), len(back.Groups), len(r.Requests), len(r.Groups))
		}
		for i := range r.Requests {
			checkSameStats(t, r.Requests[i].Key(), r.Requests[i], back.Requests[i])
		}
		for i := range r.Groups {
			checkSameStats(t, r.Groups[i].Key(), r.Groups[i], back.Groups[i])
		}
		for i := range r.Timeline {
			a, b := &r.Timeline[i], &back.Timeline[i]
			if !a.Total.Latency.Equal(b.Total.Latency) || !a.Total.SendLag.Equal(b.Total.SendLag) || a.Total.Requests != b.Total.Requests {
				t.Errorf("timeline %d differs after the round trip", i)
			}
			for j := range a.Series {
				if !a.Series[j].Latency.Equal(b.Series[j].Latency) {
					t.Errorf("timeline %d series %s differs", i, a.Series[j].Name)
				}
			}
		}
		if back.Meta.Start != r.Meta.Start || back.Meta.Warmup != r.Meta.Warmup || back.Schedule != r.Schedule || back.Meta.Partial != r.Meta.Partial {
			t.Errorf("metadata differs after the round trip: %+v vs %+v", back.Meta, r.Meta)
		}
		// The reports of the two are byte for byte the same.
		var a, b bytes.Buffer
		_ = report.WriteJSON(&a, r)
		_ = report.WriteJSON(&b, back)
		if a.String() != b.String() {
			t.Errorf("%s: JSON summary changed after the round trip", variant)
		}
	}
}

func checkSameStats(t *testing.T, name string, a, b *results.Stats) {
	t.Helper()
	if a.Requests != b.Requests || a.Errors != b.Errors || a.BytesIn != b.BytesIn || a.BytesOut != b.BytesOut {
		t.Errorf("%s: counters differ: %+v vs %+v", name, a, b)
	}
	if !a.Latency.Equal(b.Latency) || !a.Service.Equal(b.Service) || !a.SendLag.Equal(b.SendLag) {
		t.Errorf("%s: histograms differ", name)
	}
	if a.Latency.Count() == 0 {
		t.Errorf("%s: empty fixture histogram makes the check meaningless", name)
	}
}

// TestJSONPercentilesDecode: a summary reads back what it wrote, keys in
// the reports' order; a summary written when fewer percentiles were
// reported reads with the missing ones 0, and a key no longer reported is
// ignored, so scripts' old files keep decoding.
func TestJSONPercentilesDecode(t *testing.T) {
	var p report.JSONPercentiles
	for i := range p.At {
		p.At[i] = float64(i+1) * 1.5
	}
	p.Max, p.Mean = 99, 2.25
	b, err := json.Marshal(p)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(b, []byte(`{"p50":1.5,"p90":3,`)) || !bytes.HasSuffix(b, []byte(`"max":99,"mean":2.25}`)) {
		t.Errorf("encoding %s: want the percentiles in order, then max and mean", b)
	}
	var back report.JSONPercentiles
	if err := json.Unmarshal(b, &back); err != nil || back != p {
		t.Errorf("round trip: %+v, %v; want %+v", back, err, p)
	}
	var old report.JSONPercentiles
	if err := json.Unmarshal([]byte(`{"p50":1,"p99":4,"p99.8":7,"max":9,"mean":2}`), &old); err != nil {
		t.Fatal(err)
	}
	if old.Of(50) != 1 || old.Of(99) != 4 || old.Of(90) != 0 || old.Max != 9 || old.Mean != 2 {
		t.Errorf("old summary read as %+v", old)
	}
	if err := json.Unmarshal([]byte(`{"p50":"fast"}`), &old); err == nil {
		t.Errorf("a string percentile decoded without error")
	}
}

// TestRetriesInEveryFormat checks that text, Markdown and JSON say how
// many requests were retried and how many attempts they took.
func TestRetriesInEveryFormat(t *testing.T) {
	r := fixture(t, "ok")
	// 4 cursor requests were retried, taking 10 attempts: 6 retried
	// attempts are in the 400 requests.
	for _, st := range []*results.Stats{r.Total, r.Requests[0]} {
		st.Retried, st.Retries = 4, 6
	}
	var text, md, js bytes.Buffer
	if err := report.WriteText(&text, r); err != nil {
		t.Fatal(err)
	}
	if err := report.WriteMarkdown(&md, r); err != nil {
		t.Fatal(err)
	}
	if err := report.WriteJSON(&js, r); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"  retried    4 of 994 requests, 10 attempts\n", "             GET /cursor: 4 of 394 requests, 10 attempts\n"} {
		if !strings.Contains(text.String(), want) {
			t.Errorf("text lacks %q:\n%s", want, text.String())
		}
	}
	if !strings.Contains(md.String(), " · Retried: 4 of 994 requests, 10 attempts") {
		t.Errorf("Markdown lacks the retries:\n%s", md.String())
	}
	var doc struct {
		Total    report.JSONStats            `json:"total"`
		Requests map[string]report.JSONStats `json:"requests"`
	}
	if err := json.Unmarshal(js.Bytes(), &doc); err != nil {
		t.Fatal(err)
	}
	if doc.Total.Retried != 4 || doc.Total.Retries != 6 || doc.Requests["GET /offset"].Retried != 0 {
		t.Errorf("JSON total retried %d retries %d, offset retried %d", doc.Total.Retried, doc.Total.Retries, doc.Requests["GET /offset"].Retried)
	}
	// 6 errors of 994 outcomes: the retried attempts are no outcome.
	if want := 6.0 / 994; doc.Total.ErrorRate != want {
		t.Errorf("error_rate %v, want %v", doc.Total.ErrorRate, want)
	}
}
