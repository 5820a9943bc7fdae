package loadgen

import (
	"sort"

	"github.com/tailgate-dev/tailgate/results"
)

// The series registry and the aggregation of samples into stats. Workers
// register a series (a request name and group) once and then tag samples
// with its id; the collector maps ids to its stats lazily, so registering
// never waits for the collector.

// seriesKey names a series: a request name, and a group for requests that
// group_by put into one.
type seriesKey struct{ name, group string }

// seriesStats is the collector's state for one request name or group.
type seriesStats struct {
	cum      *results.Stats
	warm     *results.Stats
	interval *results.IntervalStats // nil for groups: the timeline is per name
	// For groups: touched is set by a sample of the current interval;
	// a group idle for a whole interval keeps its histograms in their
	// encoding (compact), and the snapshot reuses summary while the
	// group's request count is summaryAt.
	touched, compact bool
	summaryAt        uint64
	summary          results.Percentiles
}

// compactIdleGroups keeps the histograms of every group that had no sample
// in the interval just closed in their compressed encoding (a few hundred
// bytes instead of ~0.5 MiB of dense counts for three histograms). A tag
// with one value per iteration makes groups that are each used about once;
// with this, their memory is what the results file holds, and only groups
// in use are dense. A later sample decodes the group again.
func (rec *recorder) compactIdleGroups() {
	for _, gs := range rec.groups {
		if gs.touched || gs.compact {
			gs.touched = false
			continue
		}
		for _, st := range []*results.Stats{gs.cum, gs.warm} {
			if st.Latency != nil {
				st.Latency = rec.freeze(st.Latency)
				st.Service = rec.freeze(st.Service)
				st.SendLag = rec.freeze(st.SendLag)
			}
		}
		gs.compact = true
		yield()
	}
}

// groupSummary is the cumulative latency summary of a group's stats st,
// computed again only when it has new requests, so that a snapshot does not
// decode a compact group.
func (gs *seriesStats) groupSummary(st *results.Stats) results.Percentiles {
	if st != gs.cum {
		return st.Latency.Summary()
	}
	if gs.summaryAt != st.Requests || st.Requests == 0 {
		gs.summary, gs.summaryAt = st.Latency.Summary(), st.Requests
	}
	return gs.summary
}

// registerSeries returns k's id, giving it the next one if it has none.
// A request's groups beyond results.MaxGroupsPerRequest share the id of
// its group results.OtherGroup (folded is then true, and the key is not
// remembered: nothing grows with the number of folded values). Any worker
// may call it.
func (rec *recorder) registerSeries(k seriesKey) (id int32, folded bool) {
	rec.seriesMu.Lock()
	defer rec.seriesMu.Unlock()
	if id, ok := rec.ids[k]; ok {
		return id, false
	}
	if k.group != "" && k.group != results.OtherGroup {
		if rec.groupCount[k.name] >= results.MaxGroupsPerRequest {
			k.group, folded = results.OtherGroup, true
			if id, ok := rec.ids[k]; ok {
				return id, true
			}
		} else {
			rec.groupCount[k.name]++
		}
	}
	id = int32(len(rec.keys))
	rec.keys = append(rec.keys, k)
	rec.ids[k] = id
	return id, folded
}

// noteNotSent keeps the first message of each reason a request was not
// sent. Any worker may call it.
func (rec *recorder) noteNotSent(r NotSentReason, msg string) {
	rec.errMu.Lock()
	if _, ok := rec.notSentSamples[r]; !ok {
		if len(msg) > 300 {
			msg = msg[:300] + "…"
		}
		rec.notSentSamples[r] = msg
	}
	rec.errMu.Unlock()
}

// noteError keeps the first message of each error kind. Any worker may
// call it.
func (rec *recorder) noteError(kind ErrorKind, msg string) {
	rec.errMu.Lock()
	if _, ok := rec.errSamples[kind]; !ok {
		if len(msg) > 300 {
			msg = msg[:300] + "…"
		}
		rec.errSamples[kind] = msg
	}
	rec.errMu.Unlock()
}

func (rec *recorder) seriesFor(id int32) (*seriesStats, *seriesStats) {
	if int(id) >= len(rec.bySeries) {
		rec.seriesMu.Lock()
		keys := rec.keys[:len(rec.keys):len(rec.keys)]
		rec.seriesMu.Unlock()
		for i := len(rec.bySeries); i < len(keys); i++ {
			k := keys[i]
			ns := rec.names[k.name]
			if ns == nil {
				ns = &seriesStats{
					cum: results.NewStats(k.name, ""), warm: rec.newWarmStats(k.name, ""),
					interval: &results.IntervalStats{Name: k.name, Latency: results.NewHistogram()},
				}
				rec.names[k.name] = ns
			}
			rec.bySeries = append(rec.bySeries, ns)
			var gs *seriesStats
			if k.group != "" {
				gs = rec.groups[k]
				if gs == nil {
					gs = &seriesStats{cum: results.NewStats(k.name, k.group), warm: rec.newWarmStats(k.name, k.group)}
					rec.groups[k] = gs
				}
			}
			rec.byGroup = append(rec.byGroup, gs)
		}
	}
	return rec.bySeries[id], rec.byGroup[id]
}

