package cli

import (
	"bytes"
	"fmt"
	"io"
	"net"
	"net/http"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	"github.com/tailgate-dev/tailgate/results"
)

func TestMetricsAddrErrorsExitBeforeLoad(t *testing.T) {
	srv, n := countingServer(t)
	taken, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer taken.Close()
	for _, c := range []struct{ addr, want string }{
		{"9100", "want HOST:PORT"},
		{":http", "is not a number"},
		{"127.0.0.1:70000", "is not a number"},
		{taken.Addr().String(), "address already in use"},
	} {
		t.Run(c.addr, func(t *testing.T) {
			code, _, stderr := runCLI(t, "hit", srv.URL+"/", "-r", "100/s", "-d", "1s", "--metrics-addr", c.addr, "--quiet")
			if code != 2 || !strings.Contains(stderr, c.want) || strings.Count(strings.TrimSpace(stderr), "\n") != 0 {
				t.Errorf("exit %d, stderr %q; want 2 and one line with %q", code, stderr, c.want)
			}
		})
	}
	if got := n.Load(); got != 0 {
		t.Fatalf("the target got %d requests: a bad --metrics-addr must stop the run before any load", got)
	}
}

// scrape reads one /metrics page in the text format.
func scrape(t *testing.T, url string) map[string]*model.Sample {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	dec := expfmt.NewDecoder(bytes.NewReader(body), expfmt.NewFormat(expfmt.TypeTextPlain))
	samples, err := expfmt.ExtractSamples(&expfmt.DecodeOptions{Timestamp: model.Now()}, decodeAll(t, dec)...)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]*model.Sample{}
	for _, s := range samples {
		out[s.Metric.String()] = s
	}
	return out
}

func TestMetricsEndpointServesTheRunAndLingers(t *testing.T) {
	srv, n := countingServer(t)
	var stdout, stderr syncBuffer
	code := make(chan int, 1)
	go func() {
		code <- Main([]string{"hit", srv.URL + "/", "-r", "200/s", "-d", "1s", "--no-tui",
			"--metrics-addr", ":0", "--metrics-linger", "3s"},
			&Env{Stdout: &stdout, Stderr: &stderr, Getenv: func(string) string { return "" }})
	}()
	addrRE := regexp.MustCompile(`metrics on (http://127\.0\.0\.1:\d+/metrics)\n`)
	deadline := time.Now().Add(10 * time.Second)
	var url string
	var total float64
	for time.Now().Before(deadline) {
		if url == "" {
			if m := addrRE.FindStringSubmatch(stderr.String()); m != nil {
				url = m[1]
			}
		} else {
			total = 0
			for k, s := range scrape(t, url) {
				if strings.HasPrefix(k, "tailgate_requests_total{") {
					total += float64(s.Value)
				}
			}
			if total == 200 {
				break
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	if url == "" || total != 200 {
		t.Fatalf("scraped %s: %v requests, want 200 (server saw %d)\nstderr: %s", url, total, n.Load(), stderr.String())
	}
	samples := scrape(t, url)
	want := `tailgate_requests_total{group="", request="GET /", run_id="`
	found := false
	for k := range samples {
		if strings.HasPrefix(k, want) && strings.Contains(k, `shard="0"`) && strings.Contains(k, `status="200"`) {
			found = true
		}
	}
	if !found {
		t.Errorf("no %s…, status 200, shard 0 sample in %v", want, samples)
	}
	if c := <-code; c != 0 {
		t.Fatalf("exit %d\n%s", c, stderr.String())
	}
	if _, err := http.Get(url); err == nil {
		t.Errorf("/metrics still served after the linger")
	}
}

func decodeAll(t *testing.T, dec expfmt.Decoder) []*dto.MetricFamily {
	t.Helper()
	var out []*dto.MetricFamily
	for {
		var mf dto.MetricFamily
		if err := dec.Decode(&mf); err == io.EOF {
			return out
		} else if err != nil {
			t.Fatal(err)
		}
		out = append(out, &mf)
	}
}

func TestUnreachablePushWarnsAndKeepsResults(t *testing.T) {
	srv, n := countingServer(t)
	dead := freePort(t) // nothing listens there
	out := filepath.Join(t.TempDir(), "r.json")
	code, _, stderr := runCLI(t, "hit", srv.URL+"/", "-r", "200/s", "-d", "2s", "--quiet", "-o", out,
		"--metrics-push", fmt.Sprintf("http://127.0.0.1:%d/api/v1/write", dead))
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	if !strings.Contains(stderr, "warning: ") || !strings.Contains(stderr, "metrics pushes failed, the final one too") {
		t.Errorf("stderr %q: want a warning that the pushes failed", stderr)
	}
	res, err := results.ReadResultFile(out)
	if err != nil {
		t.Fatal(err)
	}
	if res.Total.Requests != 400 || n.Load() != 400 || res.Meta.Partial {
		t.Fatalf("results: %d requests (server %d), partial %v; want all 400", res.Total.Requests, n.Load(), res.Meta.Partial)
	}
}

func TestMetricsPushURLIsChecked(t *testing.T) {
	srv, n := countingServer(t)
	code, _, stderr := runCLI(t, "hit", srv.URL+"/", "-r", "100/s", "-d", "1s", "--quiet", "--metrics-push", "127.0.0.1:9090")
	if code != 2 || !strings.Contains(stderr, "want an http:// or https:// URL") || n.Load() != 0 {
		t.Fatalf("exit %d, stderr %q, %d requests; want 2, a one-line error, none", code, stderr, n.Load())
	}
}

func TestProgressLineShowsPushFailure(t *testing.T) {
	line := progressLine(&results.Snapshot{Elapsed: 5 * time.Second, MetricsError: "remote write to http://x/: connection refused"})
	if !strings.Contains(line, "METRICS PUSH FAILED: remote write to http://x/: connection refused") {
		t.Fatalf("progress line %q", line)
	}
}

func TestCapacityTakesTheMetricsFlags(t *testing.T) {
	srv, n := countingServer(t)
	code, _, stderr := runCLI(t, "capacity", srv.URL+"/", "--slo", "p99 < 50ms", "--metrics-addr", "nonsense", "--quiet")
	if code != 2 || !strings.Contains(stderr, "--metrics-addr") || n.Load() != 0 {
		t.Fatalf("exit %d, stderr %q, %d requests; want 2 and no load", code, stderr, n.Load())
	}
}
