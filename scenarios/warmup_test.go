package scenarios

import (
	"testing"
	"time"
)

// load.warmup runs before the measured duration: a 3s warmup with a 10s
// duration is a 13s run that measures 10s at the planned rate.
func TestLoadWarmupAddsToDuration(t *testing.T) {
	s, err := Parse("w.yaml", []byte(`
target: http://127.0.0.1:8080
requests:
  home: {path: /}
load:
  rate: 100/s
  duration: 10s
  warmup: 3s
`))
	if err != nil {
		t.Fatal(err)
	}
	plan, err := Compile(s, CompileOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if plan.Warmup != 3*time.Second || plan.PlannedDuration() != 13*time.Second || plan.MeasuredDuration() != 10*time.Second {
		t.Fatalf("warmup %v planned %v measured %v; want 3s, 13s, 10s", plan.Warmup, plan.PlannedDuration(), plan.MeasuredDuration())
	}
	if m := plan.Meta(); m.PlannedRate != 100 || m.PlannedRequests != 1300 {
		t.Fatalf("planned rate %v, arrivals %d; want 100/s and 1300", m.PlannedRate, m.PlannedRequests)
	}
}
