package loadgen

import (
	"fmt"
	"maps"
	"runtime"
	"sort"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/tailgate-dev/tailgate/results"
)

// sample is one finished request as a worker saw it. Times are offsets from
// the run start so the struct stays small and pointer-free.
type sample struct {
	intended, sent, done time.Duration
	bytesIn, bytesOut    int64
	series               int32
	status               int16
	kind                 ErrorKind
	warmup               bool
}

// sampleBufferSize is the largest ring a worker records into (48 KiB of
// samples); runs with many workers get smaller rings, see ringSize.
const sampleBufferSize = 1024

// ringBudget bounds the samples buffered over all workers (3 MiB), so a
// closed-model run with thousands of VUs does not hold 48 KiB per VU.
const ringBudget = 1 << 16

// ringSize is the power-of-two ring length for each of workers rings.
func ringSize(workers int) int {
	n := sampleBufferSize
	for n > 64 && n*workers > ringBudget {
		n /= 2
	}
	return n
}

// sampleBuffer is a worker's ring of finished samples: a single-producer,
// single-consumer queue. The worker writes slots and publishes them by
// advancing tail; the collector reads up to tail and frees them by
// advancing head. They share nothing else, so recording a sample takes no
// lock and never allocates (the mutex-guarded batches it replaces cost two
// atomic read-modify-writes per sample and allocated a fresh 48 KiB batch
// whenever the collector was behind). Keeping the histograms with the
// collector keeps them single-owner (hdrhistogram-go is not goroutine-safe).
type sampleBuffer struct {
	ring []sample // length is a power of two
	mask uint64
	kick chan<- struct{} // wakes the collector; capacity 1
	tail atomic.Uint64   // next slot to write; stored by the worker only
	_    [56]byte        // head and tail on different cache lines
	head atomic.Uint64   // next slot to read; stored by the collector only
}

func newSampleBuffer(size int, kick chan<- struct{}) *sampleBuffer {
	return &sampleBuffer{ring: make([]sample, size), mask: uint64(size - 1), kick: kick}
}

// add records one sample. It wakes the collector every half ring, and
// when the ring is full (the collector is behind) yields until it has room
// rather than dropping or allocating.
func (b *sampleBuffer) add(s sample) {
	t := b.tail.Load()
	size := uint64(len(b.ring))
	for spins := 0; t-b.head.Load() >= size; spins++ {
		b.wake()
		if spins < 64 {
			runtime.Gosched()
		} else {
			// The collector is busy for long (a big checkpoint):
			// stop burning the CPU it needs.
			time.Sleep(100 * time.Microsecond)
		}
	}
	b.ring[t&b.mask] = s
	b.tail.Store(t + 1)
	if (t+1)&(size/2-1) == 0 {
		b.wake()
	}
}

func (b *sampleBuffer) wake() {
	select {
	case b.kick <- struct{}{}:
	default:
	}
}

// consume hands up to max published samples to f, frees their slots and
// returns how many it handed over: fewer than max means the ring was
// empty. Only the collector calls it.
func (b *sampleBuffer) consume(f func(*sample), max int) int {
	h, t := b.head.Load(), b.tail.Load()
	if t-h > uint64(max) {
		t = h + uint64(max)
	}
	n := int(t - h)
	for ; h != t; h++ {
		f(&b.ring[h&b.mask])
	}
	b.head.Store(t)
	return n
}

// seriesStats is the collector's state for one request name or group.
type seriesStats struct {
	cum      *results.Stats
	warm     *results.Stats
	interval *results.IntervalStats // nil for groups: the timeline is per name
}

