package loadgen

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"time"
)

// WithStartAt makes the run wait for the instant at before its first
// arrival, once its transport and clients are ready, and count its schedule
// from that instant: processes started at different times (the shards of a
// distributed run) then send arrival k at one global time. A run that gets
// ready more than grace after the instant refuses to start and sends
// nothing (a *LateStartError): catching up would fire every missed arrival
// at once, a burst the plan never asked for.
func WithStartAt(at time.Time, grace time.Duration) Option {
	return func(r *Runner) { r.startAt, r.startGrace = at, grace }
}

// LateStartError is returned by a run that was ready only after its start
// instant plus the grace.
type LateStartError struct {
	At    time.Time     // the planned start instant
	Late  time.Duration // how long after the instant the run was ready
	Grace time.Duration
}

// Error implements error.
func (e *LateStartError) Error() string {
	return fmt.Sprintf("the start instant %s passed %s ago, more than the grace of %s: nothing was sent",
		e.At.UTC().Format(time.RFC3339Nano), e.Late.Round(time.Millisecond), e.Grace)
}

// waitForStart opens the connections with connect and sets the start of
// the schedule: the instant they are open, or the start instant after
// waiting for it.
func (r *Runner) waitForStart(ctx context.Context, connect func(ctx context.Context, until time.Time)) error {
	if r.startAt.IsZero() {
		connect(ctx, time.Time{})
		now := time.Now()
		r.start, r.actualStart = now, now
		return nil
	}
	now := time.Now()
	r.start, r.actualStart = now, now
	wait := r.startAt.Sub(now)
	if -wait > r.startGrace {
		return &LateStartError{At: r.startAt, Late: -wait, Grace: r.startGrace}
	}
	// now.Add keeps now's monotonic reading: the schedule counts from the
	// instant on the monotonic clock, whatever the wall clock does later.
	r.start = now.Add(wait)
	connect(ctx, r.start)
	if wait = time.Until(r.start); wait > 0 {
		t := time.NewTimer(wait)
		defer t.Stop()
		select {
		case <-t.C:
		case <-ctx.Done():
			return fmt.Errorf("stopped while waiting for the start instant: %w", context.Cause(ctx))
		}
	}
	r.actualStart = time.Now()
	return nil
}

// connector is a client that can open its connection before the first
// request: the raw HTTP/1.1 client, and the HTTP/2 client (its slot's
// connection).
type connector interface {
	connect(ctx context.Context, rawURL string) error
}

// connectors is how many goroutines open the clients' connections before a
// run; their stacks, grown by name resolution, the dialer and TLS, are
// freed when they are done.
const connectors = 64

// connect opens the clients' connections to the target before the first
// arrival, from a few goroutines, by until when it is not zero. Set-up
// (name resolution, TCP, TLS) then stays out of the measured run and off
// the workers' goroutines: a dial on a worker grew its stack to 8 KiB for
// the rest of the run, 39 of 112 MiB at 5000 connections. It gives up at
// the first failure, so an unreachable target costs one timeout, not one
// per connection: the requests then dial themselves and report what goes
// wrong.
func (r *Runner) connect(ctx context.Context, clients []Client, until time.Time) {
	cancel := func() {}
	if !until.IsZero() {
		ctx, cancel = context.WithDeadline(ctx, until)
	}
	defer cancel()
	var next atomic.Int64
	var failed atomic.Bool
	var wg sync.WaitGroup
	for range min(connectors, len(clients)) {
		wg.Go(func() {
			for !failed.Load() {
				i := next.Add(1) - 1
				if i >= int64(len(clients)) {
					return
				}
				cc, ok := clients[i].(connector)
				if !ok || cc.connect(ctx, r.plan.Target) != nil {
					failed.Store(true)
				}
			}
		})
	}
	wg.Wait()
}
