package loadgen

import (
	"context"
	"fmt"
	"os"
	"time"
)

// loopEngine runs a whole plan on one goroutine that owns every socket (the
// socket loop, sockloop_linux.go) instead of a goroutine per connection:
// the shape of wrk and wrk2, for the plans it can run exactly as the
// goroutine engine would (socketLoopRuns).
type loopEngine interface {
	// connect opens the connections before the first arrival, giving up
	// at until when it is not zero.
	connect(ctx context.Context, until time.Time)
	// run sends the plan's requests until it is done or ctx ends; the
	// requests still in flight then end when abort does.
	run(ctx, abort context.Context)
	// close closes the connections.
	close()
}

// socketLoopEnv turns the socket loop off when set to "off" ("on", or
// unset, is the default): every plan then runs on the goroutine engine
// (for A/B measurements, and as a way out should the loop misbehave
// somewhere).
const socketLoopEnv = "TAILGATE_SOCKET_LOOP"

// socketLoopOff reads socketLoopEnv; any other value is an error, so that
// an A/B with a mistyped value does not measure one engine twice.
func socketLoopOff() (bool, error) {
	switch v := os.Getenv(socketLoopEnv); v {
	case "", "on":
		return false, nil
	case "off":
		return true, nil
	default:
		return false, fmt.Errorf("%s=%q: want on or off", socketLoopEnv, v)
	}
}

// socketLoopRuns reports whether the socket loop runs r's plan: plain
// HTTP/1.1 with keep-alive and the run's own transport, on the system
// clock, one flow of one static request that keeps nothing of its response
// (no checks, captures, response grouping or redirects), a body that fits
// one write, and no think time. Everything else needs what only a worker
// of its own can do and runs on the goroutine engine.
func (r *Runner) socketLoopRuns() (*StaticStep, h1Target, bool) {
	p := &r.plan
	if off, _ := socketLoopOff(); off || r.clock != SystemClock || p.Transport != nil ||
		p.Client.HTTP2 || p.Client.FollowRedirects > 0 || p.Client.DisableKeepAlive ||
		len(p.Flows) != 1 || len(p.Flows[0].Steps) != 1 || p.Flows[0].Timed || p.Think > 0 {
		return nil, h1Target{}, false
	}
	step, ok := p.Flows[0].Steps[0].(*StaticStep)
	if !ok {
		return nil, h1Target{}, false
	}
	req := &step.Request
	if req.KeepBody > 0 || req.KeepHeaders || req.GroupBy != nil || len(req.Body) > h1InlineBody {
		return nil, h1Target{}, false
	}
	t, err := splitURL(req.URL)
	if err != nil || t.tls {
		// A URL the client refuses is reported by the goroutine engine,
		// request by request, as it always was.
		return nil, h1Target{}, false
	}
	return step, t, true
}
