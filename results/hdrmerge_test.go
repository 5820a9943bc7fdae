package results

import (
	"math/rand/v2"
	"runtime"
	"testing"
	"time"

	hdrhistogram "github.com/HdrHistogram/hdrhistogram-go"
)

// TestHistMergerMatchesDecode: adding encodings through the reused merger
// gives the very buckets that decoding each and merging it gives, from the
// first microsecond to the hour, and it allocates nothing per histogram
// once its buffers have grown.
func TestHistMergerMatchesDecode(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 11))
	enc := NewEncoder()
	var encs [][]byte
	for i := range 40 {
		h := NewHistogram()
		for range 1 + i*50 {
			h.Record(time.Duration(rng.ExpFloat64()*float64(time.Duration(1+i%7)*time.Millisecond)) + time.Microsecond)
		}
		h.Record(time.Microsecond)
		h.Record(time.Hour)
		h.Record(time.Duration(1+rng.Int64N(3_600_000_000)) * time.Microsecond)
		encs = append(encs, enc.Freeze(h).enc)
	}
	var m histMerger
	got, want := newPacked(), newPacked()
	for _, e := range encs {
		if err := m.add(got, e); err != nil {
			t.Fatal(err)
		}
		p, err := hdrhistogram.DecodePacked(e)
		if err != nil {
			t.Fatal(err)
		}
		want.Merge(p)
	}
	type bucket struct{ v, n int64 }
	var a, b []bucket
	got.ForEachBucket(func(v, n int64) bool { a = append(a, bucket{v, n}); return true })
	want.ForEachBucket(func(v, n int64) bool { b = append(b, bucket{v, n}); return true })
	if len(a) != len(b) || got.TotalCount() != want.TotalCount() {
		t.Fatalf("%d buckets, %d values; want %d and %d", len(a), got.TotalCount(), len(b), want.TotalCount())
	}
	for i := range a {
		if a[i] != b[i] {
			t.Fatalf("bucket %d: %v, want %v", i, a[i], b[i])
		}
	}
	last := encs[len(encs)-1]
	if err := m.add(got, last); err != nil { // buffers grown
		t.Fatal(err)
	}
	perMerge := func(add func()) uint64 {
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		for range 50 {
			add()
		}
		runtime.ReadMemStats(&after)
		return (after.TotalAlloc - before.TotalAlloc) / 50
	}
	merged := perMerge(func() { _ = m.add(got, last) })
	decoded := perMerge(func() {
		p, _ := hdrhistogram.DecodePacked(last)
		want.Merge(p)
	})
	t.Logf("%d bytes allocated per merged encoding, %d per decode and merge", merged, decoded)
	if merged > 2<<10 || merged*10 > decoded {
		t.Errorf("%d bytes allocated per merged encoding (decoding each: %d); want under 2 KiB and a tenth", merged, decoded)
	}
	for _, bad := range [][]byte{[]byte("!!"), []byte("AAAA"), encs[3][:len(encs[3])/2]} {
		if err := m.add(newPacked(), bad); err == nil {
			t.Errorf("%q: merged without an error", bad)
		}
	}
}
