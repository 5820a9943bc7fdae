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
// compressed encoding (a few hundred bytes instead of ~180 KiB) and decoded
// on first use; Compact drops the decoded form again.
type Histogram struct {
	h   *hdrhistogram.Histogram
	enc []byte
}

// hist returns the decoded histogram, decoding the kept encoding if needed.
func (h *Histogram) hist() *hdrhistogram.Histogram {
	if h.h == nil {
		if h.enc != nil {
			if d, err := hdrhistogram.Decode(h.enc); err == nil {
				h.h = d
				return h.h
			}
		}
		h.h = hdrhistogram.New(histLowest, histHighest, histDigits)
	}
	return h.h
}

// Compact releases the decoded form of a histogram that has an encoding,
// keeping only the encoding. Later use decodes it again. Recording into a
// compacted histogram first decodes it.
func (h *Histogram) Compact() {
	if h.enc != nil {
		h.h = nil
	}
}

// Freeze encodes the histogram and releases its decoded form; it is how the
// timeline keeps one histogram per second in bounded memory.
func (h *Histogram) Freeze() error {
	b, err := encodeHistogram(h.hist())
	if err != nil {
		return err
	}
	h.enc, h.h = b, nil
	return nil
}

// NewHistogram returns an empty histogram.
func NewHistogram() *Histogram {
	return &Histogram{h: hdrhistogram.New(histLowest, histHighest, histDigits)}
}

// HDR returns the underlying hdrhistogram-go histogram (values in µs).
func (h *Histogram) HDR() *hdrhistogram.Histogram { return h.hist() }

// Record adds one duration. Values outside the range are clamped to it, so
// recording never fails and never allocates.
func (h *Histogram) Record(d time.Duration) {
	v := clampMicros(d)
	hh := h.hist() // decodes a kept encoding before it is dropped
	h.enc = nil
	_ = hh.RecordValue(v) // cannot fail: v is in range
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
	dst := h.hist() // decodes a kept encoding before it is dropped
	h.enc = nil
	if dropped := dst.Merge(o.hist()); dropped > 0 {
		return fmt.Errorf("histogram merge dropped %d values outside [%d, %d]µs", dropped, dst.LowestTrackableValue(), dst.HighestTrackableValue())
	}
	return nil
}

// Reset empties the histogram, keeping its memory.
func (h *Histogram) Reset() { h.enc = nil; h.hist().Reset() }

// Frozen returns an independent copy kept in compressed encoding, without
// allocating a dense copy: how the timeline and checkpoints copy histograms.
func (h *Histogram) Frozen() *Histogram {
	e := encoderPool.Get().(*histEncoder)
	defer encoderPool.Put(e)
	return h.frozenWith(e)
}

// frozenWith is Frozen encoding with e.
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
	if h == nil || (h.h == nil && h.enc == nil) {
		return 0
	}
	return h.hist().TotalCount()
}

// Percentile returns the value at percentile p (0–100), e.g. 99.9.
func (h *Histogram) Percentile(p float64) time.Duration {
	if h.Count() == 0 {
		return 0
	}
	return time.Duration(h.hist().ValueAtPercentile(p)) * time.Microsecond
}

// Max returns the largest recorded value (within histogram precision).
func (h *Histogram) Max() time.Duration {
	if h.Count() == 0 {
		return 0
	}
	return time.Duration(h.hist().Max()) * time.Microsecond
}

// Min returns the smallest recorded value.
func (h *Histogram) Min() time.Duration {
	if h.Count() == 0 {
		return 0
	}
	return time.Duration(h.hist().Min()) * time.Microsecond
}

// Mean returns the mean of the recorded values.
func (h *Histogram) Mean() time.Duration {
	if h.Count() == 0 {
		return 0
	}
	return time.Duration(h.hist().Mean() * float64(time.Microsecond))
}

// StdDev returns the standard deviation of the recorded values.
func (h *Histogram) StdDev() time.Duration {
	if h.Count() == 0 {
		return 0
	}
	return time.Duration(h.hist().StdDev() * float64(time.Microsecond))
}

// Percentiles are the summary figures of one histogram.
type Percentiles struct {
	P50, P90, P95, P99, P999, Max, Mean time.Duration
}

// Summary returns the standard percentiles.
func (h *Histogram) Summary() Percentiles {
	if h.Count() == 0 {
		return Percentiles{}
	}
	// The 100th percentile is the highest equivalent value of the last
	// populated bucket, which is what Max returns: one pass instead of two.
	v := h.hist().ValueAtPercentilesSlice([]float64{50, 90, 95, 99, 99.9, 100})
	us := func(x int64) time.Duration { return time.Duration(x) * time.Microsecond }
	return Percentiles{
		P50: us(v[0]), P90: us(v[1]), P95: us(v[2]), P99: us(v[3]), P999: us(v[4]),
		Max: us(v[5]), Mean: h.Mean(),
	}
}

// Equal reports whether two histograms hold the same counts.
func (h *Histogram) Equal(o *Histogram) bool {
	if h.Count() == 0 || o.Count() == 0 {
		return h.Count() == o.Count()
	}
	return h.hist().Equals(o.hist())
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
// are allocated.
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
	return &Histogram{h: hh}, nil
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