// recorder owns every histogram of a run. Only its loop goroutine touches
// them; workers reach it through sample buffers.
type recorder struct {
	r       *Runner
	buffers []*sampleBuffer
	kick    chan struct{} // a worker's ring is half full
	addFn   func(*sample) // rec.add, bound once

	seriesMu sync.Mutex
	keys     []seriesKey
	ids      map[seriesKey]int32

	errMu      sync.Mutex
	errSamples map[ErrorKind]string

	// Owned by the loop goroutine.
	total, warmTotal *results.Stats
	names            map[string]*seriesStats
	groups           map[seriesKey]*seriesStats
	bySeries         []*seriesStats // name series per id
	byGroup          []*seriesStats // group series per id (nil when no group)
	ivTotal          results.IntervalStats
	ivStart          time.Duration
	timeline         []results.Interval
	lastSent         uint64 // arrivals sent at the previous snapshot
	lastCheckpoint   time.Time
	// checkpointer holds the one checkpoint writer while no checkpoint is
	// being written; a checkpoint goroutine takes it and puts it back.
	checkpointer chan *results.FileWriter
	// checkpointErr is the last checkpoint's error, nil after a success.
	checkpointErr atomic.Pointer[error]
	// enc encodes every histogram the collector freezes (timeline,
	// checkpoints, results in progress). Kept for the run rather than taken
	// from encoderPool: a collection empties the pool, and the next encoding
	// would make a new zlib state of ~1.2 MiB.
	enc *results.Encoder

	currentReq chan chan *results.Result
	finishReq  chan finishRequest
	finished   chan struct{} // closed when final is set
	final      *results.Result
}

type finishRequest struct {
	reason string
	reply  chan *results.Result
}

func newRecorder(r *Runner, workers int) *recorder {
	rec := &recorder{
		r:            r,
		kick:         make(chan struct{}, 1),
		ids:          map[seriesKey]int32{},
		errSamples:   map[ErrorKind]string{},
		total:        results.NewStats("", ""),
		warmTotal:    r.newWarmStats("", ""),
		names:        map[string]*seriesStats{},
		groups:       map[seriesKey]*seriesStats{},
		ivTotal:      results.IntervalStats{Latency: results.NewHistogram(), SendLag: results.NewHistogram()},
		currentReq:   make(chan chan *results.Result),
		finishReq:    make(chan finishRequest),
		checkpointer: make(chan *results.FileWriter, 1),
		finished:     make(chan struct{}),
	}
	rec.enc = results.NewEncoder()
	rec.checkpointer <- results.NewFileWriter(rec.enc)
	rec.addFn = rec.add
	size := ringSize(workers)
	for i := 0; i < workers; i++ {
		rec.buffers = append(rec.buffers, newSampleBuffer(size, rec.kick))
	}
	return rec
}

func (rec *recorder) registerSeries(k seriesKey) int32 {
	rec.seriesMu.Lock()
	defer rec.seriesMu.Unlock()
	if id, ok := rec.ids[k]; ok {
		return id
	}
	id := int32(len(rec.keys))
	rec.keys = append(rec.keys, k)
	rec.ids[k] = id
	return id
}

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

// loop collects samples until finish is called.
func (rec *recorder) loop() {
	tick := time.NewTicker(rec.r.interval)
	defer tick.Stop()
	for {
		select {
		case <-rec.kick:
			rec.drain()
		case now := <-tick.C:
			rec.drain()
			rec.closeInterval(now, false)
			rec.maybeCheckpoint(now)
		case reply := <-rec.currentReq:
			rec.drain()
			reply <- rec.build(true, "in progress", rec.freeze)
		case f := <-rec.finishReq:
			// Wait for a checkpoint still being written: finishing first
			// would let its rename land after the caller's final write
			// and replace the final results with older ones.
			<-rec.checkpointer
			rec.drain()
			rec.closeInterval(time.Now(), true)
			res := rec.build(f.reason != "", f.reason, nil)
			rec.final = res
			close(rec.finished)
			f.reply <- res
			return
		}
	}
}

func (rec *recorder) current() *results.Result {
	reply := make(chan *results.Result, 1)
	select {
	case rec.currentReq <- reply:
		return <-reply
	case <-rec.finished:
		return rec.final
	}
}

