package results

import (
	"encoding/json"
	"fmt"
	"math"
	"time"

	hdrhistogram "github.com/HdrHistogram/hdrhistogram-go"
)

// Histogram geometry shared by every histogram tailgate writes: values in
// microseconds from 1µs to one hour, 3 significant digits. One fixed range
// (rather than one per request timeout) keeps every pair of histograms
// mergeable without loss, across runs with different timeouts.
const (
	histLowest  = 1
	histHighest = int64(time.Hour / time.Microsecond)
	histDigits  = 3
)

// Histogram is an HDR histogram of durations at microsecond resolution. It is
// not safe for concurrent use. Its JSON form is the standard HdrHistogram V2
// compressed base64 encoding, readable by every HdrHistogram implementation.
//
// A histogram read from a file or closed in the timeline is kept in its
// compressed encoding (a few hundred bytes instead of ~180 KiB). Queries
// read it through a packed decoding, which holds only the populated
// buckets (a few KiB), so reading a long timeline or many results files
// never builds a dense histogram per interval. Only recording into it or
// merging into it decodes it into the dense form, which is then the
// histogram.
type Histogram struct {
	h   *hdrhistogram.Histogram       // dense; nil while the encoding is the histogram
	enc []byte                        // the encoding, when there is no dense form
	p   *hdrhistogram.PackedHistogram // enc decoded for queries, on first use
}

// hist returns the dense histogram, to record or merge into: a kept
// encoding is decoded, and from then on the dense form is the histogram.
func (h *Histogram) hist() *hdrhistogram.Histogram {
	if h.h == nil {
		if h.enc != nil {
			d, err := hdrhistogram.Decode(h.enc)
			h.enc, h.p = nil, nil
			if err == nil {
				h.h = d
				return h.h
			}
		}
		h.h = hdrhistogram.New(histLowest, histHighest, histDigits)
	}
	return h.h
}

// reader is what the queries ask of a histogram; the dense and the packed
// forms both answer it, with the same bucket arithmetic.
type reader interface {
	TotalCount() int64
	ValueAtPercentile(p float64) int64
	ValueAtPercentilesSlice(ps []float64) []int64
	Max() int64
	Min() int64
	Mean() float64
	StdDev() float64
}

// read returns the form queries read: the dense histogram if there is one,
// else the packed decoding of the encoding; nil for an empty histogram.
func (h *Histogram) read() reader {
	switch {
	case h == nil:
		return nil
	case h.h != nil:
		return h.h
	case h.enc == nil:
		return nil
	case h.p == nil:
		p, err := hdrhistogram.DecodePacked(h.enc)
		if err != nil {
			// Decoded encodings were checked when they were read or made.
			return nil
		}
		h.p = p
	}
	return h.p
}

// dense returns a dense copy of the histogram's counts for a caller that
// only reads it (a merge's source, a comparison) without keeping the dense
// form in h.
func (h *Histogram) dense() *hdrhistogram.Histogram {
	if h.h != nil || h.enc == nil {
		return h.hist()
	}
	if d, err := hdrhistogram.Decode(h.enc); err == nil {
		return d
	}
	return hdrhistogram.New(histLowest, histHighest, histDigits)
}

// NewHistogram returns an empty histogram.
func NewHistogram() *Histogram {
	return &Histogram{h: hdrhistogram.New(histLowest, histHighest, histDigits)}
}

// Record adds one duration. Values outside the range are clamped to it, so
// recording never fails and never allocates.
func (h *Histogram) Record(d time.Duration) {
	_ = h.hist().RecordValue(clampMicros(d)) // cannot fail: the value is in range
}

// clampMicros is d in microseconds, clamped to the histograms' range.
func clampMicros(d time.Duration) int64 {
	return min(max(int64(d/time.Microsecond), histLowest), histHighest)
}

// Merge adds every value of o. It fails if o has values this histogram
// cannot hold (it never drops them silently).
func (h *Histogram) Merge(o *Histogram) error {
	if o == nil || (o.h == nil && o.enc == nil) {
		return nil
	}
	dst := h.hist()
	if dropped := dst.Merge(o.dense()); dropped > 0 {
		return fmt.Errorf("histogram merge dropped %d values outside [%d, %d]µs", dropped, dst.LowestTrackableValue(), dst.HighestTrackableValue())
	}
	return nil
}

// Reset empties the histogram, keeping its memory.
func (h *Histogram) Reset() { h.hist().Reset() }

