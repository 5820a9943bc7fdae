package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/charmbracelet/x/term"
	"github.com/tailgate-dev/tailgate/internal/format"
	"github.com/tailgate-dev/tailgate/loadgen"
	"github.com/tailgate-dev/tailgate/report"
	"github.com/tailgate-dev/tailgate/results"
)

// outputOptions are the flags every load-running command shares.
type outputOptions struct {
	out   string // results file, "" for none
	quiet bool   // only the final summary
	noTUI bool   // progress lines instead of the dashboard
	// checkpointEvery is the period of results checkpoints while running.
	checkpointEvery time.Duration
	// metrics are the live-metrics flags (nil: none).
	metrics *metricsFlags
	// startAt is the start instant of the schedule (zero: at once), and
	// startGrace how late the run may be ready for it.
	startAt    time.Time
	startGrace time.Duration
	// thresholds judge the result before it is written and summarised,
	// so that the outcomes are in the results file and the summary.
	thresholds []*results.Threshold
}

// setStart sets the start instant from the flags. Repeated runs cannot
// share one instant.
func (o *outputOptions) setStart(f *startFlags, count int) error {
	at, grace, err := f.resolve(time.Now())
	if err != nil {
		return err
	}
	if !at.IsZero() && count > 1 {
		return usagef("--count runs one after another; it excludes --start-at and --start-in")
	}
	o.startAt, o.startGrace = at, grace
	return nil
}

// display shows a run while it goes. Observe is fed interval snapshots; Run
// blocks until done is closed (or the user quits, which calls the stop
// function the display was made with) and then restores the terminal.
type display interface {
	loadgen.Observer
	Run(done <-chan struct{}) error
}

// newDashboard is set by the dashboard wiring when the binary includes the
// live terminal dashboard. It returns nil when the dashboard cannot run.
var newDashboard func(env *Env, plan *loadgen.Plan, stop func()) display

// execute runs a plan the way every command does: live display, signals,
// checkpoints, the results file and the summary. It returns the result even
// when the run was interrupted (the error says so).
func execute(ctx context.Context, env *Env, plan loadgen.Plan, o outputOptions) (*results.Result, error) {
	runCtx, stop := context.WithCancelCause(ctx)
	defer stop(nil)

	// The results file is checked and locked before any load is sent: a
	// directory given as the file, a missing parent or a second run
	// writing the same file fails now, not after the run.
	var out *results.Output
	if o.out != "" {
		var err error
		if out, err = checkOutput("-o", o.out); err != nil {
			return nil, err
		}
		lock, err := results.LockOutput(out, commandName(plan.Command))
		if err != nil {
			return nil, &UsageError{Err: fmt.Errorf("-o %w", err)}
		}
		defer func() {
			if err := lock.Unlock(); err != nil {
				fmt.Fprintf(env.Stderr, "tailgate: -o %s: %v\n", o.out, err)
			}
		}()
	}

	announceHosts(ctx, env.Stderr, &plan)
	if plan.Client.Insecure {
		fmt.Fprintln(env.Stderr, "warning: --insecure: TLS certificates are not verified")
	}

	mrun, err := startMetrics(env, &plan, o.metrics, o.quiet)
	if err != nil {
		return nil, err
	}

	var disp display
	if !o.quiet {
		if env.IsTerminal && !o.noTUI && newDashboard != nil {
			disp = newDashboard(env, &plan, func() { stop(errStoppedByUser) })
		}
		if disp == nil {
			disp = newProgress(env.Stderr, &plan)
		}
	}
	var opts []loadgen.Option
	if disp != nil {
		opts = append(opts, loadgen.WithObserver(mrun.show(disp)))
	}
	if mrun != nil {
		defer mrun.finish(env)
		for _, o := range mrun.observers() {
			opts = append(opts, loadgen.WithObserver(o))
		}
	}
	// Checkpoints replace the file every few seconds: only a file that is
	// replaced atomically takes them, never a pipe or a device.
	if out != nil && out.Replaceable() {
		every := o.checkpointEvery
		if every == 0 {
			every = 2 * time.Second
		}
		opts = append(opts, loadgen.WithCheckpoint(o.out, every))
	}
	if !o.startAt.IsZero() {
		opts = append(opts, loadgen.WithStartAt(o.startAt, o.startGrace))
	}
	runner, err := loadgen.NewRunner(plan, opts...)
	if err != nil {
		return nil, &UsageError{Err: err}
	}
	if !o.startAt.IsZero() && !o.quiet {
		fmt.Fprintf(env.Stderr, "waiting for the start instant %s (in %s)%s\n",
			o.startAt.UTC().Format(time.RFC3339Nano), time.Until(o.startAt).Round(time.Millisecond), shardNote(plan.Shard))
	}

	done := make(chan struct{})
	var wg sync.WaitGroup
	if env.Signals != nil {
		wg.Add(1)
		go func() {
			defer wg.Done()
			watchSignals(env, runner, o.out, stop, done)
		}()
	}
	dispErr := make(chan error, 1)
	if disp != nil {
		go func() { dispErr <- disp.Run(done) }()
	}

	res, runErr := runner.Run(runCtx)
	close(done)
	var late *loadgen.LateStartError
	if errors.As(runErr, &late) {
		runErr = &UsageError{Err: fmt.Errorf("--start-at: %w", runErr)}
	}
	if disp != nil {
		if err := <-dispErr; err != nil {
			fmt.Fprintf(env.Stderr, "tailgate: display: %v\n", err)
		}
	}
	wg.Wait()
	if res == nil {
		return nil, runErr
	}
	if cause := context.Cause(runCtx); errors.Is(cause, errStoppedByUser) || errors.Is(cause, errSignal) {
		res.Meta.StopReason = cause.Error()
		runErr = nil
	}

	if len(o.thresholds) > 0 {
		res.Judge(o.thresholds)
	}
	var writeErr error
	if out != nil {
		if err := out.Write(env.Stdout, res.Encode); err != nil {
			writeErr = err
		}
	}
	// With "-o -" the results are stdout; the summary goes beside them.
	if err := report.WriteText(summaryWriter(env, o.out), res); err != nil {
		return res, fmt.Errorf("summary: %w", err)
	}
	if o.out != "" && o.out != "-" && writeErr == nil && !o.quiet {
		fmt.Fprintf(env.Stderr, "results written to %s\n", o.out)
	}
	if writeErr != nil {
		return res, writeErr
	}
	return res, runErr
}