func (rec *recorder) finish(reason string) *results.Result {
	reply := make(chan *results.Result, 1)
	rec.finishReq <- finishRequest{reason: reason, reply: reply}
	return <-reply
}

// drainPiece is how many samples the collector records between two
// yields: ~30 µs of work at ~110 ns a sample (BenchmarkCollectSample).
const drainPiece = 256

// drain collects every sample the workers have published, yielding the
// processor every drainPiece samples. Workers wake the collector every half
// ring, so at moderate rates a whole second of samples (10000 at 10k/s)
// waits for the tick; recorded in one go they held the only processor for
// 1–2.5 ms (seen in an execution trace), and every arrival due meanwhile
// went out late.
func (rec *recorder) drain() {
	budget := drainPiece
	for _, b := range rec.buffers {
		for {
			budget -= b.consume(rec.addFn, budget)
			if budget > 0 {
				break // this ring is empty
			}
			yield()
			budget = drainPiece
		}
	}
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
					cum: results.NewStats(k.name, ""), warm: rec.r.newWarmStats(k.name, ""),
					interval: &results.IntervalStats{Name: k.name, Latency: results.NewHistogram()},
				}
				rec.names[k.name] = ns
			}
			rec.bySeries = append(rec.bySeries, ns)
			var gs *seriesStats
			if k.group != "" {
				gs = rec.groups[k]
				if gs == nil {
					gs = &seriesStats{cum: results.NewStats(k.name, k.group), warm: rec.r.newWarmStats(k.name, k.group)}
					rec.groups[k] = gs
				}
			}
			rec.byGroup = append(rec.byGroup, gs)
		}
	}
	return rec.bySeries[id], rec.byGroup[id]
}

func addSample(st *results.Stats, s *sample) {
	st.Requests++
	st.BytesIn += uint64(s.bytesIn)
	st.BytesOut += uint64(s.bytesOut)
	if s.status != 0 {
		st.Status[int(s.status)]++
	}
	if s.kind != KindNone {
		st.Errors++
		st.ErrorKinds[s.kind.String()]++
	}
	st.Latency.Record(s.done - s.intended)
	st.Service.Record(s.done - s.sent)
	st.SendLag.Record(s.sent - s.intended)
}

// newWarmStats returns the stats that collect a series' warmup. Without a
// warmup nothing is ever recorded there, so they get no histograms: three
// dense histograms are about half a MiB per series.
func (r *Runner) newWarmStats(name, group string) *results.Stats {
	if r.plan.Warmup > 0 {
		return results.NewStats(name, group)
	}
	return &results.Stats{Name: name, Group: group}
}

func (rec *recorder) add(s *sample) {
	ns, gs := rec.seriesFor(s.series)
	if s.warmup {
		addSample(rec.warmTotal, s)
		addSample(ns.warm, s)
		if gs != nil {
			addSample(gs.warm, s)
		}
	} else {
		addSample(rec.total, s)
		addSample(ns.cum, s)
		if gs != nil {
			addSample(gs.cum, s)
		}
	}
	lat := s.done - s.intended
	ns.interval.Requests++
	ns.interval.Latency.Record(lat)
	rec.ivTotal.Requests++
	rec.ivTotal.Latency.Record(lat)
	rec.ivTotal.SendLag.Record(s.sent - s.intended)
	if s.kind != KindNone {
		ns.interval.Errors++
		rec.ivTotal.Errors++
	}
}

// freeze returns a frozen copy of h made with the collector's encoder.
func (rec *recorder) freeze(h *results.Histogram) *results.Histogram { return rec.enc.Freeze(h) }

