package metrics

import (
	"io"
	"math"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/tailgate-dev/tailgate/results"
	"go.opentelemetry.io/otel/sdk/resource"
)

// busySnapshot is one second of a run at 10k/s against one endpoint: a
// series whose latency, service time and send lag spread log-normally, as
// the engine's collector hands them to the exporter.
func busySnapshot(at time.Duration) *results.Snapshot {
	rng := rand.New(rand.NewPCG(3, 4))
	draw := func(median time.Duration) []results.Bucket {
		h := results.NewSparseHistogram()
		for range 10000 {
			h.Record(time.Duration(float64(median) * math.Exp(rng.NormFloat64())))
		}
		return h.AppendBuckets(nil)
	}
	d := results.SeriesDelta{Name: "GET /", Status: map[int]uint64{200: 10000}}
	d.Latency[results.OutcomeOK] = draw(400 * time.Microsecond)
	d.Service[results.OutcomeOK] = draw(300 * time.Microsecond)
	d.SendLag[results.OutcomeOK] = draw(50 * time.Microsecond)
	return &results.Snapshot{
		Time: time.Unix(0, 0).Add(at), Elapsed: at, RunID: "bench", Sent: 10000,
		Deltas: []results.SeriesDelta{d}, Iterations: map[string]uint64{"GET /": 10000},
	}
}

// BenchmarkObserve is the collector's share of exporting: adding one
// second's snapshot.
func BenchmarkObserve(b *testing.B) {
	e := New(Labels{})
	s := busySnapshot(time.Second)
	b.ReportAllocs()
	for b.Loop() {
		e.Observe(s)
	}
}

// tenSeconds is an exporter fed ten seconds of busySnapshot, and a registry
// of it.
func tenSeconds() (*Exporter, *prometheus.Registry) {
	e := New(Labels{})
	for i := range 10 {
		e.Observe(busySnapshot(time.Duration(i+1) * time.Second))
	}
	reg := prometheus.NewRegistry()
	reg.MustRegister(e.Collector())
	return e, reg
}

// BenchmarkScrape serves /metrics to a Prometheus-like scraper (protobuf
// with native histograms, gzip accepted) after ten seconds of snapshots.
func BenchmarkScrape(b *testing.B) {
	_, reg := tenSeconds()
	h := handler(reg)
	req := httptest.NewRequest(http.MethodGet, "/metrics", nil)
	req.Header.Set("Accept", "application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily;encoding=delimited")
	req.Header.Set("Accept-Encoding", "gzip")
	b.ReportAllocs()
	for b.Loop() {
		w := httptest.NewRecorder()
		h.ServeHTTP(w, req)
		if w.Code != http.StatusOK {
			b.Fatalf("status %d", w.Code)
		}
		io.Copy(io.Discard, w.Body)
	}
}

// BenchmarkPushEncode is one remote-write push's gathering and encoding
// after ten seconds of snapshots.
func BenchmarkPushEncode(b *testing.B) {
	_, reg := tenSeconds()
	b.ReportAllocs()
	for b.Loop() {
		mfs, err := reg.Gather()
		if err != nil {
			b.Fatal(err)
		}
		encodeWriteRequest(mfs, time.Unix(10, 0))
	}
}

// BenchmarkOTLPBuild is one OTLP export's copy of the exporter's state
// (the encoding and sending are the SDK exporter's) after ten seconds of
// snapshots.
func BenchmarkOTLPBuild(b *testing.B) {
	e, _ := tenSeconds()
	res := resource.NewSchemaless()
	b.ReportAllocs()
	for b.Loop() {
		e.resourceMetrics(res)
	}
}
