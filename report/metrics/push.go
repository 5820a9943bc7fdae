package metrics

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"sync"
	"time"

	"github.com/prometheus/client_golang/exp/api/remote"
	"github.com/prometheus/client_golang/prometheus"
)

// pushTimeout bounds one push, retries included: a slow receiver must not
// hold pushes back for longer than a few intervals.
const pushTimeout = 5 * time.Second

// Pusher sends an exporter's metrics to a Prometheus remote-write receiver
// after every snapshot and once more at the end, so that short runs and
// Job pods that end between two scrapes lose nothing. Every push carries
// the cumulative state, so a failed push loses no counts: the next one
// that succeeds has them. Failures never stop the run; Err says what went
// wrong.
type Pusher struct {
	url  string
	api  *remote.API
	e    *Exporter
	reg  *prometheus.Registry
	wake chan struct{}
	stop chan struct{}
	done chan struct{}

	mu       sync.Mutex
	pushedAt time.Time // snapshot time of the last successful push
	lastErr  error
	failures int
	pushes   int
}

// NewPusher returns a pusher to the remote-write URL (for Prometheus,
// http://HOST:9090/api/v1/write) and starts it.
func NewPusher(rawURL string, e *Exporter) (*Pusher, error) {
	u, err := url.Parse(rawURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("%q: want an http:// or https:// URL", rawURL)
	}
	api, err := remote.NewAPI(rawURL, remote.WithAPIPath(""),
		remote.WithAPIHTTPClient(&http.Client{Timeout: pushTimeout}),
		remote.WithAPIBackoff(remote.BackoffConfig{Min: 200 * time.Millisecond, Max: time.Second, MaxRetries: 2}))
	if err != nil {
		return nil, fmt.Errorf("remote write %s: %w", rawURL, err)
	}
	reg := prometheus.NewRegistry()
	if err := reg.Register(e.Collector()); err != nil {
		return nil, fmt.Errorf("register metrics: %w", err)
	}
	p := &Pusher{url: rawURL, api: api, e: e, reg: reg,
		wake: make(chan struct{}, 1), stop: make(chan struct{}), done: make(chan struct{})}
	e.Notify(p.wake)
	go p.loop()
	return p, nil
}

func (p *Pusher) loop() {
	defer close(p.done)
	for {
		select {
		case <-p.wake:
			p.push()
		case <-p.stop:
			return
		}
	}
}

// push sends the current state unless there is none yet or it was sent
// already.
func (p *Pusher) push() {
	p.e.mu.Lock()
	at := p.e.last
	p.e.mu.Unlock()
	p.mu.Lock()
	sent := at.IsZero() || at.Equal(p.pushedAt)
	p.mu.Unlock()
	if sent {
		return
	}
	err := p.pushAt(at)
	p.mu.Lock()
	defer p.mu.Unlock()
	p.pushes++
	if err != nil {
		p.failures++
		p.lastErr = err
		return
	}
	p.pushedAt, p.lastErr = at, nil
}

func (p *Pusher) pushAt(at time.Time) error {
	mfs, err := p.reg.Gather()
	if err != nil {
		return fmt.Errorf("gather metrics: %w", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), pushTimeout)
	defer cancel()
	if _, err := p.api.Write(ctx, remote.WriteV1MessageType, encodeWriteRequest(mfs, at)); err != nil {
		return fmt.Errorf("remote write to %s: %w", p.url, err)
	}
	return nil
}

// Err returns why the last push failed, "" when it succeeded or none was
// made.
func (p *Pusher) Err() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.lastErr == nil {
		return ""
	}
	return p.lastErr.Error()
}

// Close pushes the final state (once more if the last push failed) and
// stops the pusher. It returns an error saying how many pushes failed, if
// any did, and the last error when the final push failed too.
func (p *Pusher) Close() error {
	close(p.stop)
	<-p.done
	p.push()
	p.mu.Lock()
	defer p.mu.Unlock()
	switch {
	case p.lastErr != nil:
		return fmt.Errorf("%d of %d metrics pushes failed, the final one too: %w", p.failures, p.pushes, p.lastErr)
	case p.failures > 0:
		return fmt.Errorf("%d of %d metrics pushes failed; the final one succeeded, so the receiver has the final values", p.failures, p.pushes)
	}
	return nil
}
