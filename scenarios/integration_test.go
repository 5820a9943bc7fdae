package scenarios

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tailgate-dev/tailgate/loadgen"
)

// seen records what the test server received.
type seen struct {
	mu   sync.Mutex
	reqs []string
}

func (s *seen) add(r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.reqs = append(s.reqs, r.Method+" "+r.URL.RequestURI()+" auth="+r.Header.Get("Authorization")+" x="+r.Header.Get("X-Session"))
}

func (s *seen) list() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.reqs...)
}

// captureServer issues a token per login and a next cursor per page, and
// checks that follow-up requests carry them.
func captureServer(t *testing.T, rec *seen) *httptest.Server {
	t.Helper()
	var mu sync.Mutex
	n := 0
	mux := http.NewServeMux()
	mux.HandleFunc("POST /login", func(w http.ResponseWriter, r *http.Request) {
		rec.add(r)
		var body struct{ User string }
		if err := json.NewDecoder(r.Body).Decode(&body); err != nil || body.User == "" {
			http.Error(w, "bad login body", http.StatusBadRequest)
			return
		}
		mu.Lock()
		n++
		tok := fmt.Sprintf("tok-%s-%d", body.User, n)
		mu.Unlock()
		w.Header().Set("X-Session", "sess-"+tok)
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprintf(w, `{"data": {"token": %q}, "note": "cursor=c%d;"}`, tok, n)
	})
	mux.HandleFunc("GET /items", func(w http.ResponseWriter, r *http.Request) {
		rec.add(r)
		auth := r.Header.Get("Authorization")
		if !strings.HasPrefix(auth, "Bearer tok-") {
			http.Error(w, "no token", http.StatusUnauthorized)
			return
		}
		fmt.Fprintf(w, `{"next": "%s-next"}`, r.URL.Query().Get("cursor"))
	})
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv
}

const captureScenario = `
name: captures
target: %s
data:
  users:
    file: users.csv
requests:
  login:
    method: POST
    path: /login
    headers:
      Content-Type: application/json
    body: '{"user": "{{ .user }}"}'
    capture:
      token: {json: data.token}
      session: {header: X-Session}
      cursor: {regex: 'cursor=(\w+);'}
      code: {status: true}
  items:
    path: /items
    headers:
      Authorization: "Bearer {{ .token }}"
      X-Session: "{{ .session }}"
    query:
      cursor: "{{ .cursor }}"
      code: "{{ .code }}"
    capture:
      cursor: {json: next}
flows:
  browse:
    steps:
      - login
      - items
      - items
load:
  vus: 1
  iterations: 2
`

// TestCapturesFeedLaterSteps runs a flow against a local server and checks
// that every captured value arrives in the next request.
func TestCapturesFeedLaterSteps(t *testing.T) {
	rec := &seen{}
	srv := captureServer(t, rec)
	dir := t.TempDir()
	writeFile(t, dir+"/users.csv", "user\nann\nbob\n")
	s, err := Parse(dir+"/s.yaml", []byte(fmt.Sprintf(captureScenario, srv.URL)))
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
	if res.Total.Errors != 0 {
		t.Fatalf("%d errors: %v", res.Total.Errors, res.Total.ErrorSamples)
	}
	want := []string{
		"POST /login auth= x=",
		"GET /items?cursor=c1&code=200 auth=Bearer tok-ann-1 x=sess-tok-ann-1",
		"GET /items?cursor=c1-next&code=200 auth=Bearer tok-ann-1 x=sess-tok-ann-1",
		"POST /login auth= x=",
		"GET /items?cursor=c2&code=200 auth=Bearer tok-bob-2 x=sess-tok-bob-2",
		"GET /items?cursor=c2-next&code=200 auth=Bearer tok-bob-2 x=sess-tok-bob-2",
	}
	got := rec.list()
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("server saw:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if st := res.Lookup("items", ""); st == nil || st.Requests != 4 {
		t.Errorf("items stats = %+v, want 4 requests", st)
	}
}

// TestFailedCaptureSkipsRest checks that a capture that finds nothing fails
// the iteration with kind "capture" and sends none of its later steps.
func TestFailedCaptureSkipsRest(t *testing.T) {
	rec := &seen{}
	srv := captureServer(t, rec)
	src := fmt.Sprintf(`
target: %s
requests:
  login:
    method: POST
    path: /login
    body: '{"user": "x"}'
    capture:
      token: {json: data.missing}
  items:
    path: /items
    headers:
      Authorization: "Bearer {{ .token }}"
flows:
  f:
    steps: [login, items]
load:
  vus: 1
  iterations: 3
`, srv.URL)
	s, err := Parse("inline.yaml", []byte(src))
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
	login := res.Lookup("login", "")
	if login == nil || login.Errors != 3 || login.ErrorKinds["capture"] != 3 {
		t.Fatalf("login stats = %+v, want 3 capture errors", login)
	}
	if !strings.Contains(login.ErrorSamples["capture"], "capture token") {
		t.Errorf("error sample %q does not name the capture", login.ErrorSamples["capture"])
	}
	if items := res.Lookup("items", ""); items != nil && items.Requests > 0 {
		t.Errorf("items sent %d times after failed captures", items.Requests)
	}
	for _, r := range rec.list() {
		if strings.HasPrefix(r, "GET /items") {
			t.Errorf("server saw %q after a failed capture", r)
		}
	}
}