// addSample counts a sample into st: the latency and service time of a
// successful response go to the headline histograms, a failed request's
// latency to FailedLatency (docs/metrics.md), and a request that was never
// sent only to NotSent.
func addSample(st *results.Stats, s *sample, check string) {
	if s.status == statusNotSent {
		st.NotSent++
		if st.NotSentReasons == nil {
			st.NotSentReasons = map[string]uint64{}
		}
		st.NotSentReasons[s.notSent.String()]++
		return
	}
	st.Requests++
	st.BytesIn += uint64(s.bytesIn)
	st.BytesOut += uint64(s.bytesOut)
	if s.status != 0 {
		st.Status[int(s.status)]++
	}
	st.SendLag.Record(s.sent - s.intended)
	if s.flags&flagRetried != 0 {
		// Sent and answered, but its request's outcome is a later
		// attempt: no success, no error, no latency.
		st.Retries++
		return
	}
	if s.flags&flagAfterRetry != 0 {
		st.Retried++
	}
	if s.kind != KindNone {
		st.Errors++
		st.ErrorKinds[s.kind.String()]++
		if check != "" {
			if st.Checks == nil {
				st.Checks = map[string]uint64{}
			}
			st.Checks[check]++
		}
		if st.FailedLatency == nil {
			// Made on the first failure: most series never fail, and a
			// dense histogram is ~180 KiB.
			st.FailedLatency = results.NewHistogram()
		}
		st.FailedLatency.Record(s.done - s.intended)
	} else {
		st.Latency.Record(s.done - s.intended)
		st.Service.Record(s.done - s.sent)
	}
}

// newWarmStats returns the stats that collect a series' warmup. Without a
// warmup nothing is ever recorded there, so they get no histograms: three
// dense histograms are about half a MiB per series.
func (rec *recorder) newWarmStats(name, group string) *results.Stats {
	if rec.cfg.plan.Warmup > 0 {
		return results.NewStats(name, group)
	}
	return &results.Stats{Name: name, Group: group}
}

func (rec *recorder) add(s *sample) {
	if s.series < 0 {
		rec.addFlow(s)
		return
	}
	ns, gs := rec.seriesFor(s.series)
	check := rec.checkName(s.check)
	if s.warmup {
		addSample(rec.warmTotal, s, check)
		addSample(ns.warm, s, check)
		if gs != nil {
			addSample(gs.warm, s, check)
		}
	} else {
		addSample(rec.total, s, check)
		addSample(ns.cum, s, check)
		if gs != nil {
			addSample(gs.cum, s, check)
		}
	}
	if gs != nil {
		gs.touched, gs.compact = true, false
	}
	if s.status == statusNotSent {
		return
	}
	if rec.deltas != nil {
		rec.deltas.add(s)
	}
	ns.interval.Requests++
	rec.ivTotal.Requests++
	rec.ivTotal.SendLag.Record(s.sent - s.intended)
	if s.quota != [2]int32{} {
		rec.ivQuota = results.NoteQuota(rec.ivQuota, int64(s.quota[0])-1, int64(s.quota[1])-1)
	}
	if s.flags&flagRetried != 0 {
		return
	}
	if s.kind != KindNone {
		ns.interval.Errors++
		rec.ivTotal.Errors++
		return
	}
	// The timeline's latency is the headline one: successful responses.
	lat := s.done - s.intended
	ns.interval.Latency.Record(lat)
	rec.ivTotal.Latency.Record(lat)
}

// sortedNames returns the request names seen so far, in order.
func (rec *recorder) sortedNames() []string {
	names := make([]string, 0, len(rec.names))
	for n := range rec.names {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

func (rec *recorder) errorCounts() []results.ErrorCount {
	counts := map[string]uint64{}
	for k, v := range rec.warmTotal.ErrorKinds {
		counts[k] += v
	}
	for k, v := range rec.total.ErrorKinds {
		counts[k] += v
	}
	rec.errMu.Lock()
	defer rec.errMu.Unlock()
	out := make([]results.ErrorCount, 0, len(counts))
	for k, v := range counts {
		kind, _ := ParseErrorKind(k)
		out = append(out, results.ErrorCount{Kind: k, Count: v, Message: rec.errSamples[kind]})
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Count != out[j].Count {
			return out[i].Count > out[j].Count
		}
		return out[i].Kind < out[j].Kind
	})
	return out
}