// frozen returns an independent copy kept in compressed encoding, without
// allocating a dense copy: how the timeline and checkpoints copy histograms.
func (h *Histogram) frozen() *Histogram {
	e := encoderPool.Get().(*histEncoder)
	defer encoderPool.Put(e)
	return h.frozenWith(e)
}

// frozenWith is frozen, encoding with e.
func (h *Histogram) frozenWith(e *histEncoder) *Histogram {
	if h.h == nil && h.enc != nil {
		return &Histogram{enc: h.enc} // already frozen: share the encoding
	}
	b, err := e.appendEncoded(nil, h.hist())
	if err != nil {
		return h.Clone()
	}
	return &Histogram{enc: b}
}

// Clone returns an independent copy.
func (h *Histogram) Clone() *Histogram {
	if h.h == nil && h.enc != nil {
		return &Histogram{enc: h.enc}
	}
	return &Histogram{h: h.hist().Clone()}
}

// Count returns the number of recorded values.
func (h *Histogram) Count() int64 {
	r := h.read()
	if r == nil {
		return 0
	}
	return r.TotalCount()
}

// Percentile returns the value at percentile p (0–100), e.g. 99.9.
func (h *Histogram) Percentile(p float64) time.Duration {
	if h.Count() == 0 {
		return 0
	}
	return time.Duration(h.read().ValueAtPercentile(p)) * time.Microsecond
}

// Max returns the largest recorded value (within histogram precision).
func (h *Histogram) Max() time.Duration {
	if h.Count() == 0 {
		return 0
	}
	return time.Duration(h.read().Max()) * time.Microsecond
}

// Min returns the smallest recorded value.
func (h *Histogram) Min() time.Duration {
	if h.Count() == 0 {
		return 0
	}
	return time.Duration(h.read().Min()) * time.Microsecond
}

// Mean returns the mean of the recorded values.
func (h *Histogram) Mean() time.Duration {
	if h.Count() == 0 {
		return 0
	}
	return time.Duration(h.read().Mean() * float64(time.Microsecond))
}

// StdDev returns the standard deviation of the recorded values.
func (h *Histogram) StdDev() time.Duration {
	if h.Count() == 0 {
		return 0
	}
	return time.Duration(h.read().StdDev() * float64(time.Microsecond))
}

// Equal reports whether two histograms hold the same counts.
func (h *Histogram) Equal(o *Histogram) bool {
	if h.Count() == 0 || o.Count() == 0 {
		return h.Count() == o.Count()
	}
	return h.dense().Equals(o.dense())
}

// Encode returns the V2 compressed base64 encoding.
func (h *Histogram) Encode() ([]byte, error) {
	if h.h == nil && h.enc != nil {
		return h.enc, nil
	}
	return encodeHistogram(h.hist())
}

// DecodeHistogram parses the V2 compressed base64 encoding. Only the
// tool's geometry is accepted, checked from the header before the counts
// are allocated. The histogram keeps the encoding, as one read from a
// results file does: readers of long interval logs hold thousands of them.
func DecodeHistogram(b []byte) (*Histogram, error) {
	if err := checkGeometry(b); err != nil {
		return nil, fmt.Errorf("decode histogram: %w", err)
	}
	hh, err := hdrhistogram.Decode(b)
	if err != nil {
		return nil, fmt.Errorf("decode histogram: %w", err)
	}
	if hh.TotalCount() < 0 || math.IsNaN(hh.Mean()) {
		return nil, fmt.Errorf("decode histogram: corrupt counts")
	}
	return &Histogram{enc: append([]byte(nil), b...)}, nil
}

// MarshalText implements encoding.TextMarshaler: in JSON a histogram is
// the string of its V2 encoding. A frozen histogram returns its encoding
// without copying it, so checkpoints of the timeline make no garbage here.
func (h *Histogram) MarshalText() ([]byte, error) {
	return h.Encode()
}

// UnmarshalJSON implements json.Unmarshaler.
func (h *Histogram) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		// %v, not %w: the inner error's offset is relative to this value
		// and would give the file a wrong line:col.
		return fmt.Errorf("histogram: want a base64 string: %v", err)
	}
	if _, err := DecodeHistogram([]byte(s)); err != nil {
		return err
	}
	// Keep only the encoding: a long timeline decodes one histogram at a time.
	h.h, h.enc = nil, []byte(s)
	return nil
}
