package scenarios

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tailgate-dev/tailgate/loadgen"
	"github.com/tailgate-dev/tailgate/results"
)

// runScenario loads src (with %s replaced by the server's URL), runs it
// and returns the result.
func runScenario(t *testing.T, srv *httptest.Server, src string) *results.Result {
	t.Helper()
	s, err := Parse("inline.yaml", []byte(fmt.Sprintf(src, srv.URL)))
	if err != nil {
		t.Fatal(err)
	}
	plan, err := Compile(s, CompileOptions{})
	if err != nil {
		t.Fatal(err)
	}
	plan.Connections = 1
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	res, err := loadgen.Run(ctx, plan)
	if err != nil {
		t.Fatal(err)
	}
	return res
}

// groupsOf returns the request counts of name's groups.
func groupsOf(res *results.Result, name string) map[string]uint64 {
	out := map[string]uint64{}
	for _, g := range res.Groups {
		if g.Name == name {
			out[g.Group] = g.Requests
		}
	}
	return out
}

// TestGroupByResponse runs a scenario whose requests are grouped by a
// response header (joined to a tag) and by status, on the request and on a
// step, against a server that answers MISS then HIT, and 429 on every
// fourth request.
func TestGroupByResponse(t *testing.T) {
	var items, limited atomic.Int64
	mux := http.NewServeMux()
	mux.HandleFunc("/item", func(w http.ResponseWriter, r *http.Request) {
		if items.Add(1)%2 == 1 {
			w.Header().Set("X-Cache", "MISS")
		} else {
			w.Header().Set("X-Cache", "HIT")
		}
	})
	mux.HandleFunc("/limited", func(w http.ResponseWriter, r *http.Request) {
		if limited.Add(1)%4 == 0 {
			w.WriteHeader(http.StatusTooManyRequests)
		}
	})
	srv := httptest.NewServer(mux)
	defer srv.Close()
	res := runScenario(t, srv, `
target: %s
requests:
  item:
    path: /item
    tags: {size: small}
    group_by: {header: X-Cache}
  limited:
    path: /limited
flows:
  f:
    steps:
      - item
      - request: limited
        group_by: status
load:
  vus: 1
  iterations: 8
`)
	if got := groupsOf(res, "item"); len(got) != 2 || got["size=small,x-cache=HIT"] != 4 || got["size=small,x-cache=MISS"] != 4 {
		t.Errorf("item groups %v, want 4 size=small,x-cache=HIT and 4 size=small,x-cache=MISS", got)
	}
	if got := groupsOf(res, "limited"); len(got) != 2 || got["status=200"] != 6 || got["status=429"] != 2 {
		t.Errorf("limited groups %v, want 6 status=200 and 2 status=429", got)
	}
	sel, err := results.ParseSelector("item{size=small,x-cache=HIT}")
	if err != nil {
		t.Fatal(err)
	}
	if st, err := res.Select(sel); err != nil || st == nil || st.Requests != 4 {
		t.Errorf("select %s = %+v, %v; want 4 requests", sel, st, err)
	}
}

// TestGroupByLimit folds the values of a header beyond the scenario's
// limit into other.
func TestGroupByLimit(t *testing.T) {
	var n atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Request-Id", fmt.Sprint(n.Add(1)))
	}))
	defer srv.Close()
	res := runScenario(t, srv, `
target: %s
requests:
  get:
    path: /
    group_by: {header: X-Request-Id, limit: 3}
load:
  vus: 1
  iterations: 10
`)
	if got := groupsOf(res, "get"); len(got) != 4 || got["x-request-id=other"] != 7 {
		t.Errorf("groups %v, want 3 values and 7 in x-request-id=other", got)
	}
	if len(res.GroupByFolds) != 1 || res.GroupByFolds[0] != (results.GroupByFold{Name: "get", Label: "x-request-id", Limit: 3}) {
		t.Errorf("folds %v", res.GroupByFolds)
	}
}
