package loadgen

import (
	"testing"
	"time"

	"github.com/tailgate-dev/tailgate/results"
)

func TestPlanHash(t *testing.T) {
	base := func() *Plan {
		return &Plan{
			Name: "p", Target: "http://127.0.0.1:8080",
			Load: Load{Pacer: ConstantPacer{PerSecond: 100, Length: 10 * time.Second}, Warmup: time.Second, Connections: 10},
			Flows: []Flow{
				{Name: "read", Weight: 3, Steps: []Step{&StaticStep{Request: Request{Name: "GET /", Method: "GET", URL: "http://127.0.0.1:8080/"}}}},
				{Name: "write", Weight: 1, Steps: []Step{&StaticStep{Request: Request{Name: "POST /", Method: "POST", URL: "http://127.0.0.1:8080/"}}}},
			},
			Shard: results.Shard{Index: 0, Count: 4},
		}
	}
	ref := planHash(base())
	if len(ref) != 24 {
		t.Fatalf("hash %q: want 24 hex digits", ref)
	}
	same := []struct {
		name   string
		modify func(*Plan)
	}{
		{"shard index", func(p *Plan) { p.Shard.Index = 3 }},
		{"connections", func(p *Plan) { p.Connections, p.MaxInFlight = 500, 9 }},
		{"timeout", func(p *Plan) { p.Client.Timeout = time.Second }},
		{"command", func(p *Plan) { p.Command = []string{"x"} }},
		{"name", func(p *Plan) { p.Name = "q" }},
	}
	for _, tt := range same {
		p := base()
		tt.modify(p)
		if h := planHash(p); h != ref {
			t.Errorf("%s changed the plan hash", tt.name)
		}
	}
	differ := []struct {
		name   string
		modify func(*Plan)
	}{
		{"rate", func(p *Plan) { p.Pacer = ConstantPacer{PerSecond: 101, Length: 10 * time.Second} }},
		{"duration", func(p *Plan) { p.Pacer = ConstantPacer{PerSecond: 100, Length: 11 * time.Second} }},
		{"ramp", func(p *Plan) { p.Pacer = RampPacer{From: 100, To: 100, Length: 10 * time.Second} }},
		{"weight", func(p *Plan) { p.Flows[0].Weight = 2 }},
		{"flow name", func(p *Plan) { p.Flows[1].Name = "update" }},
		{"flow order", func(p *Plan) { p.Flows[0], p.Flows[1] = p.Flows[1], p.Flows[0] }},
		{"step", func(p *Plan) { p.Flows[0].Steps[0].(*StaticStep).Request.URL = "http://127.0.0.1:8080/x" }},
		{"warmup", func(p *Plan) { p.Warmup = 2 * time.Second }},
		{"shard count", func(p *Plan) { p.Shard.Count = 3 }},
		{"target", func(p *Plan) { p.Target = "http://127.0.0.1:9090" }},
		{"closed", func(p *Plan) { p.Pacer, p.VUs, p.Duration = nil, 10, 10*time.Second }},
	}
	seen := map[string]string{ref: "base"}
	for _, tt := range differ {
		p := base()
		tt.modify(p)
		h := planHash(p)
		if prev, dup := seen[h]; dup {
			t.Errorf("%s gives the same hash as %s", tt.name, prev)
		}
		seen[h] = tt.name
	}
	// One shard and no sharding are the same plan.
	p1, p0 := base(), base()
	p1.Shard, p0.Shard = results.Shard{Index: 0, Count: 1}, results.Shard{}
	if planHash(p1) != planHash(p0) {
		t.Error("shard 0/1 and no shard hash differently")
	}
}
