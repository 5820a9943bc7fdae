package cli

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tailgate-dev/tailgate/results"
)

// workerPool serves with k workers holding each request for d (capacity k/d).
func workerPool(t *testing.T, k int, d time.Duration) *httptest.Server {
	t.Helper()
	workers := make(chan struct{}, k)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case workers <- struct{}{}:
		case <-r.Context().Done():
			return
		}
		time.Sleep(d) // the work
		<-workers
		w.Write([]byte("ok"))
	}))
	t.Cleanup(srv.Close)
	return srv
}

// TestCapacityCommand: the command prints the JSON summary in the shape the
// docs promise, writes the full search, the Markdown and the chart, and its
// answer brackets the pool's capacity (4 workers × 20 ms = 200/s; generous
// bounds: the package test checks the precision). The SLO is on p50 so that
// one stall of a busy test machine cannot decide a 1.5 s probe.
func TestCapacityCommand(t *testing.T) {
	if testing.Short() {
		t.Skip("runs a search of about 15 s")
	}
	srv := workerPool(t, 4, 20*time.Millisecond)
	dir := t.TempDir()
	out, md, png := filepath.Join(dir, "capacity.json"), filepath.Join(dir, "capacity.md"), filepath.Join(dir, "charts")
	code, stdout, stderr := runCLI(t, "capacity", srv.URL+"/", "--slo", "p50 < 60ms", "--min-rate", "50/s",
		"--step-duration", "1500ms", "--settle", "200ms", "--format", "json", "-o", out, "--md", md, "--png-dir", png)
	if code != 0 {
		t.Fatalf("exit %d\n%s\n%s", code, stdout, stderr)
	}
	var summary struct {
		MaxRate   *float64 `json:"max_rate"`
		Bracket   []float64
		LimitedBy string   `json:"limited_by"`
		SLO       []string `json:"slo"`
		Probes    []struct {
			Rate      *float64           `json:"rate"`
			Achieved  *float64           `json:"achieved"`
			Latency   map[string]float64 `json:"latency_ms"`
			ErrorRate *float64           `json:"error_rate"`
			Pass      *bool              `json:"pass"`
			Reason    *string            `json:"reason"`
			Result    json.RawMessage    `json:"result"`
		}
	}
	if err := json.Unmarshal([]byte(stdout), &summary); err != nil {
		t.Fatalf("stdout is not the JSON summary: %v\n%s", err, stdout)
	}
	if summary.MaxRate == nil || len(summary.Bracket) != 2 || len(summary.SLO) != 1 || summary.SLO[0] != "p50 < 60ms" {
		t.Fatalf("summary: %s", stdout)
	}
	// The answer's precision is capacity's own timing test (run alone in
	// CI); beside other tests on a loaded machine the answer can only be
	// trusted not to exceed the pool's capacity.
	if *summary.MaxRate > 215 {
		t.Errorf("max rate %.1f/s (limited by %s) for a 200/s pool", *summary.MaxRate, summary.LimitedBy)
	}
	for i, p := range summary.Probes {
		if p.Rate == nil || p.Achieved == nil || p.ErrorRate == nil || p.Pass == nil || p.Reason == nil {
			t.Fatalf("probe %d lacks a field: %s", i, stdout)
		}
		for _, k := range []string{"p50", "p99", "p99.9"} {
			if _, ok := p.Latency[k]; !ok {
				t.Fatalf("probe %d has no latency_ms.%s", i, k)
			}
		}
		if p.Result != nil {
			t.Fatalf("the summary carries probe %d's full result", i)
		}
	}
	full, err := results.ReadCapacityFile(out)
	if err != nil {
		t.Fatal(err)
	}
	if len(full.Probes) != len(summary.Probes) || full.Probes[0].Result == nil || full.Probes[0].Result.Total.Requests == 0 {
		t.Fatalf("-o file: %d probes, first result %+v", len(full.Probes), full.Probes[0].Result)
	}
	mdText, err := os.ReadFile(md)
	if err != nil || !strings.Contains(string(mdText), "### Capacity: max ") {
		t.Fatalf("markdown: %v\n%s", err, mdText)
	}
	if fi, err := os.Stat(filepath.Join(png, "capacity.png")); err != nil || fi.Size() == 0 {
		t.Fatalf("chart: %v", err)
	}
	if !strings.Contains(stderr, "probe 1: 50/s for 1.5s") {
		t.Errorf("no progress on stderr:\n%s", stderr)
	}
}

