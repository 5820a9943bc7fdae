package suggest

import "testing"

func TestDidYouMean(t *testing.T) {
	for _, tc := range []struct {
		name  string
		cands []string
		want  string
	}{
		{"hti", []string{"hit", "run"}, ` (did you mean "hit"?)`},
		{"thresholds", []string{"threshold", "target"}, ` (did you mean "threshold"?)`},
		{"Targte", []string{"target"}, ` (did you mean "target"?)`},
		{"zzzzzz", []string{"hit", "run"}, ""},
		{"", nil, ""},
	} {
		if got := DidYouMean(tc.name, tc.cands); got != tc.want {
			t.Errorf("DidYouMean(%q) = %q, want %q", tc.name, got, tc.want)
		}
	}
	if Distance("kitten", "sitting") != 3 {
		t.Fatal("Distance(kitten, sitting) != 3")
	}
}
