package scenarios

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/tailgate-dev/tailgate/results"
)

// checkServer answers /job with a JSON document, /missing with 404, /boom
// with 500 and /big with 4 KiB of chunked text.
func checkServer(t *testing.T) *httptest.Server {
	t.Helper()
	mux := http.NewServeMux()
	mux.HandleFunc("/job", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprint(w, `{"data": {"state": "done", "id": "job-42", "count": 3, "ready": true, "error": null}}`)
	})
	mux.HandleFunc("/missing", func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "no such thing", http.StatusNotFound)
	})
	mux.HandleFunc("/boom", func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "boom", http.StatusInternalServerError)
	})
	mux.HandleFunc("/big", func(w http.ResponseWriter, r *http.Request) {
		for range 4 {
			fmt.Fprint(w, strings.Repeat("x", 1024))
			w.(http.Flusher).Flush()
		}
	})
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv
}

// TestExpectPasses runs every check kind against responses that pass them.
func TestExpectPasses(t *testing.T) {
	res := runScenario(t, checkServer(t), `
target: %s
requests:
  job:
    path: /job
    expect:
      status: 200
      json:
        - {path: data.state, equals: done}
        - {path: data.count, equals: 3.0}
        - {path: data.ready, equals: true}
        - {path: data.error, equals: null}
        - {path: data.id, matches: "^job-[0-9]+$"}
        - {path: data, exists: true}
        - {path: data.missing, exists: false}
      body_contains: '"state": "done"'
      max_size: 1KiB
      min_size: 10
  missing:
    path: /missing
    expect: {status: [404, 410], body_contains: no such thing}
  big:
    path: /big
    expect: {min_size: 4KiB, max_size: 4096}
flows:
  f:
    steps: [job, missing, big]
load:
  vus: 1
  iterations: 3
`)
	if res.Total.Errors != 0 || res.Total.Requests != 9 {
		t.Fatalf("%d errors in %d requests: %v", res.Total.Errors, res.Total.Requests, res.Total.ErrorSamples)
	}
	if got := res.Lookup("missing", "").Status[404]; got != 3 {
		t.Errorf("missing: %d responses of 404, want 3 successes", got)
	}
}

// TestExpectFailures fails each check kind on its own request and finds
// every failure counted under error kind check and under the check's name,
// with a message that names it.
func TestExpectFailures(t *testing.T) {
	tests := []struct {
		name, expect, path string
		check, message     string
	}{
		{"status", "{status: 201}", "/job", "status", "check status: status 200, want 201"},
		{"equals", "{json: {path: data.state, equals: pending}}", "/job", "json data.state", `check json data.state: got "done", want "pending"`},
		{"equals type", "{json: {path: data.count, equals: '3'}}", "/job", "json data.count", `check json data.count: got 3, want "3"`},
		{"matches", "{json: {path: data.id, matches: '^[0-9]+$'}}", "/job", "json data.id", `check json data.id: "job-42" does not match ^[0-9]+$`},
		{"exists", "{json: {path: data.owner, exists: true}}", "/job", "json data.owner", "check json data.owner: not found in the response body"},
		{"absent", "{json: {path: data.state, exists: false}}", "/job", "json data.state", `check json data.state: present ("done"), want it absent`},
		{"body_contains", "{body_contains: pending}", "/job", "body_contains", `check body_contains: "pending" is not in the response body`},
		{"max_size", "{max_size: 1000}", "/big", "max_size", "check max_size: body of 4096 bytes, want at most 1000"},
		{"min_size", "{min_size: 1MB}", "/job", "min_size", "check min_size: body of 85 bytes, want at least 1000000"},
	}
	srv := checkServer(t)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := runScenario(t, srv, `
target: %s
requests:
  r:
    path: `+tt.path+`
    expect: `+tt.expect+`
load:
  vus: 1
  iterations: 4
`)
			st := res.Lookup("r", "")
			if st == nil || st.Errors != 4 || st.ErrorKinds["check"] != 4 || st.Checks[tt.check] != 4 || len(st.Checks) != 1 {
				t.Fatalf("stats %+v: want 4 errors of kind check, all %q", st, tt.check)
			}
			if res.Total.Checks[tt.check] != 4 {
				t.Errorf("total checks %v", res.Total.Checks)
			}
			if msg := st.ErrorSamples["check"]; !strings.Contains(msg, tt.message) {
				t.Errorf("message %q, want it to contain %q", msg, tt.message)
			}
		})
	}
}

// TestExpectStatusDecides: a status that expect.status lists succeeds even
// at 400 and above; an unlisted error status keeps its own kind (it says
// more than "check status"), and so does a listed one's failing check.
func TestExpectStatusDecides(t *testing.T) {
	res := runScenario(t, checkServer(t), `
target: %s
requests:
  gone:
    path: /missing
    expect: {status: 404}
  boom:
    path: /boom
    expect: {status: 200}
  gone_wrong:
    path: /missing
    expect: {status: 404, body_contains: here it is}
flows:
  f:
    steps:
      - gone
      - boom
  g:
    steps:
      - gone_wrong
load:
  vus: 1
  iterations: 6
`)
	kinds := func(name string) map[string]uint64 { return res.Lookup(name, "").ErrorKinds }
	if st := res.Lookup("gone", ""); st.Errors != 0 || st.Requests == 0 {
		t.Errorf("gone: %d errors in %d requests, want none", st.Errors, st.Requests)
	}
	if st := res.Lookup("boom", ""); st.Errors != st.Requests || kinds("boom")["http_5xx"] != st.Requests || len(st.Checks) != 0 {
		t.Errorf("boom: kinds %v, checks %v; want every request http_5xx and no check", kinds("boom"), st.Checks)
	}
	if st := res.Lookup("gone_wrong", ""); st.Errors != st.Requests || st.Checks["body_contains"] != st.Requests {
		t.Errorf("gone_wrong: kinds %v, checks %v; want every request failing body_contains", kinds("gone_wrong"), st.Checks)
	}
}

// TestExpectOnStep: a step's checks replace the request's of the same name
// and keep the others; failures are counted per group too.
func TestExpectOnStep(t *testing.T) {
	res := runScenario(t, checkServer(t), `
target: %s
requests:
  job:
    path: /job
    tags: {v: a}
    expect:
      json: {path: data.state, equals: pending}
      max_size: 10
flows:
  f:
    steps:
      - request: job
        expect:
          json: {path: data.state, equals: done}
load:
  vus: 1
  iterations: 2
`)
	st := res.Lookup("job", "v=a")
	if st == nil || st.Checks["max_size"] != 2 || len(st.Checks) != 1 {
		t.Fatalf("group stats %+v, want 2 max_size failures only", st)
	}
	sel, _ := results.ParseSelector("job{v=a}")
	if got, _ := res.Select(sel); got == nil || got.Checks["max_size"] != 2 {
		t.Errorf("select job{v=a}: %+v", got)
	}
}