func writeFile(t *testing.T, path, content string) {
	t.Helper()
	if err := osWriteFile(path, []byte(content)); err != nil {
		t.Fatal(err)
	}
}

// TestGroupsAndConcurrentRendering runs many workers that render templated
// requests at once (run it with -race) and checks that results are grouped
// by the rendered tags and that each request carried its own iteration's
// values.
func TestGroupsAndConcurrentRendering(t *testing.T) {
	var mu sync.Mutex
	mismatches := 0
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		if q.Get("page") != r.Header.Get("X-Page") || q.Get("id") != r.Header.Get("X-Id") {
			mu.Lock()
			mismatches++
			mu.Unlock()
		}
		fmt.Fprintln(w, "ok")
	}))
	defer srv.Close()
	s, err := Parse("groups.yaml", []byte(fmt.Sprintf(`
target: %s
vars:
  page: "{{ pick 1 10 100 }}"
  id: "{{ uuid }}"
requests:
  list:
    path: /posts
    query:
      page: "{{ .page }}"
      id: "{{ .id }}"
    headers:
      X-Page: "{{ .page }}"
      X-Id: "{{ .id }}"
    tags:
      depth: "{{ .page }}"
      kind: offset
load:
  vus: 4
  iterations: 300
`, srv.URL)))
	if err != nil {
		t.Fatal(err)
	}
	plan, err := Compile(s, CompileOptions{})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	res, err := loadgen.Run(ctx, plan)
	if err != nil {
		t.Fatal(err)
	}
	if res.Total.Requests != 300 || res.Total.Errors != 0 {
		t.Fatalf("total %d requests, %d errors; want 300, 0", res.Total.Requests, res.Total.Errors)
	}
	if mismatches != 0 {
		t.Errorf("%d requests mixed values of different iterations", mismatches)
	}
	var groups []string
	var sum uint64
	for _, g := range res.Groups {
		groups = append(groups, g.Name+"{"+g.Group+"}")
		sum += g.Requests
	}
	want := "list{depth=1,kind=offset} list{depth=10,kind=offset} list{depth=100,kind=offset}"
	if strings.Join(groups, " ") != want || sum != 300 {
		t.Errorf("groups %v (%d requests), want %s (300)", groups, sum, want)
	}
}

// TestNotSentReasons: requests a scenario cannot build are counted as not
// sent, each with its reason — a unique feed that ran out, a template that
// failed — never sent and never as a request with a latency.
func TestNotSentReasons(t *testing.T) {
	rec := &seen{}
	srv := captureServer(t, rec)
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{
		"users.csv": "user\nalice\nbob\ncarol\ndan\n",
		"nums.csv":  "n\nseven\n",
		"s.yaml": fmt.Sprintf(`
target: %s
data:
  users: {file: users.csv, mode: unique}
  nums: nums.csv
requests:
  login:
    method: POST
    path: /login
    body: '{"user": "{{ .user }}"}'
  broken:
    path: /items?n={{ randInt 1 .n }}
flows:
  f:
    steps: [login]
  g:
    steps: [broken]
load:
  vus: 1
  iterations: 8
`, srv.URL),
	})
	s, err := Load(dir+"/s.yaml", WithGetenv(testGetenv))
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
	tot := res.Total
	feed, tmpl := tot.NotSentReasons["feed exhausted"], tot.NotSentReasons["template failed"]
	if feed == 0 || tmpl == 0 || feed+tmpl != tot.NotSent || tot.Requests == 0 || tot.Requests+tot.NotSent != 8 {
		t.Fatalf("%d requests, %d not sent by reason %v; want 8 in all, some sent, every unsent one with its reason", tot.Requests, tot.NotSent, tot.NotSentReasons)
	}
	if tmpl > 0 && !strings.Contains(tot.NotSentSamples["template failed"], "want a whole number") ||
		feed > 0 && !strings.Contains(tot.NotSentSamples["feed exhausted"], "all 4 rows are used") {
		t.Fatalf("samples %q", tot.NotSentSamples)
	}
	if got := len(rec.list()); uint64(got) != tot.Requests || tot.Errors != 0 {
		t.Fatalf("server saw %d requests, results %d (%d errors)", got, tot.Requests, tot.Errors)
	}
}
