package results

import (
	"fmt"
	"math"
	"slices"
	"time"

	hdrhistogram "github.com/HdrHistogram/hdrhistogram-go"
)

// timelineMerger merges the timelines of shards added one at a time. It
// aligns intervals by their start offset rounded to the timeline's step
// (ticks of different processes land microseconds apart) and keeps, per
// merged interval, the sum of the shards' histograms as sparse packed
// histograms: a few hundred bytes each, where a dense one is ~190 KiB.
// The merged intervals are encoded once, at the end.
type timelineMerger struct {
	// step is the nominal interval length, taken from the first shard
	// that has a timeline (the median of its interval lengths).
	step  time.Duration
	slots map[int64]*slotMerge
}

// slotMerge is one merged interval being summed.
type slotMerge struct {
	iv       Interval // counters and flags; histograms come at the end
	lat, lag *hdrhistogram.PackedHistogram
	series   map[string]*seriesMerge
}

type seriesMerge struct {
	requests, errors uint64
	lat              *hdrhistogram.PackedHistogram
}

func newPacked() *hdrhistogram.PackedHistogram {
	return hdrhistogram.NewPacked(histLowest, histHighest, histDigits)
}

// add merges the timeline of r; wrap gives errors the result's name.
func (t *timelineMerger) add(r *Result, wrap func(error) error) error {
	if len(r.Timeline) == 0 {
		return nil
	}
	if t.step == 0 {
		t.step = timelineStep(r)
		t.slots = map[int64]*slotMerge{}
	}
	for j := range r.Timeline {
		in := &r.Timeline[j]
		fail := func(what string, err error) error {
			return wrap(fmt.Errorf("timeline%s at %s: %w", what, in.Start.D(), err))
		}
		k := int64(math.Round(float64(in.Start) / float64(t.step)))
		s := t.slots[k]
		if s == nil {
			s = &slotMerge{lat: newPacked(), lag: newPacked(), series: map[string]*seriesMerge{}}
			s.iv.Start = Duration(time.Duration(k) * t.step)
			t.slots[k] = s
		}
		s.iv.Length = max(s.iv.Length, in.Length)
		s.iv.PlannedRate = max(s.iv.PlannedRate, in.PlannedRate)
		s.iv.Warmup = s.iv.Warmup || in.Warmup
		s.iv.Arrivals += in.Arrivals
		s.iv.Total.Requests += in.Total.Requests
		s.iv.Total.Errors += in.Total.Errors
		s.iv.Quota = mergeQuota(s.iv.Quota, in.Quota)
		s.iv.Steal = s.iv.Steal.add(in.Steal)
		if err := addPacked(s.lat, in.Total.Latency); err != nil {
			return fail("", err)
		}
		if err := addPacked(s.lag, in.Total.SendLag); err != nil {
			return fail("", err)
		}
		for i := range in.Series {
			ser := &in.Series[i]
			dst := s.series[ser.Name]
			if dst == nil {
				dst = &seriesMerge{lat: newPacked()}
				s.series[ser.Name] = dst
			}
			dst.requests += ser.Requests
			dst.errors += ser.Errors
			if err := addPacked(dst.lat, ser.Latency); err != nil {
				return fail(" "+ser.Name, err)
			}
		}
	}
	return nil
}

// result encodes the merged intervals in order, releasing each slot's
// packed histograms as it goes.
func (t *timelineMerger) result() ([]Interval, error) {
	keys := make([]int64, 0, len(t.slots))
	for k := range t.slots {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	scratch := hdrhistogram.New(histLowest, histHighest, histDigits)
	encode := func(p *hdrhistogram.PackedHistogram) (*Histogram, error) {
		scratch.Reset()
		if dropped := p.MergeInto(scratch); dropped > 0 {
			return nil, fmt.Errorf("histogram merge dropped %d values outside [%d, %d]µs", dropped, histLowest, histHighest)
		}
		return encodedHistogram(scratch)
	}
	out := make([]Interval, 0, len(keys))
	for _, k := range keys {
		s := t.slots[k]
		iv := s.iv
		var err error
		if iv.Total.Latency, err = encode(s.lat); err != nil {
			return nil, err
		}
		if iv.Total.SendLag, err = encode(s.lag); err != nil {
			return nil, err
		}
		names := make([]string, 0, len(s.series))
		for n := range s.series {
			names = append(names, n)
		}
		slices.Sort(names)
		for _, n := range names {
			ser := s.series[n]
			is := IntervalStats{Name: n, Requests: ser.requests, Errors: ser.errors}
			if is.Latency, err = encode(ser.lat); err != nil {
				return nil, err
			}
			iv.Series = append(iv.Series, is)
		}
		out = append(out, iv)
		delete(t.slots, k)
	}
	return out, nil
}

// addPacked adds the counts of src into dst, decoding a kept encoding
// into a sparse histogram rather than a dense one.
func addPacked(dst *hdrhistogram.PackedHistogram, src *Histogram) error {
	if src == nil {
		return nil
	}
	var dropped int64
	switch {
	case src.h != nil:
		dropped = dst.MergeFrom(src.h)
	case src.enc != nil:
		p, err := hdrhistogram.DecodePacked(src.enc)
		if err != nil {
			return fmt.Errorf("decode histogram: %w", err)
		}
		dropped = dst.Merge(p)
	}
	if dropped > 0 {
		return fmt.Errorf("histogram merge dropped %d values outside [%d, %d]µs", dropped, histLowest, histHighest)
	}
	return nil
}

// encodedHistogram returns a Histogram holding only the encoding of h.
func encodedHistogram(h *hdrhistogram.Histogram) (*Histogram, error) {
	b, err := encodeHistogram(h)
	if err != nil {
		return nil, fmt.Errorf("encode histogram: %w", err)
	}
	return &Histogram{enc: b}, nil
}

// timelineStep is the nominal interval length of a timeline: its shortest
// interval but the last (which a run's end cuts short), rounded to the
// millisecond; 1s without one. Not the median: a long run's old intervals
// are merged into coarser ones (TimelineCoarsener), which can outnumber
// the intervals at the run's step, and every one of them starts at a
// multiple of the step.
func timelineStep(r *Result) time.Duration {
	step := time.Duration(0)
	for i := 0; i < len(r.Timeline)-1; i++ {
		if l := r.Timeline[i].Length.D(); l > 0 && (step == 0 || l < step) {
			step = l
		}
	}
	step = step.Round(time.Millisecond)
	if step <= 0 {
		return time.Second
	}
	return step
}
