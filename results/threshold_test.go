package results

import (
	"strings"
	"testing"
	"time"
)

func testResult() *Result {
	mk := func(name, group string, n int, lat time.Duration, errs uint64) *Stats {
		st := NewStats(name, group)
		for i := 1; i <= n; i++ {
			d := lat * time.Duration(i) / time.Duration(n)
			st.Latency.Record(d)
			st.Service.Record(d / 2)
		}
		st.Requests, st.Errors = uint64(n), errs
		return st
	}
	r := &Result{
		Total:    mk("", "", 1000, 100*time.Millisecond, 5),
		Requests: []*Stats{mk("offset", "", 500, 200*time.Millisecond, 0)},
		Groups:   []*Stats{mk("offset", "depth=100", 100, time.Second, 0)},
		// The flow offset: two offset requests per iteration.
		Flows:    []*Stats{mk("offset", "", 250, 400*time.Millisecond, 25)},
		Schedule: Schedule{Planned: 1000, Sent: 960},
	}
	r.Total.ErrorKinds = map[string]uint64{"rate_limited": 3, "http_5xx": 2}
	r.Meta.Start = time.Unix(0, 0)
	r.Meta.End = time.Unix(10, 0)
	r.Meta.PlannedDuration = Duration(10 * time.Second)
	return r
}

func TestThresholds(t *testing.T) {
	r := testResult()
	tests := []struct {
		expr   string
		pass   bool
		actual string
	}{
		{"p99 < 250ms", true, "99.0ms"},
		{"p99 < 50ms", false, "99.0ms"},
		{"p50 <= 51ms", true, "50.0ms"},
		{"max >= 100ms", true, "100ms"},
		{"service.p99 < 50ms", true, "49.5ms"},
		{"error_rate < 1%", true, "0.50%"},
		{"error_rate < 0.1%", false, "0.50%"},
		{"error_rate.rate_limited < 0.3%", false, "0.30%"},
		{"error_rate.rate_limited <= 0.3%", true, "0.30%"},
		{"error_rate.timeout == 0%", true, "0%"},
		{"offset: error_rate.rate_limited == 0%", true, "0%"},
		{"rate >= 95%", true, "96.0% (96.0/s achieved of 100/s planned; 960 of 1000 arrivals sent)"},
		{"rate >= 97%", false, "96.0% (96.0/s achieved of 100/s planned; 960 of 1000 arrivals sent)"},
		{"rate >= 100/s", true, "100/s"},
		{"requests == 1000", true, "1000"},
		{"offset: p99 < 250ms", true, "198ms"},
		{"offset{depth=100}: p99.9 < 1s", false, "1.00s"},
		{"offset{depth=100}: median < 600ms", true, "500ms"},
		{"offset{depth=5}: p99 < 1s", false, ""},
		{"other: p99 < 1s", false, ""},
		{"{depth=100}: p99.9 < 1s", false, "1.00s"},
		{"total: requests == 1000", true, "1000"},
		// A flow and a request of one name are two series.
		{"flow:offset: p99 < 250ms", false, "397ms"},
		{"flow:offset: requests == 250", true, "250"},
		{"flow:offset: error_rate < 5%", false, "10.0%"},
		{"flow:offset: rate >= 25/s", true, "25.0/s"},
		{"flow:offset: service.p50 < 200ms", true, "100ms"},
		{"flow:checkout: p99 < 1s", false, ""},
		{`\flow:offset: p99 < 1s`, false, ""},
	}
	for _, tt := range tests {
		th, err := ParseThreshold(tt.expr)
		if err != nil {
			t.Errorf("%q: %v", tt.expr, err)
			continue
		}
		// "total: " is the whole run, which String writes without one.
		if th.String() != strings.TrimPrefix(tt.expr, "total: ") {
			t.Errorf("%q formats as %q", tt.expr, th.String())
		}
		got := th.Evaluate(r)
		measured := ""
		if got.Measured != nil {
			measured = strings.TrimPrefix(got.Detail, th.Metric.String()+" = ")
		}
		if got.Pass != tt.pass || measured != tt.actual {
			t.Errorf("%q: pass %v measured %q (%s), want %v %q", tt.expr, got.Pass, measured, got.Detail, tt.pass, tt.actual)
		}
		if got.Detail == "" {
			t.Errorf("%q: no detail", tt.expr)
		}
	}
	failed := r.Judge([]*Threshold{mustThreshold(t, "p99 < 1ms"), mustThreshold(t, "requests > 0")})
	if strings.Join(failed, ";") != "p99 < 1ms" || strings.Join(r.Failed(), ";") != "p99 < 1ms" || len(r.Thresholds) != 2 {
		t.Errorf("failed = %v, kept %v", failed, r.Thresholds)
	}
}

