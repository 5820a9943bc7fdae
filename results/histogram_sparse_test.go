package results

import (
	"math"
	"math/rand/v2"
	"testing"
	"time"

	hdrhistogram "github.com/HdrHistogram/hdrhistogram-go"
)

func TestSparsePagesCoverRange(t *testing.T) {
	if got := int(ourCountsIndex(histHighest)/sparsePage) + 1; got != sparsePages {
		t.Fatalf("the range needs %d pages, sparsePages is %d", got, sparsePages)
	}
}

// TestSparseHistogramBuckets: the buckets of a sparse histogram are those
// hdrhistogram-go's packed histogram of the same geometry finds for the
// same values, across resets and over the whole range (clamped at both
// ends).
func TestSparseHistogramBuckets(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	h := NewSparseHistogram()
	for round, spread := range []float64{0.5, 3, 12} {
		ref := hdrhistogram.NewPacked(histLowest, histHighest, histDigits)
		values := []time.Duration{0, time.Microsecond, 2047 * time.Microsecond, 2048 * time.Microsecond, time.Hour, 2 * time.Hour}
		for range 20000 {
			values = append(values, time.Duration(float64(time.Millisecond)*math.Exp(spread*rng.NormFloat64())))
		}
		for _, v := range values {
			h.Record(v)
			if err := ref.RecordValue(clampMicros(v)); err != nil {
				t.Fatal(err)
			}
		}
		var want []Bucket
		ref.ForEachBucket(func(value, count int64) bool {
			want = append(want, Bucket{Value: bucketMiddle(value), Count: uint64(count)})
			return true
		})
		got := h.AppendBuckets(nil)
		if len(got) != len(want) {
			t.Fatalf("round %d: %d buckets, want %d", round, len(got), len(want))
		}
		for i := range want {
			if got[i] != want[i] {
				t.Fatalf("round %d: bucket %d is %v, want %v", round, i, got[i], want[i])
			}
		}
		h.Reset()
		if b := h.AppendBuckets(nil); len(b) != 0 {
			t.Fatalf("round %d: %d buckets after Reset", round, len(b))
		}
	}
}

func TestOurLowestValueInvertsIndex(t *testing.T) {
	for _, v := range []int64{0, 1, 1023, 1024, 2047, 2048, 2049, 4095, 4096, 4097, 1<<20 + 12345, histHighest} {
		p := hdrhistogram.NewPacked(histLowest, histHighest, histDigits)
		if err := p.RecordValue(v); err != nil {
			t.Fatal(err)
		}
		var lowest int64
		p.ForEachBucket(func(value, _ int64) bool { lowest = value; return false })
		if got := ourLowestValue(ourCountsIndex(v)); got != lowest {
			t.Errorf("ourLowestValue(ourCountsIndex(%d)) = %d, want %d", v, got, lowest)
		}
	}
}

// TestSparseHistogramKeepsOnlyUsedPages: Reset keeps the pages of the
// interval that just ended and drops the others, so a histogram holds at
// most what one interval touched.
func TestSparseHistogramKeepsOnlyUsedPages(t *testing.T) {
	h := NewSparseHistogram()
	pages := func() int {
		n := 0
		for _, p := range h.pages {
			if p != nil {
				n++
			}
		}
		return n
	}
	h.Record(100 * time.Microsecond)
	h.Record(3 * time.Millisecond)
	h.Reset()
	if n := pages(); n != 2 {
		t.Fatalf("%d pages after the first interval, want its 2", n)
	}
	h.Record(3 * time.Millisecond)
	h.Record(time.Second)
	h.Reset()
	if n := pages(); n != 2 {
		t.Fatalf("%d pages after the second interval, want its 2 (the first's other dropped)", n)
	}
	h.Reset()
	if n := pages(); n != 0 {
		t.Fatalf("%d pages after an empty interval, want 0", n)
	}
}
