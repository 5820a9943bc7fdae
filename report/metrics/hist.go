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

// nativeUpper returns the upper bound of native bucket i, 2^(i/16), as
// nativeIndex's bounds compute it (so a value is in bucket i exactly when
// nativeUpper(i-1) < v <= nativeUpper(i)).
func nativeUpper(i int) float64 {
	n := len(nativeBounds)
	j := ((i % n) + n) % n
	return math.Ldexp(nativeBounds[j], (i-j)/n+1)
}

// classicRange returns the bounds (lo, hi] of classic bucket c; the last
// bucket (+Inf) has no upper bound.
func classicRange(c int) (lo, hi float64) {
	lo, hi = math.Inf(-1), math.Inf(1)
	if c > 0 {
		lo = ClassicBounds[c-1]
	}
	if c < len(ClassicBounds) {
		hi = ClassicBounds[c]
	}
	return lo, hi
}

// hist is one cumulative histogram of a series: count, sum, native buckets
// and classic buckets, all fed from HDR buckets. Native and classic buckets
// are counted from each HDR bucket's middle value; an HDR bucket is at most
// 0.1% wide, so a value lands in a neighbouring bucket only when it lies
// within 0.1% of a boundary.
//
// The native buckets are dense, from index first on: a run's latencies
// span a few powers of two, a few dozen to ~150 buckets, and adding an
// interval's HDR buckets (ascending, hundreds to thousands of them, most
// landing in the bucket of the one before) is then a comparison and an
// increment each. It is part of the collector's work between two yields
// (BenchmarkObserve).
//
// No value is 0 (HDR histograms clamp to 1 µs), so the zero bucket stays
// empty.
type hist struct {
	count    uint64
	sum      float64
	min, max float64  // the smallest and largest value counted, when count > 0
	first    int      // the index of native[0]
	native   []uint64 // counts of native buckets first, first+1, …
	classic  []uint64 // per bucket, not cumulative; the last is +Inf
}

func newHist() *hist {
	return &hist{classic: make([]uint64, len(ClassicBounds)+1)}
}

// add counts the HDR buckets of one interval.
func (h *hist) add(bs []results.Bucket) {
	// The native and classic buckets of the previous value, with their
	// bounds: (nLo, nHi] and (cLo, cHi].
	ni, nLo, nHi := 0, math.Inf(1), math.Inf(-1)
	ci, cLo, cHi := 0, math.Inf(1), math.Inf(-1)
	for _, b := range bs {
		if b.Count == 0 {
			continue
		}
		v := b.Value.Seconds()
		if h.count == 0 || v < h.min {
			h.min = v
		}
		if h.count == 0 || v > h.max {
			h.max = v
		}
		h.count += b.Count
		h.sum += v * float64(b.Count)
		if v <= nLo || v > nHi {
			ni = nativeIndex(v)
			nLo, nHi = nativeUpper(ni-1), nativeUpper(ni)
		}
		*h.nativeAt(ni) += b.Count
		if v <= cLo || v > cHi {
			ci = sort.SearchFloat64s(ClassicBounds, v)
			cLo, cHi = classicRange(ci)
		}
		h.classic[ci] += b.Count
	}
}

// nativeAt returns the count of native bucket i, growing the dense range
// to hold it.
func (h *hist) nativeAt(i int) *uint64 {
	switch {
	case len(h.native) == 0:
		h.first = i
		h.native = append(h.native, 0)
	case i < h.first:
		h.native = slices.Insert(h.native, 0, make([]uint64, h.first-i)...)
		h.first = i
	case i >= h.first+len(h.native):
		h.native = append(h.native, make([]uint64, i-h.first-len(h.native)+1)...)
	}
	return &h.native[i-h.first]
}

// nativeBucket is one populated native bucket.
type nativeBucket struct {
	index int
	count uint64
}

// populatedNative returns the populated native buckets in index order.
func (h *hist) populatedNative() []nativeBucket {
	var out []nativeBucket
	for k, c := range h.native {
		if c != 0 {
			out = append(out, nativeBucket{h.first + k, c})
		}
	}
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
