package loadgen

import (
	"bytes"
	"errors"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/tailgate-dev/tailgate/results"
)

var mergeStart = time.Date(2026, 3, 4, 5, 6, 7, 0, time.UTC)

// shardResult builds the result shard index of count would record for a
// plan of n arrivals every 10ms: arrival k belongs to shard k mod count.
// Interval boundaries are jittered per shard, as separate processes tick
// microseconds apart. count 1 is the single-process run.
func shardResult(t testing.TB, index, count, n int) *results.Result {
	t.Helper()
	r := &results.Result{
		Version: results.ResultVersion,
		Meta: results.Meta{
			Tool: "tailgate", Name: "m", Target: "http://127.0.0.1:1", Model: results.OpenModel,
			Profile: "constant 100/s for 5s", PlannedRate: 100,
			Start: mergeStart.Add(time.Duration(index) * 3 * time.Millisecond),
			Shard: results.Shard{Index: index, Count: count}, PlanHash: "feedface", Host: "host" + strconv.Itoa(index),
			Connections: 8,
		},
		Total: results.NewStats("", ""),
	}
	if count == 1 {
		r.Meta.Shard = results.Shard{}
	}
	jitter := time.Duration(index*250) * time.Microsecond
	byName := map[string]*results.Stats{}
	byGroup := map[string]*results.Stats{}
	for k := index; k < n; k += count {
		intended := time.Duration(k) * 10 * time.Millisecond
		lat := time.Duration(100+(k*7919)%50_000) * time.Microsecond
		lag := time.Duration(10+k%90) * time.Microsecond
		name, group := "a", "g1"
		if k%3 == 0 {
			name, group = "b", ""
		} else if k%2 == 0 {
			group = "g2"
		}
		st := byName[name]
		if st == nil {
			st = results.NewStats(name, "")
			byName[name] = st
			r.Requests = append(r.Requests, st)
		}
		s := &sample{intended: intended, sent: intended + lag, done: intended + lat, bytesIn: 100, bytesOut: 10, status: 200}
		if k%97 == 0 {
			s.status, s.kind = 500, KindHTTP5xx
		}
		addSample(st, s, "")
		addSample(r.Total, s, "")
		if group != "" {
			g := byGroup[group]
			if g == nil {
				g = results.NewStats(name, group)
				byGroup[group] = g
				r.Groups = append(r.Groups, g)
			}
			addSample(g, s, "")
		}
		r.Schedule.Planned++
		r.Schedule.Sent++
		if lag > results.LateThreshold {
			r.Schedule.Late++
		}
		sec := int(s.done / time.Second)
		for len(r.Timeline) <= sec {
			i := len(r.Timeline)
			start := time.Duration(i) * time.Second
			if i > 0 {
				start += jitter
			}
			r.Timeline = append(r.Timeline, results.Interval{
				Start: results.Duration(start), Length: results.Duration(time.Second), PlannedRate: 100,
				Total:  results.IntervalStats{Latency: results.NewHistogram(), SendLag: results.NewHistogram()},
				Series: []results.IntervalStats{{Name: "a", Latency: results.NewHistogram()}, {Name: "b", Latency: results.NewHistogram()}},
			})
		}
		iv := &r.Timeline[sec]
		iv.Total.Requests++
		iv.Total.Latency.Record(lat)
		iv.Total.SendLag.Record(lag)
		ser := &iv.Series[0]
		if name == "b" {
			ser = &iv.Series[1]
		}
		ser.Requests++
		ser.Latency.Record(lat)
		if s.kind != KindNone {
			iv.Total.Errors++
			ser.Errors++
		}
	}
	r.Meta.End = r.Meta.Start.Add(5 * time.Second)
	r.Meta.PlannedRequests = r.Schedule.Planned
	r.Sort()
	return r
}

// roundTrip encodes and decodes a result, so that its histograms are in
// their compact encoded form as when read from a file.
func roundTrip(t testing.TB, r *results.Result) *results.Result {
	t.Helper()
	var buf bytes.Buffer
	if err := r.Encode(&buf); err != nil {
		t.Fatal(err)
	}
	back, err := results.DecodeResult(&buf)
	if err != nil {
		t.Fatal(err)
	}
	return back
}