func mustThreshold(t *testing.T, s string) *Threshold {
	t.Helper()
	th, err := ParseThreshold(s)
	if err != nil {
		t.Fatal(err)
	}
	return th
}

func TestParseThresholdErrors(t *testing.T) {
	for _, tt := range []struct{ in, want string }{
		{"p99 250ms", "want METRIC OP VALUE"},
		{"p99 =< 1s", "unknown comparison"},
		{"p99 != 1s", "unknown comparison"},
		{"< 1s", "no metric"},
		{"p99 <", "no value"},
		{"p0 < 1s", "(0, 100]"},
		{"p101 < 1s", "(0, 100]"},
		{"pNaN < 1s", "(0, 100]"},
		{"p99 < -1s", "want a duration"},
		{"error_rate < 2", "write a percentage, e.g. 2%"},
		{"error_rate < 1", "write a percentage, e.g. 1%"},
		{"error_rate < 200%", "outside"},
		{"rate > fast", "rate"},
		{"requests > 1.5", "whole number"},
		{"service.error_rate < 1%", "no latency prefix"},
		{"error_rate.rate_limitd < 1%", `did you mean "rate_limited"`},
		{"error_rate.nope < 1%", "use one of refused"},
		{"error_rate.rate_limited < 1", "error_rate.rate_limited: \"1\": write a percentage"},
		{"latncy < 1s", "unknown metric"},
		{": p99 < 1s", "empty request name"},
		{"a{b: p99 < 1s", "no closing }"},
		{"offset: rate >= 95%", "whole run only"},
		{"flow:offset: rate >= 95%", "whole run only"},
		{"flow:: p99 < 1s", "empty flow name"},
		{"flow:a{b=1}: p99 < 1s", "no tag groups"},
	} {
		_, err := ParseThreshold(tt.in)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%q: error %v, want one containing %q", tt.in, err, tt.want)
		}
	}
}

// FuzzThreshold parses arbitrary thresholds: no panics, and a parsed
// threshold evaluates and formats back to something that parses the same.
func FuzzThreshold(f *testing.F) {
	for _, s := range []string{"p99 < 250ms", "offset{depth=1}: p99.9 < 1s", "error_rate < 1%", "error_rate.rate_limited < 1%", "rate >= 95%", "rate > 10/s", "requests == 3", "flow:offset: p99 < 1s"} {
		f.Add(s)
	}
	r := testResult()
	f.Fuzz(func(t *testing.T, s string) {
		th, err := ParseThreshold(s)
		if err != nil {
			return
		}
		_ = th.Evaluate(r)
		again, err := ParseThreshold(th.String())
		if err != nil {
			t.Fatalf("%q formats as %q, which does not parse: %v", s, th.String(), err)
		}
		if again.String() != th.String() {
			t.Fatalf("%q: %q then %q", s, th.String(), again.String())
		}
	})
}

// TestMergeRejudges: a shard's verdict covers only its part, so merge
// judges the thresholds again on the merged result (issue 12, item 11).
func TestMergeRejudges(t *testing.T) {
	shard := func(i int) *Result {
		r := testResult()
		r.Version = ResultVersion
		r.Meta.Shard = Shard{Index: i, Count: 2}
		r.Meta.PlanHash = "feedface"
		r.Judge([]*Threshold{mustThreshold(t, "requests >= 1500"), mustThreshold(t, "p99 < 250ms")})
		if len(r.Failed()) != 1 {
			t.Fatalf("shard %d: failed %v, want requests", i, r.Failed())
		}
		return r
	}
	a, b := shard(0), shard(1)
	b.Thresholds = append(b.Thresholds, Verdict{Threshold: "p99 <<< 1s"})
	m, err := Merge(a, b)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, o := range m.Thresholds {
		got = append(got, o.String())
	}
	want := []string{
		"pass  requests >= 1500  (requests = 2000)",
		"pass  p99 < 250ms  (p99 = 99.0ms)",
		`FAIL  p99 <<< 1s  (cannot re-evaluate: "p99 <<< 1s": unknown comparison "<<" (use <, <=, >, >= or ==))`,
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("merged outcomes:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if len(a.Thresholds) != 2 || a.Thresholds[0].Pass {
		t.Error("merge changed an input's outcomes")
	}
}

func TestLatencyBound(t *testing.T) {
	for expr, want := range map[string]time.Duration{
		"p99 < 40ms": 40 * time.Millisecond, "max <= 1s": time.Second, "mean < 5ms": 5 * time.Millisecond,
		"p99 > 40ms": 0, "min < 1ms": 0, "service.p99 < 1ms": 0, "error_rate < 1%": 0, "rate >= 95%": 0,
	} {
		got, ok := mustThreshold(t, expr).LatencyBound()
		if got != want || ok != (want > 0) {
			t.Errorf("%q.LatencyBound() = %v, %v; want %v", expr, got, ok, want)
		}
	}
}
