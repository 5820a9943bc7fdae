// Package format is the one way tailgate writes and reads its figures:
// durations, rates, percentages, counts and byte sizes, and the escaping and
// padding of the text around them. Every output (terminal text, Markdown,
// charts, the dashboard, the progress line, threshold outcomes) prints its
// figures through this package, so one figure reads the same everywhere, and
// what Rate and Duration write, ParseRate and ParseDuration read back.
package format

import (
	"math"
	"strconv"
	"strings"
	"time"
)

// Duration formats a latency with three significant digits and a unit:
// 8.5µs, 850µs, 1.23ms, 45.6ms, 456ms, 1.00s, 12.3s, 1234s. Trailing zeros
// stay ("4.00ms") so that columns of figures line up digit for digit, and
// the value is rounded before its unit is chosen, so 999.7ms is "1.00s",
// never "1000ms". Zero is "0"; exponent notation is never used.
func Duration(d time.Duration) string {
	switch {
	case d == math.MinInt64:
		return "-" + Duration(math.MaxInt64)
	case d < 0:
		return "-" + Duration(-d)
	case d == 0:
		return "0"
	}
	us := float64(d) / float64(time.Microsecond)
	switch {
	case us < 10:
		return trim(strconv.FormatFloat(us, 'f', 3, 64)) + "µs"
	case us < 999.5:
		return strconv.FormatFloat(us, 'f', 0, 64) + "µs"
	case us < 999.5e3:
		return sig3(us/1e3) + "ms"
	case us < 999.5e6:
		return sig3(us/1e6) + "s"
	default:
		return strconv.FormatFloat(math.Round(us/1e6), 'f', 0, 64) + "s"
	}
}

// Elapsed formats a length of time people planned or waited, not a
// latency: "2.5s", "10s", "1m30s", "2h0m0s" (Go's spelling above a minute,
// which ParseDuration reads back).
func Elapsed(d time.Duration) string {
	if d < time.Minute && d > -time.Minute {
		return trim(strconv.FormatFloat(d.Seconds(), 'f', 2, 64)) + "s"
	}
	return d.Round(time.Second).String()
}

// Rate formats a per-second rate: "0/s", "1250/s", "200/s", "66.7/s",
// "1.67/s", "0.5/s". The precision follows the size (three significant
// digits from 1/s to 100/s, whole numbers above), and the result is what
// ParseRate reads.
func Rate(perSecond float64) string { return Number(perSecond) + "/s" }

// Number formats a figure without a unit with the precision Rate uses:
// whole numbers from 100 up, three significant digits from 1 to 100, and
// as many decimals below 1 as three significant digits need (trailing
// zeros dropped).
func Number(v float64) string {
	switch {
	case math.IsNaN(v) || math.IsInf(v, 0):
		return strconv.FormatFloat(v, 'f', -1, 64)
	case v < 0:
		return "-" + Number(-v)
	case v == 0:
		return "0"
	}
	switch {
	case v >= 99.95:
		return strconv.FormatFloat(v, 'f', 0, 64)
	case v >= 9.995:
		return strconv.FormatFloat(v, 'f', 1, 64)
	case v >= 0.9995:
		return strconv.FormatFloat(v, 'f', 2, 64)
	}
	decimals := 2 - int(math.Floor(math.Log10(v)))
	return trim(strconv.FormatFloat(v, 'f', decimals, 64))
}

// Percent formats a fraction as a percentage: "0%", "<0.01%", "0.40%",
// "12.5%", "100%". Two decimals below 10% and one from there keep
// columns aligned. Rounding never reaches a bound the value does not: a
// fraction just below 1 is ">99.9%", never "100%", and one just above 1 is
// never shown as 100% either.
func Percent(f float64) string {
	p := f * 100
	switch {
	case math.IsNaN(p) || math.IsInf(p, 0):
		return strconv.FormatFloat(p, 'f', -1, 64) + "%"
	case p < 0:
		return "-" + Percent(-f)
	case p == 0:
		return "0%"
	case p < 0.01:
		return "<0.01%"
	case p < 9.995:
		return strconv.FormatFloat(p, 'f', 2, 64) + "%"
	case p < 99.95:
		return strconv.FormatFloat(p, 'f', 1, 64) + "%"
	case p < 100:
		return ">99.9%"
	case p == 100:
		return "100%"
	case p < 100.05:
		return "<100.1%"
	default:
		return strconv.FormatFloat(p, 'f', 1, 64) + "%"
	}
}

// Count formats a count with thousands separators ("12,345"), switching to
// a compact form ("123.4M") from a hundred million on so that columns keep
// their width.
func Count(n uint64) string {
	if n >= 100_000_000 {
		return strconv.FormatFloat(float64(n)/1e6, 'f', 1, 64) + "M"
	}
	s := strconv.FormatUint(n, 10)
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	return b.String()
}

// Bytes formats a byte count in SI units: "512 B", "80.0 kB", "1.23 MB".
func Bytes(n uint64) string {
	const unit = 1000
	if n < unit {
		return strconv.FormatUint(n, 10) + " B"
	}
	v := float64(n)
	for _, u := range []string{"kB", "MB", "GB", "TB"} {
		v /= unit
		if v < unit-0.5 {
			return sig3(v) + " " + u
		}
	}
	return strconv.FormatFloat(math.Round(v/unit), 'f', 0, 64) + " PB"
}

// sig3 writes v (0.9995 ≤ v < 999.5) with exactly three significant
// digits.
func sig3(v float64) string {
	switch {
	case v >= 99.95:
		return strconv.FormatFloat(v, 'f', 0, 64)
	case v >= 9.995:
		return strconv.FormatFloat(v, 'f', 1, 64)
	default:
		return strconv.FormatFloat(v, 'f', 2, 64)
	}
}

// trim drops trailing zeros after a decimal point, and the point itself.
func trim(s string) string {
	if strings.Contains(s, ".") {
		s = strings.TrimRight(strings.TrimRight(s, "0"), ".")
	}
	return s
}
