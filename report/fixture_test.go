package report_test

import (
	"testing"
	"time"

	"github.com/tailgate-dev/tailgate/results"
)

var fixtureStart = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

// sample is one synthetic request of a fixture.
type sample struct {
	name, group     string
	latency, lagged time.Duration // latency and send lag
	status          int
	kind            string
	at              time.Duration // completion offset from the start
}

// fixtureSamples returns a deterministic set of requests: a fast cursor
// endpoint, and an offset endpoint whose deep pages are slow and sometimes
// fail. With behind set, 5% of the arrivals start 40–60ms late.
func fixtureSamples(behind bool) []sample {
	var out []sample
	const secs = 10
	add := func(name, group string, n int, lat func(i int) time.Duration) {
		for i := 0; i < n; i++ {
			s := sample{name: name, group: group, latency: lat(i), lagged: time.Duration(50+i%200) * time.Microsecond, status: 200}
			if behind && i%20 == 7 {
				s.lagged = time.Duration(40_000+(i*37)%20_000) * time.Microsecond
				s.latency += s.lagged
			}
			s.at = time.Second + time.Duration(i)*secs*time.Second/time.Duration(n)
			out = append(out, s)
		}
	}
	add("GET /cursor", "", 400, func(i int) time.Duration { return time.Duration(800+(i*7919)%2000) * time.Microsecond })
	add("GET /offset", "depth=10", 300, func(i int) time.Duration { return time.Duration(1000+(i*104729)%3000) * time.Microsecond })
	add("GET /offset", "depth=100", 300, func(i int) time.Duration {
		return time.Duration(5000+(i*15485863)%30000) * time.Microsecond
	})
	for i := range out {
		if out[i].group == "depth=100" && i%50 == 3 {
			out[i].status, out[i].kind = 503, "http_5xx"
		}
	}
	return out
}

