package results

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	hdrhistogram "github.com/HdrHistogram/hdrhistogram-go"
)

// MergeError says which of the merged results a problem is about.
type MergeError struct {
	// Index is the position of the result in the arguments of Merge.
	Index int
	// Name is the result's name given to MergeNamed ("result N" otherwise).
	Name  string
	Shard Shard
	Err   error
}

// Error implements error.
func (e *MergeError) Error() string {
	if e.Shard.Count > 1 {
		return fmt.Sprintf("%s (shard %d/%d): %v", e.Name, e.Shard.Index, e.Shard.Count, e.Err)
	}
	return fmt.Sprintf("%s: %v", e.Name, e.Err)
}

// Unwrap returns the underlying error.
func (e *MergeError) Unwrap() error { return e.Err }

// ErrMismatch is wrapped by merge errors for results that are not shards of
// one plan.
var ErrMismatch = errors.New("results are not shards of one plan")

// Merge combines the results of the shards of one plan into one result.
// Histograms are merged without loss, so the merged percentiles are those
// of a single process that ran the whole plan; counters add up; the
// timelines are aligned by interval start offset (every shard's offsets
// count from its own start, as do the arrival times of the schedule).
//
// Merge refuses results of different format versions or plan hashes,
// duplicate shard indexes and disagreeing shard counts. Results lacking
// some shards merge into a result marked partial. The inputs are not
// modified.
func Merge(results ...*Result) (*Result, error) {
	return MergeNamed(nil, results)
}

// MergeNamed is Merge with a name for each result (such as its file name)
// that errors use to say which result is at fault.
func MergeNamed(names []string, results []*Result) (*Result, error) {
	if len(results) == 0 {
		return nil, errors.New("merge: no results")
	}
	name := func(i int) string {
		if i < len(names) && names[i] != "" {
			return names[i]
		}
		return "result " + strconv.Itoa(i+1)
	}
	if err := checkMergeable(results, name); err != nil {
		return nil, err
	}
	first := results[0]
	out := &Result{Version: first.Version, Meta: first.Meta}
	out.Meta.Command = nil
	out.Meta.Shard = Shard{}
	out.Meta.Tags = copyTags(first.Meta.Tags)

	var hosts, reasons []string
	out.Total = NewStats("", "")
	requests := map[string]*Stats{}
	groups := map[[2]string]*Stats{}
	for i, r := range results {
		wrap := func(err error) error { return &MergeError{Index: i, Name: name(i), Shard: r.Meta.Shard, Err: err} }
		m := &r.Meta
		if i > 0 {
			mergeMeta(&out.Meta, m)
		}
		if m.Host != "" && !slices.Contains(hosts, m.Host) {
			hosts = append(hosts, m.Host)
		}
		if m.StopReason != "" && !slices.Contains(reasons, m.StopReason) {
			reasons = append(reasons, m.StopReason)
		}
		if r.Total != nil {
			if err := out.Total.Merge(r.Total); err != nil {
				return nil, wrap(err)
			}
		}
		for _, s := range r.Requests {
			if s == nil {
				continue
			}
			dst := requests[s.Name]
			if dst == nil {
				dst = NewStats(s.Name, "")
				requests[s.Name] = dst
				out.Requests = append(out.Requests, dst)
			}
			if err := dst.Merge(s); err != nil {
				return nil, wrap(err)
			}
		}
		for _, s := range r.Groups {
			if s == nil {
				continue
			}
			k := [2]string{s.Name, s.Group}
			dst := groups[k]
			if dst == nil {
				dst = NewStats(s.Name, s.Group)
				groups[k] = dst
				out.Groups = append(out.Groups, dst)
			}
			if err := dst.Merge(s); err != nil {
				return nil, wrap(err)
			}
		}
		if r.Warmup != nil {
			if out.Warmup == nil {
				out.Warmup = NewStats("", "")
			}
			if err := out.Warmup.Merge(r.Warmup); err != nil {
				return nil, wrap(err)
			}
		}
		sc := &r.Schedule
		out.Schedule.Planned += sc.Planned
		out.Schedule.Sent += sc.Sent
		out.Schedule.Dropped += sc.Dropped
		out.Schedule.Unsent += sc.Unsent
		out.Schedule.Late += sc.Late
		// Shards peak at about the same time; the sum is an upper bound.
		out.Schedule.MaxInFlight += sc.MaxInFlight
	}
	out.Sort()
	out.Meta.Host = strings.Join(hosts, ",")
	out.Meta.StopReason = strings.Join(reasons, "; ")

	if n := first.Meta.Shard.Count; n > 1 && len(results) < n {
		out.Meta.Partial = true
		missing := missingShards(results, n)
		note := fmt.Sprintf("merged %d of %d shards (missing %s)", len(results), n, missing)
		if out.Meta.StopReason != "" {
			note += "; " + out.Meta.StopReason
		}
		out.Meta.StopReason = note
		out.Meta.Shard = Shard{Count: n}
	}

	tl, err := mergeTimelines(results, name)
	if err != nil {
		return nil, err
	}
	out.Timeline = tl
	return out, nil
}

