package loadgen

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync/atomic"
	"testing"

	"github.com/tailgate-dev/tailgate/results"
)

func TestJoinGroup(t *testing.T) {
	for _, tc := range []struct{ group, label, value, want string }{
		{"", "x-cache", "HIT", "x-cache=HIT"},
		{"depth=100", "x-cache", "HIT", "depth=100,x-cache=HIT"},
		{"zone=eu", "status", "429", "status=429,zone=eu"},
		{"a=1,zone=eu", "status", "200", "a=1,status=200,zone=eu"},
	} {
		if got := joinGroup(tc.group, tc.label, tc.value); got != tc.want {
			t.Errorf("joinGroup(%q, %q, %q) = %q, want %q", tc.group, tc.label, tc.value, got, tc.want)
		}
	}
}

func TestAppendGroupValue(t *testing.T) {
	hdr := &GroupBy{Label: "x-cache", Header: "x-cache"}
	st := &GroupBy{Label: "status"}
	long := make([]byte, 100)
	for i := range long {
		long[i] = 'a'
	}
	for _, tc := range []struct {
		name   string
		g      *GroupBy
		value  string
		status int16
		want   string
	}{
		{"header", hdr, "HIT", 200, "HIT"},
		{"missing header", hdr, "", 200, "-"},
		{"group syntax", hdr, "max-age=60, {x}", 200, "max-age_60_ _x_"},
		{"control characters", hdr, "a\x00b\x7f", 200, "a_b_"},
		{"long value", hdr, string(long), 200, string(long[:maxGroupValue])},
		{"status", st, "", 429, "429"},
		{"no response", st, "", 0, "-"},
		{"not sent", st, "", statusNotSent, "-"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res := &Response{GroupValue: []byte(tc.value)}
			if got := string(appendGroupValue(nil, tc.g, res, tc.status)); got != tc.want {
				t.Errorf("got %q, want %q", got, tc.want)
			}
		})
	}
}

// cacheServer answers /item with X-Cache HIT on two of three requests and
// MISS on the third, /status with the status code its query asks for, and
// /id with a new X-Request-Id per request.
func cacheServer(t *testing.T) *httptest.Server {
	t.Helper()
	return h2cServer(t, cacheHandler())
}

func cacheHandler() http.Handler {
	var n atomic.Int64
	mux := http.NewServeMux()
	mux.HandleFunc("/item", func(w http.ResponseWriter, r *http.Request) {
		if n.Add(1)%3 == 0 {
			w.Header().Set("X-Cache", "MISS")
		} else {
			w.Header().Set("X-Cache", "HIT")
		}
		_, _ = w.Write([]byte("ok"))
	})
	mux.HandleFunc("/bare", func(w http.ResponseWriter, r *http.Request) {
		_, _ = w.Write([]byte("ok"))
	})
	mux.HandleFunc("/id", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Request-Id", strconv.FormatInt(n.Add(1), 10))
		_, _ = w.Write([]byte("ok"))
	})
	return mux
}

func groupCounts(res *results.Result, name string) map[string]uint64 {
	out := map[string]uint64{}
	for _, g := range res.Groups {
		if g.Name == name {
			out[g.Group] = g.Requests
		}
	}
	return out
}

// TestGroupByHeader groups the requests of one name by a response header,
// through both clients, joined to the request's own tag group.
func TestGroupByHeader(t *testing.T) {
	for _, h2 := range []bool{false, true} {
		t.Run(fmt.Sprintf("http2=%v", h2), func(t *testing.T) {
			srv := cacheServer(t)
			by := &GroupBy{Label: "x-cache", Header: "x-cache"}
			plan := Plan{
				Name: "group", Target: srv.URL, Load: Load{VUs: 1, Iterations: 30},
				Client: ClientOptions{HTTP2: h2},
				Flows: []Flow{{Name: "f", Weight: 1, Steps: []Step{
					&StaticStep{Request: Request{Name: "item", Group: "zone=eu", Method: "GET", URL: srv.URL + "/item", GroupBy: by}},
					&StaticStep{Request: Request{Name: "bare", Method: "GET", URL: srv.URL + "/bare", GroupBy: by}},
				}}},
			}
			res, err := Run(context.Background(), plan)
			if err != nil {
				t.Fatal(err)
			}
			if got := groupCounts(res, "item"); len(got) != 2 || got["x-cache=HIT,zone=eu"] != 20 || got["x-cache=MISS,zone=eu"] != 10 {
				t.Errorf("item groups %v, want 20 x-cache=HIT,zone=eu and 10 x-cache=MISS,zone=eu", got)
			}
			if got := groupCounts(res, "bare"); len(got) != 1 || got["x-cache=-"] != 30 {
				t.Errorf("bare groups %v, want 30 x-cache=-", got)
			}
			if res.Total.Errors != 0 {
				t.Errorf("%d errors: %v", res.Total.Errors, res.Total.ErrorSamples)
			}
			if len(res.GroupByFolds) != 0 {
				t.Errorf("folds %v, want none", res.GroupByFolds)
			}
		})
	}
}

