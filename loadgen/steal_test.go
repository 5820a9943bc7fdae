package loadgen

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/tailgate-dev/tailgate/results"
)

func cpuSet(cpus ...int) func(int) bool {
	return func(c int) bool { return slices.Contains(cpus, c) }
}

func TestParseProcStat(t *testing.T) {
	file := func(name string) string {
		b, err := os.ReadFile(filepath.Join("testdata", "procstat", name))
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	tests := []struct {
		name, text string
		watch      func(int) bool
		want       stealClock
		err        string // a substring of the error; "" for none
	}{
		{"vm, tool on cpu0", file("vm-2cpu.txt"), cpuSet(0), stealClock{stolen: 874, total: 64332, cpus: 1}, ""},
		{"vm, tool on cpu1", file("vm-2cpu.txt"), cpuSet(1), stealClock{stolen: 877, total: 64370, cpus: 1}, ""},
		{"vm, both", file("vm-2cpu.txt"), cpuSet(0, 1), stealClock{stolen: 874 + 877, total: 64332 + 64370, cpus: 2}, ""},
		{"vm, a CPU it does not have", file("vm-2cpu.txt"), cpuSet(5), stealClock{}, ""},
		{"offline cpu2 is not counted, guest time is not added", file("offline-cpu2.txt"), cpuSet(0, 1, 2, 3),
			stealClock{stolen: 300 + 350 + 550, total: 23830 + 24895 + 48635, cpus: 3}, ""},
		{"bare metal steals nothing", file("bare-metal.txt"), cpuSet(1, 3), stealClock{stolen: 0, total: 4640782 + 25005094, cpus: 2}, ""},
		{"a kernel without steal", file("no-steal-field.txt"), cpuSet(0), stealClock{}, "line 2: cpu0 field 8"},
		{"without steal, unwatched", file("no-steal-field.txt"), cpuSet(4), stealClock{}, ""},
		{"no trailing newline", "cpu0 1 2 3 4 5 6 7 8", cpuSet(0), stealClock{stolen: 8, total: 36, cpus: 1}, ""},
		{"runs of spaces", "cpu  9 9 9 9 9 9 9 9\ncpu0  1  2 3 4 5 6 7 8 9 10\n", cpuSet(0), stealClock{stolen: 8, total: 36, cpus: 1}, ""},
		{"empty", "", cpuSet(0), stealClock{}, ""},
		{"not a count", "cpu0 1 2 3 4 5 6 7 x\n", cpuSet(0), stealClock{}, `line 1: cpu0 field 8: "x" is not a count`},
		{"not a CPU", "cpu\n cpux 1 2\ncpux 1 2 3 4 5 6 7 8\n", cpuSet(0), stealClock{}, `line 3: "cpux 1 2 3 4 5 6 7 8" is not a CPU`},
		{"a huge CPU number", "cpu99999999999 1 2 3 4 5 6 7 8\n", cpuSet(0), stealClock{}, "is not a CPU"},
		{"a count past 2^64", "cpu0 18446744073709551616 0 0 0 0 0 0 0\n", cpuSet(0), stealClock{}, "is more than 2^64"},
		{"a line past 2^64", "cpu0 18446744073709551615 1 0 0 0 0 0 0\n", cpuSet(0), stealClock{}, "cpu0: the times add up past 2^64"},
		{"CPUs past 2^64", "cpu0 18446744073709551615 0 0 0 0 0 0 0\ncpu1 1 0 0 0 0 0 0 0\n", cpuSet(0, 1), stealClock{}, "line 2: the CPUs' times add up past 2^64"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parseProcStat([]byte(tt.text), tt.watch)
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("error %v, want one containing %q", err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got != tt.want {
				t.Errorf("got %+v, want %+v", got, tt.want)
			}
		})
	}
}

func FuzzParseProcStat(f *testing.F) {
	names, err := filepath.Glob(filepath.Join("testdata", "procstat", "*.txt"))
	if err != nil || len(names) == 0 {
		f.Fatalf("no seeds: %v", err)
	}
	for _, n := range names {
		b, err := os.ReadFile(n)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b, uint8(0b1011))
	}
	f.Fuzz(func(t *testing.T, data []byte, mask uint8) {
		c, err := parseProcStat(data, func(cpu int) bool { return cpu < 8 && mask&(1<<cpu) != 0 })
		if err != nil {
			return
		}
		if c.stolen > c.total {
			t.Errorf("stolen %d > total %d", c.stolen, c.total)
		}
		if lines := strings.Count(string(data), "cpu"); c.cpus > lines {
			t.Errorf("%d CPUs from %d mentions of cpu", c.cpus, lines)
		}
	})
}

