package format

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

// MaxRate is the highest rate tailgate accepts, per second. It guards against
// typos such as 1e12/s that would otherwise plan an absurd schedule.
const MaxRate = 10_000_000

// ParseRate parses a rate such as "500/s", "30/m", "2/h" or "1.5k/s" and
// returns arrivals per second. A bare number is refused: "100" could mean
// per second or per minute, and a wrong guess is a load 60 times off.
func ParseRate(s string) (float64, error) {
	orig := s
	s = strings.TrimSpace(s)
	if s == "" {
		return 0, errors.New("empty rate")
	}
	per := time.Second
	i := strings.IndexByte(s, '/')
	if i < 0 {
		if _, err := strconv.ParseFloat(strings.TrimRight(s, "kKM"), 64); err != nil {
			return 0, fmt.Errorf("rate %q: not a number", orig)
		}
		return 0, fmt.Errorf("rate %q: give a unit, e.g. %s/s or %s/m", orig, s, s)
	}
	{
		unit := strings.TrimSpace(s[i+1:])
		s = strings.TrimSpace(s[:i])
		switch unit {
		case "s", "sec", "second":
			per = time.Second
		case "m", "min", "minute":
			per = time.Minute
		case "h", "hour":
			per = time.Hour
		case "ms":
			per = time.Millisecond
		default:
			return 0, fmt.Errorf("rate %q: unknown unit %q (use /s, /m or /h)", orig, unit)
		}
	}
	mult := 1.0
	if n := len(s); n > 0 {
		switch s[n-1] {
		case 'k', 'K':
			mult, s = 1e3, s[:n-1]
		case 'M':
			mult, s = 1e6, s[:n-1]
		}
	}
	v, err := strconv.ParseFloat(s, 64)
	if err != nil {
		return 0, fmt.Errorf("rate %q: not a number", orig)
	}
	v = v * mult / per.Seconds()
	switch {
	case math.IsNaN(v) || math.IsInf(v, 0):
		return 0, fmt.Errorf("rate %q: not a finite number", orig)
	case v <= 0:
		return 0, fmt.Errorf("rate %q: must be greater than zero", orig)
	case v > MaxRate:
		return 0, fmt.Errorf("rate %q: above the maximum of %d/s", orig, MaxRate)
	}
	return v, nil
}

// RateSpec writes a planned rate exactly, in the unit that makes it a short
// number, so that a profile reads as it was written and ParseRate reads it
// back: "200/s", "1.5/s", "100/m" (not 1.6666666666666667/s), "30/m" for
// half a request per second, "3/h", "10k/s". Reports of measured rates use
// Rate instead.
func RateSpec(perSecond float64) string {
	if perSecond >= 10000 && math.Mod(perSecond, 1000) == 0 {
		return strconv.FormatFloat(perSecond/1000, 'f', -1, 64) + "k/s"
	}
	// exact returns v·per rounded to n decimals when that is v·per.
	exact := func(per float64, n int) (float64, bool) {
		v := perSecond * per
		scale := math.Pow(10, float64(n))
		r := math.Round(v*scale) / scale
		return r, r > 0 && math.Abs(v-r) <= 1e-9*v
	}
	if r, ok := exact(1, 3); ok && r >= 1 {
		return strconv.FormatFloat(r, 'f', -1, 64) + "/s"
	}
	for _, n := range []int{0, 3} {
		for _, u := range []struct {
			per  float64
			name string
		}{{1, "s"}, {60, "m"}, {3600, "h"}} {
			if r, ok := exact(u.per, n); ok {
				return strconv.FormatFloat(r, 'f', -1, 64) + "/" + u.name
			}
		}
	}
	return strconv.FormatFloat(perSecond, 'f', -1, 64) + "/s"
}

// MaxDuration bounds every run; longer durations are almost always typos.
const MaxDuration = 7 * 24 * time.Hour

// ParseDuration parses a positive duration such as "10s", "1m30s" or "500ms".
// A bare number is refused: "10" could be seconds or minutes.
func ParseDuration(s string) (time.Duration, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return 0, errors.New("empty duration")
	}
	if _, err := strconv.ParseFloat(s, 64); err == nil {
		return 0, fmt.Errorf("duration %q: give a unit, e.g. %ss or %sm", s, s, s)
	}
	d, err := time.ParseDuration(s)
	if err != nil {
		return 0, fmt.Errorf("duration %q: use a number with a unit, e.g. 10s, 2m, 500ms", s)
	}
	if d <= 0 {
		return 0, fmt.Errorf("duration %q: must be greater than zero", s)
	}
	if d > MaxDuration {
		return 0, fmt.Errorf("duration %q: above the maximum of %s", s, MaxDuration)
	}
	return d, nil
}

// ParsePause parses a duration that may be zero, for pauses a user can
// turn off ("0s", "0"; a pause of nothing needs no unit). Anything else
// follows ParseDuration.
func ParsePause(s string) (time.Duration, error) {
	if d, err := time.ParseDuration(strings.TrimSpace(s)); err == nil && d <= 0 {
		if d < 0 {
			return 0, fmt.Errorf("duration %q: must not be negative (0s: no pause)", strings.TrimSpace(s))
		}
		return 0, nil
	}
	return ParseDuration(s)
}