// summaryWriter is where the text summary goes: stdout, unless the
// results file is stdout ("-"), which must hold nothing but the results.
func summaryWriter(env *Env, out string) io.Writer {
	if out == "-" {
		return env.Stderr
	}
	return env.Stdout
}

// checkOutput checks an output file given with flag before anything is
// done: a usage error (exit 2) naming the flag and the file otherwise.
func checkOutput(flag, path string) (*results.Output, error) {
	out, err := results.CheckOutput(path)
	if err != nil {
		return nil, &UsageError{Err: fmt.Errorf("%s %w", flag, err)}
	}
	return out, nil
}

// checkOutputDir checks a directory that outputs will be written into.
func checkOutputDir(flag, dir string) error {
	if err := results.CheckDir(dir); err != nil {
		return &UsageError{Err: fmt.Errorf("%s %w", flag, err)}
	}
	return nil
}

// commandName is what a lock records of the command holding it: the
// program and subcommand, never the arguments, which may hold secrets.
func commandName(command []string) string {
	return strings.Join(command[:min(2, len(command))], " ")
}

func shardNote(sh results.Shard) string {
	if sh.Count < 2 {
		return ""
	}
	return fmt.Sprintf(", shard %d/%d", sh.Index, sh.Count)
}

// announceTarget prints where the load goes when that is not this machine,
// with the addresses the name resolves to, before anything is sent: a load
// test aimed at the wrong host by a typo should be visible at once.
func announceTarget(ctx context.Context, w io.Writer, plan *loadgen.Plan) {
	u, err := url.Parse(plan.Target)
	if err != nil {
		return
	}
	announceHost(ctx, w, "target "+u.Hostname(), u.Hostname())
}

// announceHost prints a host that is not this machine with the addresses
// it resolves to; label says what the host is.
func announceHost(ctx context.Context, w io.Writer, label, host string) {
	if host == "" || isLoopback(host) {
		return
	}
	lookup, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	addrs, err := net.DefaultResolver.LookupHost(lookup, host)
	switch {
	case err != nil:
		fmt.Fprintf(w, "%s: cannot resolve %s (%v)\n", label, host, err)
	case len(addrs) == 1 && addrs[0] == host:
		fmt.Fprintf(w, "%s is not this machine\n", label)
	default:
		fmt.Fprintf(w, "%s resolves to %s (not this machine)\n", label, strings.Join(addrs, ", "))
	}
}

