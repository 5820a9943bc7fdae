package loadgen_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"time"

	"github.com/tailgate-dev/tailgate/loadgen"
)

// Run a constant rate against a URL and read the percentiles.
func ExampleRun() {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.Write([]byte("ok")) }))
	defer srv.Close()

	plan := loadgen.Plan{
		Name:   "home",
		Target: srv.URL,
		Load:   loadgen.Open(loadgen.ConstantPacer{PerSecond: 200, Length: time.Second}),
		Flows: []loadgen.Flow{{Name: "home", Weight: 1, Steps: []loadgen.Step{
			&loadgen.StaticStep{Request: loadgen.Request{Name: "home", Method: "GET", URL: srv.URL}},
		}}},
	}
	res, err := loadgen.Run(context.Background(), plan)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("requests:", res.Total.Requests, "errors:", res.Total.Errors, "status 200:", res.Total.Status[200])
	fmt.Println("p99.9 measured:", res.Total.Latency.Percentile(99.9) > 0)
	// Output:
	// requests: 200 errors: 0 status 200: 200
	// p99.9 measured: true
}

// Hit is the short way to benchmark one endpoint: a load and a URL.
func ExampleHit() {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.Write([]byte("ok")) }))
	defer srv.Close()

	load := loadgen.Open(loadgen.ConstantPacer{PerSecond: 100, Length: 500 * time.Millisecond})
	res, err := loadgen.Hit(context.Background(), srv.URL+"/health", load)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(res.Meta.Model, "model,", res.Total.Requests, "requests,", res.Total.Errors, "errors")
	fmt.Println("series:", res.Requests[0].Key())
	// Output:
	// open model, 50 requests, 0 errors
	// series: GET /health
}

// Intended times come from the start instant: arrival i of a ramp is where
// the integral of the rate reaches i.
func ExampleParseProfile() {
	p, err := loadgen.ParseProfile("100/s@2s,100/s:300/s", 4*time.Second)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(p)
	fmt.Println("arrivals:", p.Count())
	at, _ := p.Arrival(200)
	fmt.Println("arrival 200 due at", at)
	// Output:
	// constant 100/s for 2s, then ramp 100/s→300/s over 2s
	// arrivals: 600
	// arrival 200 due at 2s
}
