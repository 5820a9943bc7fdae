package loadgen

import (
	"context"
	"fmt"
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

// waitForStart sets the start of the schedule: now, or the start instant
// after opening the clients' connections and waiting for it.
func (r *Runner) waitForStart(ctx context.Context, clients []Client) error {
	now := time.Now()
	r.start, r.actualStart = now, now
	if r.startAt.IsZero() {
		return nil
	}
	wait := r.startAt.Sub(now)
	if -wait > r.startGrace {
		return &LateStartError{At: r.startAt, Late: -wait, Grace: r.startGrace}
	}
	// now.Add keeps now's monotonic reading: the schedule counts from the
	// instant on the monotonic clock, whatever the wall clock does later.
	r.start = now.Add(wait)
	r.connect(ctx, clients)
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

// connect opens the clients' connections to the target while the run waits
// for its start instant, so that the first arrivals after it do not pay for
// name resolution, TCP and TLS set-up that a process waiting for an instant
// can do ahead. It gives up at the instant and at the first failure: the
// requests then dial themselves and report what goes wrong.
func (r *Runner) connect(ctx context.Context, clients []Client) {
	ctx, cancel := context.WithDeadline(ctx, r.start)
	defer cancel()
	for _, c := range clients {
		cc, ok := c.(connector)
		if !ok || cc.connect(ctx, r.plan.Target) != nil {
			return
		}
	}
}
