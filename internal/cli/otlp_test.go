package cli

import (
	"compress/gzip"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	collector "go.opentelemetry.io/proto/otlp/collector/metrics/v1"
	common "go.opentelemetry.io/proto/otlp/common/v1"
	otlp "go.opentelemetry.io/proto/otlp/metrics/v1"
	"google.golang.org/protobuf/proto"

	"github.com/tailgate-dev/tailgate/results"
)

// otlpReceiver is a small OTLP/HTTP metrics receiver built on the official
// protobuf types: it keeps the latest export (the SDK sends cumulative
// values, so the latest has everything).
type otlpReceiver struct {
	mu      sync.Mutex
	latest  *collector.ExportMetricsServiceRequest
	exports int
	bad     []string
}

func (r *otlpReceiver) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	body := io.Reader(req.Body)
	if req.Header.Get("Content-Encoding") == "gzip" {
		zr, err := gzip.NewReader(req.Body)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		body = zr
	}
	raw, err := io.ReadAll(body)
	var m collector.ExportMetricsServiceRequest
	if err == nil {
		err = proto.Unmarshal(raw, &m)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if req.URL.Path != "/v1/metrics" || req.Header.Get("Content-Type") != "application/x-protobuf" || err != nil {
		r.bad = append(r.bad, req.URL.Path+" "+req.Header.Get("Content-Type")+" "+errString(err))
		http.Error(w, "bad export", http.StatusBadRequest)
		return
	}
	r.latest = &m
	r.exports++
	out, _ := proto.Marshal(&collector.ExportMetricsServiceResponse{})
	w.Header().Set("Content-Type", "application/x-protobuf")
	_, _ = w.Write(out)
}

func errString(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

func attr(kvs []*common.KeyValue, key string) string {
	for _, kv := range kvs {
		if kv.GetKey() == key {
			return kv.GetValue().GetStringValue()
		}
	}
	return ""
}

// metric returns the named metric of the latest export.
func (r *otlpReceiver) metric(name string) *otlp.Metric {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, rm := range r.latest.GetResourceMetrics() {
		for _, sm := range rm.GetScopeMetrics() {
			for _, m := range sm.GetMetrics() {
				if m.GetName() == name {
					return m
				}
			}
		}
	}
	return nil
}

// exponentialQuantile estimates a quantile from an exponential histogram
// point: the geometric middle of the bucket holding it.
func exponentialQuantile(p *otlp.ExponentialHistogramDataPoint, q float64) float64 {
	rank := uint64(math.Ceil(q * float64(p.GetCount())))
	seen := p.GetZeroCount()
	base := math.Exp2(math.Exp2(-float64(p.GetScale())))
	for i, c := range p.GetPositive().GetBucketCounts() {
		seen += c
		if seen >= rank {
			index := int(p.GetPositive().GetOffset()) + i
			// Bucket index covers (base^index, base^(index+1)].
			return math.Pow(base, float64(index)+0.5)
		}
	}
	return math.NaN()
}

func TestOTLPExportsExponentialHistograms(t *testing.T) {
	srv, n := countingServer(t)
	recv := &otlpReceiver{}
	collectorSrv := httptest.NewServer(recv)
	defer collectorSrv.Close()
	out := filepath.Join(t.TempDir(), "r.json")
	code, _, stderr := runCLI(t, "hit", srv.URL+"/", "-r", "400/s", "-d", "2s", "--quiet", "-o", out, "--otlp-endpoint", collectorSrv.URL)
	if code != 0 || strings.Contains(stderr, "warning") {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	const total = 800
	if n.Load() != total {
		t.Fatalf("server counted %d, want %d", n.Load(), total)
	}
	if len(recv.bad) > 0 || recv.exports < 2 {
		t.Fatalf("%d exports; bad ones: %v", recv.exports, recv.bad)
	}
	lat := recv.metric("tailgate.request.duration")
	if lat.GetExponentialHistogram() == nil {
		t.Fatalf("tailgate.request.duration is not an exponential histogram: %v", lat)
	}
	if lat.GetUnit() != "s" || lat.GetExponentialHistogram().GetAggregationTemporality() != otlp.AggregationTemporality_AGGREGATION_TEMPORALITY_CUMULATIVE {
		t.Errorf("unit %q, temporality %v", lat.GetUnit(), lat.GetExponentialHistogram().GetAggregationTemporality())
	}
	var ok *otlp.ExponentialHistogramDataPoint
	for _, p := range lat.GetExponentialHistogram().GetDataPoints() {
		if attr(p.GetAttributes(), "outcome") == "ok" {
			ok = p
		}
		if attr(p.GetAttributes(), "run_id") == "" || attr(p.GetAttributes(), "shard") != "0" {
			t.Errorf("data point without run_id/shard: %v", p.GetAttributes())
		}
	}
	if ok == nil || ok.GetCount() != total {
		t.Fatalf("ok latency point %v, want count %d", ok, total)
	}
	if ok.GetScale() < 3 {
		t.Errorf("scale %d: buckets wider than 9%%", ok.GetScale())
	}
	res, err := results.ReadResultFile(out)
	if err != nil {
		t.Fatal(err)
	}
	p99Within(t, exponentialQuantile(ok, 0.99), res, 0.05)
	var requests int64
	for _, p := range recv.metric("tailgate.requests").GetSum().GetDataPoints() {
		requests += p.GetAsInt()
	}
	if requests != total {
		t.Errorf("tailgate.requests sums to %d, want %d", requests, total)
	}
}

func TestUnreachableOTLPWarnsAndKeepsResults(t *testing.T) {
	srv, n := countingServer(t)
	out := filepath.Join(t.TempDir(), "r.json")
	code, _, stderr := runCLI(t, "hit", srv.URL+"/", "-r", "200/s", "-d", "1s", "--quiet", "-o", out,
		"--otlp-endpoint", fmt.Sprintf("http://127.0.0.1:%d", freePort(t)))
	if code != 0 || !strings.Contains(stderr, "OTLP exports failed, the final one too") {
		t.Fatalf("exit %d, stderr %q: want 0 and a warning", code, stderr)
	}
	res, err := results.ReadResultFile(out)
	if err != nil {
		t.Fatal(err)
	}
	if res.Total.Requests != 200 || n.Load() != 200 {
		t.Fatalf("results %d requests, server %d: want 200", res.Total.Requests, n.Load())
	}
}
