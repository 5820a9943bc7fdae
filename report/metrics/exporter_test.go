package metrics

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	"github.com/tailgate-dev/tailgate/results"
)

// gather collects the exporter's metric families by name.
func gather(t *testing.T, e *Exporter) map[string]*dto.MetricFamily {
	t.Helper()
	reg := prometheus.NewPedanticRegistry()
	reg.MustRegister(e.Collector())
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]*dto.MetricFamily{}
	for _, mf := range mfs {
		out[mf.GetName()] = mf
	}
	return out
}

func labelsOf(m *dto.Metric) map[string]string {
	out := map[string]string{}
	for _, l := range m.GetLabel() {
		out[l.GetName()] = l.GetValue()
	}
	return out
}

// buckets records values into a sparse HDR histogram and returns its
// buckets, as the engine's collector does for one interval.
func buckets(values []time.Duration) []results.Bucket {
	h := results.NewSparseHistogram()
	for _, v := range values {
		h.Record(v)
	}
	return h.AppendBuckets(nil)
}

// TestHistogramMatchesClientGolang feeds the same latencies to the exporter
// (through HDR buckets) and to client_golang's own histogram with the same
// classic bounds and native schema: every classic and native bucket count
// must agree.
func TestHistogramMatchesClientGolang(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	var values []time.Duration
	for range 20000 {
		// Log-uniform from 20µs to 2s in whole microseconds (the HDR
		// resolution).
		us := int64(20 * math.Pow(1e5, rng.Float64()))
		values = append(values, time.Duration(us)*time.Microsecond)
	}
	ref := prometheus.NewHistogram(prometheus.HistogramOpts{
		Name: "ref", Buckets: ClassicBounds, NativeHistogramBucketFactor: 1.045,
		NativeHistogramZeroThreshold: prometheus.DefNativeHistogramZeroThreshold,
	})
	for _, v := range values {
		// The value the HDR bucket stands for, so the comparison is about
		// bucketing, not HDR resolution.
		ref.Observe(buckets([]time.Duration{v})[0].Value.Seconds())
	}
	var want dto.Metric
	if err := ref.Write(&want); err != nil {
		t.Fatal(err)
	}
	if got := want.GetHistogram().GetSchema(); got != Schema {
		t.Fatalf("reference schema %d, want %d", got, Schema)
	}

	e := New(Labels{RunID: "r1"})
	start := time.Unix(1000, 0)
	// Two intervals, so accumulation is covered too.
	half := len(values) / 2
	for i, part := range [][]time.Duration{values[:half], values[half:]} {
		d := results.SeriesDelta{Name: "get", Status: map[int]uint64{200: uint64(len(part))}}
		d.Latency[results.OutcomeOK] = buckets(part)
		e.Observe(&results.Snapshot{Time: start.Add(time.Duration(i+1) * time.Second), Elapsed: time.Duration(i+1) * time.Second, Deltas: []results.SeriesDelta{d}})
	}
	mfs := gather(t, e)
	lat := mfs[NameRequestDuration]
	if lat == nil || len(lat.GetMetric()) != 1 {
		t.Fatalf("request duration family: %v", lat)
	}
	got := lat.GetMetric()[0].GetHistogram()
	if got.GetSampleCount() != uint64(len(values)) {
		t.Errorf("count %d, want %d", got.GetSampleCount(), len(values))
	}
	if d := got.GetSampleSum() - want.GetHistogram().GetSampleSum(); d > 1e-6 || d < -1e-6 {
		t.Errorf("sum %g, want %g", got.GetSampleSum(), want.GetHistogram().GetSampleSum())
	}
	for i, b := range got.GetBucket() {
		w := want.GetHistogram().GetBucket()[i]
		if b.GetUpperBound() != w.GetUpperBound() || b.GetCumulativeCount() != w.GetCumulativeCount() {
			t.Errorf("classic bucket %d: %g/%d, want %g/%d", i, b.GetUpperBound(), b.GetCumulativeCount(), w.GetUpperBound(), w.GetCumulativeCount())
		}
	}
	gotNative, wantNative := expand(got), expand(want.GetHistogram())
	if len(gotNative) != len(wantNative) {
		t.Errorf("%d native buckets, want %d", len(gotNative), len(wantNative))
	}
	for i, c := range wantNative {
		if gotNative[i] != c {
			t.Errorf("native bucket %d: %d, want %d", i, gotNative[i], c)
		}
	}
	if l := labelsOf(lat.GetMetric()[0]); l["run_id"] != "r1" || l["shard"] != "0" || l["request"] != "get" || l["outcome"] != "ok" || l["group"] != "" {
		t.Errorf("labels %v", l)
	}
	if ct := got.GetCreatedTimestamp().AsTime(); !ct.Equal(start) {
		t.Errorf("created %v, want the run's start %v", ct, start)
	}
}

// expand decodes native spans and deltas into index → count.
func expand(h *dto.Histogram) map[int]int64 {
	out := map[int]int64{}
	idx, k := 0, 0
	var count int64
	for s, span := range h.GetPositiveSpan() {
		if s == 0 {
			idx = int(span.GetOffset())
		} else {
			idx += int(span.GetOffset())
		}
		for range span.GetLength() {
			count += h.GetPositiveDelta()[k]
			out[idx] = count
			k++
			idx++
		}
	}
	return out
}

