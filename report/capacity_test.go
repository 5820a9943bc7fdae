package report

import (
	"bytes"
	"encoding/json"
	"path/filepath"
	"testing"
	"time"

	"github.com/tailgate-dev/tailgate/internal/golden"
	"github.com/tailgate-dev/tailgate/results"
)

func capacityFixture() *results.Capacity {
	probe := func(rate, achieved, p50, p99, p999, errRate float64, verdict, reason string) results.CapacityProbe {
		return results.CapacityProbe{
			Rate: rate, Achieved: achieved, ErrorRate: errRate,
			Latency: map[string]float64{"p50": p50, "p99": p99, "p99.9": p999},
			Pass:    verdict == "pass", Verdict: verdict, Reason: reason,
		}
	}
	return &results.Capacity{
		Version: results.ResultVersion, Kind: results.CapacityKind, Target: "http://127.0.0.1:8080/api/posts",
		MaxRate: 452.5, Bracket: [2]float64{452.5, 461.6}, LimitedBy: "target",
		SLO: []string{"p99 < 40ms", "error_rate < 1%"}, LatencyBound: results.Duration(40 * time.Millisecond),
		Arrivals: "uniform", Elapsed: results.Duration(97 * time.Second),
		Probes: []results.CapacityProbe{
			probe(100, 100, 3.1, 8.2, 11.5, 0, "pass", ""),
			probe(200, 200, 3.3, 9.1, 13.0, 0, "pass", ""),
			probe(400, 399.9, 4.0, 18.7, 25.1, 0, "pass", ""),
			probe(800, 612.4, 410, 1830, 1990, 0.021, "fail", "p99 < 40ms (p99 = 1.83s); backlog: median latency grew from 12ms to 820ms during the probe"),
			probe(565.7, 560.1, 40.2, 212, 260, 0, "fail", "p99 < 40ms (p99 = 212ms)"),
			probe(475.7, 475.5, 5.1, 36.2, 48.9, 0, "pass", ""),
			probe(518.7, 518.2, 9.7, 96.1, 120, 0, "fail", "p99 < 40ms (p99 = 96.1ms)"),
			probe(496.7, 496.4, 6.6, 52.3, 70.0, 0, "fail", "p99 < 40ms (p99 = 52.3ms)"),
			probe(486.1, 485.9, 5.9, 44.8, 60.2, 0, "fail", "p99 < 40ms (p99 = 44.8ms)"),
			probe(480.9, 480.7, 5.4, 38.9, 51.0, 0, "pass", ""),
		},
	}
}

// TestCapacityWriters: the capacity search as text, Markdown (with and
// without a baseline) and the JSON summary, against golden files.
func TestCapacityWriters(t *testing.T) {
	c := capacityFixture()
	c.MaxRate, c.Bracket = 480.9, [2]float64{480.9, 486.1}
	base := capacityFixture()
	base.MaxRate = 466.9
	for _, tt := range []struct {
		name  string
		write func(*bytes.Buffer) error
	}{
		{"capacity.txt", func(b *bytes.Buffer) error { return WriteCapacityText(b, c) }},
		{"capacity.md", func(b *bytes.Buffer) error { return WriteCapacityMarkdown(b, c, nil) }},
		{"capacity-baseline.md", func(b *bytes.Buffer) error { return WriteCapacityMarkdown(b, c, base) }},
		{"capacity.json", func(b *bytes.Buffer) error { return WriteCapacityJSON(b, c) }},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var buf bytes.Buffer
			if err := tt.write(&buf); err != nil {
				t.Fatal(err)
			}
			golden.Check(t, filepath.Join("testdata", tt.name), buf.Bytes())
		})
	}
}

// TestCapacityJSONShape: the summary has exactly the fields the docs
// promise, with the probes' full results left out.
func TestCapacityJSONShape(t *testing.T) {
	c := capacityFixture()
	c.Probes[0].Result = &results.Result{Total: results.NewStats("", "")}
	var buf bytes.Buffer
	if err := WriteCapacityJSON(&buf, c); err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(buf.Bytes(), &m); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"max_rate", "bracket", "limited_by", "slo", "probes"} {
		if _, ok := m[k]; !ok {
			t.Errorf("no %q in the summary", k)
		}
	}
	p := m["probes"].([]any)[0].(map[string]any)
	for _, k := range []string{"rate", "achieved", "latency_ms", "error_rate", "pass", "reason"} {
		if _, ok := p[k]; !ok {
			t.Errorf("no %q in a probe", k)
		}
	}
	if _, ok := p["result"]; ok {
		t.Error("the summary carries a probe's full result")
	}
	if c.Probes[0].Result == nil {
		t.Error("Summary changed the search it summarises")
	}
}
