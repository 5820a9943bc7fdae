package cli

import (
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/tailgate-dev/tailgate/results"
)

// The tests in this file run a real Prometheus (Debian's prometheus
// package, which .ci/run installs) on loopback, with its storage in the
// test's temp dir, and ask it what it stored.

// prometheusBinary returns the prometheus binary or skips the test.
func prometheusBinary(t *testing.T) string {
	t.Helper()
	bin, err := exec.LookPath("prometheus")
	if err != nil && os.Getenv("TAILGATE_REQUIRE_PROMETHEUS") != "" {
		t.Fatal("prometheus is not installed, and TAILGATE_REQUIRE_PROMETHEUS (set by .ci/run) says these tests must run")
	}
	if err != nil {
		t.Skip("prometheus is not installed (apt-get install prometheus; .ci/run installs it): skipping the test against a real Prometheus")
	}
	return bin
}

// freePort returns a loopback port that was free a moment ago.
func freePort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// prometheus is a Prometheus process started by a test.
type prometheus struct {
	base string // http://127.0.0.1:PORT
	log  *syncBuffer
}

// startPrometheus starts Prometheus with the given configuration and
// flags, waits until it is ready and stops it when the test ends.
func startPrometheus(t *testing.T, config string, flags ...string) *prometheus {
	t.Helper()
	bin := prometheusBinary(t)
	dir := t.TempDir()
	cfg := filepath.Join(dir, "prometheus.yml")
	if err := os.WriteFile(cfg, []byte(config), 0o600); err != nil {
		t.Fatal(err)
	}
	addr := fmt.Sprintf("127.0.0.1:%d", freePort(t))
	p := &prometheus{base: "http://" + addr, log: &syncBuffer{}}
	args := append([]string{
		"--config.file=" + cfg,
		"--storage.tsdb.path=" + filepath.Join(dir, "data"),
		"--web.listen-address=" + addr,
		"--enable-feature=native-histograms",
	}, flags...)
	cmd := exec.Command(bin, args...)
	cmd.Dir = dir
	cmd.Stdout, cmd.Stderr = p.log, p.log
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan struct{})
	go func() {
		_ = cmd.Wait()
		close(exited)
	}()
	t.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-exited:
		case <-time.After(10 * time.Second):
			_ = cmd.Process.Kill()
			<-exited
		}
	})
	deadline := time.Now().Add(30 * time.Second)
	for {
		select {
		case <-exited:
			t.Fatalf("prometheus exited:\n%s", p.log.String())
		default:
		}
		if resp, err := http.Get(p.base + "/-/ready"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return p
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("prometheus not ready after 30s:\n%s", p.log.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// query evaluates an instant PromQL query and returns the value of its
// single result (ok false when there is none).
func (p *prometheus) query(t *testing.T, q string) (float64, bool) {
	t.Helper()
	resp, err := http.Get(p.base + "/api/v1/query?query=" + url.QueryEscape(q))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	var r struct {
		Status string `json:"status"`
		Error  string `json:"error"`
		Data   struct {
			Result []struct {
				Value [2]any `json:"value"`
			} `json:"result"`
		} `json:"data"`
	}
	if err := json.Unmarshal(body, &r); err != nil {
		t.Fatalf("query %s: %v: %s", q, err, body)
	}
	if r.Status != "success" {
		t.Fatalf("query %s: %s", q, r.Error)
	}
	if len(r.Data.Result) == 0 {
		return 0, false
	}
	if len(r.Data.Result) > 1 {
		t.Fatalf("query %s: %d results, want one: %s", q, len(r.Data.Result), body)
	}
	s, _ := r.Data.Result[0].Value[1].(string)
	v, err := strconv.ParseFloat(s, 64)
	if err != nil {
		t.Fatalf("query %s: value %q", q, s)
	}
	return v, true
}

// queryAll evaluates a query, which must be valid, and reports whether it
// found data.
func (p *prometheus) queryAll(t *testing.T, q string) (int, bool) {
	t.Helper()
	resp, err := http.Get(p.base + "/api/v1/query?query=" + url.QueryEscape(q))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var r struct {
		Status string `json:"status"`
		Error  string `json:"error"`
		Data   struct {
			Result []json.RawMessage `json:"result"`
		} `json:"data"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&r); err != nil {
		t.Fatalf("query %s: %v", q, err)
	}
	if r.Status != "success" {
		t.Errorf("query %s: %s", q, r.Error)
	}
	return len(r.Data.Result), len(r.Data.Result) > 0
}

// waitFor queries until the result equals want (or the deadline passes)
// and returns the last value.
func (p *prometheus) waitFor(t *testing.T, q string, want float64, within time.Duration) float64 {
	t.Helper()
	deadline := time.Now().Add(within)
	for {
		v, ok := p.query(t, q)
		if ok && v == want || time.Now().After(deadline) {
			return v
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// inProcess runs the command line in-process in the background.
type inProcess struct {
	stdout, stderr syncBuffer
	code           chan int
	signals        chan os.Signal
}

func startInProcess(args ...string) *inProcess {
	tg := &inProcess{code: make(chan int, 1), signals: make(chan os.Signal, 1)}
	go func() {
		tg.code <- Main(args, &Env{Stdout: &tg.stdout, Stderr: &tg.stderr, Getenv: func(string) string { return "" }, Signals: tg.signals})
	}()
	return tg
}

// p99Within checks Prometheus's p99 against tailgate's own.
func p99Within(t *testing.T, got float64, res *results.Result, tolerance float64) {
	t.Helper()
	want := res.Total.Latency.Percentile(99).Seconds()
	if math.Abs(got-want) > tolerance*want {
		t.Errorf("exported p99 %.6fs, tailgate's p99 %.6fs: %.1f%% apart, want ≤ %.0f%%", got, want, 100*math.Abs(got-want)/want, 100*tolerance)
	} else {
		t.Logf("exported p99 %.6fs, tailgate's p99 %.6fs (%.2f%% apart)", got, want, 100*math.Abs(got-want)/want)
	}
}

// TestPrometheusScrapesARun is the scrape path end to end: a real
// Prometheus scraping /metrics every second during a steady run stores
// exactly the requests the server counted, and its histogram_quantile over
// the native histogram is within 5% of tailgate's own p99.
func TestPrometheusScrapesARun(t *testing.T) {
	prometheusBinary(t)
	srv, n := countingServer(t)
	metricsPort := freePort(t)
	prom := startPrometheus(t, fmt.Sprintf(`global:
  scrape_interval: 1s
  scrape_timeout: 900ms
scrape_configs:
  - job_name: tailgate
    static_configs:
      - targets: ['127.0.0.1:%d']
`, metricsPort))
	// Prometheus hands discovered targets to its scrapers every 5s: wait
	// for it to scrape (and fail to reach) the target before the load.
	prom.waitFor(t, `count(up{job="tailgate"})`, 1, 30*time.Second)
	out := filepath.Join(t.TempDir(), "r.json")
	tg := startInProcess("hit", srv.URL+"/", "-r", "400/s", "-d", "3s", "-o", out,
		"--metrics-addr", fmt.Sprintf("127.0.0.1:%d", metricsPort), "--metrics-linger", "1m")
	const total = 1200
	got := prom.waitFor(t, "sum(tailgate_requests_total)", total, 30*time.Second)
	// The linger is announced after the summary: the run is over.
	for !strings.Contains(tg.stderr.String(), "metrics: serving the final values") {
		select {
		case c := <-tg.code:
			t.Fatalf("tailgate exited with %d before lingering:\n%s", c, tg.stderr.String())
		case <-time.After(20 * time.Millisecond):
		}
	}
	tg.signals <- syscall.SIGTERM // ends the linger
	if c := <-tg.code; c != 0 {
		t.Fatalf("exit %d:\n%s", c, tg.stderr.String())
	}
	if got != total || n.Load() != total {
		t.Fatalf("Prometheus: sum(tailgate_requests_total) = %v, server counted %d, want %d\n%s", got, n.Load(), total, prom.log.String())
	}
	res, err := results.ReadResultFile(out)
	if err != nil {
		t.Fatal(err)
	}
	p99, ok := prom.query(t, `histogram_quantile(0.99, sum(tailgate_request_duration_seconds{outcome="ok"}))`)
	if !ok {
		t.Fatal("no native histogram in Prometheus")
	}
	p99Within(t, p99, res, 0.05)
	if v, _ := prom.query(t, fmt.Sprintf(`sum(tailgate_requests_total{run_id=%q})`, res.Meta.RunID)); res.Meta.RunID == "" || v != total {
		t.Errorf("run_id %q of the results file: %v requests under it, want %d", res.Meta.RunID, v, total)
	}
	if v, _ := prom.query(t, `sum(tailgate_iterations_total)`); v != total {
		t.Errorf("sum(tailgate_iterations_total) = %v, want %d", v, total)
	}
	dashboardQueriesRun(t, prom)
}

// dashboardQueriesRun evaluates every query of the Grafana dashboard, its
// variables filled in: each must be valid PromQL, and those of the
// headline panels must find data.
func dashboardQueriesRun(t *testing.T, prom *prometheus) {
	t.Helper()
	raw, err := os.ReadFile("../../deploy/grafana/tailgate.json")
	if err != nil {
		t.Fatal(err)
	}
	var d struct {
		Panels []struct {
			Title   string `json:"title"`
			Targets []struct {
				Expr string `json:"expr"`
			} `json:"targets"`
		} `json:"panels"`
	}
	if err := json.Unmarshal(raw, &d); err != nil {
		t.Fatal(err)
	}
	fill := strings.NewReplacer("$run_id", ".*", "$shard", ".*", "$__rate_interval", "1m")
	for _, p := range d.Panels {
		for _, tg := range p.Targets {
			q := fill.Replace(tg.Expr)
			_, ok := prom.queryAll(t, q)
			if !ok && !strings.Contains(q, `outcome="failed"`) && !strings.Contains(q, "tailgate_errors_total") {
				t.Errorf("panel %q: %s found no data", p.Title, q)
			}
		}
	}
}

// TestRemoteWriteTwoShards: two shards of one plan push to a Prometheus
// remote-write receiver; their counters sum to what the server counted,
// per shard and in all, and the merged native histograms give a p99
// within 5% of the merged results' own.
func TestRemoteWriteTwoShards(t *testing.T) {
	prometheusBinary(t)
	srv, n := countingServer(t)
	prom := startPrometheus(t, "global:\n  scrape_interval: 1m\n", "--web.enable-remote-write-receiver")
	dir := t.TempDir()
	var shards []*inProcess
	for i := range 2 {
		shards = append(shards, startInProcess("hit", srv.URL+"/", "-r", "400/s", "-d", "2s", "--quiet",
			"--shard", fmt.Sprintf("%d/2", i), "-o", filepath.Join(dir, fmt.Sprintf("s%d.json", i)),
			"--metrics-push", prom.base+"/api/v1/write"))
	}
	for i, s := range shards {
		if c := <-s.code; c != 0 {
			t.Fatalf("shard %d: exit %d:\n%s", i, c, s.stderr.String())
		}
		if strings.Contains(s.stderr.String(), "warning") {
			t.Errorf("shard %d warned: %s", i, s.stderr.String())
		}
	}
	const total = 800
	if n.Load() != total {
		t.Fatalf("server counted %d, want %d", n.Load(), total)
	}
	// Every push completed before the shards exited: no waiting needed.
	if v, _ := prom.query(t, "sum(tailgate_requests_total)"); v != total {
		t.Errorf("sum(tailgate_requests_total) = %v, want %d\n%s", v, total, prom.log.String())
	}
	for i := range 2 {
		if v, _ := prom.query(t, fmt.Sprintf(`sum(tailgate_requests_total{shard="%d"})`, i)); v != total/2 {
			t.Errorf("shard %d: sum(tailgate_requests_total) = %v, want %d", i, v, total/2)
		}
	}
	if v, _ := prom.query(t, `sum(tailgate_request_duration_seconds_count)`); v != total {
		t.Errorf("classic histogram count %v, want %d", v, total)
	}
	if v, _ := prom.query(t, `sum(tailgate_arrivals_sent_total)`); v != total {
		t.Errorf("sum(tailgate_arrivals_sent_total) = %v, want %d", v, total)
	}
	code, _, stderr := runCLI(t, "merge", "-o", filepath.Join(dir, "merged.json"), filepath.Join(dir, "s0.json"), filepath.Join(dir, "s1.json"))
	if code != 0 {
		t.Fatalf("merge: exit %d: %s", code, stderr)
	}
	merged, err := results.ReadResultFile(filepath.Join(dir, "merged.json"))
	if err != nil {
		t.Fatal(err)
	}
	p99, ok := prom.query(t, `histogram_quantile(0.99, sum(tailgate_request_duration_seconds{outcome="ok"}))`)
	if !ok {
		t.Fatal("no native histogram in Prometheus")
	}
	p99Within(t, p99, merged, 0.05)
	if v, _ := prom.query(t, fmt.Sprintf(`sum(tailgate_requests_total{run_id=%q})`, merged.Meta.RunID)); merged.Meta.RunID == "" || v != total {
		t.Errorf("run_id %q of the merged results: %v requests under it, want %d", merged.Meta.RunID, v, total)
	}
}