func TestCountersAndLabels(t *testing.T) {
	e := New(Labels{RunID: "abc", Shard: 1, Shards: 2})
	d1 := results.SeriesDelta{
		Name: "search", Group: "depth=10",
		Status:     map[int]uint64{200: 5, 503: 2},
		NoResponse: map[string]uint64{"timeout": 1},
		Errors:     map[string]uint64{"http_5xx": 2, "timeout": 1},
	}
	d1.Latency[results.OutcomeOK] = buckets([]time.Duration{time.Millisecond, 2 * time.Millisecond, 3 * time.Millisecond, 4 * time.Millisecond, 5 * time.Millisecond})
	d1.Latency[results.OutcomeFailed] = buckets([]time.Duration{time.Millisecond, time.Millisecond, time.Second})
	e.Observe(&results.Snapshot{
		Time: time.Unix(10, 0), Elapsed: time.Second, TargetRate: 100, InFlight: 3,
		Sent: 9, Late: 2, Dropped: 1, Deltas: []results.SeriesDelta{d1},
		Iterations: map[string]uint64{"browse": 8},
	})
	d2 := results.SeriesDelta{Name: "search", Group: "depth=10", Status: map[int]uint64{200: 1}}
	d2.Latency[results.OutcomeOK] = buckets([]time.Duration{time.Millisecond})
	e.Observe(&results.Snapshot{Time: time.Unix(11, 0), Elapsed: 2 * time.Second, TargetRate: 100, Sent: 10, Late: 2, Dropped: 1,
		Deltas: []results.SeriesDelta{d2}, Iterations: map[string]uint64{"browse": 1}})

	mfs := gather(t, e)
	for _, name := range Names {
		mf := mfs[name]
		if mf == nil {
			t.Errorf("%s not exported", name)
			continue
		}
		for _, m := range mf.GetMetric() {
			if l := labelsOf(m); l["run_id"] != "abc" || l["shard"] != "1" {
				t.Errorf("%s: labels %v lack run_id/shard", name, l)
			}
		}
	}
	requests := map[string]float64{}
	for _, m := range mfs[NameRequests].GetMetric() {
		requests[labelsOf(m)["status"]] = m.GetCounter().GetValue()
	}
	if want := map[string]float64{"200": 6, "503": 2, "timeout": 1}; !mapsEqual(requests, want) {
		t.Errorf("requests by status %v, want %v", requests, want)
	}
	outcomes := map[string]uint64{}
	for _, m := range mfs[NameRequestDuration].GetMetric() {
		outcomes[labelsOf(m)["outcome"]] = m.GetHistogram().GetSampleCount()
	}
	if outcomes["ok"] != 6 || outcomes["failed"] != 3 {
		t.Errorf("latency counts by outcome %v, want ok 6, failed 3", outcomes)
	}
	checks := []struct {
		name string
		want float64
	}{
		{NameIterations, 9}, {NameInFlight, 0}, {NamePlannedRate, 50},
		{NameArrivalsSent, 10}, {NameArrivalsLate, 2}, {NameArrivalsDropped, 1},
	}
	for _, c := range checks {
		m := mfs[c.name].GetMetric()[0]
		v := m.GetCounter().GetValue() + m.GetGauge().GetValue()
		if v != c.want {
			t.Errorf("%s = %g, want %g", c.name, v, c.want)
		}
	}
}

func mapsEqual(a, b map[string]float64) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}

func TestSpans(t *testing.T) {
	bs := []nativeBucket{{-3, 1}, {-2, 4}, {5, 2}, {6, 2}, {9, 1}}
	offsets, lengths, deltas := spans(bs)
	if !slices.Equal(offsets, []int32{-3, 6, 2}) || !slices.Equal(lengths, []uint32{2, 2, 1}) || !slices.Equal(deltas, []int64{1, 3, -2, 0, -1}) {
		t.Errorf("spans %v %v %v", offsets, lengths, deltas)
	}
}

func TestNativeIndexBoundaries(t *testing.T) {
	for _, c := range []struct {
		v    float64
		want int
	}{
		{1, 0}, {1.0001, 1}, {2, 16}, {0.5, -16}, {0.5000001, -15}, {math.Pow(2, 1.0/16), 1},
	} {
		if got := nativeIndex(c.v); got != c.want {
			t.Errorf("nativeIndex(%g) = %d, want %d", c.v, got, c.want)
		}
	}
}

// TestRunsAddUp: capacity probes are runs of their own, whose snapshots
// count arrivals from zero again; the exported counters keep growing.
func TestRunsAddUp(t *testing.T) {
	e := New(Labels{RunID: "cap"})
	for _, s := range []results.Snapshot{
		{Elapsed: time.Second, Sent: 100, Late: 1},
		{Elapsed: 2 * time.Second, Sent: 200, Late: 2},
		{Elapsed: time.Second, Sent: 300, Late: 0},
		{Elapsed: 2 * time.Second, Sent: 600, Late: 5},
	} {
		e.Observe(&s)
	}
	mfs := gather(t, e)
	if v := mfs[NameArrivalsSent].GetMetric()[0].GetCounter().GetValue(); v != 800 {
		t.Errorf("arrivals sent %v, want 800", v)
	}
	if v := mfs[NameArrivalsLate].GetMetric()[0].GetCounter().GetValue(); v != 7 {
		t.Errorf("arrivals late %v, want 7", v)
	}
}

// TestRunIDFromSnapshots: without a run id of its own the exporter labels
// everything with the snapshots' (the results file's) and says nothing
// before the first snapshot.
func TestRunIDFromSnapshots(t *testing.T) {
	e := New(Labels{})
	if mfs := gather(t, e); len(mfs) != 0 {
		t.Fatalf("%d families before the first snapshot", len(mfs))
	}
	e.Observe(&results.Snapshot{Elapsed: time.Second, RunID: "0123abcd", Sent: 1})
	for _, m := range gather(t, e)[NameArrivalsSent].GetMetric() {
		if l := labelsOf(m); l["run_id"] != "0123abcd" {
			t.Errorf("labels %v, want run_id 0123abcd", l)
		}
	}
}