func TestCapacityBadInput(t *testing.T) {
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"--slo", "p99 <"}, `--slo "p99 <"`},
		{[]string{"--slo", "p99 < 40ms", "--min-rate", "500/s", "--max-rate", "100/s"}, "--min-rate 500/s is above --max-rate 100/s"},
		{[]string{"--slo", "p99 < 40ms", "--budget", "2s", "--step-duration", "5s"}, "--budget 2s is shorter than one probe"},
		{[]string{}, "give at least one --slo"},
		{[]string{"--slo", "p99 < 40ms", "--resolution", "2"}, "--resolution \"2\": write a percentage"},
		{[]string{"--slo", "p99 < 40ms", "--format", "yaml"}, `--format "yaml"`},
		{[]string{"--slo", "p99 < 40ms", "--settle", "-1s"}, `--settle: duration "-1s": must not be negative`},
		{[]string{"--slo", "p99 < 40ms", "--drain", "0s"}, `--drain: duration "0s": must be greater than zero`},
	}
	for _, tt := range tests {
		args := append([]string{"capacity", "http://127.0.0.1:1/"}, tt.args...)
		code, stdout, stderr := runCLI(t, args...)
		if code != ExitUsage || !strings.Contains(stderr, tt.want) || strings.Count(strings.TrimSpace(stderr), "\n") != 0 {
			t.Errorf("%v: exit %d, stderr %q, stdout %q; want exit 2 and one line containing %q", tt.args, code, stderr, stdout, tt.want)
		}
	}
}

// signalOn is a writer that sends a signal the first time what is written
// contains trigger: a Ctrl-C timed by the command's own progress.
type signalOn struct {
	mu      sync.Mutex
	buf     strings.Builder
	trigger string
	sig     chan os.Signal
	sent    bool
}

func (w *signalOn) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.buf.Write(p)
	if !w.sent && strings.Contains(w.buf.String(), w.trigger) {
		w.sent = true
		w.sig <- os.Interrupt
	}
	return len(p), nil
}

// TestCapacityInterruptKeepsBracket: Ctrl-C during the third probe ends the
// search; what the first two measured is still printed and written, with
// limited_by "interrupted", and the exit status says it was interrupted.
func TestCapacityInterruptKeepsBracket(t *testing.T) {
	srv, _ := countingServer(t)
	out := filepath.Join(t.TempDir(), "c.json")
	sig := make(chan os.Signal, 2)
	stderr := &signalOn{trigger: "probe 3:", sig: sig}
	var stdout bytes.Buffer
	env := &Env{Stdout: &stdout, Stderr: stderr, Getenv: func(string) string { return "" }, Signals: sig}
	code := Main([]string{"capacity", srv.URL + "/", "--slo", "p99 < 1s", "--min-rate", "20/s", "--step-duration", "1s", "--settle", "0s", "--format", "json", "-o", out}, env) // 0s: no pause between probes
	if code != ExitInterrupted {
		t.Fatalf("exit %d, want %d\n%s\n%s", code, ExitInterrupted, stdout.String(), stderr.buf.String())
	}
	c, err := results.ReadCapacityFile(out)
	if err != nil {
		t.Fatal(err)
	}
	// The third probe was stopped as it started: whatever it measured is
	// reported, but it does not move the bracket.
	if c.LimitedBy != "interrupted" || c.MaxRate != 40 || len(c.Probes) < 2 || len(c.Probes) > 3 {
		t.Fatalf("limited by %q, max %g, %d probes; want interrupted, 40 (the probes before Ctrl-C), 2 or 3", c.LimitedBy, c.MaxRate, len(c.Probes))
	}
	if !strings.Contains(stdout.String(), `"limited_by": "interrupted"`) {
		t.Fatalf("stdout lacks the summary:\n%s", stdout.String())
	}
}