// yield lets other goroutines run between the pieces of the collector's
// work (recording samples, summaries and encodings of dense histograms,
// encoding checkpoints). With one CPU the runtime has one processor, a
// goroutine keeps it until it blocks or runs 10 ms, and the scheduler's
// arrivals that fall due meanwhile are sent late: unsplit, this work held
// the processor for 0.7–3.5 ms each second, longer than the gap between two
// arrivals. Yielding costs ~0.2 µs when nothing else is runnable.
func yield() { runtime.Gosched() }

// closeInterval ends the current timeline interval at now, publishes a
// snapshot, and starts the next interval.
func (rec *recorder) closeInterval(now time.Time, last bool) {
	r := rec.r
	end := now.Sub(r.start)
	length := end - rec.ivStart
	if length <= 0 && !last {
		return
	}
	// A snapshot costs a few summaries of dense histograms per series;
	// without an observer (--quiet, a library run) nobody reads it.
	var snap *results.Snapshot
	if len(r.observers) > 0 {
		snap = rec.snapshot(now, end, length, last)
	}

	iv := results.Interval{
		Start:  results.Duration(rec.ivStart),
		Length: results.Duration(length),
		Warmup: r.plan.Warmup > 0 && rec.ivStart < r.plan.Warmup,
		Total:  results.IntervalStats{Requests: rec.ivTotal.Requests, Errors: rec.ivTotal.Errors, Latency: rec.freeze(rec.ivTotal.Latency)},
	}
	yield()
	iv.Total.SendLag = rec.freeze(rec.ivTotal.SendLag)
	yield()
	if r.plan.Pacer != nil {
		iv.PlannedRate = r.plan.Pacer.Rate(rec.ivStart)
	}
	names := make([]string, 0, len(rec.names))
	for n := range rec.names {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		ns := rec.names[n].interval
		is := results.IntervalStats{Name: n, Requests: ns.Requests, Errors: ns.Errors, Latency: rec.freeze(ns.Latency)}
		iv.Series = append(iv.Series, is)
		ns.Requests, ns.Errors = 0, 0
		ns.Latency.Reset()
		yield()
	}
	if length > 0 || iv.Total.Requests > 0 {
		rec.timeline = append(rec.timeline, iv)
	}
	rec.ivTotal.Requests, rec.ivTotal.Errors = 0, 0
	rec.ivTotal.Latency.Reset()
	rec.ivTotal.SendLag.Reset()
	rec.ivStart = end

	for _, o := range r.observers {
		o.Observe(snap)
	}
}