// fixture builds a result from fixtureSamples the way the recorder does,
// without running anything. variant is "ok", "behind", "closed",
// "flows" (ok, with two timed flows) or "steal" (ok, on a CPU the
// hypervisor took 4.1% of).
func fixture(t testing.TB, variant string) *results.Result {
	t.Helper()
	behind := variant == "behind"
	r := &results.Result{
		Version: results.ResultVersion,
		Meta: results.Meta{
			Tool: "tailgate", ToolVersion: "test", Name: "pagination", Target: "http://127.0.0.1:8080",
			Model: results.OpenModel, Profile: "constant 100/s for 10s", PlannedRate: 100, PlannedRequests: 1000,
			Connections: 64, MaxInFlight: 640, Timeout: results.Duration(30 * time.Second),
			Start: fixtureStart, End: fixtureStart.Add(11 * time.Second),
			PlannedDuration: results.Duration(11 * time.Second), Warmup: results.Duration(time.Second),
			Host: "test", GoVersion: "go1.26", OS: "linux/amd64", NumCPU: 2,
			PlanHash: "0123456789abcdef01234567",
		},
		Total:    results.NewStats("", ""),
		Schedule: results.Schedule{Planned: 1100, Sent: 1100, MaxInFlight: 12},
	}
	if variant == "closed" {
		r.Meta.Model = results.ClosedModel
		r.Meta.Profile = "20 VUs for 10s"
		r.Meta.VUs = 20
		r.Meta.PlannedRate = 0
		r.Meta.PlannedRequests = 0
	}
	if behind {
		r.Schedule = results.Schedule{Planned: 1150, Sent: 1100, Dropped: 20, Unsent: 30, Late: 50, MaxInFlight: 640}
		r.Meta.Partial = true
		r.Meta.StopReason = "interrupted by a signal"
	}
	names := map[string]*results.Stats{}
	groups := map[string]*results.Stats{}
	r.Warmup = results.NewStats("", "")
	for i := 0; i <= 10; i++ {
		iv := results.Interval{
			Start: results.Duration(time.Duration(i) * time.Second), Length: results.Duration(time.Second),
			PlannedRate: 100, Warmup: i == 0,
			Total: results.IntervalStats{Latency: results.NewHistogram(), SendLag: results.NewHistogram()},
		}
		for _, n := range []string{"GET /cursor", "GET /offset"} {
			iv.Series = append(iv.Series, results.IntervalStats{Name: n, Latency: results.NewHistogram()})
		}
		r.Timeline = append(r.Timeline, iv)
	}
	record := func(st *results.Stats, s sample) {
		st.Requests++
		st.BytesIn += 512
		st.BytesOut += 80
		st.Status[s.status]++
		st.SendLag.Record(s.lagged)
		if s.kind != "" {
			// As the recorder does: a failed request's latency is not
			// in the headline figures.
			st.Errors++
			st.ErrorKinds[s.kind]++
			st.ErrorSamples[s.kind] = "503 Service Unavailable"
			if st.FailedLatency == nil {
				st.FailedLatency = results.NewHistogram()
			}
			st.FailedLatency.Record(s.latency)
			return
		}
		st.Latency.Record(s.latency)
		st.Service.Record(s.latency - s.lagged)
	}
	for _, s := range fixtureSamples(behind) {
		ns := names[s.name]
		if ns == nil {
			ns = results.NewStats(s.name, "")
			names[s.name] = ns
			r.Requests = append(r.Requests, ns)
		}
		record(ns, s)
		record(r.Total, s)
		if s.group != "" {
			gs := groups[s.name+s.group]
			if gs == nil {
				gs = results.NewStats(s.name, s.group)
				groups[s.name+s.group] = gs
				r.Groups = append(r.Groups, gs)
			}
			record(gs, s)
		}
		iv := &r.Timeline[int(s.at/time.Second)]
		iv.Total.Requests++
		iv.Arrivals++
		iv.Total.SendLag.Record(s.lagged)
		if s.kind == "" {
			iv.Total.Latency.Record(s.latency)
		}
		for j := range iv.Series {
			if iv.Series[j].Name == s.name {
				iv.Series[j].Requests++
				if s.kind != "" {
					iv.Series[j].Errors++
					iv.Total.Errors++
				} else {
					iv.Series[j].Latency.Record(s.latency)
				}
			}
		}
	}
	// The warmup second: a few slow requests that must not show up in the
	// summary.
	for i := 0; i < 100; i++ {
		s := sample{name: "GET /cursor", latency: time.Duration(100+i) * time.Millisecond, lagged: time.Millisecond, status: 200}
		record(r.Warmup, s)
		iv := &r.Timeline[0]
		iv.Arrivals++
		iv.Total.Requests++
		iv.Total.Latency.Record(s.latency)
		iv.Total.SendLag.Record(s.lagged)
		iv.Series[0].Requests++
		iv.Series[0].Latency.Record(s.latency)
	}
	// Every request is an arrival of a one-step flow: iterations and
	// requests agree, and the iterations failed are the errors.
	r.Schedule.WarmupPlanned, r.Schedule.WarmupSent = r.Warmup.Requests, r.Warmup.Requests
	r.Iterations = results.Iterations{Completed: r.Total.Requests - r.Total.Errors, Failed: r.Total.Errors}
	r.Meta.CPU = results.CPU{User: results.Duration(1500 * time.Millisecond), System: results.Duration(700 * time.Millisecond)}
	if behind {
		// Seven arrivals could not build their request (item 6): counted
		// as not sent, by reason, and as failed iterations.
		for _, st := range []*results.Stats{r.Total, r.Lookup("GET /cursor", "")} {
			st.NotSent = 7
			st.NotSentReasons = map[string]uint64{"feed exhausted": 5, "template failed": 2}
			st.NotSentSamples = map[string]string{
				"feed exhausted":  "data users: all 400 rows are used (mode unique)",
				"template failed": "template query: {{ randInt 1 .n }}: .n: want a whole number, got \"seven\"",
			}
			st.NotSentReason = st.NotSentSamples["feed exhausted"]
		}
		r.Iterations.Failed += 7
		r.Schedule.Sent = r.Total.Requests + r.Total.NotSent + r.Warmup.Requests
		// An 11.5s plan stopped at 11s, with 30 arrivals left unsent.
		r.Meta.PlannedDuration = results.Duration(11500 * time.Millisecond)
		r.Meta.StoppedAt = results.Duration(11 * time.Second)
		r.Schedule.LastSent = results.Duration(10990 * time.Millisecond)
	} else {
		r.Schedule.Planned = r.Total.Requests + r.Warmup.Requests
		r.Schedule.Sent = r.Schedule.Planned
		r.Schedule.LastSent = results.Duration(10990 * time.Millisecond)
		// The last responses came 250ms after the schedule's end.
		r.Meta.End = r.Meta.End.Add(250 * time.Millisecond)
	}
	if variant == "closed" {
		r.Schedule.WarmupPlanned = 0
	}
	if variant == "flows" {
		r.Flows = fixtureFlows()
	}
	if variant == "steal" {
		// The tool pinned to one CPU of a VM whose hypervisor took 4.1%
		// of it over the run and 28% of its eighth second.
		r.Meta.Steal = &results.Steal{CPUs: 1, Stolen: results.Duration(460 * time.Millisecond), Time: results.Duration(11250 * time.Millisecond),
			Worst: 0.28, WorstAt: results.Duration(7 * time.Second)}
	}
	r.Sort()
	return r
}

// fixtureFlows are two timed flows: browse, whose every 40th iteration
// fails at a step, and checkout, slower and always completed.
func fixtureFlows() []*results.Stats {
	mk := func(name string, n int, lat func(i int) time.Duration) *results.Stats {
		st := results.NewStats(name, "")
		for i := 0; i < n; i++ {
			d := lat(i)
			st.Requests++
			st.BytesIn += 1024
			st.BytesOut += 160
			st.SendLag.Record(time.Duration(50+i%200) * time.Microsecond)
			if name == "browse" && i%40 == 13 {
				st.Errors++
				st.ErrorKinds["http_5xx"]++
				if st.FailedLatency == nil {
					st.FailedLatency = results.NewHistogram()
				}
				st.FailedLatency.Record(d / 2)
				continue
			}
			st.Latency.Record(d)
			st.Service.Record(d - time.Duration(50+i%200)*time.Microsecond)
		}
		return st
	}
	return []*results.Stats{
		mk("checkout", 150, func(i int) time.Duration { return time.Duration(120_000+(i*7919)%40_000) * time.Microsecond }),
		mk("browse", 400, func(i int) time.Duration { return time.Duration(25_000+(i*104729)%15_000) * time.Microsecond }),
	}
}
