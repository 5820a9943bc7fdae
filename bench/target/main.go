// Command target is the minimal HTTP server the benchmark script loads: a
// fixed delay per request, an optional periodic stall (the textbook setup
// for measuring coordinated omission), and a server-side request counter
// that is the ground truth every client's figures are checked against.
//
//	target --addr 127.0.0.1:8090 --stall-every 5s --stall-for 500ms
//
// Every request that arrives while a stall window is open waits until the
// window closes, then for --delay, then gets "ok". Windows open at
// k·stall-every after the server starts (k ≥ 0) and last stall-for, so any
// run of whole periods meets the same total stall time whatever its phase.
// GET /count answers the number of requests served so far (not counting
// /count itself); the total is also printed when the server exits on
// SIGINT or SIGTERM.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strconv"
	"sync/atomic"
	"syscall"
	"time"
)

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintf(os.Stderr, "target: %v\n", err)
		os.Exit(1)
	}
}

// server holds the behaviour flags and the request counter.
type server struct {
	start      time.Time
	delay      time.Duration
	stallEvery time.Duration
	stallFor   time.Duration
	count      atomic.Uint64
}

// stallLeft returns how long a request arriving at now must wait for the
// current stall window to close (zero outside every window).
func (s *server) stallLeft(now time.Time) time.Duration {
	if s.stallEvery <= 0 || s.stallFor <= 0 {
		return 0
	}
	el := now.Sub(s.start)
	if el < 0 {
		return 0
	}
	phase := el % s.stallEvery
	if phase >= s.stallFor {
		return 0
	}
	return s.stallFor - phase
}

func (s *server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path == "/count" {
		w.Header().Set("Content-Type", "text/plain")
		_, _ = w.Write(strconv.AppendUint(nil, s.count.Load(), 10))
		return
	}
	s.count.Add(1)
	if d := s.stallLeft(time.Now()) + s.delay; d > 0 {
		t := time.NewTimer(d)
		select {
		case <-t.C:
		case <-r.Context().Done():
			t.Stop()
			return
		}
	}
	w.Header().Set("Content-Type", "text/plain")
	_, _ = w.Write([]byte("ok\n"))
}

func run(args []string) error {
	fs := flag.NewFlagSet("target", flag.ContinueOnError)
	addr := fs.String("addr", "127.0.0.1:8090", "listen `address` (loopback only)")
	s := &server{}
	fs.DurationVar(&s.delay, "delay", 0, "fixed delay before every response")
	fs.DurationVar(&s.stallEvery, "stall-every", 0, "period of the stall windows (0: never stall)")
	fs.DurationVar(&s.stallFor, "stall-for", 0, "length of each stall window")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if s.stallEvery > 0 && s.stallFor >= s.stallEvery {
		return fmt.Errorf("--stall-for %s must be shorter than --stall-every %s", s.stallFor, s.stallEvery)
	}
	host, _, err := net.SplitHostPort(*addr)
	if err != nil {
		return fmt.Errorf("--addr: %w", err)
	}
	if ip := net.ParseIP(host); host != "localhost" && (ip == nil || !ip.IsLoopback()) {
		return fmt.Errorf("--addr %s: listen on a loopback address only", *addr)
	}
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	s.start = time.Now()
	srv := &http.Server{Handler: s, ReadHeaderTimeout: 10 * time.Second}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	fmt.Fprintf(os.Stderr, "target: listening on http://%s\n", ln.Addr())
	select {
	case err := <-errc:
		return fmt.Errorf("serve: %w", err)
	case <-ctx.Done():
	}
	shut, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	if err := srv.Shutdown(shut); err != nil && !errors.Is(err, context.DeadlineExceeded) {
		return fmt.Errorf("shutdown: %w", err)
	}
	fmt.Printf("requests %d\n", s.count.Load())
	return nil
}
