package loadgen

import (
	"strconv"
	"testing"
	"time"

	"github.com/tailgate-dev/tailgate/results"
)

// TestGroupsBeyondTheLimitFoldIntoOther: a request's groups beyond
// results.MaxGroupsPerRequest share one series, "other", and registering
// more of them grows nothing.
func TestGroupsBeyondTheLimitFoldIntoOther(t *testing.T) {
	rec := newRecorder(recorderConfig{plan: &Plan{Name: "t"}, interval: time.Second, counts: &runCounters{}}, 1)
	ids := map[int32]bool{}
	var other int32 = -1
	for i := range results.MaxGroupsPerRequest + 500 {
		id, folded := rec.registerSeries(seriesKey{"r", "id=" + strconv.Itoa(i)})
		if folded != (i >= results.MaxGroupsPerRequest) {
			t.Fatalf("group %d: folded %v", i, folded)
		}
		if folded {
			if other >= 0 && id != other {
				t.Fatalf("folded groups have ids %d and %d, want one", other, id)
			}
			other = id
		}
		ids[id] = true
	}
	if len(ids) != results.MaxGroupsPerRequest+1 || rec.keys[other] != (seriesKey{"r", results.OtherGroup}) {
		t.Fatalf("%d series, other is %v; want %d and r{other}", len(ids), rec.keys[other], results.MaxGroupsPerRequest+1)
	}
	if len(rec.ids) != results.MaxGroupsPerRequest+1 {
		t.Fatalf("the registry remembers %d keys, want %d", len(rec.ids), results.MaxGroupsPerRequest+1)
	}
	// Another request has a limit of its own; an ungrouped series is not a group.
	if _, folded := rec.registerSeries(seriesKey{"s", "id=1"}); folded {
		t.Fatal("another request's first group was folded")
	}
	if _, folded := rec.registerSeries(seriesKey{"r", ""}); folded {
		t.Fatal("the request's own series was folded")
	}
}

// TestIdleGroupsAreCompact measures the live heap of groups that each got
// one sample (a tag with one value per iteration): once their interval
// closes they cost their encoding, not three dense histograms (~0.5 MiB).
func TestIdleGroupsAreCompact(t *testing.T) {
	const groups = 100
	start := time.Now()
	rec := newRecorder(recorderConfig{plan: &Plan{Name: "t"}, start: start, interval: time.Second, counts: &runCounters{}}, 1)
	// The run's own histograms (total, the request's series) are dense
	// whatever the groups do, and the encoder keeps a zlib state of about
	// a MiB: the baseline holds them.
	_ = rec.freeze(results.NewHistogram())
	id, _ := rec.registerSeries(seriesKey{"r", ""})
	rec.add(&sample{series: id, intended: time.Millisecond, sent: 1100 * time.Microsecond, done: 3 * time.Millisecond, status: 200})
	base := liveHeap()
	for i := range groups {
		id, _ := rec.registerSeries(seriesKey{"r", "id=" + strconv.Itoa(i)})
		s := sample{series: id, intended: time.Millisecond, sent: 1100 * time.Microsecond, done: 3 * time.Millisecond, status: 200}
		rec.add(&s)
	}
	dense := liveHeap()
	rec.closeInterval(start.Add(time.Second), false)   // the interval of the samples
	rec.closeInterval(start.Add(2*time.Second), false) // an interval without any
	compact := liveHeap()
	perGroup := (int64(compact) - int64(base)) / groups
	t.Logf("live heap %d KiB at the start, %d KiB with dense groups, %d KiB after two intervals: %d bytes per idle group", base>>10, dense>>10, compact>>10, perGroup)
	if perGroup > 8<<10 {
		t.Fatalf("an idle group costs %d bytes of live heap, want at most 8 KiB", perGroup)
	}
	res := rec.build(false, "", nil)
	if len(res.Groups) != groups || res.Groups[0].Latency.Count() != 1 {
		t.Fatalf("%d groups, first with %d samples; want %d groups of 1", len(res.Groups), res.Groups[0].Latency.Count(), groups)
	}
	// A compact group takes samples again.
	id, _ = rec.registerSeries(seriesKey{"r", "id=0"})
	s := sample{series: id, intended: time.Millisecond, sent: 1100 * time.Microsecond, done: 2 * time.Millisecond, status: 200}
	rec.add(&s)
	if got := rec.groups[seriesKey{"r", "id=0"}].cum.Latency.Count(); got != 2 {
		t.Fatalf("a compact group holds %d samples after one more, want 2", got)
	}
}
