package metrics

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"time"

	"github.com/prometheus/client_golang/exp/api/remote"
	"github.com/prometheus/client_golang/prometheus"
)

// Pusher sends an exporter's metrics to a Prometheus remote-write receiver
// after every snapshot and once more at the end, so that short runs and
// Job pods that end between two scrapes lose nothing. Every push carries
// the cumulative state, so a failed push loses no counts: the next one
// that succeeds has them. Failures never stop the run; Err says what went
// wrong.
type Pusher struct {
	*sender
	url string
	api *remote.API
	reg *prometheus.Registry
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
	p := &Pusher{url: rawURL, api: api, reg: reg}
	p.sender = newSender(e, "metrics pushes", p.pushAt)
	return p, nil
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

// Close pushes the final state (once more if the last push failed) and
// stops the pusher. It returns an error saying how many pushes failed, if
// any did, and the last error when the final push failed too.
func (p *Pusher) Close() error { return p.sender.close() }
