package loadgen

import (
	"bytes"
	"encoding/json"
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
			iv.Series = []IntervalStats{{Name: "a", Requests: uint64(i), Latency: iv.Total.Latency.Frozen()}}
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