func sameStats(t *testing.T, what string, got, want *results.Stats) {
	t.Helper()
	if got.Requests != want.Requests || got.Errors != want.Errors || got.BytesIn != want.BytesIn || got.BytesOut != want.BytesOut {
		t.Errorf("%s: counters %d/%d/%d/%d, want %d/%d/%d/%d", what, got.Requests, got.Errors, got.BytesIn, got.BytesOut,
			want.Requests, want.Errors, want.BytesIn, want.BytesOut)
	}
	if !got.Latency.Equal(want.Latency) || !got.Service.Equal(want.Service) || !got.SendLag.Equal(want.SendLag) {
		t.Errorf("%s: histograms differ (latency %d vs %d values)", what, got.Latency.Count(), want.Latency.Count())
	}
	if got.Status[500] != want.Status[500] || got.ErrorKinds["http_5xx"] != want.ErrorKinds["http_5xx"] {
		t.Errorf("%s: status/error counts differ: %v %v vs %v %v", what, got.Status, got.ErrorKinds, want.Status, want.ErrorKinds)
	}
}

// TestMergeEqualsSingleProcess: merging the shards of a plan gives exactly
// the histograms and counts of one process running the whole plan.
func TestMergeEqualsSingleProcess(t *testing.T) {
	const n = 500
	for _, count := range []int{2, 3} {
		whole := shardResult(t, 0, 1, n)
		var shards []*results.Result
		for i := count - 1; i >= 0; i-- { // any order
			shards = append(shards, roundTrip(t, shardResult(t, i, count, n)))
		}
		before := shards[0].Total.Requests
		merged, err := results.Merge(shards...)
		if err != nil {
			t.Fatal(err)
		}
		if shards[0].Total.Requests != before {
			t.Error("Merge modified its input")
		}
		sameStats(t, "total", merged.Total, whole.Total)
		if len(merged.Requests) != len(whole.Requests) || len(merged.Groups) != len(whole.Groups) {
			t.Fatalf("%d requests %d groups, want %d %d", len(merged.Requests), len(merged.Groups), len(whole.Requests), len(whole.Groups))
		}
		for i := range whole.Requests {
			sameStats(t, whole.Requests[i].Key(), merged.Requests[i], whole.Requests[i])
		}
		for i := range whole.Groups {
			sameStats(t, whole.Groups[i].Key(), merged.Groups[i], whole.Groups[i])
		}
		if merged.Schedule != whole.Schedule {
			t.Errorf("schedule %+v, want %+v", merged.Schedule, whole.Schedule)
		}
		if len(merged.Timeline) != len(whole.Timeline) {
			t.Fatalf("%d intervals, want %d", len(merged.Timeline), len(whole.Timeline))
		}
		for i := range whole.Timeline {
			g, w := &merged.Timeline[i], &whole.Timeline[i]
			if g.Start != w.Start || g.Total.Requests != w.Total.Requests || g.Total.Errors != w.Total.Errors {
				t.Errorf("interval %d: start %v, %d requests, want %v, %d", i, g.Start.D(), g.Total.Requests, w.Start.D(), w.Total.Requests)
			}
			if !g.Total.Latency.Equal(w.Total.Latency) || !g.Total.SendLag.Equal(w.Total.SendLag) {
				t.Errorf("interval %d: histograms differ", i)
			}
			if len(g.Series) != len(w.Series) {
				t.Fatalf("interval %d: %d series, want %d", i, len(g.Series), len(w.Series))
			}
			for j := range w.Series {
				if g.Series[j].Name != w.Series[j].Name || !g.Series[j].Latency.Equal(w.Series[j].Latency) {
					t.Errorf("interval %d series %s differs", i, w.Series[j].Name)
				}
			}
		}
		if merged.Meta.Partial || merged.Meta.Shard != (results.Shard{}) {
			t.Errorf("complete merge marked partial %v shard %+v", merged.Meta.Partial, merged.Meta.Shard)
		}
		if !merged.Meta.Start.Equal(mergeStart) || merged.Meta.Connections != 8*count {
			t.Errorf("meta start %v connections %d", merged.Meta.Start, merged.Meta.Connections)
		}
		// The merged result survives its own round trip.
		back := roundTrip(t, merged)
		sameStats(t, "merged round trip", back.Total, whole.Total)
	}
}