// checkMergeable applies the guards of Merge.
func checkMergeable(results []*Result, name func(int) string) error {
	first := results[0]
	seen := map[int]int{}
	for i, r := range results {
		if r == nil {
			return &MergeError{Index: i, Name: name(i), Err: errors.New("nil result")}
		}
		fail := func(format string, args ...any) error {
			return &MergeError{Index: i, Name: name(i), Shard: r.Meta.Shard, Err: fmt.Errorf("%w: "+format, append([]any{ErrMismatch}, args...)...)}
		}
		if r.Version != first.Version {
			return fail("results version %d, but %s has version %d", r.Version, name(0), first.Version)
		}
		if r.Total == nil {
			return &MergeError{Index: i, Name: name(i), Shard: r.Meta.Shard, Err: errors.New("result has no total")}
		}
		sh := r.Meta.Shard
		if sh.Count <= 1 {
			if len(results) > 1 {
				return fail("not a shard (run with --shard I/N); merging whole runs would count the plan twice")
			}
			continue
		}
		if sh.Count != first.Meta.Shard.Count {
			return fail("part of a %d-shard plan, but %s is part of a %d-shard plan", sh.Count, name(0), first.Meta.Shard.Count)
		}
		if sh.Index < 0 || sh.Index >= sh.Count {
			return fail("shard index %d out of range [0, %d)", sh.Index, sh.Count)
		}
		if j, dup := seen[sh.Index]; dup {
			return fail("shard %d/%d already given as %s", sh.Index, sh.Count, name(j))
		}
		seen[sh.Index] = i
		if r.Meta.PlanHash != "" && first.Meta.PlanHash != "" && r.Meta.PlanHash != first.Meta.PlanHash {
			return fail("plan hash %s differs from %s's %s (different profile, flows, target or warmup)", r.Meta.PlanHash, name(0), first.Meta.PlanHash)
		}
		if r.Meta.Model != first.Meta.Model {
			return fail("%s model, but %s ran the %s model", r.Meta.Model, name(0), first.Meta.Model)
		}
	}
	return nil
}

func missingShards(results []*Result, n int) string {
	have := map[int]bool{}
	for _, r := range results {
		have[r.Meta.Shard.Index] = true
	}
	var missing []string
	for i := 0; i < n; i++ {
		if !have[i] {
			missing = append(missing, strconv.Itoa(i))
		}
	}
	return strings.Join(missing, ", ")
}

// mergeMeta folds the metadata of one more shard into m.
func mergeMeta(m, o *Meta) {
	if !o.Start.IsZero() && (m.Start.IsZero() || o.Start.Before(m.Start)) {
		m.Start = o.Start
	}
	if o.End.After(m.End) {
		m.End = o.End
	}
	m.PlannedRequests += o.PlannedRequests
	m.VUs += o.VUs
	m.Connections += o.Connections
	m.MaxInFlight += o.MaxInFlight
	m.NumCPU += o.NumCPU
	m.Partial = m.Partial || o.Partial
	if m.PlanHash == "" {
		m.PlanHash = o.PlanHash
	}
	for k, v := range o.Tags {
		if _, ok := m.Tags[k]; !ok {
			if m.Tags == nil {
				m.Tags = map[string]string{}
			}
			m.Tags[k] = v
		}
	}
}

func copyTags(t map[string]string) map[string]string {
	if t == nil {
		return nil
	}
	out := make(map[string]string, len(t))
	for k, v := range t {
		out[k] = v
	}
	return out
}

