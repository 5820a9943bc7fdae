package cli

import (
	"bytes"
	"encoding/json"
	"math"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tailgate-dev/tailgate/loadgen"
	"github.com/tailgate-dev/tailgate/results"
)

// runCLI runs the command line in-process and returns status, stdout, stderr.
func runCLI(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	code := Main(args, &Env{Stdout: &out, Stderr: &errb, Getenv: func(string) string { return "" }})
	return code, out.String(), errb.String()
}

func countingServer(t *testing.T) (*httptest.Server, *atomic.Int64) {
	t.Helper()
	var n atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n.Add(1)
		w.Write([]byte("hello"))
	}))
	t.Cleanup(srv.Close)
	return srv, &n
}

func TestHitMakesExactlyThePlannedRequests(t *testing.T) {
	srv, n := countingServer(t)
	out := filepath.Join(t.TempDir(), "r.json")
	code, stdout, stderr := runCLI(t, "hit", srv.URL+"/", "--rate", "1000/s", "--duration", "5s", "-o", out, "--quiet")
	if code != 0 {
		t.Fatalf("exit %d\n%s\n%s", code, stdout, stderr)
	}
	if got := n.Load(); got != 5000 {
		t.Fatalf("server counted %d requests, want exactly 5000", got)
	}
	res, err := results.ReadResultFile(out)
	if err != nil {
		t.Fatal(err)
	}
	if res.Total.Requests != 5000 || res.Schedule.Planned != 5000 || res.Meta.Partial {
		t.Fatalf("result: requests %d planned %d partial %v", res.Total.Requests, res.Schedule.Planned, res.Meta.Partial)
	}

	// report --format json: the stable summary shape.
	code, stdout, stderr = runCLI(t, "report", out, "--format", "json")
	if code != 0 {
		t.Fatalf("report: exit %d: %s", code, stderr)
	}
	var summary struct {
		Total struct {
			Requests      *int                `json:"requests"`
			Errors        *int                `json:"errors"`
			Rate          *float64            `json:"rate"`
			IterationRate *float64            `json:"iteration_rate"`
			PlannedRate   *float64            `json:"planned_rate"`
			LatencyMS     map[string]*float64 `json:"latency_ms"`
			ServiceMS     map[string]*float64 `json:"service_ms"`
		} `json:"total"`
		Requests map[string]json.RawMessage `json:"requests"`
	}
	if err := json.Unmarshal([]byte(stdout), &summary); err != nil {
		t.Fatalf("report json does not parse: %v\n%s", err, stdout)
	}
	tot := summary.Total
	if tot.Requests == nil || *tot.Requests != 5000 || tot.Errors == nil || *tot.Errors != 0 || tot.Rate == nil || tot.IterationRate == nil || tot.PlannedRate == nil {
		t.Fatalf("total: %s", stdout)
	}
	// The rates follow from the exact counts and the measured span, which
	// a busy machine may stretch (arrivals sent late) but never shorten
	// below the schedule's: so no floor on the achieved rate, but it
	// is 5000 over the measured seconds, never above the plan's, and the
	// plan's is exactly 1000/s.
	measured := res.Measured().Seconds()
	if want := 5000 / measured; math.Abs(*tot.Rate-want) > 0.001 || *tot.IterationRate != *tot.Rate {
		t.Fatalf("rate %v, iteration rate %v; want both 5000 requests over %vs = %.3f/s", *tot.Rate, *tot.IterationRate, measured, want)
	}
	if *tot.PlannedRate != 1000 || measured < 4.999 {
		t.Fatalf("planned rate %v, measured %vs, rate %v: want 1000/s planned over at least the 5 s schedule", *tot.PlannedRate, measured, *tot.Rate)
	}
	for _, m := range []map[string]*float64{tot.LatencyMS, tot.ServiceMS} {
		for _, k := range []string{"p50", "p90", "p95", "p99", "p99.9", "max"} {
			if v, ok := m[k]; !ok || v == nil || *v <= 0 {
				t.Fatalf("missing or zero %q in %v", k, m)
			}
		}
	}
	if _, ok := summary.Requests["GET /"]; !ok || len(summary.Requests) != 1 {
		t.Fatalf("requests: %v", summary.Requests)
	}
}

