package loadgen

import (
	"bytes"
	"errors"
	"strconv"
	"strings"
	"testing"
	"time"
)

var mergeStart = time.Date(2026, 3, 4, 5, 6, 7, 0, time.UTC)

// shardResult builds the result shard index of count would record for a
// plan of n arrivals every 10ms: arrival k belongs to shard k mod count.
// Interval boundaries are jittered per shard, as separate processes tick
// microseconds apart. count 1 is the single-process run.
func shardResult(t testing.TB, index, count, n int) *Result {
	t.Helper()
	r := &Result{
		Version: ResultVersion,
		Meta: Meta{
			Tool: "tailgate", Name: "m", Target: "http://127.0.0.1:1", Model: OpenModel,
			Profile: "constant 100/s for 5s", PlannedRate: 100,
			Start: mergeStart.Add(time.Duration(index) * 3 * time.Millisecond),
			Shard: Shard{Index: index, Count: count}, PlanHash: "feedface", Host: "host" + strconv.Itoa(index),
			Connections: 8,
		},
		Total: NewStats("", ""),
	}
	if count == 1 {
		r.Meta.Shard = Shard{}
	}
	jitter := time.Duration(index*250) * time.Microsecond
	byName := map[string]*Stats{}
	byGroup := map[string]*Stats{}
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
			st = NewStats(name, "")
			byName[name] = st
			r.Requests = append(r.Requests, st)
		}
		s := &sample{intended: intended, sent: intended + lag, done: intended + lat, bytesIn: 100, bytesOut: 10, status: 200}
		if k%97 == 0 {
			s.status, s.kind = 500, KindHTTP5xx
		}
		addSample(st, s)
		addSample(r.Total, s)
		if group != "" {
			g := byGroup[group]
			if g == nil {
				g = NewStats(name, group)
				byGroup[group] = g
				r.Groups = append(r.Groups, g)
			}
			addSample(g, s)
		}
		r.Schedule.Planned++
		r.Schedule.Sent++
		if lag > LateThreshold {
			r.Schedule.Late++
		}
		sec := int(s.done / time.Second)
		for len(r.Timeline) <= sec {
			i := len(r.Timeline)
			start := time.Duration(i) * time.Second
			if i > 0 {
				start += jitter
			}
			r.Timeline = append(r.Timeline, Interval{
				Start: Duration(start), Length: Duration(time.Second), PlannedRate: 100,
				Total:  IntervalStats{Latency: NewHistogram(), SendLag: NewHistogram()},
				Series: []IntervalStats{{Name: "a", Latency: NewHistogram()}, {Name: "b", Latency: NewHistogram()}},
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
func roundTrip(t testing.TB, r *Result) *Result {
	t.Helper()
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

func sameStats(t *testing.T, what string, got, want *Stats) {
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
		var shards []*Result
		for i := count - 1; i >= 0; i-- { // any order
			shards = append(shards, roundTrip(t, shardResult(t, i, count, n)))
		}
		before := shards[0].Total.Requests
		merged, err := Merge(shards...)
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
		if merged.Meta.Partial || merged.Meta.Shard != (Shard{}) {
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
	m, err := Merge(a, c)
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
		modify func(a, b *Result)
		want   string
		index  int
	}{
		{"duplicate shard", func(a, b *Result) { b.Meta.Shard.Index = 0 }, "b.json (shard 0/2): results are not shards of one plan: shard 0/2 already given as a.json", 1},
		{"shard counts", func(a, b *Result) { b.Meta.Shard = Shard{Index: 1, Count: 3} }, "b.json (shard 1/3): results are not shards of one plan: part of a 3-shard plan, but a.json is part of a 2-shard plan", 1},
		{"plan hash", func(a, b *Result) { b.Meta.PlanHash = "other" }, "plan hash other differs from a.json's feedface", 1},
		{"version", func(a, b *Result) { b.Version = 7 }, "b.json (shard 1/2): results are not shards of one plan: results version 7, but a.json has version 1", 1},
		{"not a shard", func(a, b *Result) { a.Meta.Shard = Shard{} }, "a.json: results are not shards of one plan: not a shard", 0},
		{"model", func(a, b *Result) { b.Meta.Model = ClosedModel }, "closed model, but a.json ran the open model", 1},
		{"index range", func(a, b *Result) { b.Meta.Shard.Index = 5 }, "shard index 5 out of range [0, 2)", 1},
		{"no total", func(a, b *Result) { b.Total = nil }, "b.json (shard 1/2): result has no total", 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a, b := shardResult(t, 0, 2, 20), shardResult(t, 1, 2, 20)
			tt.modify(a, b)
			_, err := MergeNamed([]string{"a.json", "b.json"}, []*Result{a, b})
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error %v, want it to contain %q", err, tt.want)
			}
			var me *MergeError
			if !errors.As(err, &me) || me.Index != tt.index {
				t.Errorf("error %v: want a *MergeError for result %d", err, tt.index)
			}
		})
	}
	if _, err := Merge(); err == nil {
		t.Error("Merge() of nothing succeeded")
	}
	// A plan hash left empty (results built by hand) does not block a merge.
	a, b := shardResult(t, 0, 2, 20), shardResult(t, 1, 2, 20)
	b.Meta.PlanHash = ""
	if _, err := Merge(a, b); err != nil {
		t.Errorf("merge with an unset plan hash: %v", err)
	}
}

func TestPlanHash(t *testing.T) {
	base := func() *Plan {
		return &Plan{
			Name: "p", Target: "http://127.0.0.1:8080",
			Pacer: ConstantPacer{PerSecond: 100, Length: 10 * time.Second},
			Flows: []Flow{
				{Name: "read", Weight: 3, Steps: []Step{&StaticStep{Request: Request{Name: "GET /", Method: "GET", URL: "http://127.0.0.1:8080/"}}}},
				{Name: "write", Weight: 1, Steps: []Step{&StaticStep{Request: Request{Name: "POST /", Method: "POST", URL: "http://127.0.0.1:8080/"}}}},
			},
			Warmup: time.Second, Shard: Shard{Index: 0, Count: 4}, Connections: 10,
		}
	}
	ref := planHash(base())
	if len(ref) != 24 {
		t.Fatalf("hash %q: want 24 hex digits", ref)
	}
	same := []struct {
		name   string
		modify func(*Plan)
	}{
		{"shard index", func(p *Plan) { p.Shard.Index = 3 }},
		{"connections", func(p *Plan) { p.Connections, p.MaxInFlight = 500, 9 }},
		{"timeout", func(p *Plan) { p.Client.Timeout = time.Second }},
		{"command", func(p *Plan) { p.Command = []string{"x"} }},
		{"name", func(p *Plan) { p.Name = "q" }},
	}
	for _, tt := range same {
		p := base()
		tt.modify(p)
		if h := planHash(p); h != ref {
			t.Errorf("%s changed the plan hash", tt.name)
		}
	}
	differ := []struct {
		name   string
		modify func(*Plan)
	}{
		{"rate", func(p *Plan) { p.Pacer = ConstantPacer{PerSecond: 101, Length: 10 * time.Second} }},
		{"duration", func(p *Plan) { p.Pacer = ConstantPacer{PerSecond: 100, Length: 11 * time.Second} }},
		{"ramp", func(p *Plan) { p.Pacer = RampPacer{From: 100, To: 100, Length: 10 * time.Second} }},
		{"weight", func(p *Plan) { p.Flows[0].Weight = 2 }},
		{"flow name", func(p *Plan) { p.Flows[1].Name = "update" }},
		{"flow order", func(p *Plan) { p.Flows[0], p.Flows[1] = p.Flows[1], p.Flows[0] }},
		{"step", func(p *Plan) { p.Flows[0].Steps[0].(*StaticStep).Request.URL = "http://127.0.0.1:8080/x" }},
		{"warmup", func(p *Plan) { p.Warmup = 2 * time.Second }},
		{"shard count", func(p *Plan) { p.Shard.Count = 3 }},
		{"target", func(p *Plan) { p.Target = "http://127.0.0.1:9090" }},
		{"closed", func(p *Plan) { p.Pacer, p.VUs, p.Duration = nil, 10, 10*time.Second }},
	}
	seen := map[string]string{ref: "base"}
	for _, tt := range differ {
		p := base()
		tt.modify(p)
		h := planHash(p)
		if prev, dup := seen[h]; dup {
			t.Errorf("%s gives the same hash as %s", tt.name, prev)
		}
		seen[h] = tt.name
	}
	// One shard and no sharding are the same plan.
	p1, p0 := base(), base()
	p1.Shard, p0.Shard = Shard{Index: 0, Count: 1}, Shard{}
	if planHash(p1) != planHash(p0) {
		t.Error("shard 0/1 and no shard hash differently")
	}
}

// BenchmarkMergeHourLongShards merges four shards of a one-hour run (3600
// intervals each, as read from files). Memory stays near the size of the
// encoded timeline because merged intervals are re-encoded as they fill.
func BenchmarkMergeHourLongShards(b *testing.B) {
	const shards, secs = 4, 3600
	var in []*Result
	for i := 0; i < shards; i++ {
		r := shardResult(b, i, shards, 400)
		iv := r.Timeline[0]
		r.Timeline = r.Timeline[:0]
		for s := 0; s < secs; s++ {
			c := iv
			c.Start = Duration(time.Duration(s) * time.Second)
			r.Timeline = append(r.Timeline, c)
		}
		in = append(in, roundTrip(b, r))
	}
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		m, err := Merge(in...)
		if err != nil {
			b.Fatal(err)
		}
		if len(m.Timeline) != secs {
			b.Fatalf("%d intervals", len(m.Timeline))
		}
	}
}
