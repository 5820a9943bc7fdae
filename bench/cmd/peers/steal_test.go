package main

import (
	"bytes"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestParseCPUList(t *testing.T) {
	tests := []struct {
		in   string
		want []int
		err  bool
	}{
		{"0", []int{0}, false},
		{"1", []int{1}, false},
		{"0,2", []int{0, 2}, false},
		{"1-3", []int{1, 2, 3}, false},
		{"0-1,1", []int{0, 1}, false},
		{"", nil, true},
		{"x", nil, true},
		{"3-1", nil, true},
		{"-1", nil, true},
		{"0-99999", nil, true},
	}
	for _, tt := range tests {
		got, err := parseCPUList(tt.in)
		if (err != nil) != tt.err || !slices.Equal(got, tt.want) {
			t.Errorf("parseCPUList(%q) = %v, %v; want %v (error %v)", tt.in, got, err, tt.want, tt.err)
		}
	}
}

const procStat = `cpu  34636 0 19872 66822 617 0 5006 1751 0 0
cpu0 17219 0 9394 34479 69 0 2297 874 0 0
cpu1 17417 0 10477 32343 548 0 2708 877 0 0
intr 1689558 0 0 0
ctxt 4196818
`

func TestParseCPUClock(t *testing.T) {
	tests := []struct {
		text string
		cpus []int
		want cpuClock
		err  string
	}{
		{procStat, []int{0}, cpuClock{stolen: 874, total: 64332}, ""},
		{procStat, []int{0, 1}, cpuClock{stolen: 874 + 877, total: 64332 + 64370}, ""},
		{procStat, []int{2}, cpuClock{}, "lists 0 of the CPUs [2]"},
		{"cpu0 1 2 3 4 5 6 7\n", []int{0}, cpuClock{}, "has 7 times"},
		{"cpu0 1 2 3 4 5 6 7 x\n", []int{0}, cpuClock{}, "cpu0 time 8"},
	}
	for _, tt := range tests {
		got, err := parseCPUClock(tt.text, tt.cpus)
		if tt.err != "" {
			if err == nil || !strings.Contains(err.Error(), tt.err) {
				t.Errorf("CPUs %v: error %v, want %q", tt.cpus, err, tt.err)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("CPUs %v: %+v, %v; want %+v", tt.cpus, got, err, tt.want)
		}
	}
	if s := stealBetween(cpuClock{10, 1000}, cpuClock{15, 1100}); s == nil || *s != 0.05 {
		t.Errorf("steal between readings: %v, want 5%%", s)
	}
	if s := stealBetween(cpuClock{10, 1000}, cpuClock{10, 1000}); s != nil {
		t.Errorf("steal of no time: %v, want none", *s)
	}
}

// TestLagGoalOnQuietRepetitions: the send-lag goal is judged on the
// repetitions whose steal stayed below quietSteal and says how many; old
// measurements without steal are judged on all of them.
func TestLagGoalOnQuietRepetitions(t *testing.T) {
	f := func(v float64) *float64 { return &v }
	run := func(lag time.Duration, steal *float64) OpenRun {
		return OpenRun{Tool: "tailgate", Rate: 10000, LagP99: lag, Steal: steal}
	}
	tests := []struct {
		name     string
		runs     []OpenRun
		measured string
		ok       bool
	}{
		{"quiet ones meet it", []OpenRun{run(800*time.Microsecond, f(0.001)), run(20*time.Millisecond, f(0.06)), run(900*time.Microsecond, f(0.002))},
			"850 µs (2 of 3 repetitions with the tool CPU's steal < 0.5%; all: 900 µs)", true},
		{"a quiet one misses", []OpenRun{run(1500*time.Microsecond, f(0.001)), run(11*time.Millisecond, f(0.04))},
			"1.5 ms (1 of 2 repetitions with the tool CPU's steal < 0.5%; all: 6.25 ms)", false},
		{"none quiet", []OpenRun{run(800*time.Microsecond, f(0.01)), run(20*time.Millisecond, f(0.06))},
			"no repetition with the tool CPU's steal < 0.5% (all 2: 10.4 ms)", false},
		{"older measurements", []OpenRun{run(800*time.Microsecond, nil), run(900*time.Microsecond, nil), {Tool: "wrk2", Rate: 10000}},
			"850 µs (steal not recorded)", true},
	}
	for _, tt := range tests {
		what, measured, ok := lagGoal(tt.runs)
		if what == "" || measured != tt.measured || ok != tt.ok {
			t.Errorf("%s: %q %q %v, want %q %v", tt.name, what, measured, ok, tt.measured, tt.ok)
		}
	}
	if what, _, _ := lagGoal([]OpenRun{{Tool: "tailgate", Rate: 1000}}); what != "" {
		t.Errorf("a goal without a 10k/s run: %q", what)
	}
}

// TestWriteOpenShowsSteal: section 6 shows each tool's steal, and each
// repetition's lag beside it; a run of an older driver shows a dash.
func TestWriteOpenShowsSteal(t *testing.T) {
	f := func(v float64) *float64 { return &v }
	doc := &document{d: durations{open: 10 * time.Second}}
	doc.Open = []OpenRun{
		{Tool: "tailgate", Rate: 10000, Planned: 100000, Server: 100000, LagP99: 800 * time.Microsecond, Steal: f(0.001)},
		{Tool: "tailgate", Rep: 1, Rate: 10000, Planned: 100000, Server: 100000, LagP99: 20 * time.Millisecond, Steal: f(0.063)},
		{Tool: "wrk2", Rate: 10000, Planned: 100000, Server: 100000},
	}
	var buf bytes.Buffer
	doc.writeOpen(&buf)
	out := buf.String()
	for _, want := range []string{
		"| steal (median; max) |",
		"| 3.20%; 6.30% |",
		"below 0.5%",
		"tailgate's send-lag p99 at 10000/s per repetition: 800 µs (steal 0.10%, quiet), 20 ms (steal 6.30%).",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("section 6 lacks %q:\n%s", want, out)
		}
	}
	if !strings.Contains(out, "| wrk2 | 10000/s |") || !strings.Contains(out, "MiB | — |") {
		t.Errorf("wrk2's row without steal should end in a dash:\n%s", out)
	}
}

// TestRatesJudgeLagOnQuietRepetitions: section 2 shows the steal of each
// run and its send-lag goal counts the quiet repetitions, as section 6's.
func TestRatesJudgeLagOnQuietRepetitions(t *testing.T) {
	f := func(v float64) *float64 { return &v }
	doc := &document{d: durations{rate: 10 * time.Second}}
	doc.Rates = []RateRun{
		{Tool: "tailgate", Rate: 10000, Planned: 100000, Server: 100000, LagP99: 700 * time.Microsecond, Steal: f(0.002)},
		{Tool: "tailgate", Rep: 1, Rate: 10000, Planned: 100000, Server: 100000, LagP99: 30 * time.Millisecond, Steal: f(0.09)},
	}
	doc.computeGoals()
	found := false
	for _, g := range doc.goals {
		if g.what == "send lag p99 < 1 ms at 10k/s" {
			found = true
			if !g.ok || g.measured != "700 µs (1 of 2 repetitions with the tool CPU's steal < 0.5%; all: 15.3 ms)" {
				t.Errorf("goal %+v", g)
			}
		}
	}
	if !found {
		t.Errorf("no send-lag goal in %+v", doc.goals)
	}
	var buf bytes.Buffer
	doc.writeRates(&buf)
	for _, want := range []string{"| steal (median; max) | warnings |", "| 4.60%; 9.00% | none |",
		"tailgate's send-lag p99 at 10000/s per repetition: 700 µs (steal 0.20%, quiet), 30 ms (steal 9.00%)."} {
		if !strings.Contains(buf.String(), want) {
			t.Errorf("section 2 lacks %q:\n%s", want, buf.String())
		}
	}
}
