package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/spf13/pflag"
	"github.com/tailgate-dev/tailgate/internal/demo"
)

const serveDemoUsage = `
Usage: tailgate serve-demo [flags]

Serve tailgate's built-in demo target until Ctrl-C: a blog API over an
embedded SQLite database, filled with --rows posts, that shows why OFFSET
pagination slows down with page depth while cursor (keyset) pagination
stays flat.

Endpoints:
  GET  /api/posts?page=P&per_page=N[&total=1]   offset pagination
  GET  /api/posts/cursor?cursor=C&per_page=N    cursor pagination (no cursor: first page)
  GET  /api/posts/cursor-at?page=P&per_page=N   the cursor that starts page P
  POST /api/login {"user": "user1", "password": "demo"}  →  {"token": …}
  GET  /api/me  with Authorization: Bearer TOKEN
  GET  /health                                  200 while the database answers, else 503

The labs (see 'tailgate demo --help'), each technique before and after:
  GET  /api/feed/n-plus-one?per_page=N          posts with their authors, one query per post
  GET  /api/feed/join?per_page=N                the same page in one JOIN
  GET  /api/stats/top-authors                   an expensive aggregate, computed every time
  GET  /api/stats/top-authors/cached?ttl=2s     cached with a TTL (X-Cache: HIT|MISS); stampedes at expiry
  GET  /api/stats/top-authors/single-flight?ttl=2s   the same, computed once per expiry
  GET  /api/limited/{fixed-window|sliding-window|token-bucket}?limit=100&window=10s[&burst=20]
                                                429 + Retry-After past the limit; X-RateLimit-*, RateLimit
  POST /api/exports/sync?user=U&duration=1s     a slow job inside the request
  POST /api/exports?user=U&duration=1s          the job in the background: 202 + Location
  GET  /api/exports/{id}                        the job's status: queued, running, done

It listens on the loopback interface only, unless --public: the target has
no protection against abuse (anyone who can reach it can make it scan the
whole table over and over), so exposing it to a network is a choice you
make explicitly.

Examples:
  tailgate serve-demo
  tailgate serve-demo --rows 1000000 --db posts.db   # keep the database for the next start
  tailgate run scenarios/examples/pagination.yaml --target http://127.0.0.1:8080
`

// demoFlags are the database flags of demo and serve-demo.
type demoFlags struct {
	rows int
	db   string
}

func addDemoFlags(fs *pflag.FlagSet, f *demoFlags) {
	fs.IntVar(&f.rows, "rows", demo.DefaultRows, "number of posts in the demo database")
	fs.StringVar(&f.db, "db", "", "keep the database in `FILE` and reuse it next time (default: a temporary file, removed at exit)")
}

func cmdServeDemo(ctx context.Context, env *Env, args []string) error {
	var f demoFlags
	var addr string
	var public bool
	fs := newFlagSet(env, "serve-demo", serveDemoUsage)
	fs.StringVar(&addr, "addr", "127.0.0.1:8080", "listen on `HOST:PORT` (port 0: any free port)")
	addDemoFlags(fs, &f)
	fs.BoolVar(&public, "public", false, "allow an --addr that is not a loopback address (the demo target is not hardened for a network)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() != 0 {
		return usagef("unexpected argument %q (see --help)", fs.Arg(0))
	}
	if err := checkDemoAddr(addr, public); err != nil {
		return err
	}
	if f.rows < 1 {
		return usagef("--rows: must be at least 1")
	}
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	stopOnSignal(env, cancel)

	t, err := startDemoTarget(ctx, env, f, addr, false)
	if err != nil {
		return err
	}
	fmt.Fprintf(env.Stdout, "demo target listening on %s (Ctrl-C to stop)\n", t.URL)
	fmt.Fprintf(env.Stdout, "try:  curl '%s/api/posts?page=1000'   or   curl '%s/api/posts/cursor'\n", t.URL, t.URL)
	select {
	case <-ctx.Done():
	case err := <-t.serveErr:
		_ = t.Close()
		return fmt.Errorf("serve: %w", err)
	}
	fmt.Fprintln(env.Stderr, "stopping the demo target")
	return t.Close()
}

// checkDemoAddr refuses a listen address off the loopback interface unless
// the user asked for it.
func checkDemoAddr(addr string, public bool) error {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return usagef("--addr %q: want HOST:PORT, e.g. 127.0.0.1:8080", addr)
	}
	if _, err := net.LookupPort("tcp", port); err != nil {
		return usagef("--addr %q: bad port %q", addr, port)
	}
	if !public && (host == "" || !isLoopback(host)) {
		return usagef("--addr %q is not a loopback address; the demo target is not hardened for a network, add --public if you mean it", addr)
	}
	return nil
}

