package results

import (
	"math"
	"slices"
	"time"

	hdrhistogram "github.com/HdrHistogram/hdrhistogram-go"
)

// coarseLevels say how a long run's timeline is kept: the newest intervals
// at the run's step (one second by default), older ones merged ten at a
// time, older still six of those at a time, and so on. Merging HDR
// histograms is exact, so every count and every percentile of any span
// covering whole merged intervals is what it was; only the time
// resolution of old intervals drops. A day at one-second steps keeps
// about 1900 intervals instead of 86400, and the timeline (in memory, in
// each checkpoint, in the file) grows by one interval per ten minutes.
//
// The full-resolution window is one minute because an interval at a high
// rate costs a few KiB (its histograms), so each second kept at full
// resolution is live memory: with ten minutes, a 10-minute soak at 10k/s
// grew 14.5% in resident memory (BENCHMARKS.md §8) before any interval
// was merged. Past the first minute a run adds a tenth of an interval per
// second, and the timeline chart still shows the last minute second by
// second and every earlier stretch as exact 10 s figures.
var coarseLevels = [...]struct {
	// merge is how many intervals of this level make one of the next.
	merge int
	// keep is how many of the newest intervals of this level stay.
	keep int
}{
	{10, 60},   // 1s: the last minute
	{6, 360},   // 10s: the hour before
	{10, 1440}, // 1 min: the day before; 10 min beyond
}

// coarseSlack is how many groups past keep a level gathers before they
// are merged: merging copies the timeline (see Add), so it is done in
// batches rather than at every interval.
const coarseSlack = 6

// TimelineCoarsener keeps a growing timeline in bounded memory by merging
// its older intervals into coarser ones (see coarseLevels). It is how the
// engine's collector appends to the timeline; it is not safe for
// concurrent use.
type TimelineCoarsener struct {
	step time.Duration
	enc  *histEncoder
	// warm counts the warmup intervals at the start, never merged; n[j]
	// the intervals of level j, which lie in the order warmup, level
	// len(n)-1 … level 0 (the newest).
	warm int
	n    [len(coarseLevels) + 1]int
	acc  intervalAcc
	// m adds the intervals' encodings into acc with no garbage per
	// histogram.
	m histMerger
}

// NewTimelineCoarsener returns a coarsener for a timeline whose intervals
// are step long, freezing merged histograms with enc (a new encoder when
// nil).
func NewTimelineCoarsener(step time.Duration, enc *Encoder) *TimelineCoarsener {
	if step <= 0 {
		step = time.Second
	}
	if enc == nil {
		enc = NewEncoder()
	}
	return &TimelineCoarsener{step: step, enc: enc.e}
}

// Add appends iv to tl and merges what has grown old. The intervals
// already in tl are never modified: when some are merged, the result is a
// new slice, so a checkpoint still encoding the previous one (which it
// shares without copying) reads it unchanged. A group whose histograms do
// not merge (never for histograms of the tool's geometry) is kept as it
// was, at full resolution.
func (c *TimelineCoarsener) Add(tl []Interval, iv Interval) []Interval {
	tl = append(tl, iv)
	if iv.Warmup && c.n == [len(c.n)]int{} {
		c.warm++
		return tl
	}
	c.n[0]++
	for j := range coarseLevels {
		tl = c.coarsen(tl, j)
	}
	return tl
}

// coarsen merges the oldest intervals of level j beyond its keep into
// intervals of level j+1.
func (c *TimelineCoarsener) coarsen(tl []Interval, j int) []Interval {
	lv := coarseLevels[j]
	if c.n[j] < lv.keep+coarseSlack*lv.merge {
		return tl
	}
	start := c.warm
	for k := j + 1; k < len(c.n); k++ {
		start += c.n[k]
	}
	block := tl[start : start+c.n[j]]
	cut := c.n[j] - lv.keep
	// Intervals group by their position in the run counted in steps,
	// so that shards of one plan, whose intervals start at the same
	// offsets, merge theirs into the same coarse intervals.
	unit := int64(1)
	for k := 0; k <= j; k++ {
		unit *= int64(coarseLevels[k].merge)
	}
	group := func(iv *Interval) int64 {
		return int64(math.Round(float64(iv.Start)/float64(c.step))) / unit
	}
	var merged []Interval
	used := 0
	for used < cut {
		g := group(&block[used])
		end := used + 1
		for end < len(block) && group(&block[end]) == g {
			end++
		}
		if end > cut {
			break // the group reaches into what is kept: it waits
		}
		m, err := c.merge(block[used:end])
		if err != nil {
			break
		}
		merged = append(merged, m)
		used = end
	}
	if used == 0 {
		return tl
	}
	out := make([]Interval, 0, len(tl)-used+len(merged))
	out = append(out, tl[:start]...)
	out = append(out, merged...)
	out = append(out, tl[start+used:]...)
	c.n[j] -= used
	c.n[j+1] += len(merged)
	return out
}

