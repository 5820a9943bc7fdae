package cli

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tailgate-dev/tailgate/results"
)

func TestShardAutoNeedsBothVariables(t *testing.T) {
	srv, n := countingServer(t)
	for _, tc := range []struct {
		name string
		env  map[string]string
		want string
	}{
		{"no index", map[string]string{"TAILGATE_SHARDS": "4"}, "JOB_COMPLETION_INDEX is not set"},
		{"no count", map[string]string{"JOB_COMPLETION_INDEX": "1"}, "TAILGATE_SHARDS is not set"},
		{"bad index", map[string]string{"JOB_COMPLETION_INDEX": "one", "TAILGATE_SHARDS": "4"}, `JOB_COMPLETION_INDEX="one"`},
		{"bad count", map[string]string{"JOB_COMPLETION_INDEX": "1", "TAILGATE_SHARDS": "-4"}, `TAILGATE_SHARDS="-4"`},
		{"index too big", map[string]string{"JOB_COMPLETION_INDEX": "4", "TAILGATE_SHARDS": "4"}, "JOB_COMPLETION_INDEX=4 with TAILGATE_SHARDS=4"},
		{"zero count", map[string]string{"JOB_COMPLETION_INDEX": "0", "TAILGATE_SHARDS": "0"}, "TAILGATE_SHARDS=0"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, _, stderr := runCLIEnv(t, tc.env, "hit", srv.URL, "-r", "10/s", "-d", "1s", "--shard", "auto", "--quiet")
			if code != ExitUsage || !strings.Contains(stderr, tc.want) || strings.Count(strings.TrimSpace(stderr), "\n") != 0 {
				t.Fatalf("exit %d, stderr %q; want exit 2 and one line naming %q", code, stderr, tc.want)
			}
		})
	}
	if n.Load() != 0 {
		t.Fatalf("%d requests sent by refused runs", n.Load())
	}
}

func TestShardAutoReadsTheJobIndex(t *testing.T) {
	srv, n := countingServer(t)
	out := filepath.Join(t.TempDir(), "shard.json")
	env := map[string]string{"JOB_COMPLETION_INDEX": "2", "TAILGATE_SHARDS": "3"}
	code, stdout, stderr := runCLIEnv(t, env, "hit", srv.URL, "-r", "100/s", "-d", "1s", "--shard", "auto", "-o", out, "--quiet")
	if code != 0 {
		t.Fatalf("exit %d\n%s\n%s", code, stdout, stderr)
	}
	res, err := results.ReadResultFile(out)
	if err != nil {
		t.Fatal(err)
	}
	// Arrivals 2, 5, …, 98 of 100.
	if res.Meta.Shard != (results.Shard{Index: 2, Count: 3}) || n.Load() != 33 || res.Total.Requests != 33 {
		t.Fatalf("shard %+v sent %d (server saw %d), want shard 2/3 sending 33", res.Meta.Shard, res.Total.Requests, n.Load())
	}
}

func TestStartAtPastGraceSendsNothing(t *testing.T) {
	srv, n := countingServer(t)
	out := filepath.Join(t.TempDir(), "r.json")
	past := time.Now().Add(-3 * time.Second).UTC().Format(time.RFC3339Nano)
	code, _, stderr := runCLI(t, "hit", srv.URL, "-r", "100/s", "-d", "1s", "--start-at", past, "-o", out, "--quiet")
	if code != ExitUsage || !strings.Contains(stderr, "more than the grace of 1s: nothing was sent") {
		t.Fatalf("exit %d, stderr %q; want exit 2 saying the instant has passed", code, stderr)
	}
	if n.Load() != 0 {
		t.Fatalf("%d requests sent after refusing to start", n.Load())
	}
	if _, err := os.Stat(out); !os.IsNotExist(err) {
		t.Fatalf("a refused run left a results file: %v", err)
	}
}

