package results

import (
	"fmt"

	hdrhistogram "github.com/HdrHistogram/hdrhistogram-go"
)

// DecodeHistogramCompact parses the V2 compressed base64 encoding with the
// checks of DecodeHistogram but keeps only the encoding, decoding it again
// on first use (as histograms read from a results file are kept). Readers
// of long interval logs use it so that thousands of histograms cost their
// encoded size, not a dense histogram each.
func DecodeHistogramCompact(b []byte) (*Histogram, error) {
	if _, err := DecodeHistogram(b); err != nil {
		return nil, err
	}
	return &Histogram{enc: append([]byte(nil), b...)}, nil
}

// MaxOfEncoded returns the largest value of a histogram without decoding a
// compact histogram into its dense form.
func (h *Histogram) MaxOfEncoded() (int64, error) {
	if h == nil || (h.h == nil && h.enc == nil) {
		return 0, nil
	}
	if h.h != nil {
		return h.h.Max(), nil
	}
	p, err := hdrhistogram.DecodePacked(h.enc)
	if err != nil {
		return 0, fmt.Errorf("decode histogram: %w", err)
	}
	return p.Max(), nil
}
