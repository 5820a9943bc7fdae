package loadgen

import (
	"math/bits"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"github.com/tailgate-dev/tailgate/results"
)

// The collector: one goroutine that owns every histogram of a run. Workers
// hand it samples through their rings (ring.go); it aggregates them per
// series (series.go), closes a timeline interval and publishes a snapshot
// each interval (timeline.go, snapshot.go), writes checkpoints
// (checkpoint.go) and assembles the Result (build.go).

// runCounters are the counts the scheduler and the workers keep with
// atomics; the collector reads them for snapshots and the Result.
type runCounters struct {
	inFlight    atomic.Int64
	maxInFlight atomic.Int64
	sent        atomic.Uint64
	dropped     atomic.Uint64
	late        atomic.Uint64
	issued      atomic.Uint64 // arrivals handed to workers or dropped
	// iterations counts finished iterations per flow (Snapshot.Iterations).
	iterations []flowCounter
	// sentWarm counts the arrivals sent in the warmup (part of sent).
	sentWarm atomic.Uint64
	// lastSent is the offset from the start of the latest send of an
	// arrival's first request: where the schedule ended as kept.
	lastSent atomic.Int64
	// taken is the due offset of the arrival a worker took last: the
	// oldest arrival still queued is due no earlier.
	taken atomic.Int64
	// stopAt is the offset at which the run was told to stop (0: never).
	stopAt atomic.Int64
	// blocked is set while the scheduler waits for room under the queue
	// policy (--max-in-flight reached); its ticket is queued too.
	blocked atomic.Bool
	// tickets is the open model's queue of arrivals (nil for the closed
	// model); snapshots read its length.
	tickets chan ticket
	// loopQueued is the socket loop's count of arrivals waiting for a
	// connection (it has no tickets); socketLoop says it runs the plan.
	loopQueued atomic.Int64
	socketLoop bool
	// Iteration outcomes after the warmup.
	itCompleted, itFailed, itAborted atomic.Uint64
	// cpuStart is the process's CPU time when the run started.
	cpuStart cpuUse
}

// noteInFlight raises maxInFlight to n unless it is already higher. Many
// VUs call it at once, so a plain load and store could let a lower count
// overwrite a higher one.
func (c *runCounters) noteInFlight(n int64) {
	for {
		m := c.maxInFlight.Load()
		if n <= m || c.maxInFlight.CompareAndSwap(m, n) {
			return
		}
	}
}

// recorderConfig is what the collector needs to know about its run.
type recorderConfig struct {
	plan      *Plan // with defaults filled in; read only
	start     time.Time
	interval  time.Duration
	observers []Observer
	counts    *runCounters
	// Checkpoints go every checkpointEvery to the file at checkpointPath
	// or, when that is empty, to checkpointSink (none when both are unset).
	checkpointPath  string
	checkpointSink  func(*results.Result) error
	checkpointEvery time.Duration

	// startAt and actualStart are the instant the run waited for and when
	// it began after the wait (zero without a start instant).
	startAt, actualStart time.Time
}

// recorder owns every histogram of a run. Only its loop goroutine touches
// them; workers reach it through sample buffers.
type recorder struct {
	cfg     recorderConfig
	shard   shardSchedule
	buffers []*sampleBuffer
	kick    chan struct{} // a worker's ring is half full
	// dirty has bit i%64 of word i/64 set when buffers[i] woke the
	// collector: a wake-up drains those rings only (the ticks drain all).
	dirty []atomic.Uint64
	addFn func(*sample) // rec.add, bound once

	seriesMu sync.Mutex
	keys     []seriesKey
	ids      map[seriesKey]int32
	// groupCount is how many groups each request name has registered.
	groupCount map[string]int
	// resp bounds the values of the requests grouped by response.
	resp respRegistry
	// checks names the failed checks; checkNames is the collector's copy.
	checks     checkRegistry
	checkNames []string

	errMu      sync.Mutex
	errSamples map[ErrorKind]string
	// notSentSamples keeps the first message of each not-sent reason.
	notSentSamples map[NotSentReason]string

	// Owned by the loop goroutine.
	total, warmTotal *results.Stats
	names            map[string]*seriesStats
	groups           map[seriesKey]*seriesStats
	bySeries         []*seriesStats // name series per id
	byGroup          []*seriesStats // group series per id (nil when no group)
	flows            []*seriesStats // timed flow series per flow index (flows.go)
	flowList         []*seriesStats // each flow series once, by name
	ivTotal          results.IntervalStats
	ivQuota          *results.Quota // the interval's rate-limit quota, nil until a response reports one
	ivStart          time.Duration
	timeline         []results.Interval
	// coarse appends to the timeline, merging old intervals into coarser
	// ones so that a run of a day keeps ~2400 intervals, not 86400.
	coarse   *results.TimelineCoarsener
	lastSent uint64 // arrivals sent at the previous snapshot
	ivSent   uint64 // arrivals sent when the interval started
	lastCPU  cpuUse // the process's CPU time then
	// steal follows the hypervisor's steal of the CPUs the process may
	// run on (nil where it cannot be read).
	steal          *stealMeter
	lastCheckpoint time.Time
	// checkpointer holds the one checkpointer while no checkpoint is being
	// written; a checkpoint goroutine takes it and puts it back.
	checkpointer chan *checkpointer
	// checkpointErr is the last checkpoint's error, nil after a success.
	checkpointErr atomic.Pointer[error]
	// enc encodes every histogram the collector freezes (timeline,
	// checkpoints, results in progress). Kept for the run rather than taken
	// from encoderPool: a collection empties the pool, and the next encoding
	// would make a new zlib state of ~1.2 MiB.
	enc *results.Encoder

	// deltas is the interval state of delta observers (nil without one);
	// lastIters the per-flow iteration counts of the previous snapshot.
	deltas    *deltas
	lastIters []uint64
	// runID is the run's id for snapshots, computed at the first one.
	runID string

	currentReq chan chan *results.Result
	finishReq  chan finishRequest
	finished   chan struct{} // closed when final is set
	final      *results.Result
}

