package results

import (
	"bytes"
	"errors"
	"strings"
	"testing"
	"time"
)

// flowShard is shard i of 2 with a flow whose iterations take i+1 times
// as long, as a file holds it.
func flowShard(t *testing.T, i int) *Result {
	t.Helper()
	r := &Result{Version: ResultVersion, Meta: Meta{Model: OpenModel, Shard: Shard{Index: i, Count: 2}, PlanHash: "p"},
		Total: NewStats("", ""), Flows: []*Stats{NewStats("checkout", "")}}
	f := r.Flows[0]
	for v := range 100 {
		d := time.Duration(i+1) * time.Duration(v+1) * time.Millisecond
		f.Latency.Record(d)
		f.Service.Record(d / 2)
		f.SendLag.Record(time.Microsecond)
	}
	f.Requests, f.Errors = 103, 3
	f.ErrorKinds["timeout"] = 3
	f.FailedLatency = NewHistogram()
	for range 3 {
		f.FailedLatency.Record(time.Duration(i+1) * time.Second)
	}
	var buf bytes.Buffer
	if err := r.Encode(&buf); err != nil {
		t.Fatal(err)
	}
	back, err := DecodeResult(&buf)
	if err != nil {
		t.Fatal(err)
	}
	return back
}

// TestMergeFlowsExactly: the shards' flow series merge like requests, the
// histograms without loss.
func TestMergeFlowsExactly(t *testing.T) {
	a, b := flowShard(t, 0), flowShard(t, 1)
	m, err := Merge(a, b)
	if err != nil {
		t.Fatal(err)
	}
	if len(m.Flows) != 1 {
		t.Fatalf("merged flows %+v", m.Flows)
	}
	f := m.Flows[0]
	want := a.Flows[0].Latency.Clone()
	if err := want.Merge(b.Flows[0].Latency); err != nil {
		t.Fatal(err)
	}
	if !f.Latency.Equal(want) || f.Requests != 206 || f.Errors != 6 || f.ErrorKinds["timeout"] != 6 || f.FailedLatency.Count() != 6 {
		t.Errorf("merged flow: %d iterations, %d errors %v, %d failed latencies, latency equal %v",
			f.Requests, f.Errors, f.ErrorKinds, f.FailedLatency.Count(), f.Latency.Equal(want))
	}
	if got := f.Latency.Percentile(50); got != want.Percentile(50) {
		t.Errorf("merged p50 %v, want %v", got, want.Percentile(50))
	}
	if st, err := m.Select(FlowSelector("checkout")); err != nil || st != f {
		t.Errorf("Select(flow:checkout) = %v, %v", st, err)
	}
}

// TestDecodeVersions: a version 1 file (before flows) still decodes, as a
// result without flows; a version newer than this build's is refused; a
// flow's missing histograms read as empty ones.
func TestDecodeVersions(t *testing.T) {
	v1 := `{"version": 1, "meta": {"model": "open"}, "total": {"requests": 2, "errors": 0}, "requests": [{"name": "get", "requests": 2, "errors": 0}], "timeline": []}`
	r, err := DecodeResult(strings.NewReader(v1))
	if err != nil {
		t.Fatal(err)
	}
	if r.Version != 1 || r.Flows != nil || r.Total.Requests != 2 {
		t.Errorf("version 1: %+v", r)
	}
	_, err = DecodeResult(strings.NewReader(`{"version": 3, "total": {}}`))
	if !errors.Is(err, ErrVersion) || !strings.Contains(err.Error(), "reads versions 1 to 2") {
		t.Errorf("version 3: %v", err)
	}
	v2 := `{"version": 2, "total": {"requests": 1, "errors": 0}, "flows": [{"name": "checkout", "requests": 1, "errors": 0}]}`
	r, err = DecodeResult(strings.NewReader(v2))
	if err != nil {
		t.Fatal(err)
	}
	if f := r.LookupFlow("checkout"); f == nil || f.Latency == nil || f.Service == nil || f.SendLag == nil {
		t.Errorf("version 2 flow %+v", f)
	}
	bad := `{"version": 2, "total": {"requests": 1, "errors": 0}, "flows": [{"name": "checkout", "requests": 1, "errors": 2}]}`
	if _, err := DecodeResult(strings.NewReader(bad)); err == nil || !strings.Contains(err.Error(), "flows[0]: 2 errors in 1 requests") {
		t.Errorf("impossible flow: %v", err)
	}
	if _, err := DecodeResult(strings.NewReader(`{"version": 2, "total": {}, "flows": [null]}`)); err == nil || !strings.Contains(err.Error(), "null") {
		t.Errorf("null flow: %v", err)
	}
}