func TestHitClosedModel(t *testing.T) {
	srv, n := countingServer(t)
	code, stdout, stderr := runCLI(t, "hit", srv.URL, "--vus", "3", "--iterations", "30", "--quiet")
	if code != 0 {
		t.Fatalf("exit %d\n%s\n%s", code, stdout, stderr)
	}
	if n.Load() != 30 {
		t.Fatalf("server counted %d, want 30", n.Load())
	}
}

// TestHitBadInput: every mistake on the command line is one clear line on
// stderr and exit status 2, never a panic or a stack trace.
func TestHitBadInput(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"hit"}, "want exactly one URL"},
		{[]string{"hit", "http://127.0.0.1:1/", "-r", "0/s"}, "--rate: rate \"0/s\": must be greater than zero"},
		{[]string{"hit", "http://127.0.0.1:1/", "-r", "-5/s"}, "must be greater than zero"},
		{[]string{"hit", "http://127.0.0.1:1/", "-r", "NaN/s"}, "not a finite number"},
		{[]string{"hit", "http://127.0.0.1:1/", "-r", "1e400/s"}, "not a number"},
		{[]string{"hit", "http://127.0.0.1:1/", "-r", "1e30/s"}, "above the maximum"},
		{[]string{"hit", "http://127.0.0.1:1/", "-d", "0s"}, "--duration: duration \"0s\": must be greater than zero"},
		{[]string{"hit", "http://127.0.0.1:1/", "-d", "-3s"}, "must be greater than zero"},
		{[]string{"hit", "http://127.0.0.1:1/", "-d", "forever"}, "use a number with a unit"},
		{[]string{"hit", "ftp://127.0.0.1/"}, "unsupported scheme \"ftp\""},
		{[]string{"hit", "127.0.0.1:8080/x"}, "did you mean http://"},
		{[]string{"hit", "http:///path"}, "no host"},
		{[]string{"hit", "http://127.0.0.1:99999/"}, "bad port"},
		{[]string{"hit", "http://[::1/"}, "URL \"http://[::1/\""},
		{[]string{"hit", "http://127.0.0.1:1/", "--bogus"}, "unknown flag: --bogus"},
		{[]string{"hit", "http://127.0.0.1:1/", "-c", "-1"}, "--connections -1: must be at least 1"},
		{[]string{"hit", "http://127.0.0.1:1/", "-c", "0"}, "--connections 0: must be at least 1"},
		{[]string{"hit", "http://127.0.0.1:1/", "--max-in-flight", "0"}, "--max-in-flight 0: must be at least 1"},
		{[]string{"hit", "http://127.0.0.1:1/", "--http2", "--streams", "0"}, "--streams 0: must be at least 1"},
		{[]string{"hit", "http://127.0.0.1:1/", "--streams", "4"}, "concurrent streams per connection need HTTP/2"},
		{[]string{"hit", "http://127.0.0.1:1/", "-r", "100"}, `--rate: rate "100": give a unit, e.g. 100/s`},
		{[]string{"hit", "http://127.0.0.1:1/", "-d", "10"}, `--duration: duration "10": give a unit, e.g. 10s`},
		{[]string{"hit", "http://127.0.0.1:1/", "--threshold", "error_rate < 1"}, `write a percentage, e.g. 1%`},
		{[]string{"hit", "http://127.0.0.1:1/", "--rat", "10/s"}, `unknown flag: --rat (did you mean "--rate"?)`},
		{[]string{"hit", "http://127.0.0.1:1/", "-H", "X-A: a\x00b"}, "must not contain line breaks or NUL"},
		{[]string{"hit", "http://127.0.0.1:1/", "--vus", "0"}, "--vus: must be at least 1"},
		{[]string{"hit", "http://127.0.0.1:1/", "--vus", "2", "-r", "10/s"}, "exclude each other"},
		{[]string{"hit", "http://127.0.0.1:1/", "--iterations", "5"}, "needs the closed model"},
		{[]string{"hit", "http://127.0.0.1:1/", "-H", "NoColon"}, "want 'Name: value'"},
		{[]string{"hit", "http://127.0.0.1:1/", "-b", "@/does/not/exist"}, "--body: open /does/not/exist"},
		{[]string{"hit", "http://127.0.0.1:1/", "--overload", "panic"}, "use queue or drop"},
		{[]string{"hit", "http://127.0.0.1:1/", "--shard", "3/2"}, "want 0 ≤ I < N"},
		{[]string{"hit", "http://127.0.0.1:1/", "--warmup", "soon"}, "--warmup"},
		{[]string{"hit", "http://127.0.0.1:1/", "--cert", "/nope.pem", "--key", "/nope.key"}, "--cert"},
		{[]string{"hit", "http://127.0.0.1:1/", "--timeout", "0"}, "--timeout"},
		{[]string{"hti"}, "unknown command \"hti\" (did you mean \"hit\"?)"},
	} {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			code, _, stderr := runCLI(t, tc.args...)
			if code != ExitUsage {
				t.Fatalf("exit %d, want %d; stderr:\n%s", code, ExitUsage, stderr)
			}
			if !strings.Contains(stderr, tc.want) {
				t.Fatalf("stderr %q does not say %q", stderr, tc.want)
			}
			if strings.Count(strings.TrimSpace(stderr), "\n") > 1 || strings.Contains(stderr, "goroutine") {
				t.Fatalf("want one clear line, got:\n%s", stderr)
			}
		})
	}
}

