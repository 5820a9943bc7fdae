package cli

import (
	"math"
	"testing"
	"time"

	"github.com/spf13/pflag"

	"github.com/tailgate-dev/tailgate/loadgen"
	"github.com/tailgate-dev/tailgate/scenarios"
)

// One warmup rule for load.warmup, warmup stages and the flags: the
// warmup runs before the measured part, and --duration sets the measured
// part (issue 12 item 3: `-d 5s` on a file with a 3s warmup measured 2s).
// Poisson arrivals follow the same rule and stay Poisson, with their seed
// (`-d 5s` on a Poisson file with a warmup was a usage error).
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
	const poissonKey = warmupKey + `  arrivals: poisson
  seed: 7
`
	const poissonStage = warmupStage + `  arrivals: poisson
`
	tests := []struct {
		name, file    string
		args          []string
		warm, measure time.Duration
		rate          float64
		// seed is the seed of Poisson arrivals; 0: uniform.
		seed uint64
	}{
		{"load.warmup", warmupKey, nil, 3 * time.Second, 10 * time.Second, 100, 0},
		{"load.warmup -d 5s", warmupKey, []string{"-d", "5s"}, 3 * time.Second, 5 * time.Second, 100, 0},
		{"warmup stage", warmupStage, nil, 3 * time.Second, 10 * time.Second, 100, 0},
		{"warmup stage -d 5s", warmupStage, []string{"-d", "5s"}, 3 * time.Second, 5 * time.Second, 100, 0},
		{"--warmup replaces the stage", warmupStage, []string{"--warmup", "1s"}, time.Second, 10 * time.Second, 100, 0},
		{"--rate drops the scenario's warmup", warmupStage, []string{"-r", "20/s", "-d", "4s"}, 0, 4 * time.Second, 20, 0},
		{"--rate with --warmup", warmupStage, []string{"-r", "20/s", "-d", "4s", "--warmup", "2s"}, 2 * time.Second, 4 * time.Second, 20, 0},
		{"poisson load.warmup", poissonKey, nil, 3 * time.Second, 10 * time.Second, 100, 7},
		{"poisson load.warmup -d 5s", poissonKey, []string{"-d", "5s"}, 3 * time.Second, 5 * time.Second, 100, 7},
		{"poisson load.warmup -d 5s --seed 3", poissonKey, []string{"-d", "5s", "--seed", "3"}, 3 * time.Second, 5 * time.Second, 100, 3},
		{"poisson --warmup 1s -d 5s", poissonKey, []string{"--warmup", "1s", "-d", "5s"}, time.Second, 5 * time.Second, 100, 7},
		{"poisson warmup stage -d 5s", poissonStage, []string{"-d", "5s"}, 3 * time.Second, 5 * time.Second, 100, 1},
		{"poisson -d 5s --arrivals uniform", poissonKey, []string{"-d", "5s", "--arrivals", "uniform"}, 3 * time.Second, 5 * time.Second, 100, 0},
		{"--arrivals poisson -d 5s", warmupKey, []string{"--arrivals", "poisson", "-d", "5s"}, 3 * time.Second, 5 * time.Second, 100, 1},
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
			pp, poisson := plan.Pacer.(*loadgen.PoissonPacer)
			if poisson != (tt.seed != 0) || poisson && pp.Seed() != tt.seed {
				t.Fatalf("pacer %s; want Poisson arrivals with seed %d (0: uniform)", plan.Pacer, tt.seed)
			}
			// A Poisson schedule's count is the profile's give or take its
			// square root: within 15% over these lengths.
			tol := 0.0
			if poisson {
				tol = 0.15 * tt.rate
			}
			if m := plan.Meta(); math.Abs(m.PlannedRate-tt.rate) > tol {
				t.Fatalf("planned rate %v, want %v", m.PlannedRate, tt.rate)
			}
		})
	}
}
