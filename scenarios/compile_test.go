package scenarios

import (
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/tailgate-dev/tailgate/loadgen"
)

func TestCompilePlan(t *testing.T) {
	s, err := Parse("plan.yaml", []byte(`
name: shop
target: http://127.0.0.1:8080/
env: [TG_TEST_TOKEN]
defaults:
  timeout: 2s
  http2: true
  follow_redirects: 3
  headers:
    Cookie: session=abc123
    Authorization: 'Bearer {{ env "TG_TEST_TOKEN" }}'
requests:
  a: {path: /a, weight: 2}
  b: {path: /b}
  c: {path: /c}
flows:
  bc:
    weight: 3
    steps:
      - b
      - request: c
        repeat: 2
load:
  stages:
    - {name: warm, duration: 5s, rate: 10/s, warmup: true}
    - {name: ramp, duration: 10s, from: 10/s, to: 100/s}
  max_in_flight: 50
  connections: 8
  streams: 4
  overload: drop
`), WithGetenv(testGetenv))
	if err != nil {
		t.Fatal(err)
	}
	plan, err := Compile(s, CompileOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if err := plan.Validate(); err != nil {
		t.Fatal(err)
	}
	if plan.Name != "shop" || plan.Target != "http://127.0.0.1:8080" {
		t.Errorf("name %q target %q", plan.Name, plan.Target)
	}
	var flows []string
	for _, f := range plan.Flows {
		flows = append(flows, f.Name)
		switch f.Name {
		case "bc":
			if f.Weight != 3 || len(f.Steps) != 3 {
				t.Errorf("flow bc: weight %d, %d steps; want 3, 3", f.Weight, len(f.Steps))
			}
		case "a":
			if f.Weight != 2 || len(f.Steps) != 1 {
				t.Errorf("flow a: weight %d, %d steps; want 2, 1", f.Weight, len(f.Steps))
			}
		}
	}
	if !slices.Equal(flows, []string{"bc", "a"}) {
		t.Errorf("flows %v, want [bc a]", flows)
	}
	sp, ok := plan.Pacer.(*loadgen.StagedPacer)
	if !ok || len(sp.Stages()) != 2 || sp.Stages()[1].Name != "ramp" || sp.Duration() != 15*time.Second {
		t.Errorf("pacer %v, want 2 named stages over 15s", plan.Pacer)
	}
	if plan.Warmup != 5*time.Second || plan.MaxInFlight != 50 || plan.Connections != 8 || plan.Streams != 4 || plan.Overload != loadgen.OverloadDrop {
		t.Errorf("warmup %s, max in flight %d, connections %d × streams %d, overload %q", plan.Warmup, plan.MaxInFlight, plan.Connections, plan.Streams, plan.Overload)
	}
	want := loadgen.ClientOptions{Timeout: 2 * time.Second, HTTP2: true, FollowRedirects: 3}
	if !reflect.DeepEqual(plan.Client, want) {
		t.Errorf("client %+v, want %+v", plan.Client, want)
	}
	for _, secret := range []string{"s3cr3t-t0ken", "session=abc123"} {
		if !slices.Contains(plan.Redact, secret) {
			t.Errorf("Redact %q lacks %q", plan.Redact, secret)
		}
	}
	it := &loadgen.Iteration{Vars: map[string]string{}}
	var req loadgen.Request
	if err := plan.Flows[1].Steps[0].Prepare(it, &req); err != nil {
		t.Fatal(err)
	}
	if req.URL != "http://127.0.0.1:8080/a" || req.Name != "a" || req.Method != "GET" || len(req.Header) != 2 {
		t.Errorf("request %+v", req)
	}

	plan, err = Compile(s, CompileOptions{Target: "http://[::1]:9000"})
	if err != nil {
		t.Fatal(err)
	}
	req = loadgen.Request{}
	if err := plan.Flows[1].Steps[0].Prepare(it, &req); err != nil || req.URL != "http://[::1]:9000/a" {
		t.Errorf("with --target: URL %q, %v", req.URL, err)
	}
	if _, err := Compile(s, CompileOptions{Target: "localhost:80"}); err == nil {
		t.Error("a target without scheme compiled")
	}
}

func TestCompileClosedModel(t *testing.T) {
	s, err := Parse("closed.yaml", []byte(`
target: http://127.0.0.1:8080
requests:
  a: {path: "/a?x=1", query: {y: "a b"}}
load: {vus: 3, iterations: 10, duration: 1m, think: 50ms}
`))
	if err != nil {
		t.Fatal(err)
	}
	plan, err := Compile(s, CompileOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if plan.Pacer != nil || plan.VUs != 3 || plan.Iterations != 10 || plan.Duration != time.Minute || plan.Think != 50*time.Millisecond {
		t.Errorf("closed plan: %+v", plan)
	}
	var req loadgen.Request
	if err := plan.Flows[0].Steps[0].Prepare(&loadgen.Iteration{}, &req); err != nil || req.URL != "http://127.0.0.1:8080/a?x=1&y=a+b" {
		t.Errorf("URL %q, %v", req.URL, err)
	}
}

func TestWarnings(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, dir+"/u.csv", "user\na\nb\nc\n")
	s, err := Parse(dir+"/w.yaml", []byte(`
target: http://127.0.0.1:8080
data:
  users: {file: u.csv, mode: unique}
requests:
  a: {path: "/a/{{ .user }}"}
load: {rate: 10/s, duration: 1s}
thresholds: ["rate >= 95%"]
`))
	if err != nil {
		t.Fatal(err)
	}
	plan, err := Compile(s, CompileOptions{})
	if err != nil {
		t.Fatal(err)
	}
	w := s.Warnings(&plan, s.Thresholds)
	if len(w) != 1 || !strings.Contains(w[0], "3 rows for 10 planned iterations") {
		t.Errorf("open model warnings %q", w)
	}
	plan.Pacer, plan.VUs, plan.Iterations = nil, 1, 3
	w = s.Warnings(&plan, s.Thresholds)
	if len(w) != 1 || !strings.Contains(w[0], "closed model") {
		t.Errorf("closed model warnings %q", w)
	}
}
