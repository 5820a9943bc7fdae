package results

import "testing"

// TestMergeChecks adds up the failures of each check, as merge does for
// shards.
func TestMergeChecks(t *testing.T) {
	a := NewStats("job", "")
	a.Checks = map[string]uint64{"status": 1}
	b := NewStats("job", "")
	b.Checks = map[string]uint64{"status": 2, "json data.id": 5}
	out := NewStats("job", "")
	for _, s := range []*Stats{a, b, NewStats("job", "")} {
		if err := out.Merge(s); err != nil {
			t.Fatal(err)
		}
	}
	if out.Checks["status"] != 3 || out.Checks["json data.id"] != 5 || len(out.Checks) != 2 {
		t.Errorf("merged checks %v", out.Checks)
	}
}
