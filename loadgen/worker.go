package loadgen

import (
	"context"
	"math/rand/v2"
	"time"
)

// worker runs flow iterations with its own client, request and recorder
// buffer, so the hot path shares nothing but atomics.
type worker struct {
	r      *Runner
	client Client
	buf    *sampleBuffer
	it     Iteration
	req    Request
	res    Response
	// hdrBuf and bodyBuf are the worker's own request buffers, reused by
	// steps that build requests per iteration.
	hdrBuf  []Header
	bodyBuf []byte
	series  map[seriesKey]int32 // nil until a second series (see lookupSeries)
	resp    respCache           // the series of requests grouped by response
	checks  map[string]uint16
	lastKey seriesKey // the series of the previous request, and its id
	lastID  int32     // (-1: none yet)
	timer   *time.Timer
	// seenKinds has bit k set once this worker reported a message for
	// error kind k, seenNotSent bit r for not-sent reason r.
	seenKinds   uint32
	seenNotSent uint8
	// The iteration's first send and the bytes of its steps so far, for
	// the flow's sample.
	firstSent             time.Time
	itBytesIn, itBytesOut int64
}

func (r *Runner) newWorker(id int, c Client) *worker {
	w := &worker{
		r: r, client: c,
		buf:    r.rec.buffers[id],
		lastID: -1,
	}
	w.it.Worker = id
	w.it.Rand = rand.New(rand.NewPCG(uint64(id)+1, uint64(r.start.UnixNano())))
	w.it.Vars = make(map[string]string)
	return w
}

// splitmix64 scatters arrival numbers so the weighted flow choice is
// deterministic per arrival (identical across shards) yet well mixed.
func splitmix64(x uint64) uint64 {
	x += 0x9e3779b97f4a7c15
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9
	x = (x ^ (x >> 27)) * 0x94d049bb133111eb
	return x ^ (x >> 31)
}

// statusNotSent is the status of a sample whose request was never sent
// because it could not be built: it is counted as not sent, never as a
// request with a latency.
const statusNotSent int16 = -1

// iterate runs one flow iteration and returns when its last request
// finished (zero if it ended in a canceled think time).
func (w *worker) iterate(ctx context.Context, seq uint64, intended time.Time) time.Time {
	r := w.r
	fi := r.flowPick[splitmix64(seq)%uint64(len(r.flowPick))]
	defer r.iterations[fi].n.Add(1)
	warm := r.plan.Warmup > 0 && intended.Sub(r.start) < r.plan.Warmup
	flow := &r.plan.Flows[fi]
	w.itBytesIn, w.itBytesOut = 0, 0
	end, kind := w.runFlow(ctx, flow, seq, intended, warm)
	aborted := end.IsZero() || kind == KindCanceled || (kind != KindNone && ctx.Err() != nil)
	if !warm {
		switch {
		case aborted:
			r.itAborted.Add(1)
		case kind != KindNone:
			r.itFailed.Add(1)
		default:
			r.itCompleted.Add(1)
		}
	}
	if flow.Timed && !aborted {
		// One sample for the whole iteration, from the arrival's
		// intended time: an aborted one has no end to measure.
		w.buf.add(sample{
			series: flowSeries(fi), kind: kind, warmup: warm,
			intended: intended.Sub(r.start), sent: w.firstSent.Sub(r.start), done: end.Sub(r.start),
			bytesIn: w.itBytesIn, bytesOut: w.itBytesOut,
		})
	}
	return end
}

// flowSeries is the series id of flow i's samples: ids below zero are
// flows, so a sample stays as small as it was.
func flowSeries(i int) int32 { return -1 - int32(i) }

// runFlow runs the steps of the arrival's flow and returns when the last
// request finished (zero if a think time or a backoff was cut short) and
// the kind of the error that ended the iteration (KindNone when every step
// passed). A step that retries or polls runs its attempts in repeat
// (attempt.go); any other sends exactly one request, as cheaply as before.
func (w *worker) runFlow(ctx context.Context, flow *Flow, seq uint64, intended time.Time, warm bool) (time.Time, ErrorKind) {
	r := w.r
	w.it.Seq = seq
	w.it.Intended = intended
	clear(w.it.Vars)
	for i, step := range flow.Steps {
		w.req = Request{Header: w.hdrBuf[:0], Body: w.bodyBuf[:0]}
		err := step.Prepare(&w.it, &w.req)
		if _, static := step.(*StaticStep); !static {
			// Keep what the step grew for the next iteration; a static
			// step's slices are shared and must never be appended to.
			w.hdrBuf, w.bodyBuf = w.req.Header[:0], w.req.Body[:0]
		}
		if w.req.Name == "" {
			w.req.Name = flow.Name
		}
		var rep *Repeat
		if rp, ok := step.(Repeater); ok && err == nil {
			rep = rp.Repeat()
		}
		var done time.Time
		var kind ErrorKind
		if rep == nil {
			a := w.send(ctx, step, err, i == 0, warm, intended)
			w.inspect(step, &a)
			w.finish(&a, intended, warm, 0)
			done, kind = a.done, a.kind
		} else if done, kind = w.repeat(ctx, step, rep, i == 0, warm, intended); done.IsZero() {
			return done, kind
		}
		if kind != KindNone || i == len(flow.Steps)-1 {
			return done, kind
		}
		// The next step is intended right after this one, or after the
		// think time.
		intended = done
		if th, ok := step.(Thinker); ok {
			if d := th.ThinkTime(&w.it); d > 0 {
				if !w.pause(ctx, d, nil) {
					return time.Time{}, KindCanceled
				}
				intended = r.now()
			}
		}
	}
	return r.now(), KindNone
}

// seriesOf returns the series of the request just finished: its name and
// tag group, and for a request grouped by response, its response's value.
func (w *worker) seriesOf(status int16) int32 {
	if g := w.req.GroupBy; g != nil {
		return w.respSeriesID(g, status)
	}
	return w.seriesID(w.req.Name, w.req.Group)
}

func (w *worker) seriesID(name, group string) int32 {
	// Most flows send one request name over and over: skip hashing it.
	if w.lastID >= 0 && name == w.lastKey.name && group == w.lastKey.group {
		return w.lastID
	}
	id := w.lookupSeries(name, group)
	w.lastKey, w.lastID = seriesKey{name, group}, id
	return id
}

func (w *worker) lookupSeries(name, group string) int32 {
	k := seriesKey{name, group}
	if id, ok := w.series[k]; ok {
		return id
	}
	id, folded := w.r.rec.registerSeries(k)
	// The first series lives in lastKey alone: most workers send one, and
	// a map each was 1.7 MiB at 5000 connections. A worker that sees a
	// second one maps the first too when it comes back (registering a
	// series again returns its id).
	if !folded && w.lastID >= 0 {
		if w.series == nil {
			w.series = make(map[seriesKey]int32)
		}
		w.series[k] = id
	}
	return id
}

func (w *worker) record(s sample, err error) {
	// Only the first message of each kind is kept, so a worker reports
	// each kind once: a failing target costs no lock and no formatting
	// per request.
	if err != nil && w.seenKinds&(1<<s.kind) == 0 {
		w.seenKinds |= 1 << s.kind
		w.r.rec.noteError(s.kind, Redact(err.Error(), w.r.plan.Redact))
	}
	w.itBytesIn += s.bytesIn
	w.itBytesOut += s.bytesOut
	w.buf.add(s)
}