func TestStartFlagsAreChecked(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--start-at", "10:00"}, `--start-at "10:00": want an RFC 3339 instant`},
		{[]string{"--start-in", "soon"}, `--start-in "soon"`},
		{[]string{"--start-in", "1s", "--start-at", "2030-01-01T00:00:00Z"}, "exclude each other"},
		{[]string{"--start-grace", "-1s"}, "--start-grace"},
		{[]string{"--start-in", "1s", "--count", "2", "-o", "r.json"}, "--count"},
	} {
		code, _, stderr := runCLI(t, append([]string{"hit", "http://127.0.0.1:1/", "-r", "1/s", "-d", "1s"}, tc.args...)...)
		if code != ExitUsage || !strings.Contains(stderr, tc.want) {
			t.Errorf("%q: exit %d, stderr %q; want exit 2 with %q", tc.args, code, stderr, tc.want)
		}
	}
}

// TestStartInWaitsAndRecordsTheStart runs with a start instant just ahead:
// the schedule counts from the instant, and the results keep both starts.
func TestStartInWaitsAndRecordsTheStart(t *testing.T) {
	srv, n := countingServer(t)
	out := filepath.Join(t.TempDir(), "r.json")
	before := time.Now()
	code, stdout, stderr := runCLI(t, "hit", srv.URL, "-r", "100/s", "-d", "500ms", "--start-in", "300ms", "--run-id", "nightly-7", "-o", out, "--no-tui")
	if code != 0 {
		t.Fatalf("exit %d\n%s\n%s", code, stdout, stderr)
	}
	if !strings.Contains(stderr, "waiting for the start instant") {
		t.Errorf("stderr does not say it waits: %q", stderr)
	}
	res, err := results.ReadResultFile(out)
	if err != nil {
		t.Fatal(err)
	}
	m := res.Meta
	if n.Load() != 50 || m.RunID != "nightly-7" {
		t.Fatalf("sent %d, run id %q; want 50 and nightly-7", n.Load(), m.RunID)
	}
	if !m.Start.Equal(m.PlannedStart) || m.PlannedStart.Before(before.Add(300*time.Millisecond)) || m.ActualStart.Before(m.PlannedStart) {
		t.Fatalf("start %v, planned %v, actual %v: want the schedule to start at the planned instant, at least 300ms after %v",
			m.Start, m.PlannedStart, m.ActualStart, before)
	}
}

// TestStopWhileWaitingExitsCleanly interrupts a run that waits for its
// start instant: nothing is sent and nothing written.
func TestStopWhileWaitingExitsCleanly(t *testing.T) {
	srv, n := countingServer(t)
	out := filepath.Join(t.TempDir(), "r.json")
	sig := make(chan os.Signal, 1)
	var stdout, stderr bytes.Buffer
	stderrW := &notifyWriter{w: &stderr, match: "waiting for the start instant", seen: make(chan struct{})}
	env := &Env{Stdout: &stdout, Stderr: stderrW, Getenv: func(string) string { return "" }, Signals: sig, Exit: func(int) { t.Error("exit called") }}
	done := make(chan int, 1)
	go func() {
		done <- Main([]string{"hit", srv.URL, "-r", "100/s", "-d", "1s", "--start-in", "1h", "-o", out, "--no-tui"}, env)
	}()
	<-stderrW.seen
	sig <- os.Interrupt
	code := <-done
	if code != ExitInterrupted || n.Load() != 0 {
		t.Fatalf("exit %d, %d requests sent; want 130 and none\n%s", code, n.Load(), stderrW.String())
	}
	if !strings.Contains(stderrW.String(), "stopped while waiting for the start instant") {
		t.Errorf("stderr %q does not say the wait was stopped", stderrW.String())
	}
	if _, err := os.Stat(out); !os.IsNotExist(err) {
		t.Fatalf("an interrupted wait left a results file: %v", err)
	}
}

// notifyWriter is a syncBuffer that closes seen once match was written.
type notifyWriter struct {
	w     *bytes.Buffer
	mu    sync.Mutex
	match string
	seen  chan struct{}
	once  sync.Once
}

func (n *notifyWriter) Write(p []byte) (int, error) {
	n.mu.Lock()
	defer n.mu.Unlock()
	k, err := n.w.Write(p)
	if strings.Contains(n.w.String(), n.match) {
		n.once.Do(func() { close(n.seen) })
	}
	return k, err
}

func (n *notifyWriter) String() string {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.w.String()
}
