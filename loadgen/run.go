package loadgen

import (
	"context"
	"errors"
	"fmt"
	"os"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/tailgate-dev/tailgate/results"
)

// Version is the tool version written into results metadata.
var Version = "0.1.0-dev"

// DefaultConnections is the connection (and HTTP/1.1 worker) count when a
// plan sets none.
const DefaultConnections = 64

// Option configures a Runner.
type Option func(*Runner)

// WithObserver adds an observer of interval snapshots.
func WithObserver(o Observer) Option {
	return func(r *Runner) { r.observers = append(r.observers, o) }
}

// WithInterval sets the timeline and snapshot interval (default 1s).
func WithInterval(d time.Duration) Option {
	return func(r *Runner) {
		if d > 0 {
			r.interval = d
		}
	}
}

// WithCheckpoint makes the run write its results so far to path every
// period (default 2s), atomically, so a killed process leaves a readable
// partial result. It is WithCheckpointSink with the results file writer,
// which reuses one checkpoint's buffers for the next.
func WithCheckpoint(path string, every time.Duration) Option {
	return func(r *Runner) {
		r.checkpointPath, r.checkpointSink = path, nil
		if every > 0 {
			r.checkpointEvery = every
		}
	}
}

// WithCheckpointSink hands the results so far, marked partial, to sink
// every period (default 2s). Calls come from a goroutine of their own, one
// at a time: a slow sink delays the next checkpoint, never the run. The
// Result is the sink's to keep. A failed call is reported in the next
// snapshots (results.Snapshot.CheckpointError) until one succeeds. The
// last of WithCheckpoint and WithCheckpointSink applies.
func WithCheckpointSink(sink func(*results.Result) error, every time.Duration) Option {
	return func(r *Runner) {
		r.checkpointPath, r.checkpointSink = "", sink
		if every > 0 {
			r.checkpointEvery = every
		}
	}
}

// Clock says which clock a run's time comes from, and so how its scheduler
// may wait for an arrival's intended time.
type Clock int

const (
	// SystemClock is the machine's clock, the default. The scheduler waits
	// for each arrival with a kernel timer and a short spin as well as a
	// time.Timer, to send it within microseconds of its intended time
	// (wait.go).
	SystemClock Clock = iota
	// FakeClock is a clock that only the time package follows, such as
	// testing/synctest's, which moves only while every goroutine is
	// blocked. The scheduler waits with time.Timer alone: a spin would
	// never see such a clock move, and a kernel timer follows the real one.
	FakeClock
)

// WithClock tells the run which clock its time comes from (default
// SystemClock).
func WithClock(c Clock) Option {
	return func(r *Runner) { r.clock = c }
}

// Runner runs one plan. Use NewRunner and Run, or the Run shortcut.
type Runner struct {
	plan            Plan
	observers       []Observer
	interval        time.Duration
	checkpointPath  string
	checkpointSink  func(*results.Result) error
	checkpointEvery time.Duration
	clock           Clock
	startAt         time.Time
	startGrace      time.Duration
	actualStart     time.Time // when the scheduler began after waiting for startAt

	ownTransport bool
	rec          *recorder
	start        time.Time
	started      atomic.Bool

	runCounters
	stopping atomic.Bool
	// stopped is the run's own context's Done: a retry's backoff or a
	// poll's wait ends on it at once, where requests in flight get the
	// request timeout to finish.
	stopped <-chan struct{}

	flowPick []int // weighted flow table, indexed by hash(seq) mod len
}

// Run runs the plan until it completes or ctx is canceled, and returns what
// it measured. A canceled run still returns its result (marked partial)
// together with ctx's error.
func Run(ctx context.Context, plan Plan, opts ...Option) (*results.Result, error) {
	r, err := NewRunner(plan, opts...)
	if err != nil {
		return nil, err
	}
	return r.Run(ctx)
}

// NewRunner validates the plan and prepares a run.
func NewRunner(plan Plan, opts ...Option) (*Runner, error) {
	if err := plan.Validate(); err != nil {
		return nil, fmt.Errorf("plan: %w", err)
	}
	if _, err := socketLoopOff(); err != nil {
		return nil, err
	}
	r := &Runner{plan: plan, interval: time.Second, checkpointEvery: 2 * time.Second}
	for _, o := range opts {
		o(r)
	}
	if r.plan.Connections == 0 {
		r.plan.Connections = DefaultConnections
	}
	if r.plan.Client.Connections == 0 {
		r.plan.Client.Connections = r.plan.Connections
	}
	if r.plan.Client.HTTP2 {
		if r.plan.Streams == 0 {
			// Every VU of a closed-model run gets a stream; an open-model
			// run has one worker per stream.
			r.plan.Streams = 1
			if r.plan.Model() == results.ClosedModel {
				r.plan.Streams = (r.plan.VUs + r.plan.Connections - 1) / r.plan.Connections
			}
		}
		if r.plan.Client.Streams == 0 {
			r.plan.Client.Streams = r.plan.Streams
		}
	}
	if r.plan.MaxInFlight == 0 {
		r.plan.MaxInFlight = 10 * r.concurrency()
	}
	if r.plan.Overload == "" {
		r.plan.Overload = OverloadQueue
	}
	if r.plan.Transport == nil {
		// Each HTTP/1.1 worker holds a connection; HTTP/2 workers share
		// Connections of them.
		need := r.workers()
		if r.plan.Client.HTTP2 {
			need = min(need, r.plan.Connections)
		}
		if err := ensureDescriptors(need); err != nil {
			return nil, err
		}
	}
	r.iterations = make([]flowCounter, len(r.plan.Flows))
	for i, f := range r.plan.Flows {
		for j := 0; j < f.Weight; j++ {
			r.flowPick = append(r.flowPick, i)
		}
	}
	return r, nil
}

