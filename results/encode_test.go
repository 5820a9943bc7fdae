package results

import (
	"bytes"
	"encoding/json"
	"io"
	"os"
	"testing"
	"time"
)

// TestEncodeMatchesMarshalIndent: the streaming encoder writes exactly what
// encoding/json would, with and without a timeline.
func TestEncodeMatchesMarshalIndent(t *testing.T) {
	mk := func(intervals int) *Result {
		r := &Result{Version: ResultVersion, Total: NewStats("", ""), Meta: Meta{Name: "x", Start: time.Unix(0, 0).UTC()}}
		r.Total.Latency.Record(time.Millisecond)
		r.Requests = []*Stats{NewStats("a", "")}
		for i := 0; i < intervals; i++ {
			iv := Interval{Start: Duration(time.Duration(i) * time.Second), Length: Duration(time.Second),
				Total: IntervalStats{Requests: uint64(i), Latency: NewHistogram(), SendLag: NewHistogram()}}
			iv.Total.Latency.Record(time.Duration(i+1) * time.Millisecond)
			iv.Series = []IntervalStats{{Name: "a", Requests: uint64(i), Latency: iv.Total.Latency.frozen()}}
			r.Timeline = append(r.Timeline, iv)
		}
		return r
	}
	for _, n := range []int{0, 1, 3} {
		r := mk(n)
		var got bytes.Buffer
		if err := r.Encode(&got); err != nil {
			t.Fatal(err)
		}
		want, err := json.MarshalIndent(r, "", "  ")
		if err != nil {
			t.Fatal(err)
		}
		want = append(want, '\n')
		if n == 0 {
			// encoding/json writes a nil timeline as null; an empty array
			// reads the same and is what a finished run has.
			want = bytes.Replace(want, []byte(`"timeline": null`), []byte(`"timeline": []`), 1)
		}
		if !bytes.Equal(got.Bytes(), want) {
			t.Fatalf("%d intervals: streamed encoding differs\n got: %s\nwant: %s", n, got.Bytes(), want)
		}
		back, err := DecodeResult(&got)
		if err != nil || len(back.Timeline) != n {
			t.Fatalf("%d intervals: decode %v, %d intervals", n, err, len(back.Timeline))
		}
	}
}

// TestCheckpointWriterMatchesEncode: a writer that reuses its buffers
// across growing and shrinking versions of a timeline writes the same bytes
// as a fresh encoding every time.
func TestCheckpointWriterMatchesEncode(t *testing.T) {
	mk := func(intervals int, base time.Duration) *Result {
		r := &Result{Version: ResultVersion, Total: NewStats("", ""), Meta: Meta{Name: "x", Start: time.Unix(0, 0).UTC()}}
		for i := 0; i < intervals; i++ {
			iv := Interval{Start: Duration(base + time.Duration(i)*time.Second), Length: Duration(time.Second),
				Total: IntervalStats{Requests: uint64(i), Latency: NewHistogram(), SendLag: NewHistogram()}}
			iv.Total.Latency.Record(base + time.Duration(i+1)*time.Millisecond)
			r.Timeline = append(r.Timeline, iv)
		}
		return r
	}
	path := t.TempDir() + "/r.json"
	var w resultWriter
	for _, step := range []struct {
		n    int
		base time.Duration
	}{{0, 0}, {1, 0}, {4, 0}, {4, 0}, {9, 0}, {3, time.Hour}, {5, time.Hour}} {
		r := mk(step.n, step.base)
		if err := w.writeFile(r, path); err != nil {
			t.Fatal(err)
		}
		var want bytes.Buffer
		if err := r.Encode(&want); err != nil {
			t.Fatal(err)
		}
		got, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, want.Bytes()) {
			t.Fatalf("%d intervals from %v: the cached encoding differs\n got: %s\nwant: %s", step.n, step.base, got, want.Bytes())
		}
	}
}

// BenchmarkEncodeCheckpoint encodes the results of a two-minute run (120
// timeline intervals, frozen histograms) the way checkpoints do, with the
// encoder's buffers reused: allocations per checkpoint must stay a small
// constant times the number of intervals, not copies of the histograms.
//
//	go test ./loadgen -run '^$' -bench EncodeCheckpoint -benchmem
func BenchmarkEncodeCheckpoint(b *testing.B) {
	r := &Result{Version: ResultVersion, Total: NewStats("", ""), Meta: Meta{Name: "x", Start: time.Unix(0, 0).UTC()}}
	for i := range 120 {
		lat, lag := NewHistogram(), NewHistogram()
		for v := range 2000 {
			lat.Record(time.Duration(100+v*(i+1)) * time.Microsecond)
			lag.Record(time.Duration(v%50) * time.Microsecond)
		}
		r.Timeline = append(r.Timeline, Interval{Start: Duration(time.Duration(i) * time.Second), Length: Duration(time.Second),
			Total:  IntervalStats{Requests: 2000, Latency: lat.frozen(), SendLag: lag.frozen()},
			Series: []IntervalStats{{Name: "get", Requests: 2000, Latency: lat.frozen()}}})
	}
	r.Total.Latency, r.Total.Service, r.Total.SendLag = r.Timeline[0].Total.Latency, r.Timeline[0].Total.Latency, r.Timeline[0].Total.SendLag
	b.Run("fresh", func(b *testing.B) {
		for b.Loop() {
			if err := r.Encode(io.Discard); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("reused", func(b *testing.B) {
		var e resultEncoder
		for b.Loop() {
			if err := e.encode(io.Discard, r); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// TestFrozenCopiesReuseBuffers: a checkpoint's frozen copies decode to the
// histograms they copied, and once warm, copying again allocates nothing.
func TestFrozenCopiesReuseBuffers(t *testing.T) {
	a, b := NewHistogram(), NewHistogram()
	for v := range 5000 {
		a.Record(time.Duration(v) * time.Microsecond)
		b.Record(time.Duration(v%7+1) * time.Millisecond)
	}
	var f frozenCopies
	for round := range 3 {
		f.reset()
		ca, cb := f.freeze(a), f.freeze(b)
		for _, c := range []struct{ orig, copy *Histogram }{{a, ca}, {b, cb}} {
			back, err := DecodeHistogram(c.copy.enc)
			if err != nil {
				t.Fatalf("round %d: %v", round, err)
			}
			if !back.Equal(c.orig) {
				t.Fatalf("round %d: frozen copy differs from its histogram", round)
			}
		}
	}
	if raceEnabled {
		t.Skip("the race detector makes sync.Pool drop items at random")
	}
	allocs := testing.AllocsPerRun(20, func() {
		f.reset()
		f.freeze(a)
		f.freeze(b)
	})
	// A collection during the loop empties the encoders' sync.Pool, and
	// refilling it allocates once in a while; copying without reuse would
	// allocate at least twice (once per histogram) on every run.
	if allocs >= 1 {
		t.Fatalf("warm frozen copies allocate %.2f times per checkpoint, want ~0", allocs)
	}
}
