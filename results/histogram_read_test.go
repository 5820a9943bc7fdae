package results

import (
	"testing"
	"time"
)

// TestQueriesKeepTheEncoding: reading an encoded histogram (from a file, a
// closed interval) answers as its dense form would, and leaves it encoded;
// recording into it makes it dense and changes its encoding.
func TestQueriesKeepTheEncoding(t *testing.T) {
	dense := NewHistogram()
	for i := 1; i <= 1000; i++ {
		dense.Record(time.Duration(i*i) * time.Microsecond)
	}
	enc, err := dense.Encode()
	if err != nil {
		t.Fatal(err)
	}
	h, err := DecodeHistogram(enc)
	if err != nil {
		t.Fatal(err)
	}
	if h.Count() != dense.Count() || h.Summary() != dense.Summary() || h.Min() != dense.Min() ||
		h.StdDev() != dense.StdDev() || h.Percentile(99.99) != dense.Percentile(99.99) || !h.Equal(dense) {
		t.Fatalf("encoded: %d %+v; dense: %d %+v", h.Count(), h.Summary(), dense.Count(), dense.Summary())
	}
	sum := NewHistogram()
	if err := sum.Merge(h); err != nil {
		t.Fatal(err)
	}
	if h.h != nil || h.enc == nil {
		t.Fatal("queries and a merge from it decoded the histogram into its dense form")
	}
	h.Record(time.Second)
	if h.h == nil || h.Count() != dense.Count()+1 {
		t.Fatalf("after recording: dense %v, %d values", h.h != nil, h.Count())
	}
	if again, _ := h.Encode(); string(again) == string(enc) {
		t.Fatal("recording into an encoded histogram kept its old encoding")
	}
}
