package cli

import (
	"bytes"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/tailgate-dev/tailgate/results"
)

var (
	buildOnce sync.Once
	binPath   string
	buildErr  error
)

// tailgateBinary builds the real binary once per test process.
func tailgateBinary(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "tailgate-bin-")
		if err != nil {
			buildErr = err
			return
		}
		binPath = filepath.Join(dir, "tailgate")
		out, err := exec.Command("go", "build", "-o", binPath, "github.com/tailgate-dev/tailgate/cmd/tailgate").CombinedOutput()
		if err != nil {
			buildErr = errors.New(string(out))
		}
	})
	if buildErr != nil {
		t.Fatalf("build tailgate: %v", buildErr)
	}
	return binPath
}

type proc struct {
	cmd            *exec.Cmd
	stdout, stderr bytes.Buffer
	done           chan error
}

// startTailgate starts the binary; the test's end kills it if still running.
func startTailgate(t *testing.T, args ...string) *proc {
	t.Helper()
	p := &proc{cmd: exec.Command(tailgateBinary(t), args...), done: make(chan error, 1)}
	p.cmd.Stdout, p.cmd.Stderr = &p.stdout, &p.stderr
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { p.done <- p.cmd.Wait() }()
	t.Cleanup(func() {
		if p.cmd.ProcessState == nil {
			_ = p.cmd.Process.Kill()
			<-p.done
		}
	})
	return p
}

// wait returns the exit status, failing the test after limit.
func (p *proc) wait(t *testing.T, limit time.Duration) int {
	t.Helper()
	select {
	case err := <-p.done:
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			if ws, ok := ee.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
				return 128 + int(ws.Signal())
			}
			return ee.ExitCode()
		}
		if err != nil {
			t.Fatal(err)
		}
		return 0
	case <-time.After(limit):
		t.Fatalf("tailgate still running after %v\nstdout:\n%s\nstderr:\n%s", limit, p.stdout.String(), p.stderr.String())
		return -1
	}
}

// waitForFile waits until path exists (a checkpoint was written).
func waitForFile(t *testing.T, path string, limit time.Duration) {
	t.Helper()
	deadline := time.Now().Add(limit)
	for time.Now().Before(deadline) {
		if _, err := os.Stat(path); err == nil {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("%s not written within %v", path, limit)
}

// waitForCheckpoint polls path until it decodes as a results file with at
// least min requests and returns the count it saw. A checkpoint replaces the
// file atomically, so a reader never sees half of one; one that does not
// decode yet (not written) is simply not the awaited state.
func waitForCheckpoint(t *testing.T, path string, min uint64, limit time.Duration) uint64 {
	t.Helper()
	deadline := time.Now().Add(limit)
	var last uint64
	for time.Now().Before(deadline) {
		if res, err := results.ReadResultFile(path); err == nil {
			if last = res.Total.Requests; last >= min {
				return last
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("no checkpoint with ≥ %d requests in %s within %v (last: %d)", min, path, limit, last)
	return 0
}

func slowServer(t *testing.T, delay time.Duration) *httptest.Server {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-time.After(delay):
		case <-r.Context().Done():
		}
		w.Write([]byte("ok"))
	}))
	t.Cleanup(srv.Close)
	return srv
}

func TestSignalOnceDrainsAndReports(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary")
	}
	srv := slowServer(t, 20*time.Millisecond)
	out := filepath.Join(t.TempDir(), "r.json")
	p := startTailgate(t, "hit", srv.URL, "-r", "100/s", "-d", "60s", "-o", out, "--no-tui")
	waitForFile(t, out, 10*time.Second) // first checkpoint: the run is going
	if err := p.cmd.Process.Signal(os.Interrupt); err != nil {
		t.Fatal(err)
	}
	if code := p.wait(t, 15*time.Second); code != 0 {
		t.Fatalf("exit %d after one SIGINT\n%s", code, p.stderr.String())
	}
	res, err := results.ReadResultFile(out)
	if err != nil {
		t.Fatal(err)
	}
	if !res.Meta.Partial || res.Total.Requests == 0 || res.Total.Errors != 0 {
		t.Fatalf("partial %v requests %d errors %d; want a partial result with every drained request", res.Meta.Partial, res.Total.Requests, res.Total.Errors)
	}
	if !strings.Contains(p.stdout.String(), "requests") {
		t.Fatalf("no summary on stdout:\n%s", p.stdout.String())
	}
}

func TestSignalTwiceExitsAtOnceWithReadableResults(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary")
	}
	srv := slowServer(t, 10*time.Second) // requests in flight would take 10s to drain
	out := filepath.Join(t.TempDir(), "r.json")
	p := startTailgate(t, "hit", srv.URL, "-r", "50/s", "-d", "60s", "-o", out, "--no-tui", "--timeout", "20s")
	waitForFile(t, out, 10*time.Second)
	_ = p.cmd.Process.Signal(os.Interrupt)
	time.Sleep(300 * time.Millisecond)
	_ = p.cmd.Process.Signal(os.Interrupt)
	begin := time.Now()
	code := p.wait(t, 5*time.Second)
	if code != 130 {
		t.Fatalf("exit %d after two SIGINTs, want 130\n%s", code, p.stderr.String())
	}
	if el := time.Since(begin); el > 3*time.Second {
		t.Fatalf("took %v to exit after the second SIGINT", el)
	}
	res, err := results.ReadResultFile(out)
	if err != nil {
		t.Fatalf("results after a double Ctrl-C do not decode: %v", err)
	}
	if !res.Meta.Partial {
		t.Fatal("results not marked partial")
	}
}

func TestSIGKILLLeavesCheckpoint(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary")
	}
	srv := slowServer(t, time.Millisecond)
	out := filepath.Join(t.TempDir(), "r.json")
	p := startTailgate(t, "hit", srv.URL, "-r", "200/s", "-d", "60s", "-o", out, "--no-tui")
	// Wait for a checkpoint that holds at least 200 requests, however long
	// a loaded machine takes to write it, rather than sleeping for a fixed
	// time and hoping one landed (that raced and failed once).
	seen := waitForCheckpoint(t, out, 200, 30*time.Second)
	if err := p.cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	p.wait(t, 5*time.Second)
	res, err := results.ReadResultFile(out)
	if err != nil {
		t.Fatalf("checkpoint after SIGKILL does not decode: %v", err)
	}
	if !res.Meta.Partial || res.Total.Requests < seen {
		t.Fatalf("checkpoint: partial %v, %d requests; want partial with ≥ %d (seen before the kill)", res.Meta.Partial, res.Total.Requests, seen)
	}
	code, stdout, stderr := runCLI(t, "report", out)
	if code != 0 || !strings.Contains(strings.ToLower(stdout+stderr), "partial") {
		t.Fatalf("report of a checkpoint: exit %d, does not say partial:\n%s%s", code, stdout, stderr)
	}
}
