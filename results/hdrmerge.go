package results

import (
	"bytes"
	"compress/zlib"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"io"

	hdrhistogram "github.com/HdrHistogram/hdrhistogram-go"
)

// histMerger adds encoded histograms into packed ones without decoding
// each into a histogram of its own. hdrhistogram-go's DecodePacked makes a
// new inflater (~40 KiB of state) and buffers per call; the timeline
// coarsener merges about 180 encodings a minute at one-second steps, and
// that garbage, made in a burst while the engine's one CPU was busy,
// raised a 10k/s run's resident memory by 9 MiB at its first merge. A
// merger reuses one inflater and its buffers; it is not safe for
// concurrent use.
type histMerger struct {
	framed, raw []byte
	z           io.ReadCloser
	src         bytes.Reader
}

// add adds the counts of enc, a base64 V2 compressed encoding of the
// tool's geometry (1 µs…1 h, 3 digits), into dst.
func (m *histMerger) add(dst *hdrhistogram.PackedHistogram, enc []byte) error {
	n := base64.StdEncoding.DecodedLen(len(enc))
	if cap(m.framed) < n {
		m.framed = make([]byte, n)
	}
	n, err := base64.StdEncoding.Decode(m.framed[:n], enc)
	if err != nil {
		return fmt.Errorf("decode histogram: %w", err)
	}
	framed := m.framed[:n]
	if len(framed) < 8 || binary.BigEndian.Uint32(framed)&^0xf0 != v2CompressedEncodingCookie&^0xf0 {
		return errors.New("decode histogram: not an HdrHistogram V2 compressed encoding")
	}
	clen := int(binary.BigEndian.Uint32(framed[4:]))
	if clen < 0 || clen > len(framed)-8 {
		return fmt.Errorf("decode histogram: compressed length %d of %d bytes", clen, len(framed)-8)
	}
	m.src.Reset(framed[8 : 8+clen])
	if m.z == nil {
		if m.z, err = zlib.NewReader(&m.src); err != nil {
			return fmt.Errorf("decode histogram: %w", err)
		}
	} else if err := m.z.(zlib.Resetter).Reset(&m.src, nil); err != nil {
		return fmt.Errorf("decode histogram: %w", err)
	}
	var hdr [40]byte
	if _, err := io.ReadFull(m.z, hdr[:]); err != nil {
		return fmt.Errorf("decode histogram: %w", err)
	}
	digits := int32(binary.BigEndian.Uint32(hdr[12:]))
	lowest, highest := int64(binary.BigEndian.Uint64(hdr[16:])), int64(binary.BigEndian.Uint64(hdr[24:]))
	if binary.BigEndian.Uint32(hdr[0:])&^0xf0 != v2EncodingCookie&^0xf0 || lowest != histLowest || highest != histHighest || digits != histDigits ||
		binary.BigEndian.Uint32(hdr[8:]) != 0 {
		return errors.New("decode histogram: not of the tool's geometry")
	}
	plen := int(binary.BigEndian.Uint32(hdr[4:]))
	if plen < 0 || plen > maxPayload {
		return fmt.Errorf("decode histogram: payload of %d bytes", plen)
	}
	if cap(m.raw) < plen {
		m.raw = make([]byte, plen)
	}
	payload := m.raw[:plen]
	if _, err := io.ReadFull(m.z, payload); err != nil {
		return fmt.Errorf("decode histogram: %w", err)
	}
	idx := int64(0)
	for len(payload) > 0 {
		v, k := zigZag(payload)
		if k == 0 {
			return errors.New("decode histogram: truncated count")
		}
		payload = payload[k:]
		if v < 0 {
			idx -= v // a run of -v empty buckets
			continue
		}
		if v > 0 {
			if idx >= maxCountsIndex {
				return fmt.Errorf("decode histogram: bucket %d beyond the range", idx)
			}
			if err := dst.RecordValues(ourIndexValue(idx), v); err != nil {
				return fmt.Errorf("decode histogram: %w", err)
			}
		}
		idx++
	}
	return nil
}

// maxCountsIndex is the number of buckets of the tool's geometry, and
// maxPayload the most bytes their counts can take.
const (
	maxCountsIndex = (1 + 22) << 10 // 1 h in µs needs 22 buckets above the first
	maxPayload     = maxCountsIndex * 9
)

// ourIndexValue is the lowest value of HdrHistogram's counts index idx in
// the tool's geometry: the inverse of ourCountsIndex.
func ourIndexValue(idx int64) int64 {
	if idx < 2048 {
		return idx
	}
	bucket := idx>>10 - 1
	return (idx&1023 + 1024) << uint(bucket)
}

// zigZag reads one of putZigZag's values from b and returns it with the
// bytes it took (0 when b ends first).
func zigZag(b []byte) (int64, int) {
	var u uint64
	for i := 0; i < 9; i++ {
		if i >= len(b) {
			return 0, 0
		}
		if i == 8 {
			u |= uint64(b[8]) << 56
			return int64(u>>1) ^ -int64(u&1), 9
		}
		u |= uint64(b[i]&0x7f) << (7 * uint(i))
		if b[i]&0x80 == 0 {
			return int64(u>>1) ^ -int64(u&1), i + 1
		}
	}
	return 0, 0
}