// TestHitPoissonArrivals: --arrivals poisson sends exactly the schedule's
// arrivals (a random count near the plan's, the same for one seed), and
// rejects what it cannot mean.
func TestHitPoissonArrivals(t *testing.T) {
	srv, n := countingServer(t)
	out := filepath.Join(t.TempDir(), "r.json")
	code, stdout, stderr := runCLI(t, "hit", srv.URL+"/", "-r", "500/s", "-d", "2s", "--arrivals", "poisson", "--seed", "9", "-o", out, "--quiet")
	if code != 0 {
		t.Fatalf("exit %d\n%s\n%s", code, stdout, stderr)
	}
	res, err := results.ReadResultFile(out)
	if err != nil {
		t.Fatal(err)
	}
	p, err := loadgen.NewPoissonPacer(loadgen.ConstantPacer{PerSecond: 500, Length: 2 * time.Second}, 9)
	if err != nil {
		t.Fatal(err)
	}
	if got := uint64(n.Load()); got != p.Count() || res.Schedule.Planned != got {
		t.Fatalf("server saw %d, planned %d, the seed's schedule holds %d", got, res.Schedule.Planned, p.Count())
	}
	if !strings.Contains(res.Meta.Profile, "poisson arrivals (seed 9)") {
		t.Fatalf("profile %q does not say the arrivals were Poisson", res.Meta.Profile)
	}
	for _, tt := range []struct {
		args []string
		want string
	}{
		{[]string{"--seed", "3"}, "--seed needs --arrivals poisson"},
		{[]string{"--arrivals", "bursty"}, `--arrivals "bursty": use uniform or poisson`},
		{[]string{"--vus", "2", "--arrivals", "poisson"}, "--arrivals poisson needs the open model"},
	} {
		code, _, stderr := runCLI(t, append([]string{"hit", srv.URL + "/", "-d", "1s"}, tt.args...)...)
		if code != ExitUsage || !strings.Contains(stderr, tt.want) {
			t.Errorf("%v: exit %d, %q; want 2 and %q", tt.args, code, stderr, tt.want)
		}
	}
}