// stopOnSignal cancels with errSignal on the first signal of env (the
// command goes on to clean up: temporary database, listener).
func stopOnSignal(env *Env, cancel context.CancelCauseFunc) {
	if env.Signals == nil {
		return
	}
	go func() {
		<-env.Signals
		cancel(errSignal)
	}()
}

// demoTarget is a running demo target.
type demoTarget struct {
	URL      string
	DB       *demo.DB
	handler  *demo.Handler
	srv      *http.Server
	serveErr chan error
	once     sync.Once
	closeErr error
}

// startDemoTarget fills the database (printing progress to stderr unless
// quiet) and serves the API on addr.
func startDemoTarget(ctx context.Context, env *Env, f demoFlags, addr string, quiet bool) (*demoTarget, error) {
	var progress func(demo.Progress)
	if !quiet {
		progress = fillProgress(env.Stderr, env.IsTerminal)
	}
	db, err := demo.Open(ctx, demo.Options{Path: f.db, Rows: f.rows, Progress: progress})
	if err != nil {
		if ctx.Err() != nil {
			return nil, fmt.Errorf("filling the demo database: %w", context.Cause(ctx))
		}
		return nil, err
	}
	if !quiet {
		fmt.Fprintln(env.Stderr, fillSummary(db))
	}
	h, err := demo.NewHandler(db)
	if err != nil {
		_ = db.Close()
		return nil, err
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		h.Close()
		_ = db.Close()
		return nil, fmt.Errorf("demo target: %w", err)
	}
	t := &demoTarget{
		URL:     "http://" + ln.Addr().String(),
		DB:      db,
		handler: h,
		srv: &http.Server{
			Handler:           h,
			ReadHeaderTimeout: 10 * time.Second,
			IdleTimeout:       2 * time.Minute,
		},
		serveErr: make(chan error, 1),
	}
	go func() {
		if err := t.srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			t.serveErr <- err
		}
	}()
	return t, nil
}

// Close stops the server, waiting briefly for requests in flight, and
// removes a temporary database.
func (t *demoTarget) Close() error {
	t.once.Do(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		err := t.srv.Shutdown(ctx)
		if err != nil {
			err = errors.Join(err, t.srv.Close())
		}
		// The export jobs use the database: they stop before it closes.
		t.handler.Close()
		t.closeErr = errors.Join(err, t.DB.Close())
	})
	return t.closeErr
}

// fillProgress prints the fill's progress: one line rewritten in place on a
// terminal, a few plain lines otherwise.
func fillProgress(w io.Writer, tty bool) func(demo.Progress) {
	var last time.Time
	lastPct := -1
	return func(p demo.Progress) {
		pct := 100
		if p.Total > 0 {
			pct = p.Done * 100 / p.Total
		}
		final := p.Done == p.Total
		if tty {
			if !final && time.Since(last) < 100*time.Millisecond {
				return
			}
			last = time.Now()
			fmt.Fprintf(w, "\rfilling the demo database: %-7s %3d%% (%s)\x1b[K", p.Phase, pct, p.Elapsed.Round(100*time.Millisecond))
			if final && p.Phase == "indexes" {
				fmt.Fprint(w, "\r\x1b[K")
			}
			return
		}
		// Without a terminal: the posts phase in quarters, nothing else.
		if p.Phase != "posts" || (pct/25 == lastPct/25 && !final) || pct == lastPct {
			return
		}
		lastPct = pct
		fmt.Fprintf(w, "filling the demo database: %s/%s posts (%s)\n", groupThousands(p.Done), groupThousands(p.Total), p.Elapsed.Round(100*time.Millisecond))
	}
}

func fillSummary(db *demo.DB) string {
	s := db.Stats()
	if s.Reused {
		return fmt.Sprintf("demo database: reusing %s (%s posts, %s users)", db.Path(), groupThousands(s.Posts), groupThousands(s.Users))
	}
	return fmt.Sprintf("demo database: %s posts and %s users in %s (inserts %.0fk rows/s, indexes %s)",
		groupThousands(s.Posts), groupThousands(s.Users), s.Total.Round(10*time.Millisecond), s.RowsPerSecond()/1000, s.Index.Round(10*time.Millisecond))
}
