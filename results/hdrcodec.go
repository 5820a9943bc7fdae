package results

import (
	"bytes"
	"compress/zlib"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"math/bits"
	"sync"

	hdrhistogram "github.com/HdrHistogram/hdrhistogram-go"
)

// The HdrHistogram V2 compressed encoding, written with reused buffers and a
// reused zlib writer. hdrhistogram-go's own encoder allocates a new
// best-compression zlib writer (about 1 MiB of state) per call; the
// collector freezes a few histograms every second and checkpoints more, so
// that garbage alone dominated the run's memory churn. The output is the
// standard format: hdrhistogram.Decode and every other HdrHistogram reader
// accept it (see TestEncoderMatchesLibrary).
const (
	v2EncodingCookie           = 0x1c849303 | 0x10
	v2CompressedEncodingCookie = 0x1c849304 | 0x10
)

type histEncoder struct {
	payload bytes.Buffer // zigzag LEB128 counts
	raw     bytes.Buffer // header + payload
	comp    bytes.Buffer // zlib(raw)
	framed  []byte       // cookie + length + comp
	zw      *zlib.Writer
	packed  *hdrhistogram.PackedHistogram
}

// newHistEncoder returns an encoder. It is small until its first use,
// which allocates the zlib writer's state (~1.2 MiB): an encoder is meant
// to be kept. The collector keeps one for the whole run; other callers
// share encoderPool, which a garbage collection empties.
func newHistEncoder() *histEncoder {
	e := &histEncoder{}
	// NewWriterLevel fails only for an invalid level; BestSpeed is valid.
	e.zw, _ = zlib.NewWriterLevel(&e.comp, zlib.BestSpeed)
	return e
}

var encoderPool = sync.Pool{New: func() any { return newHistEncoder() }}

// encodeHistogram returns the base64 V2 compressed encoding of h.
func encodeHistogram(h *hdrhistogram.Histogram) ([]byte, error) {
	return appendEncodedHistogram(nil, h)
}

// appendEncodedHistogram appends the base64 V2 compressed encoding of h to
// dst and returns the extended slice.
func appendEncodedHistogram(dst []byte, h *hdrhistogram.Histogram) ([]byte, error) {
	e := encoderPool.Get().(*histEncoder)
	defer encoderPool.Put(e)
	return e.appendEncoded(dst, h)
}

// appendEncoded appends the base64 V2 compressed encoding of h to dst.
func (e *histEncoder) appendEncoded(dst []byte, h *hdrhistogram.Histogram) ([]byte, error) {
	e.payload.Reset()
	if isOurGeometry(h) {
		return e.finish(dst, h.LowestTrackableValue(), h.HighestTrackableValue(), h.SignificantFigures(), e.sparsePayload(h))
	}
	// Another geometry (a histogram read from another tool's file): copy
	// the counts out, which the library allows only as a whole.
	snap := h.Export()
	limit := 0
	if h.TotalCount() > 0 {
		// Counts past the bucket of the maximum are all zero.
		for i := len(snap.Counts) - 1; i >= 0; i-- {
			if snap.Counts[i] != 0 {
				limit = i + 1
				break
			}
		}
	}
	var tmp [9]byte
	for i := 0; i < limit; {
		c := snap.Counts[i]
		i++
		if c == 0 {
			zeros := int64(1)
			for i < limit && snap.Counts[i] == 0 {
				zeros++
				i++
			}
			if zeros > 1 {
				c = -zeros
			}
		}
		e.payload.Write(tmp[:putZigZag(tmp[:], c)])
	}
	return e.finish(dst, snap.LowestTrackableValue, snap.HighestTrackableValue, snap.SignificantFigures, nil)
}

// isOurGeometry reports whether h has the geometry of NewHistogram, whose
// counts index ourCountsIndex computes.
func isOurGeometry(h *hdrhistogram.Histogram) bool {
	return h.LowestTrackableValue() == histLowest && h.HighestTrackableValue() == histHighest && h.SignificantFigures() == histDigits
}

// ourCountsIndex is HdrHistogram's counts index of v for the geometry of
// NewHistogram (unit magnitude 0, sub-bucket half count 1024).
func ourCountsIndex(v int64) int64 {
	bucket := int64(64-bits.LeadingZeros64(uint64(v|2047))) - 11
	sub := v >> uint(bucket)
	return (bucket+1)<<10 + sub - 1024
}

// sparsePayload writes the zigzag counts of h from its populated buckets
// only: a reused sparse histogram collects them without copying the ~180 KiB
// dense counts array that Export would.
func (e *histEncoder) sparsePayload(h *hdrhistogram.Histogram) error {
	if e.packed == nil {
		e.packed = hdrhistogram.NewPacked(histLowest, histHighest, histDigits)
	}
	e.packed.Reset()
	if dropped := e.packed.MergeFrom(h); dropped != 0 {
		return fmt.Errorf("encode histogram: %d values outside the range", dropped)
	}
	e.packedPayload(e.packed)
	return nil
}

// appendEncodedPacked appends the base64 V2 compressed encoding of p, a
// sparse histogram of the tool's geometry, to dst.
func (e *histEncoder) appendEncodedPacked(dst []byte, p *hdrhistogram.PackedHistogram) ([]byte, error) {
	e.payload.Reset()
	e.packedPayload(p)
	return e.finish(dst, histLowest, histHighest, histDigits, nil)
}

