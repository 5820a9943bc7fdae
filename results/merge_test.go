package results

import (
	"bytes"
	"runtime"
	"strings"
	"testing"
	"time"
)

// shardFile is shard i of n as a file would hold it: encoded histograms,
// a short timeline.
func shardFile(t testing.TB, i, n int) *Result {
	t.Helper()
	r := &Result{Version: ResultVersion, Meta: Meta{Model: OpenModel, Shard: Shard{Index: i, Count: n}, PlanHash: "p", Host: "h"},
		Total: NewStats("", ""), Requests: []*Stats{NewStats("get", "")}}
	for s := range 5 {
		iv := Interval{Start: Duration(time.Duration(s) * time.Second), Length: Duration(time.Second),
			Total: IntervalStats{Requests: 10, Latency: NewHistogram(), SendLag: NewHistogram()}}
		for v := range 10 {
			d := time.Duration(v+i%7+1) * time.Millisecond
			iv.Total.Latency.Record(d)
			r.Total.Latency.Record(d)
			r.Requests[0].Latency.Record(d)
		}
		r.Total.Requests += 10
		r.Requests[0].Requests += 10
		iv.Series = []IntervalStats{{Name: "get", Requests: 10, Latency: iv.Total.Latency.frozen()}}
		r.Timeline = append(r.Timeline, iv)
	}
	var buf bytes.Buffer
	if err := r.Encode(&buf); err != nil {
		t.Fatal(err)
	}
	back, err := DecodeResult(&buf)
	if err != nil {
		t.Fatal(err)
	}
	return back
}

// TestMergerMemoryFlatInShardCount: shards added one at a time leave the
// merge's live heap where it was after the first few, however many follow
// (2000 real shards used to need 543 MB, all held at once).
func TestMergerMemoryFlatInShardCount(t *testing.T) {
	const n = 2000
	var m Merger
	live := func() uint64 {
		runtime.GC() // twice: the second empties the pools' victim caches
		runtime.GC()
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		return ms.HeapAlloc
	}
	var early uint64
	file := shardFile(t, 0, n)
	for i := range 600 {
		shard := *file // as decoded from another file: same content, its own index
		shard.Meta.Shard.Index = i
		if err := m.Add("", &shard); err != nil {
			t.Fatal(err)
		}
		if i == 99 {
			early = live()
		}
	}
	late := live()
	t.Logf("live heap %d KiB after 100 shards, %d KiB after 600", early>>10, late>>10)
	// 500 more shards add their indexes to the set of shards seen (tens
	// of bytes each), nothing else.
	if late > early+256<<10 {
		t.Fatalf("live heap %d KiB after 100 shards, %d KiB after 600", early>>10, late>>10)
	}
	res, err := m.Result()
	if err != nil {
		t.Fatal(err)
	}
	if res.Total.Requests != 600*50 || len(res.Timeline) != 5 || res.Timeline[0].Total.Latency.Count() != 600*10 || !res.Total.Latency.Equal(res.Requests[0].Latency) {
		t.Fatalf("merged %d requests, %d intervals", res.Total.Requests, len(res.Timeline))
	}
	if want := "merged 600 of 2000 shards (missing 600-1999)"; res.Meta.StopReason != want {
		t.Fatalf("stop reason %q, want %q", res.Meta.StopReason, want)
	}
}

// TestMissingShardsAsRanges: missing shards are listed as ranges, and the
// list stays short whatever the count.
func TestMissingShardsAsRanges(t *testing.T) {
	have := func(idx ...int) map[int]string {
		m := map[int]string{}
		for _, i := range idx {
			m[i] = ""
		}
		return m
	}
	tests := []struct {
		have map[int]string
		n    int
		want string
	}{
		{have(0, 2), 3, "1"},
		{have(1), 3, "0, 2"},
		{have(0, 1, 9), 10, "2-8"},
		{have(5), 100000, "0-4, 6-99999"},
		{have(1, 3, 5, 7, 9, 11, 13, 15, 17, 19), 21, "0, 2, 4, 6, 8, 10, 12, 14 and 3 more ranges"},
	}
	for _, tt := range tests {
		if got := missingShards(tt.have, tt.n); got != tt.want {
			t.Errorf("missingShards(%v, %d) = %q, want %q", tt.have, tt.n, got, tt.want)
		}
	}
	// A declared count of 10⁸ is refused before any list is built.
	a, b := shardFile(t, 0, 2), shardFile(t, 1, 2)
	a.Meta.Shard.Count, b.Meta.Shard.Count = 100000000, 100000000
	if _, err := Merge(a, b); err == nil || !strings.Contains(err.Error(), "at most 100000 shards") {
		t.Fatalf("merge of a 10⁸-shard plan: %v", err)
	}
}

// TestMergeCoarsenedTimelines: shards of a long run, whose old intervals
// were merged into coarser ones at the same offsets, merge interval by
// interval.
func TestMergeCoarsenedTimelines(t *testing.T) {
	enc := NewEncoder()
	h := NewHistogram()
	h.Record(time.Millisecond)
	frozen := enc.Freeze(h)
	shard := func(i int) *Result {
		c := NewTimelineCoarsener(time.Second, enc)
		r := &Result{Version: ResultVersion, Total: NewStats("", ""), Meta: Meta{Model: OpenModel, Shard: Shard{Index: i, Count: 2}}}
		for s := range 7200 {
			jitter := time.Duration(i*40+s%5) * time.Microsecond
			r.Timeline = c.Add(r.Timeline, Interval{Start: Duration(time.Duration(s)*time.Second + jitter), Length: Duration(time.Second),
				Total: IntervalStats{Requests: 1, Latency: frozen, SendLag: frozen},
				Steal: IntervalSteal{Stolen: Duration(time.Duration(i+1) * 10 * time.Millisecond), Time: Duration(time.Second)}})
		}
		return r
	}
	a, b := shard(0), shard(1)
	m, err := Merge(a, b)
	if err != nil {
		t.Fatal(err)
	}
	if len(m.Timeline) != len(a.Timeline) || len(a.Timeline) > 1500 {
		t.Fatalf("%d and %d intervals merged into %d", len(a.Timeline), len(b.Timeline), len(m.Timeline))
	}
	for i := range m.Timeline {
		if got, want := m.Timeline[i].Total.Requests, a.Timeline[i].Total.Requests*2; got != want || m.Timeline[i].Total.Latency.Count() != int64(want) {
			t.Fatalf("interval %d at %s: %d requests, want %d", i, m.Timeline[i].Start.D(), got, want)
		}
		// Steal adds up in coarsening (a second of CPU time per second)
		// and across the shards (10 and 20 ms stolen per second).
		secs := time.Duration(a.Timeline[i].Total.Requests)
		if got, want := m.Timeline[i].Steal, (IntervalSteal{Stolen: Duration(secs * 30 * time.Millisecond), Time: Duration(2 * secs * time.Second)}); got != want {
			t.Fatalf("interval %d at %s: steal %+v, want %+v", i, m.Timeline[i].Start.D(), got, want)
		}
	}
}