// intervalAcc sums the histograms of the intervals being merged.
type intervalAcc struct {
	lat, lag *hdrhistogram.PackedHistogram
	series   map[string]*hdrhistogram.PackedHistogram
}

// merge returns one interval covering ivs: counts added, histograms merged
// exactly, the planned rate averaged over the time.
func (c *TimelineCoarsener) merge(ivs []Interval) (Interval, error) {
	a := &c.acc
	if a.lat == nil {
		a.lat, a.lag, a.series = newPacked(), newPacked(), map[string]*hdrhistogram.PackedHistogram{}
	}
	a.lat.Reset()
	a.lag.Reset()
	for _, p := range a.series {
		p.Reset()
	}
	first, last := ivs[0], ivs[len(ivs)-1]
	out := Interval{Start: first.Start, Length: last.Start + last.Length - first.Start, Warmup: first.Warmup}
	var planned float64
	var names []string
	counts := map[string]*IntervalStats{}
	for i := range ivs {
		iv := &ivs[i]
		planned += iv.PlannedRate * iv.Length.D().Seconds()
		out.Arrivals += iv.Arrivals
		out.Total.Requests += iv.Total.Requests
		out.Total.Errors += iv.Total.Errors
		out.Quota = mergeQuota(out.Quota, iv.Quota)
		out.Steal = out.Steal.add(iv.Steal)
		if err := c.add(a.lat, iv.Total.Latency); err != nil {
			return out, err
		}
		if err := c.add(a.lag, iv.Total.SendLag); err != nil {
			return out, err
		}
		for k := range iv.Series {
			s := &iv.Series[k]
			is := counts[s.Name]
			if is == nil {
				is = &IntervalStats{Name: s.Name}
				counts[s.Name] = is
				names = append(names, s.Name)
				if a.series[s.Name] == nil {
					a.series[s.Name] = newPacked()
				}
			}
			is.Requests += s.Requests
			is.Errors += s.Errors
			if err := c.add(a.series[s.Name], s.Latency); err != nil {
				return out, err
			}
		}
	}
	if secs := out.Length.D().Seconds(); secs > 0 {
		out.PlannedRate = planned / secs
	}
	var err error
	if out.Total.Latency, err = c.encode(a.lat); err != nil {
		return out, err
	}
	if first.Total.SendLag != nil {
		if out.Total.SendLag, err = c.encode(a.lag); err != nil {
			return out, err
		}
	}
	slices.Sort(names)
	for _, n := range names {
		is := *counts[n]
		if is.Latency, err = c.encode(a.series[n]); err != nil {
			return out, err
		}
		out.Series = append(out.Series, is)
	}
	// Series seen once and gone for good would keep their accumulators;
	// the names of a run are few and fixed, so they are kept.
	return out, nil
}

// add adds h into dst: through the reused merger when h is an encoding
// (every closed interval's is), else as addPacked does.
func (c *TimelineCoarsener) add(dst *hdrhistogram.PackedHistogram, h *Histogram) error {
	if h != nil && h.h == nil && h.enc != nil {
		return c.m.add(dst, h.enc)
	}
	return addPacked(dst, h)
}

// encode returns a frozen histogram of p's counts.
func (c *TimelineCoarsener) encode(p *hdrhistogram.PackedHistogram) (*Histogram, error) {
	b, err := c.enc.appendEncodedPacked(nil, p)
	if err != nil {
		return nil, err
	}
	return &Histogram{enc: b}, nil
}
