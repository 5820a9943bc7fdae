// Package cli is the tailgate command line: flags, subcommands, exit codes and
// wiring between the library packages. It holds no logic a library user
// would need; cmd/tailgate only calls Main.
package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/spf13/pflag"
	"github.com/tailgate-dev/tailgate/internal/format"
	"github.com/tailgate-dev/tailgate/internal/suggest"
)

// Exit statuses.
const (
	ExitOK        = 0
	ExitThreshold = 1 // a threshold failed
	ExitUsage     = 2 // bad flags, bad input files, bad results files
	ExitRuntime   = 3 // the run itself failed (cannot write results, …)
	// ExitInterrupted: a second Ctrl-C, or a Ctrl-C before anything was
	// measured (the demo's database fill). A single Ctrl-C during a run
	// stops it gracefully and exits as the run would have.
	ExitInterrupted = 130
)

// Env is the process environment a command runs in, so that commands can be
// tested without a process.
type Env struct {
	Stdin          io.Reader
	Stdout, Stderr io.Writer
	Getenv         func(string) string
	// IsTerminal reports whether stdout is an interactive terminal.
	IsTerminal bool
	// Signals delivers interrupts (SIGINT, SIGTERM, SIGHUP). Nil: none.
	Signals <-chan os.Signal
	// Exit ends the process at once; used for a second Ctrl-C. Nil: os.Exit.
	Exit func(code int)
}

// OSEnv returns the Env of the running process, and sets the process up
// to run tailgate: signals are delivered to the Env, and a crash ends the
// process by SIGABRT, never with the status of a usage error (see
// crashBySignal).
func OSEnv() *Env {
	crashBySignal()
	sig := make(chan os.Signal, 2)
	// SIGHUP (the terminal went away, a supervisor's reload) stops a run
	// the way SIGTERM does: drain, summary, final results.
	signal.Notify(sig, os.Interrupt, syscall.SIGTERM, syscall.SIGHUP)
	return &Env{
		Stdin: os.Stdin, Stdout: os.Stdout, Stderr: os.Stderr,
		Getenv:     os.Getenv,
		IsTerminal: isTerminal(os.Stdout),
		Signals:    sig,
		Exit:       os.Exit,
	}
}

func (e *Env) exit(code int) {
	if e.Exit != nil {
		e.Exit(code)
		return
	}
	os.Exit(code)
}

// UsageError is an error in the command line or an input file: exit status 2.
type UsageError struct{ Err error }

func (e *UsageError) Error() string { return e.Err.Error() }
func (e *UsageError) Unwrap() error { return e.Err }

// usagef returns a UsageError.
func usagef(format string, args ...any) error {
	return &UsageError{Err: fmt.Errorf(format, args...)}
}

// ThresholdError reports failed thresholds, or a comparison's gate
// (--max-slowdown) that failed: exit status 1.
type ThresholdError struct {
	Failed []string
	// Slowdowns marks the failures as a comparison's slowdowns beyond
	// --max-slowdown rather than thresholds, so the message says so.
	Slowdowns bool
}

func (e *ThresholdError) Error() string {
	what := "threshold(s) failed"
	if e.Slowdowns {
		what = "slowdown(s) beyond --max-slowdown"
	}
	return fmt.Sprintf("%d %s: %s", len(e.Failed), what, strings.Join(e.Failed, "; "))
}

// command is one subcommand.
type command struct {
	name    string
	summary string
	run     func(ctx context.Context, env *Env, args []string) error
	// offline commands send no load (report, compare, merge, validate):
	// a signal ends them at once, whatever they are waiting for.
	offline bool
}

func commands() []command {
	return []command{
		{"hit", "benchmark one URL from the command line", cmdHit, false},
		{"run", "run a scenario file", cmdRun, false},
		{"validate", "check a scenario file without sending anything", cmdValidate, true},
		{"report", "print a results file as text, Markdown, JSON or an HdrHistogram log", cmdReport, true},
		{"compare", "compare results: before/after, or two requests of one run", cmdCompare, true},
		{"ab", "run two scenarios interleaved A B A B … and compare them", cmdAB, false},
		{"merge", "merge results of shards of one plan into one", cmdMerge, true},
		{"capacity", "find the highest rate the target sustains under its SLO", cmdCapacity, false},
		{"demo", "run the built-in pagination demo end to end", cmdDemo, false},
		{"serve-demo", "serve the built-in demo target", cmdServeDemo, false},
		{"version", "print the version", cmdVersion, true},
	}
}

// Main runs the tailgate command line and returns the exit status.
func Main(args []string, env *Env) int {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		if len(args) > 1 && args[0] == "help" {
			return Main([]string{args[1], "--help"}, env)
		}
		printUsage(env.Stdout)
		if len(args) == 0 {
			return ExitUsage
		}
		return ExitOK
	}
	if args[0] == "--version" || args[0] == "-v" {
		args[0] = "version"
	}
	var cmd *command
	for _, c := range commands() {
		if c.name == args[0] {
			c := c
			cmd = &c
		}
	}
	if cmd == nil {
		fmt.Fprintf(env.Stderr, "tailgate: unknown command %q%s\nRun 'tailgate --help' for the list of commands.\n", args[0], suggestCommand(args[0]))
		return ExitUsage
	}
	if cmd.offline && env.Signals != nil {
		return runInterruptible(env, cmd, args[1:])
	}
	err := cmd.run(context.Background(), env, args[1:])
	return exitStatus(env, cmd.name, err)
}

