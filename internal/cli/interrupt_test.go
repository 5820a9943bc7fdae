package cli

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestOfflineCommandsEndOnASignal: report, compare, merge and validate
// return at once with status 130 when a signal arrives while they are
// blocked, instead of waiting for what blocks them.
func TestOfflineCommandsEndOnASignal(t *testing.T) {
	for _, name := range []string{"report", "compare", "merge", "validate"} {
		t.Run(name, func(t *testing.T) {
			var cmd *command
			for _, c := range commands() {
				if c.name == name {
					c := c
					cmd = &c
				}
			}
			if cmd == nil || !cmd.offline {
				t.Fatalf("%s is not an offline command", name)
			}
			started, release := make(chan struct{}), make(chan struct{})
			defer close(release)
			blocked := *cmd
			blocked.run = func(ctx context.Context, _ *Env, _ []string) error {
				close(started)
				<-release // a read of a FIFO that has no writer
				return nil
			}
			sig := make(chan os.Signal, 1)
			var stderr bytes.Buffer
			env := &Env{Stdout: &bytes.Buffer{}, Stderr: &stderr, Signals: sig}
			code := make(chan int, 1)
			go func() { code <- runInterruptible(env, &blocked, nil) }()
			<-started
			sig <- syscall.SIGTERM
			if got := <-code; got != ExitInterrupted {
				t.Fatalf("exit %d, want %d", got, ExitInterrupted)
			}
			if !strings.Contains(stderr.String(), "interrupted by a signal: terminated") {
				t.Fatalf("stderr %q does not say why", stderr.String())
			}
		})
	}
}

// TestReportOfAFIFOEndsOnSIGTERM runs the binary on a FIFO that nobody
// writes: it must end promptly on SIGTERM, never hang (today's readers
// refuse a FIFO at once; either way the process is gone in time).
func TestReportOfAFIFOEndsOnSIGTERM(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary")
	}
	dir := t.TempDir()
	fifo := filepath.Join(dir, "results.json")
	if err := syscall.Mkfifo(fifo, 0o644); err != nil {
		t.Skipf("mkfifo: %v", err)
	}
	for _, args := range [][]string{{"report", fifo}, {"validate", fifo}, {"compare", fifo, fifo}, {"merge", fifo, fifo}} {
		p := startTailgate(t, args...)
		// Either the command refuses the FIFO and exits by itself, or it
		// blocks reading it: then a writer can open the FIFO, which
		// shows the process is past its start (signals are handled).
		var w *os.File
		var exited error
		for w == nil && exited == nil {
			select {
			case err := <-p.done:
				exited = err
				p.done <- err
			case <-time.After(10 * time.Millisecond):
				w, _ = os.OpenFile(fifo, os.O_WRONLY|syscall.O_NONBLOCK, 0)
			}
		}
		if w != nil {
			_ = p.cmd.Process.Signal(syscall.SIGTERM)
		}
		code := p.wait(t, 5*time.Second)
		if w != nil {
			w.Close()
			if code != ExitInterrupted {
				t.Fatalf("%v: exit %d after SIGTERM while blocked, want 130\n%s", args, code, p.stderr.String())
			}
		} else if code != ExitUsage {
			t.Fatalf("%v: exit %d, want 2 (a FIFO is refused)\n%s", args, code, p.stderr.String())
		}
	}
}

// TestSIGHUPDrainsLikeSIGTERM: a hang-up during a run stops it gracefully:
// requests in flight drained, summary printed, final results written.
func TestSIGHUPDrainsLikeSIGTERM(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary")
	}
	srv := slowServer(t, 20*time.Millisecond)
	out := filepath.Join(t.TempDir(), "r.json")
	p := startTailgate(t, "hit", srv.URL, "-r", "100/s", "-d", "60s", "-o", out, "--no-tui")
	waitForFile(t, out, 10*time.Second)
	if err := p.cmd.Process.Signal(syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	if code := p.wait(t, 15*time.Second); code != 0 {
		t.Fatalf("exit %d after SIGHUP, want 0 (drained)\n%s", code, p.stderr.String())
	}
	if !strings.Contains(p.stdout.String(), "requests") {
		t.Fatalf("no summary after SIGHUP:\n%s", p.stdout.String())
	}
	code, stdout, stderr := runCLI(t, "report", out)
	if code != 0 || !strings.Contains(stdout, "interrupted by a signal") {
		t.Fatalf("final results: exit %d\n%s%s", code, stdout, stderr)
	}
}
