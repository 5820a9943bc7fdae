package scenarios

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/tailgate-dev/tailgate/loadgen"
	"github.com/tailgate-dev/tailgate/results"
)

// jobServer is a rate-limited job API: every other POST /jobs is refused
// with a 429 (Retry-After: 0), the others start a job, which answers
// "running" to its first two polls and "done" from then on. GET /slow never
// finishes its job; DELETE /jobs/ID makes it 404 on the next poll.
func jobServer(t *testing.T) *httptest.Server {
	t.Helper()
	var mu sync.Mutex
	posts, polls := 0, map[string]int{}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /jobs", func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		posts++
		n := posts
		mu.Unlock()
		w.Header().Set("X-RateLimit-Limit", "10")
		w.Header().Set("X-RateLimit-Remaining", fmt.Sprint(max(10-n, 0)))
		if n%2 == 1 {
			w.Header().Set("Retry-After", "0")
			w.WriteHeader(http.StatusTooManyRequests)
			return
		}
		w.WriteHeader(http.StatusAccepted)
		fmt.Fprintf(w, `{"id": "j%d"}`, n)
	})
	mux.HandleFunc("GET /jobs/{id}", func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		polls[r.PathValue("id")]++
		n := polls[r.PathValue("id")]
		mu.Unlock()
		state := "running"
		if n > 2 {
			state = "done"
		}
		w.Header().Set("X-Job-State", state)
		fmt.Fprintf(w, `{"state": %q, "progress": %d}`, state, min(n*50, 100))
	})
	mux.HandleFunc("GET /slow", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, `{"state": "running"}`)
	})
	mux.HandleFunc("GET /gone", func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		polls["gone"]++
		n := polls["gone"]
		mu.Unlock()
		if n > 1 {
			http.NotFound(w, r)
		}
	})
	mux.HandleFunc("GET /limited", func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusTooManyRequests)
	})
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv
}

const jobScenario = `
target: %s
requests:
  create:
    method: POST
    path: /jobs
    retry: {on: [429], max: 2, backoff: retry-after}
    capture:
      id: {json: id}
  status:
    path: /jobs/{{ .id }}
    until: {json: state, equals: done}
    every: 5ms
    timeout: 5s
  header:
    path: /jobs/{{ .id }}
    until: {header: {name: X-Job-State, equals: done}}
    every: 5ms
  progress:
    path: /jobs/{{ .id }}
    until: {json: progress, equals: 100.0}
    every: 5ms
  gone:
    path: /gone
    until: {status: 404}
    every: 5ms
flows:
  job:
    steps:
      - create
      - status
      - create
      - request: header
        until: {header: {name: X-Job-State, equals: done}}
        every: 5ms
        timeout: 2s
      - create
      - progress
      - gone
load:
  vus: 1
  iterations: 1
`

// TestRetryAndPollScenario runs a flow that creates jobs through a rate
// limiter and polls them, from the scenario file to the results.
func TestRetryAndPollScenario(t *testing.T) {
	res := runRepeatScenario(t, fmt.Sprintf(jobScenario, jobServer(t).URL))
	if res.Total.Errors != 0 || res.Iterations.Completed != 1 {
		t.Fatalf("errors %v, iterations %+v: %v", res.Total.ErrorKinds, res.Iterations, res.Total.ErrorSamples)
	}
	create := res.Lookup("create", "")
	// Each of the three creates is refused once, then accepted.
	if create.Requests != 6 || create.Retries != 3 || create.Retried != 3 || create.Status[429] != 3 || create.Status[202] != 3 {
		t.Errorf("create: requests %d retries %d retried %d statuses %v; want 6, 3, 3, 3×429 and 3×202", create.Requests, create.Retries, create.Retried, create.Status)
	}
	// Every poll is a request of its own: two "running", then "done".
	for _, name := range []string{"status", "header"} {
		if st := res.Lookup(name, ""); st.Requests != 3 || st.Latency.Count() != 3 {
			t.Errorf("%s: %d polls, %d latencies; want 3", name, st.Requests, st.Latency.Count())
		}
	}
	if st := res.Lookup("progress", ""); st.Requests != 2 {
		t.Errorf("progress: %d polls; want 2 (100 equals 100.0)", st.Requests)
	}
	if st := res.Lookup("gone", ""); st.Requests != 2 || st.Status[404] != 1 || st.Errors != 0 {
		t.Errorf("gone: %d polls, statuses %v, %d errors; want the 404 awaited", st.Requests, st.Status, st.Errors)
	}
	if !res.HasQuota() {
		t.Error("no rate-limit quota in the timeline")
	}
}

