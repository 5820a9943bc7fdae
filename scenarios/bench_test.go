package scenarios

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/tailgate-dev/tailgate/loadgen"
)

const benchScenario = `
target: http://127.0.0.1:8080
defaults:
  headers:
    Accept: application/json
vars:
  page: "{{ pick 1 10 100 1000 5000 10000 }}"
requests:
  login:
    method: POST
    path: /api/login
    body: '{"user": "user{{ randInt 1 50 }}", "password": "demo", "request_id": "{{ uuid }}"}'
    capture:
      token: {json: token}
  list:
    path: /api/posts
    headers:
      Authorization: "Bearer {{ .token }}"
    query:
      page: "{{ .page }}"
      per_page: 20
    tags:
      depth: "{{ .page }}"
flows:
  f:
    steps: [login, list]
load:
  rate: 10/s
  duration: 1s
`

// BenchmarkRenderRequest renders the steps of a typical flow the way a
// worker does: variables at the start of the iteration, then a POST with a
// templated JSON body and a GET with a captured bearer token, a templated
// query and a tag group.
func BenchmarkRenderRequest(b *testing.B) {
	s, err := Parse("bench.yaml", []byte(benchScenario))
	if err != nil {
		b.Fatal(err)
	}
	plan, err := Compile(s, CompileOptions{})
	if err != nil {
		b.Fatal(err)
	}
	steps := plan.Flows[0].Steps
	// Login tokens differ per iteration: the header value is a new string
	// each time (one allocation), which fresh-token measures.
	tokens := make([]string, 4096)
	for i := range tokens {
		tokens[i] = fmt.Sprintf("tok-%016x", i)
	}
	for _, tc := range []struct {
		name  string
		step  loadgen.Step
		fresh bool
	}{{"post-json-body", steps[0], false}, {"get-query-auth-tags", steps[1], false}, {"get-fresh-token", steps[1], true}} {
		b.Run(tc.name, func(b *testing.B) {
			it := &loadgen.Iteration{Rand: rand.New(rand.NewPCG(1, 2)), Vars: map[string]string{"token": "tok-abcdef0123456789"}}
			var req loadgen.Request
			var hdr []loadgen.Header
			var body []byte
			b.ReportAllocs()
			for i := 0; b.Loop(); i++ {
				it.Seq = uint64(i)
				if tc.fresh {
					it.Vars["token"] = tokens[i%len(tokens)]
				}
				req = loadgen.Request{Header: hdr[:0], Body: body[:0]}
				if err := tc.step.Prepare(it, &req); err != nil {
					b.Fatal(err)
				}
				hdr, body = req.Header, req.Body
			}
		})
	}
}

// BenchmarkInspectChecks is the cost of a response's passing checks: a
// status, three JSON checks, a body search and the sizes; it allocates
// nothing.
func BenchmarkInspectChecks(b *testing.B) {
	s, err := Parse("bench.yaml", []byte(`
target: http://127.0.0.1:8080
requests:
  job:
    path: /job
    expect:
      status: 200
      json:
        - {path: data.state, equals: done}
        - {path: data.count, equals: 3}
        - {path: data.id, matches: '^job-[0-9]+$'}
      body_contains: '"state"'
      max_size: 1KiB
      min_size: 10
`))
	if err != nil {
		b.Fatal(err)
	}
	plan, err := Compile(s, CompileOptions{})
	if err != nil {
		b.Fatal(err)
	}
	st := plan.Flows[0].Steps[0]
	body := []byte(`{"data": {"state": "done", "id": "job-42", "count": 3}}`)
	res := &loadgen.Response{Status: 200, Body: body, BodySize: int64(len(body))}
	it := &loadgen.Iteration{Vars: map[string]string{}}
	b.ReportAllocs()
	for b.Loop() {
		if err := st.Inspect(it, res); err != nil {
			b.Fatal(err)
		}
	}
}