func (rec *recorder) snapshot(now time.Time, elapsed, length time.Duration, last bool) *results.Snapshot {
	r := rec.r
	p := &r.plan
	s := &results.Snapshot{
		Time: now, Elapsed: elapsed, Planned: p.PlannedDuration(),
		Name: p.Name, Target: Redact(p.Target, p.Redact), Model: p.Model(),
		Warmup:   p.Warmup > 0 && elapsed < p.Warmup,
		InFlight: r.inFlight.Load(),
		Sent:     r.sent.Load(), Dropped: r.dropped.Load(), Late: r.late.Load(),
		SendLag: rec.ivTotal.SendLag.Summary(),
		Done:    last,
	}
	if err := rec.checkpointErr.Load(); err != nil {
		s.CheckpointError = (*err).Error()
	}
	if p.Pacer != nil {
		s.Profile = p.Pacer.String()
		s.TargetRate = p.Pacer.Rate(elapsed)
		s.Stage = s.Profile
		if sp, ok := p.Pacer.(*StagedPacer); ok {
			if i := sp.StageAt(elapsed); i >= 0 {
				st := sp.Stages()[i]
				s.Stage = st.Pacer.String()
				if st.Name != "" {
					s.Stage = st.Name
				}
			}
		}
		s.PlannedArrivals = rec.plannedBy(elapsed)
	} else {
		s.Profile = closedProfile(p)
	}
	secs := length.Seconds()
	rate := func(n uint64) float64 {
		if secs <= 0 {
			return 0
		}
		return float64(n) / secs
	}
	s.Rate = rate(rec.ivTotal.Requests)
	s.ArrivalRate = rate(s.Sent - rec.lastSent)
	rec.lastSent = s.Sent
	tot := rec.total
	if s.Warmup {
		tot = rec.warmTotal
	}
	s.Total = results.SeriesSnapshot{
		Requests: tot.Requests, Errors: tot.Errors,
		IntervalRequests: rec.ivTotal.Requests, IntervalErrors: rec.ivTotal.Errors,
		Rate: rate(rec.ivTotal.Requests), Interval: rec.ivTotal.Latency.Summary(),
		Cumulative: tot.Latency.Summary(), Status: maps.Clone(tot.Status),
	}
	names := make([]string, 0, len(rec.names))
	for n := range rec.names {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		ns := rec.names[n]
		st := ns.cum
		if s.Warmup {
			st = ns.warm
		}
		s.Series = append(s.Series, results.SeriesSnapshot{
			Name: n, Requests: st.Requests, Errors: st.Errors,
			IntervalRequests: ns.interval.Requests, IntervalErrors: ns.interval.Errors,
			Rate: rate(ns.interval.Requests), Interval: ns.interval.Latency.Summary(),
			Cumulative: st.Latency.Summary(), Status: maps.Clone(st.Status),
		})
		yield()
	}
	keys := make([]seriesKey, 0, len(rec.groups))
	for k := range rec.groups {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		if keys[i].name != keys[j].name {
			return keys[i].name < keys[j].name
		}
		return results.GroupLess(keys[i].group, keys[j].group)
	})
	for _, k := range keys {
		st := rec.groups[k].cum
		if s.Warmup {
			st = rec.groups[k].warm
		}
		s.Series = append(s.Series, results.SeriesSnapshot{
			Name: k.name, Group: k.group, Requests: st.Requests, Errors: st.Errors,
			Cumulative: st.Latency.Summary(), Status: maps.Clone(st.Status),
		})
		yield()
	}
	s.Errors = rec.errorCounts()
	return s
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

func closedProfile(p *Plan) string {
	s := strconv.Itoa(p.VUs) + " VUs"
	if p.Iterations > 0 {
		s += ", " + strconv.FormatUint(p.Iterations, 10) + " iterations"
	}
	if p.Duration > 0 {
		s += " for " + p.Duration.String()
	}
	if p.Think > 0 {
		s += ", think " + p.Think.String()
	}
	return s
}

// plannedBy counts this shard's arrivals planned before elapsed.
func (rec *recorder) plannedBy(elapsed time.Duration) uint64 {
	p := rec.r.plan.Pacer
	total := rec.plannedTotal()
	// Binary search over the shard's own arrival indices.
	lo, hi := uint64(0), total
	for lo < hi {
		mid := (lo + hi) / 2
		at, ok := p.Arrival(rec.globalIndex(mid))
		if ok && at < elapsed {
			lo = mid + 1
		} else {
			hi = mid
		}
	}
	return lo
}

func (rec *recorder) globalIndex(k uint64) uint64 {
	sh := rec.r.plan.Shard
	if sh.Count > 1 {
		return k*uint64(sh.Count) + uint64(sh.Index)
	}
	return k
}

// plannedTotal is the number of arrivals this shard's plan asks for.
func (rec *recorder) plannedTotal() uint64 {
	p := rec.r.plan.Pacer
	if p == nil {
		return 0
	}
	n := p.Count()
	sh := rec.r.plan.Shard
	if sh.Count > 1 {
		i, c := uint64(sh.Index), uint64(sh.Count)
		if n <= i {
			return 0
		}
		return (n - i + c - 1) / c
	}
	return n
}