type finishRequest struct {
	reason string
	reply  chan *results.Result
}

func newRecorder(cfg recorderConfig, workers int) *recorder {
	rec := &recorder{
		cfg:            cfg,
		shard:          newShardSchedule(cfg.plan.Shard),
		kick:           make(chan struct{}, 1),
		ids:            map[seriesKey]int32{},
		groupCount:     map[string]int{},
		errSamples:     map[ErrorKind]string{},
		notSentSamples: map[NotSentReason]string{},
		names:          map[string]*seriesStats{},
		groups:         map[seriesKey]*seriesStats{},
		ivTotal:        results.IntervalStats{Latency: results.NewHistogram(), SendLag: results.NewHistogram()},
		currentReq:     make(chan chan *results.Result),
		finishReq:      make(chan finishRequest),
		checkpointer:   make(chan *checkpointer, 1),
		finished:       make(chan struct{}),
	}
	rec.total = results.NewStats("", "")
	rec.warmTotal = rec.newWarmStats("", "")
	rec.enc = results.NewEncoder()
	rec.coarse = results.NewTimelineCoarsener(cfg.interval, rec.enc)
	rec.checkpointer <- rec.newCheckpointer()
	rec.addFn = rec.add
	rec.steal = newStealMeter(procStealReader())
	rec.newFlowSeries()
	if wantsDeltas(cfg.observers) {
		rec.deltas = &deltas{}
		rec.lastIters = make([]uint64, len(cfg.counts.iterations))
	}
	size := ringSize(workers)
	rec.dirty = make([]atomic.Uint64, (workers+63)/64)
	for i := 0; i < workers; i++ {
		rec.buffers = append(rec.buffers, newSampleBuffer(size, rec.kick, &rec.dirty[i/64], 1<<(i%64)))
	}
	return rec
}

// loop collects samples until finish is called.
func (rec *recorder) loop() {
	tick := time.NewTicker(rec.cfg.interval)
	defer tick.Stop()
	for {
		select {
		case <-rec.kick:
			rec.drainDirty()
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
// yields: ~25 µs of work in a run at 10k/s (pieces of 256 samples lasted
// p50 24 µs, p90 39 µs in an execution trace; BenchmarkCollectSample's
// warm loop makes a sample cost 59 ns).
const drainPiece = 256

// drainPieceDeltas is drainPiece when the collector records a delta
// observer's histograms too: three sparse-histogram records and a status
// count per sample. With hdrhistogram-go's packed histograms they made a
// sample cost ~3.5× as much in a run (pieces of 256 lasted p50 84–88 µs,
// p90 114–132 µs, where arrivals are 100 µs apart), hence pieces of 64;
// with paged sparse histograms (results.SparseHistogram) pieces of 64 last
// p50 10–14 µs, p90 16–30 µs (execution traces of runs at 10k/s with a
// scrape and with OTLP, 2026-12-03), a sample ~1.3× one without deltas.
// The pieces stay short: a yield costs ~0.2 µs, 160 of them a second.
const drainPieceDeltas = 64

// piece is how many samples the collector records between two yields:
// drainPiece, or drainPieceDeltas when it records deltas too.
func (rec *recorder) piece() int {
	if rec.deltas != nil {
		return drainPieceDeltas
	}
	return drainPiece
}

// drain collects every sample the workers have published, yielding the
// processor every rec.piece() samples. Workers wake the collector every half
// ring, so at moderate rates a whole second of samples (10000 at 10k/s)
// waits for the tick; recorded in one go they held the only processor for
// 1–2.5 ms (seen in an execution trace), and every arrival due meanwhile
// went out late.
func (rec *recorder) drain() {
	budget := rec.piece()
	for _, b := range rec.buffers {
		budget = rec.drainRing(b, budget)
	}
}

// drainDirty drains the rings whose bits are set in rec.dirty. A worker
// sets its bit after publishing its samples and before waking the
// collector, so a bit cleared here was set for samples this drain sees,
// and one set after the swap comes with a wake-up of its own.
func (rec *recorder) drainDirty() {
	budget := rec.piece()
	for w := range rec.dirty {
		for set := rec.dirty[w].Swap(0); set != 0; set &= set - 1 {
			budget = rec.drainRing(rec.buffers[w*64+bits.TrailingZeros64(set)], budget)
		}
	}
}

// drainRing records ring b's samples, yielding every rec.piece() of them,
// and returns what is left of the piece.
func (rec *recorder) drainRing(b *sampleBuffer, budget int) int {
	for {
		budget -= b.consume(rec.addFn, budget)
		if budget > 0 {
			return budget // this ring is empty
		}
		yield()
		budget = rec.piece()
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