func TestMergeMissingShardIsPartial(t *testing.T) {
	a, c := shardResult(t, 0, 3, 90), shardResult(t, 2, 3, 90)
	m, err := results.Merge(a, c)
	if err != nil {
		t.Fatal(err)
	}
	if !m.Meta.Partial || m.Meta.StopReason != "merged 2 of 3 shards (missing 1)" {
		t.Errorf("partial %v reason %q", m.Meta.Partial, m.Meta.StopReason)
	}
	if m.Total.Requests != a.Total.Requests+c.Total.Requests {
		t.Errorf("%d requests, want %d", m.Total.Requests, a.Total.Requests+c.Total.Requests)
	}
}

func TestMergeGuards(t *testing.T) {
	tests := []struct {
		name   string
		modify func(a, b *results.Result)
		want   string
		index  int
	}{
		{"duplicate shard", func(a, b *results.Result) { b.Meta.Shard.Index = 0 }, "b.json (shard 0/2): results are not shards of one plan: shard 0/2 already given as a.json", 1},
		{"shard counts", func(a, b *results.Result) { b.Meta.Shard = results.Shard{Index: 1, Count: 3} }, "b.json (shard 1/3): results are not shards of one plan: part of a 3-shard plan, but a.json is part of a 2-shard plan", 1},
		{"plan hash", func(a, b *results.Result) { b.Meta.PlanHash = "other" }, "plan hash other differs from a.json's feedface", 1},
		{"version", func(a, b *results.Result) { b.Version = 7 }, "b.json (shard 1/2): results are not shards of one plan: results version 7, but a.json has version 2", 1},
		{"not a shard", func(a, b *results.Result) { a.Meta.Shard = results.Shard{} }, "a.json: results are not shards of one plan: not a shard", 0},
		{"model", func(a, b *results.Result) { b.Meta.Model = results.ClosedModel }, "closed model, but a.json ran the open model", 1},
		{"index range", func(a, b *results.Result) { b.Meta.Shard.Index = 5 }, "shard index 5 out of range [0, 2)", 1},
		{"no total", func(a, b *results.Result) { b.Total = nil }, "b.json (shard 1/2): result has no total", 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a, b := shardResult(t, 0, 2, 20), shardResult(t, 1, 2, 20)
			tt.modify(a, b)
			_, err := results.MergeNamed([]string{"a.json", "b.json"}, []*results.Result{a, b})
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error %v, want it to contain %q", err, tt.want)
			}
			var me *results.MergeError
			if !errors.As(err, &me) || me.Index != tt.index {
				t.Errorf("error %v: want a *MergeError for result %d", err, tt.index)
			}
		})
	}
	if _, err := results.Merge(); err == nil {
		t.Error("Merge() of nothing succeeded")
	}
	// A plan hash left empty (results built by hand) does not block a merge.
	a, b := shardResult(t, 0, 2, 20), shardResult(t, 1, 2, 20)
	b.Meta.PlanHash = ""
	if _, err := results.Merge(a, b); err != nil {
		t.Errorf("merge with an unset plan hash: %v", err)
	}
}

// BenchmarkMergeHourLongShards merges four shards of a one-hour run (3600
// intervals each, as read from files). Memory stays near the size of the
// encoded timeline because merged intervals are re-encoded as they fill.
func BenchmarkMergeHourLongShards(b *testing.B) {
	const shards, secs = 4, 3600
	var in []*results.Result
	for i := 0; i < shards; i++ {
		r := shardResult(b, i, shards, 400)
		iv := r.Timeline[0]
		r.Timeline = r.Timeline[:0]
		for s := 0; s < secs; s++ {
			c := iv
			c.Start = results.Duration(time.Duration(s) * time.Second)
			r.Timeline = append(r.Timeline, c)
		}
		in = append(in, roundTrip(b, r))
	}
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		m, err := results.Merge(in...)
		if err != nil {
			b.Fatal(err)
		}
		if len(m.Timeline) != secs {
			b.Fatalf("%d intervals", len(m.Timeline))
		}
	}
}