// build assembles a Result from the collector's state. With a freeze
// function, which returns frozen copies of histograms, the result shares
// nothing mutable with the running collector; with nil it shares all.
func (rec *recorder) build(partial bool, reason string, freeze func(*results.Histogram) *results.Histogram) *results.Result {
	r := rec.r
	p := &r.plan
	cp := func(s *results.Stats) *results.Stats {
		if freeze == nil {
			return s
		}
		c := *s
		c.Status = maps.Clone(s.Status)
		c.ErrorKinds = maps.Clone(s.ErrorKinds)
		c.ErrorSamples = map[string]string{}
		c.Latency = freeze(s.Latency)
		yield()
		c.Service = freeze(s.Service)
		yield()
		c.SendLag = freeze(s.SendLag)
		yield()
		return &c
	}
	res := &results.Result{Version: results.ResultVersion, Total: cp(rec.total)}
	for _, ns := range rec.names {
		res.Requests = append(res.Requests, cp(ns.cum))
	}
	for _, gs := range rec.groups {
		res.Groups = append(res.Groups, cp(gs.cum))
	}
	if p.Warmup > 0 {
		res.Warmup = cp(rec.warmTotal)
	}
	rec.errMu.Lock()
	for _, st := range append([]*results.Stats{res.Total}, res.Requests...) {
		for k := range st.ErrorKinds {
			kind, _ := ParseErrorKind(k)
			if msg, ok := rec.errSamples[kind]; ok {
				st.ErrorSamples[k] = msg
			}
		}
	}
	rec.errMu.Unlock()
	res.Sort()
	// Share the timeline instead of copying it: closed intervals never
	// change and the collector only appends, which the capacity limit keeps
	// out of this slice. A checkpoint of a long run copies nothing.
	res.Timeline = rec.timeline[:len(rec.timeline):len(rec.timeline)]

	planned := rec.plannedTotal()
	issued := r.issued.Load()
	res.Schedule = results.Schedule{
		Planned:     planned,
		Sent:        r.sent.Load(),
		Dropped:     r.dropped.Load(),
		Late:        r.late.Load(),
		MaxInFlight: r.maxInFlight.Load(),
	}
	if p.Pacer == nil {
		res.Schedule.Planned = issued
	} else if issued < planned {
		res.Schedule.Unsent = planned - issued
	}
	if res.Schedule.Sent+res.Schedule.Dropped < issued {
		// Arrivals issued but never started because the run stopped.
		res.Schedule.Unsent += issued - res.Schedule.Sent - res.Schedule.Dropped
	}

	res.Meta = p.Meta()
	res.Meta.Start, res.Meta.End = r.start, time.Now()
	res.Meta.Host = hostname()
	res.Meta.Partial, res.Meta.StopReason = partial, reason
	if p.Pacer != nil {
		res.Meta.PlannedRequests = planned
	}
	return res
}

func redactAll(args, secrets []string) []string {
	if args == nil {
		return nil
	}
	out := make([]string, len(args))
	for i, a := range args {
		out[i] = Redact(a, secrets)
	}
	return out
}

// maybeCheckpoint writes the results so far when a checkpoint is due. The
// write runs in its own goroutine on a cloned result, so a slow disk never
// stalls the collector; a checkpoint still being written skips the next.
// A failed checkpoint is reported in the next snapshots (CheckpointError)
// until one succeeds.
func (rec *recorder) maybeCheckpoint(now time.Time) {
	r := rec.r
	if r.checkpointPath == "" || now.Sub(rec.lastCheckpoint) < r.checkpointEvery {
		return
	}
	var w *results.FileWriter
	select {
	case w = <-rec.checkpointer:
	default:
		return
	}
	rec.lastCheckpoint = now
	w.Recycle()
	res := rec.build(true, "checkpoint", w.Freeze)
	go func() {
		defer func() { rec.checkpointer <- w }()
		if err := w.WriteFile(res, r.checkpointPath); err != nil {
			err = fmt.Errorf("checkpoint: %w", err)
			rec.checkpointErr.Store(&err)
			return
		}
		rec.checkpointErr.Store(nil)
	}()
}
