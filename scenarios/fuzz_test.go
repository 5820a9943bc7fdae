package scenarios

import (
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"

	"github.com/tailgate-dev/tailgate/loadgen"
)

// FuzzLoad decodes arbitrary files: no panics; every error is positioned;
// a file that loads compiles, and its steps render and inspect without
// panicking.
func FuzzLoad(f *testing.F) {
	for _, glob := range []string{"examples/*.yaml", "testdata/bad/*.yaml"} {
		files, _ := filepath.Glob(glob)
		for _, file := range files {
			b, err := os.ReadFile(file)
			if err == nil {
				f.Add(b)
			}
		}
	}
	// The keys of the trust model: env list, secret names, confined files.
	f.Add([]byte("target: http://127.0.0.1:8080\nenv: [TG_TEST_TOKEN]\nsecret_headers: [X-Auth]\nsecret_query: [token]\nrequests:\n  r:\n    url: 'http://127.0.0.1:9/{{ seq }}?token={{ env \"TG_TEST_TOKEN\" }}'\n    headers: {X-Auth: a}\n    tags: {id: '{{ seq }}'}\n"))
	f.Add([]byte("target: http://127.0.0.1:8080\nenv: TG_TEST_TOKEN\nsecret_query: [\"a&b\"]\nrequests:\n  r:\n    path: /\n    body_file: ../../../etc/passwd\n"))
	// Grouping by response, on a request and on a step.
	f.Add([]byte("target: http://127.0.0.1:8080\nrequests:\n  a:\n    path: /\n    tags: {k: v}\n    group_by: {header: X-Cache, limit: 3}\n  b:\n    path: /b\nflows:\n  f:\n    steps:\n      - a\n      - request: b\n        group_by: status\n"))
	// Response checks, on a request and on a step.
	f.Add([]byte("target: http://127.0.0.1:8080\nrequests:\n  a:\n    path: /\n    expect:\n      status: [200, 404]\n      json:\n        - {path: a, equals: 1}\n        - {path: b, matches: '^x'}\n        - {path: c, exists: false}\n      body_contains: ok\n      max_size: 1KiB\n      min_size: 1\nflows:\n  f:\n    steps:\n      - request: a\n        expect: {json: {path: a, equals: null}}\n"))
	// Retries and polls, on a request and on a step.
	f.Add([]byte("target: http://127.0.0.1:8080\nrequests:\n  r:\n    path: /jobs\n    retry: {on: [429, 503], max: 3, backoff: exponential 100ms}\n    until: {json: state, equals: done}\n    every: 1s\n    timeout: 30s\nflows:\n  f:\n    steps:\n      - request: r\n        retry: {on: 429, max: 1, backoff: retry-after}\n        until: {header: {name: X-State, equals: done}}\n        every: 500ms\n      - request: r\n        until: {status: 404}\n        every: 1s\n"))
	// A flow's thresholds, as a string and as a mapping.
	f.Add([]byte("target: http://127.0.0.1:8080\nrequests:\n  a: {path: /}\n  b: {path: /b}\nflows:\n  f:\n    steps: [{request: a, think: 1ms}, b]\nthresholds:\n  - \"flow:f: p99 < 1s\"\n  - {flow: f, expr: error_rate < 1%}\n"))
	f.Fuzz(func(t *testing.T, src []byte) {
		s, err := Parse("testdata/fuzz.yaml", src, WithGetenv(testGetenv))
		if err != nil {
			if list, ok := err.(Errors); ok {
				for _, e := range list {
					if e.Pos.Line < 1 || e.Pos.Col < 1 || e.Msg == "" {
						t.Fatalf("bad error %q", e.Error())
					}
				}
			}
			return
		}
		plan, err := Compile(s, CompileOptions{Target: "http://127.0.0.1:1"})
		if err != nil {
			return
		}
		it := &loadgen.Iteration{Rand: rand.New(rand.NewPCG(1, 1)), Vars: map[string]string{}}
		for _, fl := range plan.Flows {
			clear(it.Vars)
			for _, st := range fl.Steps {
				var req loadgen.Request
				if err := st.Prepare(it, &req); err != nil {
					break
				}
				res := &loadgen.Response{Status: 200, Body: []byte(`{"a":1}`)}
				if rp, ok := st.(loadgen.Repeater); ok {
					if rep := rp.Repeat(); rep != nil && rep.Until != nil {
						rep.Until.Holds(res)
					}
				}
				if err := st.Inspect(it, res); err != nil {
					break
				}
			}
		}
	})
}