// TestGroupByStatus groups by status code, and a request that got no
// response (refused) as status=-.
func TestGroupByStatus(t *testing.T) {
	var n atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if n.Add(1)%4 == 0 {
			w.WriteHeader(http.StatusTooManyRequests)
		}
	}))
	defer srv.Close()
	dead := httptest.NewServer(http.NotFoundHandler())
	deadURL := dead.URL
	dead.Close()
	by := &GroupBy{Label: "status"}
	plan := Plan{
		Name: "status", Target: srv.URL, Load: Load{VUs: 1, Iterations: 40},
		Flows: []Flow{
			{Name: "ok", Weight: 9, Steps: []Step{&StaticStep{Request: Request{Name: "get", Method: "GET", URL: srv.URL, GroupBy: by}}}},
			{Name: "dead", Weight: 1, Steps: []Step{&StaticStep{Request: Request{Name: "get", Method: "GET", URL: deadURL, GroupBy: by}}}},
		},
	}
	res, err := Run(context.Background(), plan)
	if err != nil {
		t.Fatal(err)
	}
	got := groupCounts(res, "get")
	sent := n.Load()
	if got["status=200"]+got["status=429"] != uint64(sent) || got["status=429"] != uint64(sent/4) || got["status=-"] != uint64(40-sent) || sent == 40 {
		t.Errorf("groups %v for %d requests answered, want status=200, status=429 (a quarter) and status=- for the rest", got, sent)
	}
	if s := res.Lookup("get", "status=429"); s == nil || s.Errors != s.Requests {
		t.Errorf("status=429 group %+v: every request is an error", s)
	}
}

// TestGroupByFolds bounds a header that carries IDs: the values past the
// limit are counted as other, and the result says so.
func TestGroupByFolds(t *testing.T) {
	srv := cacheServer(t)
	plan := Plan{
		Name: "ids", Target: srv.URL, Load: Load{VUs: 3, Iterations: 60},
		Flows: []Flow{{Name: "f", Weight: 1, Steps: []Step{
			&StaticStep{Request: Request{Name: "id", Method: "GET", URL: srv.URL + "/id", GroupBy: &GroupBy{Label: "x-request-id", Header: "X-Request-ID", Limit: 5}}},
		}}},
	}
	res, err := Run(context.Background(), plan)
	if err != nil {
		t.Fatal(err)
	}
	got := groupCounts(res, "id")
	if len(got) != 6 || got["x-request-id=other"] != 55 {
		t.Errorf("groups %v, want 5 values and 55 requests in x-request-id=other", got)
	}
	want := []results.GroupByFold{{Name: "id", Label: "x-request-id", Limit: 5}}
	if fmt.Sprint(res.GroupByFolds) != fmt.Sprint(want) {
		t.Errorf("folds %v, want %v", res.GroupByFolds, want)
	}
	if n := res.FoldedRequests(want[0]); n != 55 {
		t.Errorf("FoldedRequests = %d, want 55", n)
	}
}

// groupTransport answers at once, with an X-Cache header of three values
// in turn, as the raw client would fill it.
type groupTransport struct{}

func (groupTransport) NewClient() (Client, error) { return &groupClient{}, nil }
func (groupTransport) Close() error               { return nil }

type groupClient struct{ n int }

var cacheStates = [...]string{"HIT", "MISS", "STALE"}

func (*groupClient) Close() error { return nil }
func (c *groupClient) Do(_ context.Context, req *Request, res *Response) error {
	res.Status = 200
	res.BytesIn = 128
	c.n++
	if req.GroupBy != nil && req.GroupBy.Header != "" {
		res.GroupValue = append(res.GroupValue[:0], cacheStates[c.n%len(cacheStates)]...)
	}
	return nil
}

// BenchmarkEngineGroupedNoNetwork is BenchmarkEngineNoNetwork for a step
// grouped by a response header and tagged: choosing the series after the
// response must stay at 0 allocs/op.
func BenchmarkEngineGroupedNoNetwork(b *testing.B) {
	plan := fakePlan(nil, nil)
	plan.Flows[0].Steps = []Step{&StaticStep{Request: Request{Name: "get", Group: "zone=eu", Method: "GET", URL: "http://fake/",
		GroupBy: &GroupBy{Label: "x-cache", Header: "x-cache"}}}}
	plan.Transport = groupTransport{}
	plan.VUs = 1
	plan.Connections = 1
	plan.Iterations = uint64(b.N)
	b.ReportAllocs()
	b.ResetTimer()
	res, err := Run(context.Background(), plan)
	if err != nil {
		b.Fatal(err)
	}
	b.StopTimer()
	if res.Total.Requests != uint64(b.N) {
		b.Fatalf("recorded %d requests, want %d", res.Total.Requests, b.N)
	}
	if b.N >= 3 && len(res.Groups) != 3 {
		b.Fatalf("groups %d, want 3", len(res.Groups))
	}
}
