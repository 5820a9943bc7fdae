package format

import (
	"math"
	"strings"
	"testing"
	"time"
)

func TestParseRate(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want float64
		err  string
	}{
		{"500/s", 500, ""},
		{"30/m", 0.5, ""},
		{"7200/h", 2, ""},
		{"1.5k/s", 1500, ""},
		{"200", 0, "give a unit, e.g. 200/s"},
		{" 10 / s ", 10, ""},
		{"0/s", 0, "greater than zero"},
		{"-5/s", 0, "greater than zero"},
		{"NaN/s", 0, "finite"},
		{"Inf/s", 0, "finite"},
		{"1e300/s", 0, "maximum"},
		{"abc/s", 0, "not a number"},
		{"10/d", 0, "unknown unit"},
		{"", 0, "empty"},
	} {
		got, err := ParseRate(tc.in)
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("ParseRate(%q) error = %v, want containing %q", tc.in, err, tc.err)
			}
			continue
		}
		if err != nil || math.Abs(got-tc.want) > 1e-9 {
			t.Errorf("ParseRate(%q) = %v, %v; want %v", tc.in, got, err, tc.want)
		}
	}
}

// TestParseDuration covers ParseDuration and ParsePause, which differs
// only for zero and negative durations.
func TestParseDuration(t *testing.T) {
	for _, tc := range []struct {
		in          string
		want        time.Duration
		ok, pauseOK bool
	}{
		{"10s", 10 * time.Second, true, true},
		{"1m30s", 90 * time.Second, true, true},
		{"2", 0, false, false}, // a bare number: seconds or minutes?
		{"0s", 0, false, true},
		{"0", 0, false, true}, // a pause of nothing needs no unit
		{" 0ms ", 0, false, true},
		{"-1s", 0, false, false},
		{"", 0, false, false},
		{"NaN", 0, false, false},
		{"9999999h", 0, false, false},
		{"ten", 0, false, false},
	} {
		got, err := ParseDuration(tc.in)
		if (err == nil) != tc.ok || got != tc.want {
			t.Errorf("ParseDuration(%q) = %v, %v", tc.in, got, err)
		}
		got, err = ParsePause(tc.in)
		if (err == nil) != tc.pauseOK || got != tc.want {
			t.Errorf("ParsePause(%q) = %v, %v", tc.in, got, err)
		}
	}
}

func TestRateSpec(t *testing.T) {
	for _, tc := range []struct {
		in   float64
		want string
	}{
		{200, "200/s"},
		{0.5, "30/m"},
		{1.5, "1.5/s"},
		{1.0 / 120, "30/h"},
		{100.0 / 60, "100/m"},
		{3.0 / 3600, "3/h"},
		{20000, "20k/s"},
		{1500, "1500/s"},
		{1.2345678, "1.2345678/s"},
	} {
		got := RateSpec(tc.in)
		if got != tc.want {
			t.Errorf("RateSpec(%v) = %q, want %q", tc.in, got, tc.want)
		}
		back, err := ParseRate(got)
		if err != nil || math.Abs(back-tc.in) > 1e-9*tc.in {
			t.Errorf("ParseRate(RateSpec(%v) = %q) = %v, %v", tc.in, got, back, err)
		}
	}
}
