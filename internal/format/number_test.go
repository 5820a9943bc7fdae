package format

import (
	"math"
	"strings"
	"testing"
	"time"
)

func TestDuration(t *testing.T) {
	for _, tc := range []struct {
		in   time.Duration
		want string
	}{
		{0, "0"},
		{8500 * time.Nanosecond, "8.5µs"},
		{850 * time.Microsecond, "850µs"},
		{999500 * time.Nanosecond, "1.00ms"},
		{3 * time.Millisecond, "3.00ms"},
		{1234 * time.Microsecond, "1.23ms"},
		{45600 * time.Microsecond, "45.6ms"},
		{99960 * time.Microsecond, "100ms"},
		{456 * time.Millisecond, "456ms"},
		// Issue 12: 999.7ms was "p99 = 1e+03ms" in thresholds and
		// "1000ms" in tables.
		{999700 * time.Microsecond, "1.00s"},
		{1500 * time.Millisecond, "1.50s"},
		{999999 * time.Millisecond, "1000s"},
		{1234 * time.Second, "1234s"},
		{time.Microsecond, "1µs"},
		{1500 * time.Nanosecond, "1.5µs"},
		{999 * time.Microsecond, "999µs"},
		{time.Millisecond, "1.00ms"},
		{12345 * time.Microsecond, "12.3ms"},
		{123456 * time.Microsecond, "123ms"},
		{999999 * time.Microsecond, "1.00s"},
		{9996 * time.Microsecond, "10.0ms"},
		{123456 * time.Millisecond, "123s"},
		{time.Hour, "3600s"},
		{-3 * time.Millisecond, "-3.00ms"},
		{math.MinInt64, "-9223372037s"},
	} {
		if got := Duration(tc.in); got != tc.want {
			t.Errorf("Duration(%v) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestNumberAndRate(t *testing.T) {
	for _, tc := range []struct {
		in   float64
		want string
	}{
		{0, "0/s"},
		{12345.4, "12345/s"},
		{199.8, "200/s"},
		{99.96, "100/s"},
		{66.666, "66.7/s"},
		// Issue 12: -r 100/m printed "constant 1.6666666666666667/s".
		{100.0 / 60, "1.67/s"},
		{9.996, "10.0/s"},
		{0.5, "0.5/s"},
		{1.0 / 3600, "0.000278/s"},
	} {
		if got := Rate(tc.in); got != tc.want {
			t.Errorf("Rate(%v) = %q, want %q", tc.in, got, tc.want)
		}
	}
	if got := Number(-2.5); got != "-2.50" {
		t.Errorf("Number(-2.5) = %q", got)
	}
}

func TestPercent(t *testing.T) {
	for _, tc := range []struct {
		in   float64
		want string
	}{
		{0, "0%"},
		{0.00001, "<0.01%"},
		{0.004, "0.40%"},
		{0.0999, "9.99%"},
		{0.09996, "10.0%"},
		{0.125, "12.5%"},
		{0.9996, ">99.9%"},
		{1, "100%"},
		{1.0001, "<100.1%"},
		{1.5, "150.0%"},
	} {
		if got := Percent(tc.in); got != tc.want {
			t.Errorf("Percent(%v) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestCountAndBytes(t *testing.T) {
	for in, want := range map[uint64]string{0: "0", 999: "999", 1000: "1,000", 1234567: "1,234,567", 123_456_789: "123.5M"} {
		if got := Count(in); got != want {
			t.Errorf("Count(%d) = %q, want %q", in, got, want)
		}
	}
	for in, want := range map[uint64]string{512: "512 B", 80000: "80.0 kB", 999_999: "1.00 MB", 1_234_567: "1.23 MB"} {
		if got := Bytes(in); got != want {
			t.Errorf("Bytes(%d) = %q, want %q", in, got, want)
		}
	}
}

func TestSigned(t *testing.T) {
	for _, tc := range []struct {
		verb string
		in   float64
		want string
	}{
		{"%.1f%%", 3.14, "+3.1%"},
		{"%.1f%%", -3.14, "−3.1%"},
		{"%.1f%%", 0, "0.0%"},
		{"%.1f%%", -0.01, "0.0%"},
	} {
		if got := Signed(tc.verb, tc.in); got != tc.want {
			t.Errorf("Signed(%q, %v) = %q, want %q", tc.verb, tc.in, got, tc.want)
		}
	}
}

func TestCleanAndMarkdown(t *testing.T) {
	for _, tc := range []struct {
		in, clean, md string
	}{
		{"GET /users", "GET /users", "GET /users"},
		{" a\n\tb ", "a b", "a b"},
		{"red\x1b[31m!", "red\uFFFD[31m!", "red\uFFFD\\[31m!"},
		{"c1\u009bx", "c1\uFFFDx", "c1\uFFFDx"},
		{"evil\u202eexe.txt", "evil\uFFFDexe.txt", "evil\uFFFDexe.txt"},
		{"a|b*c_d`e<f>#[x](y)\\", "a|b*c_d`e<f>#[x](y)\\", `a\|b\*c\_d` + "\\`" + `e\<f\>\#\[x\](y)\\`},
		{"bad\xffutf8", "bad\uFFFDutf8", "bad\uFFFDutf8"},
	} {
		if got := Clean(tc.in); got != tc.clean {
			t.Errorf("Clean(%q) = %q, want %q", tc.in, got, tc.clean)
		}
		if got := Markdown(tc.in); got != tc.md {
			t.Errorf("Markdown(%q) = %q, want %q", tc.in, got, tc.md)
		}
	}
	if got := MarkdownCode("a`b|c\x1b"); got != `a'b\|c`+"\uFFFD" {
		t.Errorf("MarkdownCode = %q", got)
	}
}

func FuzzMarkdown(f *testing.F) {
	for _, s := range []string{"", "a|b", "\x1b]8;;x\x07", "\u202e", "line\nbreak"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		for _, out := range []string{Markdown(s), MarkdownCode(s)} {
			for _, r := range out {
				if r < 0x20 || r >= 0x7f && r < 0xa0 || bidiControl(r) {
					t.Fatalf("%q escaped to %q, which keeps control character %U", s, out, r)
				}
			}
			if strings.Contains(strings.ReplaceAll(out, `\|`, ""), "|") {
				t.Fatalf("%q escaped to %q, which keeps an unescaped pipe", s, out)
			}
		}
	})
}

func TestWrap(t *testing.T) {
	got := Wrap("warning: ", "         ", "one two three four five", 20)
	want := []string{"warning: one two", "         three four", "         five"}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("Wrap = %q, want %q", got, want)
	}
	if got := PadLeft("µs", 4) + PadRight("−", 3) + "|"; got != "  µs−  |" {
		t.Errorf("padding = %q", got)
	}
	if got := Truncate("abcdef", 4); got != "abc…" {
		t.Errorf("Truncate = %q", got)
	}
}