// packedPayload writes the zigzag counts of p's populated buckets.
func (e *histEncoder) packedPayload(p *hdrhistogram.PackedHistogram) {
	var tmp [9]byte
	next := int64(0) // the next counts index to encode
	p.ForEachBucket(func(value, count int64) bool {
		idx := ourCountsIndex(value)
		switch zeros := idx - next; {
		case zeros == 1:
			e.payload.Write(tmp[:putZigZag(tmp[:], 0)])
		case zeros > 1:
			e.payload.Write(tmp[:putZigZag(tmp[:], -zeros)])
		}
		e.payload.Write(tmp[:putZigZag(tmp[:], count)])
		next = idx + 1
		return true
	})
}

// finish wraps the payload in the V2 header, compresses it and appends it
// to dst in base64. A non-nil payloadErr is returned as is.
func (e *histEncoder) finish(dst []byte, lowest, highest, digits int64, payloadErr error) ([]byte, error) {
	if payloadErr != nil {
		return nil, payloadErr
	}
	e.raw.Reset()
	var hdr [40]byte
	binary.BigEndian.PutUint32(hdr[0:], v2EncodingCookie)
	binary.BigEndian.PutUint32(hdr[4:], uint32(e.payload.Len()))
	binary.BigEndian.PutUint32(hdr[8:], 0) // normalizing index offset
	binary.BigEndian.PutUint32(hdr[12:], uint32(digits))
	binary.BigEndian.PutUint64(hdr[16:], uint64(lowest))
	binary.BigEndian.PutUint64(hdr[24:], uint64(highest))
	binary.BigEndian.PutUint64(hdr[32:], math.Float64bits(1.0))
	e.raw.Write(hdr[:])
	e.raw.Write(e.payload.Bytes())

	e.comp.Reset()
	e.zw.Reset(&e.comp)
	if _, err := e.zw.Write(e.raw.Bytes()); err != nil {
		return nil, err
	}
	if err := e.zw.Close(); err != nil {
		return nil, err
	}
	e.framed = binary.BigEndian.AppendUint32(e.framed[:0], v2CompressedEncodingCookie)
	e.framed = binary.BigEndian.AppendUint32(e.framed, uint32(e.comp.Len()))
	e.framed = append(e.framed, e.comp.Bytes()...)
	// The one allocation, unless dst has room: the encoding handed back.
	return base64.StdEncoding.AppendEncode(dst, e.framed), nil
}

// putZigZag writes v in HdrHistogram's ZigZag LEB128-64b9B form: 7 bits per
// byte with a continuation bit, and a ninth byte (if reached) holding a
// full 8 bits. It returns the number of bytes written.
func putZigZag(b []byte, v int64) int {
	u := uint64((v << 1) ^ (v >> 63))
	for i := 0; i < 8; i++ {
		if u>>7 == 0 {
			b[i] = byte(u)
			return i + 1
		}
		b[i] = byte(u&0x7f) | 0x80
		u >>= 7
	}
	b[8] = byte(u)
	return 9
}

// zlibReaders keeps inflaters for checkGeometry: each costs ~40 KiB of
// state, and a results file has thousands of histograms to check.
var zlibReaders sync.Pool

// checkGeometry reads the header of a base64 V2 compressed encoding and
// refuses every geometry but the tool's (1µs…1h at 3 digits), before
// anything is allocated for the counts: hdrhistogram-go sizes its counts
// array from the header, and a 296-byte encoding declaring 1…2⁶³−1 at 5
// digits took 49 MB to decode. Only the 40-byte header is inflated.
func checkGeometry(b []byte) error {
	dec := base64.NewDecoder(base64.StdEncoding, bytes.NewReader(b))
	var frame [8]byte
	if _, err := io.ReadFull(dec, frame[:]); err != nil {
		return fmt.Errorf("encoded histogram too short or not base64: %w", err)
	}
	if binary.BigEndian.Uint32(frame[0:])&^0xf0 != v2CompressedEncodingCookie&^0xf0 {
		return errors.New("not an HdrHistogram V2 compressed encoding")
	}
	n := int32(binary.BigEndian.Uint32(frame[4:]))
	if n < 0 {
		return fmt.Errorf("negative compressed length %d", n)
	}
	src := io.LimitReader(dec, int64(n))
	var z io.ReadCloser
	if r, ok := zlibReaders.Get().(io.ReadCloser); ok {
		if err := r.(zlib.Resetter).Reset(src, nil); err != nil {
			zlibReaders.Put(r)
			return fmt.Errorf("histogram header: %w", err)
		}
		z = r
	} else {
		r, err := zlib.NewReader(src)
		if err != nil {
			return fmt.Errorf("histogram header: %w", err)
		}
		z = r
	}
	defer zlibReaders.Put(z)
	var hdr [40]byte
	if _, err := io.ReadFull(z, hdr[:]); err != nil {
		return fmt.Errorf("histogram header: %w", err)
	}
	if binary.BigEndian.Uint32(hdr[0:])&^0xf0 != v2EncodingCookie&^0xf0 {
		return errors.New("not an HdrHistogram V2 encoding")
	}
	digits := int32(binary.BigEndian.Uint32(hdr[12:]))
	lowest := int64(binary.BigEndian.Uint64(hdr[16:]))
	highest := int64(binary.BigEndian.Uint64(hdr[24:]))
	if lowest != histLowest || highest != histHighest || digits != histDigits {
		return fmt.Errorf("histogram of range %d…%d at %d digits: tailgate writes only 1…%dµs (1h) at %d digits", lowest, highest, digits, histHighest, histDigits)
	}
	return nil
}