// runInterruptible runs an offline command and returns as soon as a signal
// arrives (SIGINT, SIGTERM, SIGHUP), with status 130, even when the command
// is blocked in a read or a write: it has nothing to drain, and a CI job
// that cancels it should not need SIGKILL. The command's context is
// cancelled; the process ends with Main's return.
func runInterruptible(env *Env, cmd *command, args []string) int {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan int, 1)
	go func() { done <- exitStatus(env, cmd.name, cmd.run(ctx, env, args)) }()
	select {
	case code := <-done:
		return code
	case sig := <-env.Signals:
		cancel()
		fmt.Fprintf(env.Stderr, "tailgate %s: %s: %v\n", cmd.name, errSignal, sig)
		return ExitInterrupted
	}
}

func exitStatus(env *Env, name string, err error) int {
	if err == nil || errors.Is(err, pflag.ErrHelp) {
		return ExitOK
	}
	var te *ThresholdError
	if errors.As(err, &te) {
		fmt.Fprintf(format.SafeWriter(env.Stderr), "tailgate %s: %s\n", name, err)
		return ExitThreshold
	}
	var ue *UsageError
	if errors.As(err, &ue) {
		fmt.Fprintf(format.SafeWriter(env.Stderr), "tailgate %s: %s\n", name, err)
		return ExitUsage
	}
	if errors.Is(err, errSignal) {
		fmt.Fprintf(format.SafeWriter(env.Stderr), "tailgate %s: %s\n", name, err)
		return ExitInterrupted
	}
	fmt.Fprintf(format.SafeWriter(env.Stderr), "tailgate %s: %s\n", name, err)
	return ExitRuntime
}

func printUsage(w io.Writer) {
	fmt.Fprint(w, `tailgate — load testing with honest latency percentiles

Usage:
  tailgate <command> [flags]

Commands:
`)
	for _, c := range commands() {
		fmt.Fprintf(w, "  %-11s %s\n", c.name, c.summary)
	}
	fmt.Fprint(w, `
Run 'tailgate <command> --help' for the flags of a command.

Examples:
  tailgate demo                                  # offset vs cursor pagination, report and charts
  tailgate hit http://127.0.0.1:8080/ -r 1000/s -d 10s -o r.json
  tailgate run scenarios/examples/pagination.yaml --target http://127.0.0.1:8080
  tailgate report r.json --format markdown
  tailgate compare before.json after.json --md cmp.md --png-dir charts/

Exit status: 0 success, 1 a threshold failed, 2 bad usage or input, 3 the run failed,
130 interrupted.
`)
}

func suggestCommand(name string) string {
	names := make([]string, 0, len(commands()))
	for _, c := range commands() {
		names = append(names, c.name)
	}
	return suggest.DidYouMean(name, names)
}

// newFlagSet returns a flag set that reports errors instead of exiting.
func newFlagSet(env *Env, name, usage string) *pflag.FlagSet {
	fs := pflag.NewFlagSet("tailgate "+name, pflag.ContinueOnError)
	fs.SortFlags = false
	fs.SetOutput(env.Stderr)
	fs.Usage = func() {
		// pflag marks every boolean flag "[=true|false]"; a plain --flag is
		// how they are used, so the marker is noise in the help.
		flags := strings.ReplaceAll(fs.FlagUsagesWrapped(100), "[=true|false]", "             ")
		fmt.Fprintf(env.Stdout, "%s\nFlags:\n%s", strings.TrimSpace(usage)+"\n", flags)
	}
	return fs
}

// parseFlags parses args, turning flag errors into usage errors.
func parseFlags(fs *pflag.FlagSet, args []string) error {
	fs.SetOutput(io.Discard)
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, pflag.ErrHelp) {
			// pflag has already called fs.Usage.
			return err
		}
		return &UsageError{Err: fmt.Errorf("%w%s (see --help)", err, suggestFlag(fs, err))}
	}
	return nil
}

// suggestFlag returns a "did you mean" hint for an unknown long flag, the
// way misspelt scenario keys get one.
func suggestFlag(fs *pflag.FlagSet, err error) string {
	name, ok := strings.CutPrefix(err.Error(), "unknown flag: --")
	if !ok {
		return ""
	}
	var names []string
	fs.VisitAll(func(f *pflag.Flag) { names = append(names, "--"+f.Name) })
	return suggest.DidYouMean("--"+name, names)
}

func cmdVersion(_ context.Context, env *Env, _ []string) error {
	fmt.Fprintln(env.Stdout, "tailgate", version())
	return nil
}
