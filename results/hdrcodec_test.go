package results

import (
	"math/rand/v2"
	"testing"
	"time"

	hdrhistogram "github.com/HdrHistogram/hdrhistogram-go"
)

func TestEncoderMatchesLibrary(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for _, tc := range []struct {
		name string
		fill func(h *Histogram)
	}{
		{"empty", func(*Histogram) {}},
		{"one", func(h *Histogram) { h.Record(time.Millisecond) }},
		{"max", func(h *Histogram) { h.Record(2 * time.Hour) }},
		{"spread", func(h *Histogram) {
			for i := 0; i < 100000; i++ {
				h.Record(time.Duration(rng.ExpFloat64() * float64(5*time.Millisecond)))
			}
		}},
		{"huge counts", func(h *Histogram) {
			_ = h.hist().RecordValues(1000, 1<<60)
			_ = h.hist().RecordValues(3, 1<<40)
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := NewHistogram()
			tc.fill(h)
			ours, err := encodeHistogram(h.hist())
			if err != nil {
				t.Fatal(err)
			}
			back, err := hdrhistogram.Decode(ours)
			if err != nil {
				t.Fatalf("library cannot decode our encoding: %v", err)
			}
			if !back.Equals(h.hist()) {
				t.Fatal("decoded histogram differs")
			}
			lib, err := h.hist().Encode(hdrhistogram.V2CompressedEncodingCookieBase)
			if err != nil {
				t.Fatal(err)
			}
			ourBack, err := DecodeHistogram(lib)
			if err != nil || !ourBack.Equal(h) {
				t.Fatalf("library encoding does not round-trip through DecodeHistogram: %v", err)
			}
		})
	}
}

func BenchmarkEncodeHistogram(b *testing.B) {
	h := NewHistogram()
	for i := 0; i < 10000; i++ {
		h.Record(time.Duration(i) * 37 * time.Microsecond)
	}
	b.Run("tailgate", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := encodeHistogram(h.hist()); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("hdrhistogram-go", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := h.hist().Encode(hdrhistogram.V2CompressedEncodingCookieBase); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// TestFrozenHistogramKeepsValues: recording into or merging into a
// histogram kept only in its encoding (the timeline, a file) must add to
// what it held, not replace it.
func TestFrozenHistogramKeepsValues(t *testing.T) {
	h := NewHistogram()
	for i := 0; i < 10; i++ {
		h.Record(time.Millisecond)
	}
	f := h.frozen()
	f.Record(2 * time.Millisecond)
	if f.Count() != 11 {
		t.Fatalf("recording into a frozen histogram: count %d, want 11", f.Count())
	}
	g := h.frozen()
	if err := g.Merge(h); err != nil {
		t.Fatal(err)
	}
	if g.Count() != 20 {
		t.Fatalf("merging into a frozen histogram: count %d, want 20", g.Count())
	}
}
