package metrics

import (
	"testing"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	"go.opentelemetry.io/otel/sdk/resource"
)

// TestOTLPAgreesWithPrometheus: OTLP's exponential histograms and
// Prometheus' native ones are one set of buckets (OTLP bucket i is native
// bucket i+1 at the same scale), with the same count and sum, so the two
// backends report the same percentiles of one run.
func TestOTLPAgreesWithPrometheus(t *testing.T) {
	e := New(Labels{RunID: "r1", Shard: 1, Shards: 2})
	for i := range 3 {
		e.Observe(busySnapshot(time.Duration(i+1) * time.Second))
	}
	native := gather(t, e)[NameRequestDuration].GetMetric()[0].GetHistogram()
	rm := e.resourceMetrics(resource.NewSchemaless())
	var lat *metricdata.ExponentialHistogram[float64]
	for _, m := range rm.ScopeMetrics[0].Metrics {
		if m.Name == "tailgate.request.duration" {
			h := m.Data.(metricdata.ExponentialHistogram[float64])
			lat = &h
		}
	}
	if lat == nil || len(lat.DataPoints) != 1 {
		t.Fatalf("request duration: %+v", lat)
	}
	if lat.Temporality != metricdata.CumulativeTemporality {
		t.Errorf("temporality %v, want cumulative", lat.Temporality)
	}
	p := lat.DataPoints[0]
	if p.Scale != Schema || p.Count != native.GetSampleCount() || p.Sum != native.GetSampleSum() {
		t.Errorf("scale %d count %d sum %g, want %d %d %g", p.Scale, p.Count, p.Sum, Schema, native.GetSampleCount(), native.GetSampleSum())
	}
	want := expand(native)
	got := map[int]int64{}
	for k, c := range p.PositiveBucket.Counts {
		if c != 0 {
			got[int(p.PositiveBucket.Offset)+k+1] = int64(c)
		}
	}
	if len(got) != len(want) {
		t.Fatalf("%d populated buckets, Prometheus has %d", len(got), len(want))
	}
	for i, c := range want {
		if got[i] != c {
			t.Errorf("native bucket %d: OTLP counts %d, Prometheus %d", i, got[i], c)
		}
	}
	if lo, ok := p.Min.Value(); !ok || lo <= 0 || lo > nativeUpper(int(p.PositiveBucket.Offset)+1) {
		t.Errorf("min %v (%v) outside the first bucket", lo, ok)
	}
	for _, kv := range []attribute.KeyValue{attribute.String("run_id", "r1"), attribute.String("shard", "1"), attribute.String("outcome", "ok")} {
		if v, ok := p.Attributes.Value(kv.Key); !ok || v != kv.Value {
			t.Errorf("attribute %s = %v, want %v", kv.Key, v.String(), kv.Value.String())
		}
	}
}

// TestOTLPBeforeFirstSnapshot: nothing to say, and no run id to say it
// with.
func TestOTLPBeforeFirstSnapshot(t *testing.T) {
	if rm := New(Labels{}).resourceMetrics(resource.NewSchemaless()); len(rm.ScopeMetrics) != 0 {
		t.Fatalf("%d scopes before the first snapshot", len(rm.ScopeMetrics))
	}
}
