package chart

import "testing"

// A percentile with fewer samples than it needs is shown as the max it is
// (issue 12 item 9), and changes are against the baseline.
func TestBarLabel(t *testing.T) {
	for _, tc := range []struct {
		v, base float64
		n       int64
		p       float64
		want    string
	}{
		{412, 0, 250, 99.9, "412ms\n≈max, n=250"},
		{412, 0, 1000, 99.9, "412ms"},
		{412, 0, 99, 99, "412ms\n≈max, n=99"},
		{300, 200, 5000, 99, "300ms\n+50.0%"},
	} {
		if got := barLabel(tc.v, tc.base, tc.n, tc.p); got != tc.want {
			t.Errorf("barLabel(%v, %v, %d, %v) = %q, want %q", tc.v, tc.base, tc.n, tc.p, got, tc.want)
		}
	}
}
