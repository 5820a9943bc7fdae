package results

import (
	"math/bits"
	"time"

	hdrhistogram "github.com/HdrHistogram/hdrhistogram-go"
)

// SparseHistogram is an HDR histogram with the geometry of NewHistogram whose
// memory grows with the number of populated buckets (a dense one is ~180
// KiB). It holds what one series did in one interval for metrics
// exporters, where a second's values populate a few hundred buckets and a
// dense histogram per series, status and outcome would cost megabytes. It
// is not safe for concurrent use.
type SparseHistogram struct {
	p *hdrhistogram.PackedHistogram
}

// NewSparseHistogram returns an empty sparse histogram.
func NewSparseHistogram() *SparseHistogram {
	return &SparseHistogram{p: hdrhistogram.NewPacked(histLowest, histHighest, histDigits)}
}

// Record adds one duration, clamped to the histogram's range like
// Histogram.Record.
func (h *SparseHistogram) Record(d time.Duration) {
	// The value is clamped into range, so recording cannot fail.
	_ = h.p.RecordValue(clampMicros(d))
}

// Reset empties the histogram, keeping its storage.
func (h *SparseHistogram) Reset() { h.p.Reset() }

// AppendBuckets appends the populated buckets to dst in ascending order.
func (h *SparseHistogram) AppendBuckets(dst []Bucket) []Bucket {
	h.p.ForEachBucket(func(value, count int64) bool {
		dst = append(dst, Bucket{Value: bucketMiddle(value), Count: uint64(count)})
		return true
	})
	return dst
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
