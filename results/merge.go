package results

import (
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
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
// some shards merge into a result marked partial. The thresholds the
// shards were judged by are judged again on the merged result. The inputs
// are not modified.
func Merge(results ...*Result) (*Result, error) {
	return MergeNamed(nil, results)
}

// MergeNamed is Merge with a name for each result (such as its file name)
// that errors use to say which result is at fault.
func MergeNamed(names []string, results []*Result) (*Result, error) {
	var m Merger
	for i, r := range results {
		name := ""
		if i < len(names) {
			name = names[i]
		}
		if err := m.Add(name, r); err != nil {
			return nil, err
		}
	}
	return m.Result()
}

// Merger merges shards one at a time, as Merge does all at once: a caller
// that reads shards from files decodes one, adds it and lets it go, so
// the memory of a merge grows with the series and the length of the
// timeline, never with the number of shards. The zero value is ready to
// use; it is not safe for concurrent use.
type Merger struct {
	n     int // results added
	first struct {
		name           string
		version, count int
		planHash       string
		runID          string
		model          Model
		shardOf        Shard
	}
	// firstStart and lastStart bound the shards' actual starts.
	firstStart, lastStart time.Time

	seen     map[int]string // shard index → the name of the result
	out      *Result
	requests map[string]*Stats
	groups   map[[2]string]*Stats
	flows    map[string]*Stats
	hosts    []string
	reasons  []string
	timeline timelineMerger
	// thresholds are the shards' thresholds, each once, judged again on
	// the merged result.
	thresholds []string
}

// Add merges one more result. Errors are *MergeError values naming the
// result (name, or "result N" when name is empty).
func (m *Merger) Add(name string, r *Result) error {
	i := m.n
	if name == "" {
		name = "result " + strconv.Itoa(i+1)
	}
	if err := m.check(i, name, r); err != nil {
		return err
	}
	m.n++
	wrap := func(err error) error { return &MergeError{Index: i, Name: name, Shard: r.Meta.Shard, Err: err} }
	if i == 0 {
		m.out = &Result{Version: r.Version, Meta: r.Meta}
		m.out.Meta.Command = nil
		m.out.Meta.Shard = Shard{}
		m.out.Meta.Tags = copyTags(r.Meta.Tags)
		m.out.Meta.Steal = mergeSteal(nil, r.Meta.Steal)
		m.out.Total = NewStats("", "")
		m.requests = map[string]*Stats{}
		m.groups = map[[2]string]*Stats{}
		m.flows = map[string]*Stats{}
	} else {
		mergeMeta(&m.out.Meta, &r.Meta)
	}
	out := m.out
	if h := r.Meta.Host; h != "" && !slices.Contains(m.hosts, h) {
		m.hosts = append(m.hosts, h)
	}
	if s := r.Meta.StopReason; s != "" && !slices.Contains(m.reasons, s) {
		m.reasons = append(m.reasons, s)
	}
	for _, v := range r.Thresholds {
		if !slices.Contains(m.thresholds, v.Threshold) {
			m.thresholds = append(m.thresholds, v.Threshold)
		}
	}
	if err := out.Total.Merge(r.Total); err != nil {
		return wrap(err)
	}
	for _, s := range r.Requests {
		if s == nil {
			continue
		}
		dst := m.requests[s.Name]
		if dst == nil {
			dst = NewStats(s.Name, "")
			m.requests[s.Name] = dst
			out.Requests = append(out.Requests, dst)
		}
		if err := dst.Merge(s); err != nil {
			return wrap(err)
		}
	}
	for _, s := range r.Groups {
		if s == nil {
			continue
		}
		k := [2]string{s.Name, s.Group}
		dst := m.groups[k]
		if dst == nil {
			dst = NewStats(s.Name, s.Group)
			m.groups[k] = dst
			out.Groups = append(out.Groups, dst)
		}
		if err := dst.Merge(s); err != nil {
			return wrap(err)
		}
	}
	out.GroupByFolds = mergeFolds(out.GroupByFolds, r.GroupByFolds)
	for _, s := range r.Flows {
		if s == nil {
			continue
		}
		dst := m.flows[s.Name]
		if dst == nil {
			dst = NewStats(s.Name, "")
			m.flows[s.Name] = dst
			out.Flows = append(out.Flows, dst)
		}
		if err := dst.Merge(s); err != nil {
			return wrap(err)
		}
	}
	if r.Warmup != nil {
		if out.Warmup == nil {
			out.Warmup = NewStats("", "")
		}
		if err := out.Warmup.Merge(r.Warmup); err != nil {
			return wrap(err)
		}
	}
	m.noteStart(&r.Meta)
	sc := &r.Schedule
	out.Schedule.Planned += sc.Planned
	out.Schedule.Sent += sc.Sent
	out.Schedule.Dropped += sc.Dropped
	out.Schedule.Unsent += sc.Unsent
	out.Schedule.Late += sc.Late
	out.Schedule.WarmupPlanned += sc.WarmupPlanned
	out.Schedule.WarmupSent += sc.WarmupSent
	// Offsets count from each shard's own start, as the schedule does.
	out.Schedule.LastSent = max(out.Schedule.LastSent, sc.LastSent)
	out.Iterations.Completed += r.Iterations.Completed
	out.Iterations.Failed += r.Iterations.Failed
	out.Iterations.Aborted += r.Iterations.Aborted
	// Shards peak at about the same time; the sum is an upper bound.
	out.Schedule.MaxInFlight += sc.MaxInFlight
	return m.timeline.add(r, func(err error) error { return wrap(err) })
}

// check applies the guards of Merge to the i-th result.
func (m *Merger) check(i int, name string, r *Result) error {
	if r == nil {
		return &MergeError{Index: i, Name: name, Err: errors.New("nil result")}
	}
	fail := func(format string, args ...any) error {
		return &MergeError{Index: i, Name: name, Shard: r.Meta.Shard, Err: fmt.Errorf("%w: "+format, append([]any{ErrMismatch}, args...)...)}
	}
	if r.Total == nil {
		return &MergeError{Index: i, Name: name, Shard: r.Meta.Shard, Err: errors.New("result has no total")}
	}
	sh := r.Meta.Shard
	if i == 0 {
		f := &m.first
		f.name, f.version, f.count, f.planHash, f.model = name, r.Version, sh.Count, r.Meta.PlanHash, r.Meta.Model
		f.runID = r.Meta.RunID
		f.shardOf = sh
	} else {
		f := &m.first
		if r.Version != f.version {
			return fail("results version %d, but %s has version %d", r.Version, f.name, f.version)
		}
		if f.count <= 1 {
			return &MergeError{Index: 0, Name: f.name, Shard: f.shardOf, Err: fmt.Errorf("%w: not a shard (run with --shard I/N); merging whole runs would count the plan twice", ErrMismatch)}
		}
	}
	if sh.Count <= 1 {
		if i > 0 {
			return fail("not a shard (run with --shard I/N); merging whole runs would count the plan twice")
		}
		return nil
	}
	f := &m.first
	if sh.Count != f.count {
		return fail("part of a %d-shard plan, but %s is part of a %d-shard plan", sh.Count, f.name, f.count)
	}
	if sh.Count > MaxShards {
		return fail("a %d-shard plan: tailgate merges at most %d shards", sh.Count, MaxShards)
	}
	if sh.Index < 0 || sh.Index >= sh.Count {
		return fail("shard index %d out of range [0, %d)", sh.Index, sh.Count)
	}
	if prev, dup := m.seen[sh.Index]; dup {
		return fail("shard %d/%d already given as %s", sh.Index, sh.Count, prev)
	}
	if r.Meta.PlanHash != "" && f.planHash != "" && r.Meta.PlanHash != f.planHash {
		return fail("plan hash %s differs from %s's %s (different profile, flows, target or warmup)", r.Meta.PlanHash, f.name, f.planHash)
	}
	if r.Meta.RunID != "" && f.runID != "" && r.Meta.RunID != f.runID {
		return fail("run id %s differs from %s's %s (a shard of another run, or another start instant)", r.Meta.RunID, f.name, f.runID)
	}
	if r.Meta.Model != f.model {
		return fail("%s model, but %s ran the %s model", r.Meta.Model, f.name, f.model)
	}
	if m.seen == nil {
		m.seen = map[int]string{}
	}
	m.seen[sh.Index] = name
	return nil
}

// Result returns the merged result. The merger must not be used after.
func (m *Merger) Result() (*Result, error) {
	if m.n == 0 {
		return nil, errors.New("merge: no results")
	}
	out := m.out
	out.Sort()
	out.Meta.Host = strings.Join(m.hosts, ",")
	out.Meta.StopReason = strings.Join(m.reasons, "; ")
	if n := m.first.count; n > 1 && len(m.seen) < n {
		out.Meta.Partial = true
		note := fmt.Sprintf("merged %d of %d shards (missing %s)", len(m.seen), n, missingShards(m.seen, n))
		if out.Meta.StopReason != "" {
			note += "; " + out.Meta.StopReason
		}
		out.Meta.StopReason = note
		out.Meta.Shard = Shard{Count: n}
	}
	out.Meta.StartSpread = Duration(m.lastStart.Sub(m.firstStart))
	tl, err := m.timeline.result()
	if err != nil {
		return nil, err
	}
	out.Timeline = tl
	rejudge(out, m.thresholds)
	return out, nil
}

// noteStart widens the range of actual starts by one shard's. Shards that
// waited for one instant start apart by their wake-up delays and by how
// late a process got ready; a wide range means some shards' arrivals went
// out late. Clock skew between machines does not show in it (each start
// is read from its own machine's clock); the target's per-second counts
// would show it.
func (m *Merger) noteStart(meta *Meta) {
	t := meta.ActualStart
	if t.IsZero() {
		t = meta.Start
	}
	if t.IsZero() {
		return
	}
	if m.firstStart.IsZero() || t.Before(m.firstStart) {
		m.firstStart = t
	}
	if t.After(m.lastStart) {
		m.lastStart = t
	}
}

// maxMissingRanges bounds the ranges missingShards lists.
const maxMissingRanges = 8

// missingShards describes the shard indexes in [0, n) not in have as
// ranges, "1, 3-7, 9", at most maxMissingRanges of them and then how many
// more: its length does not grow with the shard count.
func missingShards(have map[int]string, n int) string {
	present := make([]int, 0, len(have))
	for i := range have {
		present = append(present, i)
	}
	slices.Sort(present)
	var ranges []string
	more := 0
	add := func(lo, hi int) { // [lo, hi)
		if lo >= hi {
			return
		}
		if len(ranges) == maxMissingRanges {
			more++
			return
		}
		if hi-lo == 1 {
			ranges = append(ranges, strconv.Itoa(lo))
		} else {
			ranges = append(ranges, strconv.Itoa(lo)+"-"+strconv.Itoa(hi-1))
		}
	}
	next := 0
	for _, i := range present {
		add(next, i)
		next = i + 1
	}
	add(next, n)
	s := strings.Join(ranges, ", ")
	if more > 0 {
		s += fmt.Sprintf(" and %d more ranges", more)
	}
	return s
}

// mergeMeta folds the metadata of one more shard into m.
func mergeMeta(m, o *Meta) {
	if !o.Start.IsZero() && (m.Start.IsZero() || o.Start.Before(m.Start)) {
		m.Start = o.Start
	}
	if !o.ActualStart.IsZero() && (m.ActualStart.IsZero() || o.ActualStart.Before(m.ActualStart)) {
		m.ActualStart = o.ActualStart
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
	m.StoppedAt = max(m.StoppedAt, o.StoppedAt)
	m.CPU.User += o.CPU.User
	m.CPU.System += o.CPU.System
	m.Steal = mergeSteal(m.Steal, o.Steal)
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
