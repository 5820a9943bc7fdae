package results

import (
	"maps"
	"testing"
)

// Merging not-sent counts keeps them by reason and adding up to NotSent,
// a file from before reasons were kept counting as "other"; the first
// message of each reason is kept.
func TestMergeNotSentReasons(t *testing.T) {
	old := &Stats{NotSent: 3, NotSentReason: "template url: boom"}
	a := &Stats{NotSent: 2, NotSentReasons: map[string]uint64{"feed exhausted": 2}, NotSentSamples: map[string]string{"feed exhausted": "data users: all 2 rows are used (mode unique)"}}
	b := &Stats{NotSent: 4, NotSentReasons: map[string]uint64{"feed exhausted": 1, "template failed": 3}, NotSentSamples: map[string]string{"feed exhausted": "later", "template failed": "template body: x"}}
	for _, tc := range []struct {
		name string
		in   []*Stats
		want map[string]uint64
		main string
	}{
		{"new into new", []*Stats{a, b}, map[string]uint64{"feed exhausted": 3, "template failed": 3}, "data users: all 2 rows are used (mode unique)"},
		{"old into new", []*Stats{a, old}, map[string]uint64{"feed exhausted": 2, "other": 3}, "template url: boom"},
		{"new into old", []*Stats{old, b}, map[string]uint64{"other": 3, "feed exhausted": 1, "template failed": 3}, "template url: boom"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := NewStats("", "")
			for _, s := range tc.in {
				c := *s
				if err := got.Merge(&c); err != nil {
					t.Fatal(err)
				}
			}
			if !maps.Equal(got.NotSentReasons, tc.want) {
				t.Fatalf("reasons %v, want %v", got.NotSentReasons, tc.want)
			}
			var n uint64
			for _, c := range got.NotSentByReason() {
				n += c.Count
			}
			if n != got.NotSent {
				t.Fatalf("%d by reason, not sent %d", n, got.NotSent)
			}
			if got.NotSentReason != tc.main {
				t.Fatalf("main message %q, want %q", got.NotSentReason, tc.main)
			}
		})
	}
}