// workers is the number of workers, each with its own client: one per VU
// in the closed model, one per connection (HTTP/2: per stream of every
// connection), at most --max-in-flight, in the open one.
func (r *Runner) workers() int {
	if r.plan.Model() == results.ClosedModel {
		return r.plan.VUs
	}
	return min(r.concurrency(), r.plan.MaxInFlight)
}

// concurrency is how many requests the connections carry at once.
func (r *Runner) concurrency() int {
	return r.plan.Connections * max(r.plan.Streams, 1)
}

// Current returns a copy of everything measured so far, marked partial. It is
// safe to call from any goroutine while the run is going (for example on a
// second Ctrl-C, to write what was measured before exiting).
func (r *Runner) Current() *results.Result {
	if !r.started.Load() || r.rec == nil {
		return nil
	}
	return r.rec.current()
}

// Run runs the plan. See the package-level Run.
func (r *Runner) Run(ctx context.Context) (*results.Result, error) {
	if r.started.Swap(true) {
		return nil, errors.New("runner already used")
	}
	// The socket loop runs the plans it can (sockloop.go); its own
	// connections replace the transport's clients.
	var loop loopEngine
	if r.plan.Transport == nil {
		loop = newLoopEngine(ctx, r)
	}
	var clients []Client
	workers := 1 // the loop records into one ring
	var connect func(ctx context.Context, until time.Time)
	if loop != nil {
		defer loop.close()
		connect = loop.connect
		r.socketLoop = true
	} else {
		var err error
		var closeTransport func()
		clients, closeTransport, err = r.newClients()
		if err != nil {
			return nil, err
		}
		defer closeTransport()
		workers = len(clients)
		connect = func(ctx context.Context, until time.Time) { r.connect(ctx, clients, until) }
	}
	if err := r.waitForStart(ctx, connect); err != nil {
		return nil, err
	}
	if loop == nil && r.plan.Model() == results.OpenModel {
		// Made before the collector starts: its snapshots read the
		// queue's length.
		r.tickets = make(chan ticket, max(r.plan.MaxInFlight-workers, 1))
	}
	r.cpuStart = processCPU()
	r.rec = newRecorder(recorderConfig{
		plan: &r.plan, start: r.start, startAt: r.startAt, actualStart: r.actualStart,
		interval: r.interval, observers: r.observers, counts: &r.runCounters,
		checkpointPath: r.checkpointPath, checkpointSink: r.checkpointSink, checkpointEvery: r.checkpointEvery,
	}, workers)
	recDone := make(chan struct{})
	go func() {
		r.rec.loop()
		close(recDone)
	}()

	// abort is canceled when in-flight requests must end: a request
	// timeout after the run was stopped, or at once when it finished.
	abortCtx, abort := context.WithCancel(context.Background())
	defer abort()
	r.stopped = ctx.Done()
	stopWatch := make(chan struct{})
	go func() {
		select {
		case <-ctx.Done():
			r.stopAt.Store(int64(max(time.Since(r.start), 1)))
			r.stopping.Store(true)
			t := time.NewTimer(r.plan.Client.TimeoutOrDefault())
			defer t.Stop()
			select {
			case <-t.C:
				abort()
			case <-stopWatch:
			}
		case <-stopWatch:
		}
	}()

	var wg sync.WaitGroup
	switch {
	case loop != nil:
		loop.run(ctx, abortCtx)
	case r.plan.Model() == results.OpenModel:
		r.runOpen(ctx, abortCtx, clients, &wg)
	default:
		r.runClosed(ctx, abortCtx, clients, &wg)
	}
	wg.Wait()
	close(stopWatch)

	reason := ""
	if ctx.Err() != nil {
		reason = "interrupted"
		if c := context.Cause(ctx); c != nil && !errors.Is(c, context.Canceled) {
			reason = c.Error()
		}
	}
	res := r.rec.finish(reason)
	<-recDone
	if ctx.Err() != nil {
		return res, ctx.Err()
	}
	return res, nil
}

// newClients makes a client per worker, from the plan's transport or one
// of the run's own, and returns them with what closes them all.
func (r *Runner) newClients() ([]Client, func(), error) {
	tr := r.plan.Transport
	if tr == nil {
		var err error
		tr, err = NewTransport(r.plan.Client)
		if err != nil {
			return nil, nil, fmt.Errorf("transport: %w", err)
		}
		r.ownTransport = true
	}
	clients := make([]Client, r.workers())
	closeAll := func() {
		for _, c := range clients {
			if c != nil {
				_ = c.Close()
			}
		}
		if r.ownTransport {
			_ = tr.Close()
		}
	}
	for i := range clients {
		c, err := tr.NewClient()
		if err != nil {
			closeAll()
			return nil, nil, fmt.Errorf("client: %w", err)
		}
		clients[i] = c
	}
	return clients, closeAll, nil
}

