package cli

import (
	"testing"
	"time"

	"github.com/spf13/pflag"

	"github.com/tailgate-dev/tailgate/scenarios"
)

// One warmup rule for load.warmup, warmup stages and the flags: the
// warmup runs before the measured part, and --duration sets the measured
// part (issue 12 item 3: `-d 5s` on a file with a 3s warmup measured 2s).
func TestWarmupRuleWithOverrides(t *testing.T) {
	const warmupKey = `
target: http://127.0.0.1:8080
requests:
  home: {path: /}
load:
  rate: 100/s
  duration: 10s
  warmup: 3s
`
	const warmupStage = `
target: http://127.0.0.1:8080
requests:
  home: {path: /}
load:
  stages:
    - {duration: 3s, rate: 50/s, warmup: true}
    - {duration: 10s, rate: 100/s}
`
	tests := []struct {
		name, file    string
		args          []string
		warm, measure time.Duration
		rate          float64
	}{
		{"load.warmup", warmupKey, nil, 3 * time.Second, 10 * time.Second, 100},
		{"load.warmup -d 5s", warmupKey, []string{"-d", "5s"}, 3 * time.Second, 5 * time.Second, 100},
		{"warmup stage", warmupStage, nil, 3 * time.Second, 10 * time.Second, 100},
		{"warmup stage -d 5s", warmupStage, []string{"-d", "5s"}, 3 * time.Second, 5 * time.Second, 100},
		{"--warmup replaces the stage", warmupStage, []string{"--warmup", "1s"}, time.Second, 10 * time.Second, 100},
		{"--rate drops the scenario's warmup", warmupStage, []string{"-r", "20/s", "-d", "4s"}, 0, 4 * time.Second, 20},
		{"--rate with --warmup", warmupStage, []string{"-r", "20/s", "-d", "4s", "--warmup", "2s"}, 2 * time.Second, 4 * time.Second, 20},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := scenarios.Parse("w.yaml", []byte(tt.file))
			if err != nil {
				t.Fatal(err)
			}
			plan, err := scenarios.Compile(s, scenarios.CompileOptions{})
			if err != nil {
				t.Fatal(err)
			}
			fs := pflag.NewFlagSet("run", pflag.ContinueOnError)
			var f loadFlags
			addLoadFlags(fs, &f, false, true)
			if err := fs.Parse(tt.args); err != nil {
				t.Fatal(err)
			}
			if err := f.apply(fs, &plan); err != nil {
				t.Fatal(err)
			}
			if err := plan.Validate(); err != nil {
				t.Fatal(err)
			}
			if plan.Warmup != tt.warm || plan.MeasuredDuration() != tt.measure || plan.PlannedDuration() != tt.warm+tt.measure {
				t.Fatalf("warmup %v measured %v planned %v; want %v, %v, %v", plan.Warmup, plan.MeasuredDuration(), plan.PlannedDuration(), tt.warm, tt.measure, tt.warm+tt.measure)
			}
			if m := plan.Meta(); m.PlannedRate != tt.rate {
				t.Fatalf("planned rate %v, want %v", m.PlannedRate, tt.rate)
			}
		})
	}
}
