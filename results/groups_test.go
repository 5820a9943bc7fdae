package results

import (
	"fmt"
	"testing"
)

// TestMergeFolds keeps one fold per request and label, with the largest
// limit, whichever shards saw it.
func TestMergeFolds(t *testing.T) {
	a := []GroupByFold{{Name: "item", Label: "x-cache", Limit: 20}}
	b := []GroupByFold{{Name: "item", Label: "x-cache", Limit: 30}, {Name: "page", Label: "status", Limit: 20}}
	got := mergeFolds(mergeFolds(nil, a), b)
	want := []GroupByFold{{Name: "item", Label: "x-cache", Limit: 30}, {Name: "page", Label: "status", Limit: 20}}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("got %v, want %v", got, want)
	}
}