// TestStealMeter: the run's steal is from the first reading to the last
// good one; the worst second is over spans of at least StealWindow, and a
// failed or inconsistent reading is skipped.
func TestStealMeter(t *testing.T) {
	type reading struct {
		at     time.Duration
		c      stealClock
		err    error
		stolen time.Duration // the interval's steal, of ...
		of     time.Duration // ... this much CPU time
	}
	// One CPU at 100 ticks a second: 0 stolen in the first second, 5 in
	// the second, a failed read, 30 stolen over the next 1.5 s (in two
	// readings, the first too soon to rank), a reading with another CPU
	// count, then 10 of 100.
	seq := []reading{
		{0, stealClock{stolen: 1000, total: 50000, cpus: 1}, nil, 0, 0},
		{time.Second, stealClock{stolen: 1000, total: 50100, cpus: 1}, nil, 0, time.Second},
		{2 * time.Second, stealClock{stolen: 1005, total: 50200, cpus: 1}, nil, 50 * time.Millisecond, time.Second},
		{2300 * time.Millisecond, stealClock{}, errors.New("read /proc/stat: gone"), 0, 0},
		{2500 * time.Millisecond, stealClock{stolen: 1020, total: 50250, cpus: 1}, nil, 150 * time.Millisecond, 500 * time.Millisecond},
		{3500 * time.Millisecond, stealClock{stolen: 1035, total: 50350, cpus: 1}, nil, 150 * time.Millisecond, time.Second},
		{4 * time.Second, stealClock{stolen: 1000, total: 99999, cpus: 2}, nil, 0, 0},
		{4500 * time.Millisecond, stealClock{stolen: 1045, total: 50450, cpus: 1}, nil, 100 * time.Millisecond, time.Second},
	}
	i := 0
	m := newStealMeter(func() (stealClock, error) {
		r := seq[i]
		i++
		return r.c, r.err
	})
	for _, r := range seq[1:] {
		got := m.tick(r.at)
		if want := (results.IntervalSteal{Stolen: results.Duration(r.stolen), Time: results.Duration(r.of)}); got != want {
			t.Errorf("interval ending at %s: steal %+v, want %+v", r.at, got, want)
		}
	}
	got := m.result()
	want := &results.Steal{CPUs: 1, Stolen: results.Duration(450 * time.Millisecond), Time: results.Duration(4500 * time.Millisecond),
		Worst: 0.2, WorstAt: results.Duration(2 * time.Second)}
	if *got != *want {
		t.Errorf("got %+v, want %+v", got, want)
	}
	if err := (&results.Result{Total: results.NewStats("", ""), Meta: results.Meta{Steal: got}}).Check(); err != nil {
		t.Errorf("the meter's steal fails the results' check: %v", err)
	}
}

func TestStealMeterAbsent(t *testing.T) {
	for name, read := range map[string]func() (stealClock, error){
		"no reader":    nil,
		"failed read":  func() (stealClock, error) { return stealClock{}, errors.New("no /proc") },
		"no CPU found": func() (stealClock, error) { return stealClock{}, nil },
	} {
		m := newStealMeter(read)
		if iv := m.tick(time.Second); iv != (results.IntervalSteal{}) { // a nil meter measures nothing
			t.Errorf("%s: interval steal %+v, want none", name, iv)
		}
		if got := m.result(); got != nil {
			t.Errorf("%s: steal %+v, want none", name, got)
		}
	}
}