// TestRetryExhaustedAndPollTimeout runs the failures: a request still
// refused after its retries fails as rate_limited, a poll that never sees
// its condition fails as timeout.
func TestRetryExhaustedAndPollTimeout(t *testing.T) {
	url := jobServer(t).URL
	res := runRepeatScenario(t, fmt.Sprintf(`
target: %s
requests:
  limited:
    path: /limited
    retry: {on: [429], max: 2, backoff: exponential 1ms}
load: {vus: 1, iterations: 1}
`, url))
	if st := res.Total; st.Requests != 3 || st.Retries != 2 || st.Errors != 1 || st.ErrorKinds["rate_limited"] != 1 || res.Iterations.Failed != 1 {
		t.Errorf("requests %d retries %d errors %v iterations %+v; want 3 attempts, the last rate_limited", st.Requests, st.Retries, st.ErrorKinds, res.Iterations)
	}
	th, err := results.ParseThreshold("error_rate.rate_limited == 100%")
	if err != nil {
		t.Fatal(err)
	}
	// One request's outcome, refused: its retried attempts are no outcome.
	if got := th.Evaluate(res); !got.Pass {
		t.Errorf("%s: %s", th, got.Detail)
	}
	start := time.Now()
	res = runRepeatScenario(t, fmt.Sprintf(`
target: %s
requests:
  slow:
    path: /slow
    until: {json: state, equals: done}
    every: 10ms
    timeout: 50ms
load: {vus: 1, iterations: 1}
`, url))
	if st := res.Total; st.Requests < 2 || st.Errors != 1 || st.ErrorKinds["timeout"] != 1 || res.Iterations.Failed != 1 {
		t.Errorf("requests %d errors %v iterations %+v; want polls, the last failed with timeout", st.Requests, st.ErrorKinds, res.Iterations)
	}
	if took := time.Since(start); took < 50*time.Millisecond {
		t.Errorf("polling gave up after %v, before its 50ms timeout", took)
	}
}

func runRepeatScenario(t *testing.T, src string) *results.Result {
	t.Helper()
	s, err := Parse("repeat.yaml", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	plan, err := Compile(s, CompileOptions{})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	res, err := loadgen.Run(ctx, plan)
	if err != nil {
		t.Fatal(err)
	}
	return res
}

// TestStepRepeatOverRequest checks that a step's retry and until replace
// its request's.
func TestStepRepeatOverRequest(t *testing.T) {
	s, err := Parse("over.yaml", []byte(`
target: http://127.0.0.1:1
requests:
  r:
    path: /
    retry: {on: [503], max: 5, backoff: 1s}
    until: {status: 204}
    every: 1s
flows:
  f:
    steps:
      - r
      - request: r
        retry: {on: [429], max: 1}
        until: {status: 202}
        every: 2s
        timeout: 9s
`))
	if err != nil {
		t.Fatal(err)
	}
	plan, err := Compile(s, CompileOptions{})
	if err != nil {
		t.Fatal(err)
	}
	steps := plan.Flows[0].Steps
	a, b := steps[0].(loadgen.Repeater).Repeat(), steps[1].(loadgen.Repeater).Repeat()
	if a.Retry.Max != 5 || a.Retry.Backoff != (loadgen.Backoff{Kind: loadgen.BackoffFixed, Base: time.Second}) || a.Until.Status != 204 || a.Until.Timeout != loadgen.DefaultTimeout {
		t.Errorf("request's repeat: %+v %+v", a.Retry, a.Until)
	}
	if b.Retry.Max != 1 || b.Retry.On[0] != 429 || b.Retry.Backoff.Kind != loadgen.BackoffRetryAfter || b.Until.Status != 202 || b.Until.Every != 2*time.Second || b.Until.Timeout != 9*time.Second {
		t.Errorf("step's repeat: %+v %+v", b.Retry, b.Until)
	}
}