// ticket is one arrival handed from the scheduler to a worker.
type ticket struct {
	seq uint64
	due time.Time
}

func (r *Runner) runOpen(ctx, abortCtx context.Context, clients []Client, wg *sync.WaitGroup) {
	tickets := r.tickets
	for i, c := range clients {
		wg.Add(1)
		w := r.newWorker(i, c)
		go func() {
			defer wg.Done()
			for t := range tickets {
				if r.stopping.Load() {
					r.inFlight.Add(-1)
					continue
				}
				r.taken.Store(int64(t.due.Sub(r.start)))
				w.iterate(abortCtx, t.seq, t.due)
				r.inFlight.Add(-1)
			}
		}()
	}
	r.schedule(ctx, tickets)
	close(tickets)
}

// schedule hands every arrival of the plan to the workers at its intended
// time. It never blocks on a busy worker under the drop policy; under the
// queue policy it waits, and the wait shows up as send lag.
func (r *Runner) schedule(ctx context.Context, tickets chan<- ticket) {
	pacer := r.plan.Pacer
	shard := newShardSchedule(r.plan.Shard)
	w := newWaiter(r.clock == SystemClock)
	w.quantum = wakeQuantum
	defer w.close()
	done := ctx.Done()
	var maxSeen int64
	for k := uint64(0); ; k++ {
		i := shard.global(k)
		at, ok := pacer.Arrival(i)
		if !ok {
			return
		}
		due := r.start.Add(at)
		if !w.until(due, done) || ctx.Err() != nil {
			return
		}
		t := ticket{seq: i, due: due}
		n := r.inFlight.Add(1)
		select {
		case tickets <- t:
		default:
			if r.plan.Overload == OverloadDrop {
				r.inFlight.Add(-1)
				r.dropped.Add(1)
				r.issued.Add(1)
				continue
			}
			r.blocked.Store(true)
			select {
			case tickets <- t:
				r.blocked.Store(false)
			case <-done:
				r.blocked.Store(false)
				r.inFlight.Add(-1)
				return
			}
		}
		r.issued.Add(1)
		if n > maxSeen {
			maxSeen = n
			r.maxInFlight.Store(n)
		}
	}
}

func (r *Runner) runClosed(ctx, abortCtx context.Context, clients []Client, wg *sync.WaitGroup) {
	var iter atomic.Uint64
	var deadline time.Time
	if r.plan.Duration > 0 {
		// The warmup comes before the measured Duration.
		deadline = r.start.Add(r.plan.PlannedDuration())
	}
	for i, c := range clients {
		wg.Add(1)
		w := r.newWorker(i, c)
		go func() {
			defer wg.Done()
			var timer *time.Timer
			// next is when the next iteration starts: the instant the
			// previous one ended, which the worker has just read from the
			// clock, unless the VU paused to think since.
			var next time.Time
			for {
				if ctx.Err() != nil || r.stopping.Load() {
					return
				}
				now := next
				if now.IsZero() {
					now = r.now()
				}
				next = time.Time{}
				if !deadline.IsZero() && !now.Before(deadline) {
					return
				}
				seq := iter.Add(1) - 1
				if r.plan.Iterations > 0 && seq >= r.plan.Iterations {
					return
				}
				r.noteInFlight(r.inFlight.Add(1))
				r.issued.Add(1)
				end := w.iterate(abortCtx, seq, now)
				r.inFlight.Add(-1)
				if r.plan.Think <= 0 {
					next = end
				} else {
					if timer == nil {
						timer = time.NewTimer(r.plan.Think)
					} else {
						timer.Reset(r.plan.Think)
					}
					select {
					case <-timer.C:
					case <-ctx.Done():
						return
					}
				}
			}
		}()
	}
}

// noteSend moves lastSent forward to at.
func (r *Runner) noteSend(at time.Duration) {
	for {
		old := r.lastSent.Load()
		if int64(at) <= old || r.lastSent.CompareAndSwap(old, int64(at)) {
			return
		}
	}
}

// now reads the clock for the engine's timestamps with one read of the
// monotonic clock: the run's start plus the time since. time.Now reads the
// wall clock as well (two vDSO calls, ~10% of the engine's user time
// against nginx), and every time the engine keeps is an offset from the
// start anyway.
func (r *Runner) now() time.Time { return r.start.Add(time.Since(r.start)) }

// Redact replaces every secret value in s with "***".
func Redact(s string, secrets []string) string {
	for _, v := range secrets {
		if v != "" {
			s = strings.ReplaceAll(s, v, "***")
		}
	}
	return s
}

func hostname() string {
	h, err := os.Hostname()
	if err != nil {
		return "unknown"
	}
	return h
}

func goVersion() string { return runtime.Version() }
