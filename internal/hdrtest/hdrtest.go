// Package hdrtest builds HdrHistogram encodings for tests, the way a
// hostile or foreign results file would hold them: any geometry, whatever
// the tool itself writes. Only tests import it; it is the one builder
// behind the results decoder's and the report readers' tests, and it
// imports nothing of tailgate's, so a package's own tests can use it.
package hdrtest

import (
	"bytes"
	"compress/zlib"
	"encoding/base64"
	"encoding/binary"
	"math"
)

// The V2 cookies of the HdrHistogram encoding: the plain histogram and
// the zlib-compressed frame around it.
const (
	v2EncodingCookie           = 0x1c849303 | 0x10
	v2CompressedEncodingCookie = 0x1c849304 | 0x10
)

// OneValue returns the base64 V2 compressed encoding of a histogram that
// declares lowest, highest and digits and holds one value at its first
// index. The encoding declares the geometry without the counts it would
// take, so a decoder that trusts the header before allocating shows in
// the test's allocations.
func OneValue(lowest, highest int64, digits int32) string {
	payload := []byte{2} // zigzag LEB128 1: one count at the first index
	var raw bytes.Buffer
	var hdr [40]byte
	binary.BigEndian.PutUint32(hdr[0:], v2EncodingCookie)
	binary.BigEndian.PutUint32(hdr[4:], uint32(len(payload)))
	binary.BigEndian.PutUint32(hdr[12:], uint32(digits))
	binary.BigEndian.PutUint64(hdr[16:], uint64(lowest))
	binary.BigEndian.PutUint64(hdr[24:], uint64(highest))
	binary.BigEndian.PutUint64(hdr[32:], math.Float64bits(1))
	raw.Write(hdr[:])
	raw.Write(payload)
	var comp bytes.Buffer
	zw := zlib.NewWriter(&comp)
	_, _ = zw.Write(raw.Bytes())
	_ = zw.Close()
	framed := binary.BigEndian.AppendUint32(nil, v2CompressedEncodingCookie)
	framed = binary.BigEndian.AppendUint32(framed, uint32(comp.Len()))
	return base64.StdEncoding.EncodeToString(append(framed, comp.Bytes()...))
}
