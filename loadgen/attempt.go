package loadgen

import (
	"context"
	"fmt"
	"time"

	"github.com/tailgate-dev/tailgate/results"
)

// attempt is one request–response exchange of a step, before it is
// recorded: a step sends one, or several when it retries or polls.
type attempt struct {
	sent, done time.Time
	kind       ErrorKind
	status     int16
	notSent    NotSentReason // with status statusNotSent
	// err is the attempt's error, if any: the message kept for its kind.
	err error
}

// The flags of a sample.
const (
	// flagRetried marks an attempt answered with a retried status and
	// followed by another attempt: a request sent, neither a success nor
	// a failure.
	flagRetried uint8 = 1 << iota
	// flagAfterRetry marks the final attempt of a request that was
	// retried: the request is counted as retried once, on it.
	flagAfterRetry
)

// send sends w.req (or records that it could not be built, prepErr) and
// classifies the response by its status (and the step's expected
// statuses). first is the first attempt of
// the iteration's first step, which counts the arrival as sent.
func (w *worker) send(ctx context.Context, step Step, prepErr error, first, warm bool, intended time.Time) attempt {
	r := w.r
	w.res.Reset()
	a := attempt{sent: r.now()}
	if first {
		w.firstSent = a.sent
		r.sent.Add(1)
		if warm {
			r.sentWarm.Add(1)
		}
		r.noteSend(a.sent.Sub(r.start))
		// Like every other figure, late covers the measured part.
		if !warm && a.sent.Sub(intended) > results.LateThreshold {
			r.late.Add(1)
		}
	}
	if prepErr != nil {
		a.kind = Classify(prepErr)
		if a.kind == KindOther {
			a.kind = KindClient
		}
		a.status, a.notSent = statusNotSent, notSentReasonOf(prepErr)
		if w.seenNotSent&(1<<a.notSent) == 0 {
			w.seenNotSent |= 1 << a.notSent
			r.rec.noteNotSent(a.notSent, Redact(prepErr.Error(), r.plan.Redact))
		}
		a.done = r.now()
		return a
	}
	if err := w.client.Do(ctx, &w.req, &w.res); err != nil {
		a.kind, a.err = Classify(err), err
	} else {
		a.kind = statusKind(step, w.res.Status)
	}
	a.done = r.now()
	a.status = int16(w.res.Status)
	return a
}

// inspect runs the step's checks and captures on a response that
// succeeded; only the attempt that ends a step is inspected.
func (w *worker) inspect(step Step, a *attempt) {
	if a.kind != KindNone || a.status == statusNotSent {
		return
	}
	if err := step.Inspect(&w.it, &w.res); err != nil {
		a.kind = Classify(err)
		if a.kind == KindOther {
			a.kind = KindCapture
		}
		a.err = err
	}
}

// finish records the attempt as a sample of its request's series.
func (w *worker) finish(a *attempt, intended time.Time, warm bool, flags uint8) {
	r := w.r
	if a.err == nil && a.status != statusNotSent && a.kind != KindNone && w.seenKinds&(1<<a.kind) == 0 {
		a.err = fmt.Errorf("HTTP status %d", w.res.Status)
	}
	w.record(sample{
		series:   w.seriesOf(a.status),
		status:   a.status,
		kind:     a.kind,
		notSent:  a.notSent,
		flags:    flags,
		warmup:   warm,
		intended: intended.Sub(r.start),
		sent:     a.sent.Sub(r.start),
		done:     a.done.Sub(r.start),
		bytesIn:  w.res.BytesIn,
		bytesOut: w.res.BytesOut,
		check:    w.checkID(a.kind, a.err),
		quota:    packQuota(w.res.Quota),
	}, a.err)
}

// repeat runs a step that retries or polls: each attempt is recorded
// under the request, with its own intended time — when it was due, after
// the backoff or the poll interval — so its latency is as free of
// coordinated omission as a first attempt's, and a flow's latency covers
// every attempt and every wait. It returns when the last attempt finished
// and its kind, or zero and KindCanceled when the run stopped during a
// wait.
func (w *worker) repeat(ctx context.Context, step Step, rep *Repeat, first, warm bool, intended time.Time) (time.Time, ErrorKind) {
	rt, u := rep.Retry, rep.Until
	if rt != nil && rt.Backoff.Kind == BackoffRetryAfter {
		w.req.KeepHeaders = true
	}
	timeout := w.r.plan.Client.TimeoutOrDefault()
	polling := intended // the first poll's intended time
	retries := 0
	var firstSent time.Time // the first attempt of the current request
	for {
		a := w.send(ctx, step, nil, first, warm, intended)
		first = false
		if retries == 0 {
			firstSent = a.sent
		}
		var flags uint8
		if retries > 0 {
			flags = flagAfterRetry
		}
		if u != nil && u.Status != 0 && a.err == nil && int(a.status) == u.Status {
			a.kind = KindNone
		}
		// A retry waits as long as its backoff says, but only within the
		// request timeout from the request's first attempt: a wait that
		// would end later leaves the last response as the outcome.
		if rt != nil && a.err == nil && retries < rt.Max && rt.retries(int(a.status)) {
			wait := rt.Backoff.wait(retries+1, &w.res, a.done)
			if due := a.done.Add(wait); due.Sub(firstSent) <= timeout {
				w.finish(&a, intended, warm, flagRetried)
				if !w.pause(ctx, wait, w.r.stopped) {
					return time.Time{}, KindCanceled
				}
				retries++
				intended = due
				continue
			}
		}
		if u != nil && a.kind == KindNone && !u.Holds(&w.res) {
			// The last poll is due at the timeout at the latest; one
			// that ends there fails the iteration.
			deadline := polling.Add(u.Timeout)
			due := a.done.Add(u.Every)
			if due.After(deadline) {
				due = deadline
			}
			if !a.done.Before(deadline) {
				a.kind = KindTimeout
				a.err = &StepError{Kind: KindTimeout, Name: "until " + u.Describe, Err: fmt.Errorf("not met within %s", u.Timeout)}
				w.finish(&a, intended, warm, flags)
				return a.done, a.kind
			}
			w.finish(&a, intended, warm, flags)
			if !w.pause(ctx, due.Sub(a.done), w.r.stopped) {
				return time.Time{}, KindCanceled
			}
			retries = 0
			intended = due
			continue
		}
		w.inspect(step, &a)
		w.finish(&a, intended, warm, flags)
		return a.done, a.kind
	}
}

// pause sleeps d, and ends early, returning false, when ctx ends or stop
// closes. A think time passes a nil stop (it runs on while requests in
// flight drain); the wait between the attempts of a step passes the run's
// stopped channel: unlike a request in flight, nothing is lost by not
// waiting out a backoff.
func (w *worker) pause(ctx context.Context, d time.Duration, stop <-chan struct{}) bool {
	if w.timer == nil {
		w.timer = time.NewTimer(d)
	} else {
		w.timer.Reset(d)
	}
	select {
	case <-w.timer.C:
		return true
	case <-ctx.Done():
	case <-stop:
	}
	w.timer.Stop()
	return false
}
