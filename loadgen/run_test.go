package loadgen

import (
	"context"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"
)

func staticPlan(url string, p Pacer) Plan {
	return Plan{
		Name: "hit", Target: url, Load: Load{Pacer: p},
		Flows: []Flow{{Name: "get", Weight: 1, Steps: []Step{&StaticStep{Request: Request{Name: "get", Method: "GET", URL: url}}}}},
	}
}

func TestRunOpenCountsMatchPlan(t *testing.T) {
	var n atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n.Add(1)
		w.Write([]byte("ok"))
	}))
	defer srv.Close()
	res, err := Run(context.Background(), staticPlan(srv.URL, ConstantPacer{PerSecond: 500, Length: 2 * time.Second}))
	if err != nil {
		t.Fatal(err)
	}
	if got := n.Load(); got != 1000 {
		t.Fatalf("server saw %d requests, want 1000", got)
	}
	if res.Total.Requests != 1000 || res.Total.Errors != 0 {
		t.Fatalf("result: %d requests %d errors", res.Total.Requests, res.Total.Errors)
	}
	if res.Total.Status[200] != 1000 {
		t.Fatalf("status: %v", res.Total.Status)
	}
	if len(res.Timeline) < 2 {
		t.Fatalf("timeline has %d intervals", len(res.Timeline))
	}
	t.Logf("p50=%s p99=%s max=%s lag p99=%s", res.Total.Latency.Percentile(50), res.Total.Latency.Percentile(99), res.Total.Latency.Max(), res.Total.SendLag.Percentile(99))
}
