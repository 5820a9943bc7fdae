package loadgen

import (
	"strings"
	"testing"
	"time"
)

func TestConstantPacerExactTimes(t *testing.T) {
	p := ConstantPacer{PerSecond: 1000, Length: 5 * time.Second}
	if got := p.Count(); got != 5000 {
		t.Fatalf("Count = %d, want 5000", got)
	}
	for _, tc := range []struct {
		i    uint64
		want time.Duration
	}{{0, 0}, {1, time.Millisecond}, {999, 999 * time.Millisecond}, {1000, time.Second}, {4999, 4999 * time.Millisecond}} {
		at, ok := p.Arrival(tc.i)
		if !ok || at != tc.want {
			t.Errorf("Arrival(%d) = %v, %v; want %v", tc.i, at, ok, tc.want)
		}
	}
	if _, ok := p.Arrival(5000); ok {
		t.Error("Arrival(5000) exists; the plan has 5000 arrivals")
	}
}

func TestPacerCounts(t *testing.T) {
	for _, tc := range []struct {
		name string
		p    Pacer
		want uint64
	}{
		{"constant 1/s 10s", ConstantPacer{1, 10 * time.Second}, 10},
		{"constant 3/s 1s", ConstantPacer{3, time.Second}, 3},
		{"constant 0.5/s 3s", ConstantPacer{0.5, 3 * time.Second}, 2}, // at 0s and 2s
		{"constant 30/m 1m", ConstantPacer{0.5, time.Minute}, 30},
		{"ramp 0→100 10s", RampPacer{0, 100, 10 * time.Second}, 500},
		{"ramp 100→2000 10s", RampPacer{100, 2000, 10 * time.Second}, 10500},
		{"ramp down 200→0 5s", RampPacer{200, 0, 5 * time.Second}, 500},
		{"stages", NewStagedPacer(
			Stage{Name: "warm", Pacer: ConstantPacer{10, 2 * time.Second}},
			Stage{Name: "ramp", Pacer: RampPacer{10, 30, 2 * time.Second}},
			Stage{Name: "hold", Pacer: ConstantPacer{30, time.Second}},
		), 20 + 40 + 30},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.p.Count(); got != tc.want {
				t.Fatalf("Count = %d, want %d", got, tc.want)
			}
			// Every arrival exists, lies within the profile and is in order.
			var prev time.Duration = -1
			for i := uint64(0); i < tc.want; i++ {
				at, ok := tc.p.Arrival(i)
				if !ok {
					t.Fatalf("Arrival(%d) missing", i)
				}
				if at < prev || at < 0 || at >= tc.p.Duration() {
					t.Fatalf("Arrival(%d) = %v out of order or range (prev %v, length %v)", i, at, prev, tc.p.Duration())
				}
				prev = at
			}
			if _, ok := tc.p.Arrival(tc.want); ok {
				t.Fatalf("Arrival(%d) exists past the plan", tc.want)
			}
		})
	}
}

func TestRampPacerFollowsRate(t *testing.T) {
	p := RampPacer{From: 100, To: 1100, Length: 10 * time.Second}
	// Arrivals in each second must match the integral of the rate over it:
	// ∫ from+(to−from)t/L dt over [k, k+1) = 150 + 100k.
	counts := make([]int, 10)
	for i := uint64(0); i < p.Count(); i++ {
		at, _ := p.Arrival(i)
		counts[int(at/time.Second)]++
	}
	for k, c := range counts {
		want := 150 + 100*k
		if c < want-1 || c > want+1 {
			t.Errorf("second %d: %d arrivals, want %d±1", k, c, want)
		}
	}
}

func TestStagedPacerContinuesAcrossStages(t *testing.T) {
	p := NewStagedPacer(
		Stage{Name: "a", Pacer: ConstantPacer{10, time.Second}},
		Stage{Name: "b", Pacer: ConstantPacer{100, time.Second}},
	)
	at, _ := p.Arrival(10)
	if at != time.Second {
		t.Fatalf("first arrival of stage b at %v, want 1s", at)
	}
	at, _ = p.Arrival(11)
	if at != time.Second+10*time.Millisecond {
		t.Fatalf("second arrival of stage b at %v, want 1.01s", at)
	}
	if p.StageAt(500*time.Millisecond) != 0 || p.StageAt(1500*time.Millisecond) != 1 || p.StageAt(2*time.Second) != -1 {
		t.Fatal("StageAt wrong")
	}
	if p.Rate(1500*time.Millisecond) != 100 {
		t.Fatalf("Rate = %v", p.Rate(1500*time.Millisecond))
	}
}

func TestParseProfile(t *testing.T) {
	for _, tc := range []struct {
		spec  string
		total time.Duration
		count uint64
		str   string
		err   string
	}{
		{"200/s", 10 * time.Second, 2000, "constant 200/s for 10s", ""},
		// Issue 12: this was "constant 1.6666666666666667/s for 1m0s".
		{"100/m", time.Minute, 100, "constant 100/m for 1m0s", ""},
		{"100/s:300/s", 10 * time.Second, 2000, "ramp 100/s→300/s over 10s", ""},
		{"100/s@2s,200/s", 5 * time.Second, 200 + 600, "constant 100/s for 2s, then constant 200/s for 3s", ""},
		{"10/s@1s,10/s:30/s@2s,30/s@1s", 0, 10 + 40 + 30, "", ""},
		{"100/s@10s", 5 * time.Second, 1000, "", ""},
		{"100/s@2s,200/s", 2 * time.Second, 0, "", "already take"},
		{"100/s,200/s", 2 * time.Second, 0, "", "only one stage"},
		{"100/s@0s", time.Second, 0, "", "greater than zero"},
		{"fast", time.Second, 0, "", "not a number"},
	} {
		p, err := ParseProfile(tc.spec, tc.total)
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("ParseProfile(%q) error = %v, want containing %q", tc.spec, err, tc.err)
			}
			continue
		}
		if err != nil {
			t.Errorf("ParseProfile(%q): %v", tc.spec, err)
			continue
		}
		if p.Count() != tc.count {
			t.Errorf("ParseProfile(%q).Count() = %d, want %d", tc.spec, p.Count(), tc.count)
		}
		if tc.str != "" && p.String() != tc.str {
			t.Errorf("ParseProfile(%q).String() = %q, want %q", tc.spec, p.String(), tc.str)
		}
	}
}

func FuzzParseProfile(f *testing.F) {
	for _, s := range []string{"200/s", "100/s:2000/s", "100/s@10s,1k/s", "30/m", "1e9/s", "NaN", "@", ":,@"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, spec string) {
		p, err := ParseProfile(spec, 10*time.Second)
		if err != nil {
			return
		}
		n := p.Count()
		if n == 0 {
			return
		}
		// First and last arrivals must exist and lie inside the profile.
		for _, i := range []uint64{0, n - 1} {
			at, ok := p.Arrival(i)
			if !ok || at < 0 || at > p.Duration() {
				t.Fatalf("%q: Arrival(%d) = %v, %v (duration %v)", spec, i, at, ok, p.Duration())
			}
		}
	})
}