// mergeTimelines aligns the shards' intervals by their start offset,
// rounded to the timeline's interval length (ticks of different processes
// land microseconds apart), and merges the intervals that coincide.
//
// A long timeline holds thousands of histograms per shard, kept encoded.
// Each source is decoded into a sparse packed histogram and added into one
// reused dense histogram per series, which is encoded once per interval:
// memory stays at the encoded size of the timeline plus a few dense
// histograms, and no dense histogram is allocated per interval.
func mergeTimelines(results []*Result, name func(int) string) ([]Interval, error) {
	step := timelineStep(results)
	type src struct {
		iv  *Interval
		res int
	}
	slots := map[int64][]src{}
	for i, r := range results {
		for j := range r.Timeline {
			iv := &r.Timeline[j]
			k := int64(math.Round(float64(iv.Start) / float64(step)))
			slots[k] = append(slots[k], src{iv, i})
		}
	}
	keys := make([]int64, 0, len(slots))
	for k := range slots {
		keys = append(keys, k)
	}
	slices.Sort(keys)

	scratch := map[string]*hdrhistogram.Histogram{}
	acc := func(key string) *hdrhistogram.Histogram {
		h := scratch[key]
		if h == nil {
			h = hdrhistogram.New(histLowest, histHighest, histDigits)
			scratch[key] = h
		} else {
			h.Reset()
		}
		return h
	}
	out := make([]Interval, 0, len(keys))
	for _, k := range keys {
		srcs := slots[k]
		iv := Interval{Start: Duration(time.Duration(k) * step)}
		lat, lag := acc("\x00latency"), acc("\x00send_lag")
		var names []string
		for _, s := range srcs {
			in := s.iv
			fail := func(what string, err error) error {
				r := results[s.res]
				return &MergeError{Index: s.res, Name: name(s.res), Shard: r.Meta.Shard, Err: fmt.Errorf("timeline%s at %s: %w", what, in.Start.D(), err)}
			}
			iv.Length = max(iv.Length, in.Length)
			iv.PlannedRate = max(iv.PlannedRate, in.PlannedRate)
			iv.Warmup = iv.Warmup || in.Warmup
			iv.Total.Requests += in.Total.Requests
			iv.Total.Errors += in.Total.Errors
			if err := addEncoded(lat, in.Total.Latency); err != nil {
				return nil, fail("", err)
			}
			if err := addEncoded(lag, in.Total.SendLag); err != nil {
				return nil, fail("", err)
			}
			for _, ser := range in.Series {
				if !slices.Contains(names, ser.Name) {
					names = append(names, ser.Name)
				}
			}
		}
		var err error
		if iv.Total.Latency, err = encodedHistogram(lat); err != nil {
			return nil, err
		}
		if iv.Total.SendLag, err = encodedHistogram(lag); err != nil {
			return nil, err
		}
		sort.Strings(names)
		for _, n := range names {
			is := IntervalStats{Name: n}
			h := acc(n)
			for _, s := range srcs {
				for j := range s.iv.Series {
					ser := &s.iv.Series[j]
					if ser.Name != n {
						continue
					}
					is.Requests += ser.Requests
					is.Errors += ser.Errors
					if err := addEncoded(h, ser.Latency); err != nil {
						r := results[s.res]
						return nil, &MergeError{Index: s.res, Name: name(s.res), Shard: r.Meta.Shard, Err: fmt.Errorf("timeline %s at %s: %w", n, s.iv.Start.D(), err)}
					}
				}
			}
			if is.Latency, err = encodedHistogram(h); err != nil {
				return nil, err
			}
			iv.Series = append(iv.Series, is)
		}
		out = append(out, iv)
	}
	return out, nil
}

// addEncoded adds the counts of src into dst without decoding src into a
// dense histogram when it is kept encoded.
func addEncoded(dst *hdrhistogram.Histogram, src *Histogram) error {
	if src == nil {
		return nil
	}
	var dropped int64
	switch {
	case src.h != nil:
		dropped = dst.Merge(src.h)
	case src.enc != nil:
		p, err := hdrhistogram.DecodePacked(src.enc)
		if err != nil {
			return fmt.Errorf("decode histogram: %w", err)
		}
		dropped = p.MergeInto(dst)
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

// timelineStep is the nominal interval length of the shards' timelines:
// the median interval length, rounded to the millisecond (1s by default).
func timelineStep(results []*Result) time.Duration {
	var lengths []time.Duration
	for _, r := range results {
		for _, iv := range r.Timeline {
			if iv.Length > 0 {
				lengths = append(lengths, iv.Length.D())
			}
		}
	}
	if len(lengths) == 0 {
		return time.Second
	}
	slices.Sort(lengths)
	step := lengths[len(lengths)/2].Round(time.Millisecond)
	if step <= 0 {
		return time.Second
	}
	return step
}
