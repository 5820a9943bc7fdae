package hdrtest_test

import (
	"testing"

	"github.com/tailgate-dev/tailgate/internal/hdrtest"
	"github.com/tailgate-dev/tailgate/results"
)

// TestOneValueDecodes: the tool's own geometry, built here, decodes to
// one value, and another geometry is refused: the cookies and the layout
// are the decoder's.
func TestOneValueDecodes(t *testing.T) {
	h, err := results.DecodeHistogram([]byte(hdrtest.OneValue(1, 3_600_000_000, 3)))
	if err != nil {
		t.Fatal(err)
	}
	if h.Count() != 1 {
		t.Fatalf("decoded %d values, want 1", h.Count())
	}
	if _, err := results.DecodeHistogram([]byte(hdrtest.OneValue(1, 3_600_000_000, 5))); err == nil {
		t.Fatal("5 digits decoded")
	}
}
