package metrics

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// ListenAddr resolves a --metrics-addr value: ":PORT" binds the loopback
// address (metrics of a load test are not for the whole network unless
// someone says so), "HOST:PORT" binds HOST. It reports whether the address
// is loopback, so the caller can print one that is not.
func ListenAddr(addr string) (hostPort string, loopback bool, err error) {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return "", false, fmt.Errorf("%q: want HOST:PORT or :PORT", addr)
	}
	if n, err := strconv.ParseUint(port, 10, 16); err != nil || (n == 0 && port != "0") {
		return "", false, fmt.Errorf("%q: port %q is not a number in 0–65535", addr, port)
	}
	if host == "" {
		host = "127.0.0.1"
	}
	if host == "localhost" {
		return net.JoinHostPort(host, port), true, nil
	}
	ip := net.ParseIP(host)
	return net.JoinHostPort(host, port), ip != nil && ip.IsLoopback(), nil
}

// Server serves /metrics for an exporter.
type Server struct {
	ln   net.Listener
	srv  *http.Server
	done chan error
}

// Listen binds addr (see ListenAddr) at once, so a taken or malformed
// address fails before any load is sent, and serves the exporter's metrics
// on /metrics from then on.
func Listen(addr string, e *Exporter) (*Server, error) {
	hostPort, _, err := ListenAddr(addr)
	if err != nil {
		return nil, err
	}
	ln, err := net.Listen("tcp", hostPort)
	if err != nil {
		return nil, fmt.Errorf("listen: %w", err)
	}
	reg := prometheus.NewRegistry()
	if err := reg.Register(e.Collector()); err != nil {
		ln.Close()
		return nil, fmt.Errorf("register metrics: %w", err)
	}
	mux := http.NewServeMux()
	mux.Handle("/metrics", handler(reg))
	s := &Server{ln: ln, done: make(chan error, 1), srv: &http.Server{
		Handler:           mux,
		ReadHeaderTimeout: 10 * time.Second,
	}}
	go func() { s.done <- s.srv.Serve(ln) }()
	return s, nil
}

// handler serves reg's metrics in the format the scraper asks for,
// uncompressed: a scrape is 4–10 KiB (a few series), and gzipping it took
// half of the 280 µs a scrape held tailgate's processor, plus a compressor
// to allocate and collect (BenchmarkScrape).
func handler(reg *prometheus.Registry) http.Handler {
	return promhttp.HandlerFor(reg, promhttp.HandlerOpts{DisableCompression: true})
}

// Addr is the address the server listens on.
func (s *Server) Addr() net.Addr { return s.ln.Addr() }

// Close stops serving, letting scrapes in progress finish until ctx ends.
func (s *Server) Close(ctx context.Context) error {
	err := s.srv.Shutdown(ctx)
	if serveErr := <-s.done; !errors.Is(serveErr, http.ErrServerClosed) && err == nil {
		err = serveErr
	}
	if err != nil {
		return fmt.Errorf("metrics server: %w", err)
	}
	return nil
}
