package results

import (
	"math/bits"
	"time"
)

// SparseHistogram is an HDR histogram with the geometry of NewHistogram whose
// memory grows with the range of values it holds (a dense one is ~180
// KiB). It holds what one series did in one interval for metrics
// exporters: the collector records three values per request into these
// (latency, service time, send lag), and a dense histogram per series,
// metric and outcome would cost megabytes. It is not safe for concurrent
// use.
//
// Counts live in pages of sparsePage consecutive counts (a quarter of the
// upper half of one power of two of microseconds: 2048–2303 µs, say), each
// allocated when a value first lands in it: recording is an index
// computation and an increment, with no search. hdrhistogram-go's packed
// histogram, used here before, took a binary search and often an
// insertion per value: its 3 records cost the collector 60–100 ns per
// request in a warm loop, these 30–40 (BenchmarkCollectSampleDeltas
// against BenchmarkCollectSample, the two builds side by side on one CPU),
// and the difference is larger in a run, where the packed form's searches
// miss the caches. Reset keeps the pages the interval used (the next one will likely
// use them again) and drops the others, so a histogram holds at most what
// one interval touched: a run's latencies span a few powers of two, a few
// dozen 2 KiB pages, and a series used once an interval (a group per tag
// value) holds one.
type SparseHistogram struct {
	pages [sparsePages]*[sparsePage]uint64
	used  [(sparsePages + 63) / 64]uint64 // bit p: page p has counts since the last Reset
}

// sparsePage is the number of counts in a page.
const sparsePage = 256

// sparsePages is the number of pages that cover the geometry's range, up
// to the counts index of histHighest (23220; TestSparsePagesCoverRange).
const sparsePages = 91

// NewSparseHistogram returns an empty sparse histogram.
func NewSparseHistogram() *SparseHistogram { return &SparseHistogram{} }

// Record adds one duration, clamped to the histogram's range like
// Histogram.Record.
func (h *SparseHistogram) Record(d time.Duration) {
	i := ourCountsIndex(clampMicros(d))
	p := h.pages[i/sparsePage]
	if p == nil {
		p = new([sparsePage]uint64)
		h.pages[i/sparsePage] = p
	}
	p[i%sparsePage]++
	h.used[i/sparsePage/64] |= 1 << uint(i/sparsePage%64)
}

// Reset empties the histogram, keeping the pages it used since the last
// Reset and dropping the others.
func (h *SparseHistogram) Reset() {
	for p, page := range h.pages {
		switch {
		case page == nil:
		case h.used[p/64]&(1<<uint(p%64)) != 0:
			clear(page[:])
		default:
			h.pages[p] = nil
		}
	}
	clear(h.used[:])
}

// AppendBuckets appends the populated buckets to dst in ascending order.
func (h *SparseHistogram) AppendBuckets(dst []Bucket) []Bucket {
	for w, word := range h.used {
		for ; word != 0; word &= word - 1 {
			p := w*64 + bits.TrailingZeros64(word)
			for k, c := range h.pages[p] {
				if c != 0 {
					dst = append(dst, Bucket{Value: bucketMiddle(ourLowestValue(int64(p*sparsePage + k))), Count: c})
				}
			}
		}
	}
	return dst
}

// ourLowestValue is the lowest value (µs) of counts index i in the
// geometry of NewHistogram: the inverse of ourCountsIndex, whose buckets
// above the first hold 1024 sub-buckets (the sub-bucket half count at 3
// significant digits).
func ourLowestValue(i int64) int64 {
	if i < 2048 {
		return i // bucket 0: every value up to 2047 µs has a count of its own
	}
	bucket := i/1024 - 1
	return (i - bucket*1024) << uint(bucket)
}

// Bucket is one populated bucket of an HDR histogram: the value it stands
// for and how many values it counted.
type Bucket struct {
	// Value is the middle of the bucket's range of equivalent values,
	// within 0.05% of every value the bucket counted.
	Value time.Duration
	Count uint64
}

// bucketMiddle is the middle of the equivalent range that starts at lowest
// (a bucket's lowest value, in microseconds) in NewHistogram's geometry:
// ranges are 1µs wide below 2048µs and double with each power of two
// above (ourCountsIndex's sub-bucket layout).
func bucketMiddle(lowest int64) time.Duration {
	shift := bits.Len64(uint64(lowest|2047)) - 11
	width := int64(1) << uint(shift)
	return time.Duration(lowest)*time.Microsecond + time.Duration(width-1)*time.Microsecond/2
}