var (
	errStoppedByUser = errors.New("stopped by the user")
	errSignal        = errors.New("interrupted by a signal")
)

// watchSignals stops the run gracefully on the first signal; on the second
// it writes what was measured so far and exits at once.
func watchSignals(env *Env, runner *loadgen.Runner, out string, stop context.CancelCauseFunc, done <-chan struct{}) {
	select {
	case <-env.Signals:
	case <-done:
		return
	}
	stop(errSignal)
	fmt.Fprintln(env.Stderr, "\nstopping: waiting for requests in flight (press Ctrl-C again to exit now)")
	select {
	case <-env.Signals:
	case <-done:
		return
	}
	if out != "" {
		if res := runner.Current(); res != nil {
			res.Meta.Partial = true
			res.Meta.StopReason = "interrupted twice; requests in flight were not waited for"
			if err := res.WriteFile(out); err != nil {
				fmt.Fprintf(env.Stderr, "tailgate: %v\n", err)
			} else {
				fmt.Fprintf(env.Stderr, "partial results written to %s\n", out)
			}
		}
	}
	env.exit(ExitInterrupted)
}

// progress prints one compact line every few seconds: the display without a
// terminal (CI, pipes) or with --no-tui.
type progress struct {
	w     io.Writer
	plan  *loadgen.Plan
	every time.Duration

	mu   sync.Mutex
	last time.Time
}

func newProgress(w io.Writer, plan *loadgen.Plan) *progress {
	return &progress{w: format.SafeWriter(w), plan: plan, every: 5 * time.Second}
}

// Observe implements loadgen.Observer.
func (p *progress) Observe(s *results.Snapshot) {
	p.mu.Lock()
	defer p.mu.Unlock()
	// Snapshots come about once a second with some jitter: allow half a
	// second of slack so a line is not skipped for arriving 1ms early.
	slack := 500 * time.Millisecond
	if s.Done || (!p.last.IsZero() && s.Time.Sub(p.last) < p.every-slack) {
		return
	}
	if p.last.IsZero() && s.Elapsed < p.every-slack {
		return
	}
	p.last = s.Time
	fmt.Fprintln(p.w, progressLine(s))
}

// Run implements display.
func (p *progress) Run(done <-chan struct{}) error {
	<-done
	return nil
}

func progressLine(s *results.Snapshot) string {
	line := fmt.Sprintf("[%s/%s] %d req", roundDur(s.Elapsed), roundDur(s.Planned), s.Total.Requests)
	if s.Model == results.OpenModel {
		// Iterations against the plan, requests on their own.
		line += ", " + format.Number(s.ArrivalRate) + " it/s of " + format.Rate(s.TargetRate) + ", " + format.Number(s.Rate) + " req/s"
		if s.Queued > 0 {
			line += fmt.Sprintf(", %d queued (oldest %s)", s.Queued, format.Duration(s.OldestQueued))
		}
	} else {
		line += ", " + format.Number(s.Rate) + " req/s"
	}
	line += fmt.Sprintf(", p50 %s p99 %s", format.Duration(s.Total.Interval.Of(50)), format.Duration(s.Total.Interval.Of(99)))
	if s.Total.Errors > 0 {
		line += fmt.Sprintf(", %d errors", s.Total.Errors)
	}
	if s.Model == results.OpenModel && s.SendLag.Of(99) > results.LateThreshold {
		line += fmt.Sprintf(", BEHIND SCHEDULE (send lag p99 %s)", format.Duration(s.SendLag.Of(99)))
	} else if s.Model == results.OpenModel && s.OldestQueued > results.LateThreshold {
		// A stalled target: nothing late has been sent yet, but arrivals wait.
		line += ", BEHIND SCHEDULE (arrivals queued)"
	}
	if s.Steal >= results.StealWarning {
		line += fmt.Sprintf(", hypervisor steal %s", format.Percent(s.Steal))
	}
	if s.Warmup {
		line += " (warmup)"
	}
	if s.CheckpointError != "" {
		line += ", CHECKPOINT FAILED: " + s.CheckpointError
	}
	if s.MetricsError != "" {
		line += ", METRICS PUSH FAILED: " + s.MetricsError
	}
	return line
}

func roundDur(d time.Duration) time.Duration { return d.Round(time.Second) }

func version() string { return loadgen.Version }

// isTerminal reports whether f is an interactive terminal (not merely a
// character device such as /dev/null).
func isTerminal(f *os.File) bool {
	return term.IsTerminal(f.Fd())
}
