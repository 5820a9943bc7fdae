package metrics

import (
	"math"
	"slices"
	"sort"

	"github.com/tailgate-dev/tailgate/results"
)

// Schema is the native-histogram schema tailgate exports: bucket boundaries
// are powers of 2^(2^-Schema) = 2^(1/16), a bucket factor of 1.044. Every
// value in a bucket is within 4.4% of every other, so any estimate a
// backend interpolates inside a bucket (histogram_quantile) is within 4.4%
// of the true value: below the 5% the issue asks for even in the worst
// case. Schema 3 (factor 1.09) would keep only the bucket's middle within
// 4.3%. A run's latencies span a few powers of two, so this costs a few
// dozen to ~150 populated buckets per series.
const Schema = 4

// ClassicBounds are the upper bounds (seconds) of the classic buckets, for
// backends and queries without native histograms: 100µs to one minute in
// 1-2.5-5 steps.
var ClassicBounds = []float64{
	0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
	0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60,
}

// nativeBounds are the fractions of a power of two at which Schema's
// buckets end: 2^(j/16 - 1) for j in 0..15, as math.Frexp returns them.
var nativeBounds = func() []float64 {
	n := 1 << Schema
	b := make([]float64, n)
	for j := range b {
		b[j] = math.Exp2(float64(j)/float64(n) - 1)
	}
	return b
}()

// nativeIndex returns the index of the native bucket holding v > 0: bucket i
// covers (2^((i-1)/16), 2^(i/16)], as Prometheus defines them.
func nativeIndex(v float64) int {
	frac, exp := math.Frexp(v)
	return sort.SearchFloat64s(nativeBounds, frac) + (exp-1)*len(nativeBounds)
}

// hist is one cumulative histogram of a series: count, sum, native buckets
// and classic buckets, all fed from HDR buckets. Native and classic buckets
// are counted from each HDR bucket's middle value; an HDR bucket is at most
// 0.1% wide, so a value lands in a neighbouring bucket only when it lies
// within 0.1% of a boundary.
type hist struct {
	count   uint64
	sum     float64
	native  map[int]uint64
	classic []uint64 // per bucket, not cumulative; the last is +Inf
}

func newHist() *hist {
	return &hist{native: map[int]uint64{}, classic: make([]uint64, len(ClassicBounds)+1)}
}

// add counts the HDR buckets of one interval.
func (h *hist) add(bs []results.Bucket) {
	for _, b := range bs {
		v := b.Value.Seconds()
		h.count += b.Count
		h.sum += v * float64(b.Count)
		h.native[nativeIndex(v)] += b.Count
		h.classic[sort.SearchFloat64s(ClassicBounds, v)] += b.Count
	}
}

// nativeBucket is one populated native bucket.
type nativeBucket struct {
	index int
	count uint64
}

// sortedNative returns the populated native buckets in index order.
func (h *hist) sortedNative() []nativeBucket {
	out := make([]nativeBucket, 0, len(h.native))
	for i, c := range h.native {
		out = append(out, nativeBucket{i, c})
	}
	slices.SortFunc(out, func(a, b nativeBucket) int { return a.index - b.index })
	return out
}

// cumulativeClassic returns the classic buckets' cumulative counts, one per
// bound (the +Inf bucket is the count).
func (h *hist) cumulativeClassic() []uint64 {
	out := make([]uint64, len(ClassicBounds))
	var run uint64
	for i := range ClassicBounds {
		run += h.classic[i]
		out[i] = run
	}
	return out
}

// spans encodes buckets as Prometheus native-histogram spans and deltas:
// runs of consecutive indices, each span's offset from the end of the
// previous one, counts as differences from the previous bucket's.
func spans(bs []nativeBucket) (offsets []int32, lengths []uint32, deltas []int64) {
	prevIndex, prevCount := 0, int64(0)
	for k, b := range bs {
		if k == 0 || b.index != prevIndex+1 {
			gap := b.index - prevIndex - 1
			if k == 0 {
				gap = b.index
			}
			offsets = append(offsets, int32(gap))
			lengths = append(lengths, 0)
		}
		lengths[len(lengths)-1]++
		deltas = append(deltas, int64(b.count)-prevCount)
		prevIndex, prevCount = b.index, int64(b.count)
	}
	return offsets, lengths, deltas
}
