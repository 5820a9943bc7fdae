package cli

import (
	"bufio"
	"bytes"
	"encoding/json"
	"image/png"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tailgate-dev/tailgate/loadgen"
	"github.com/tailgate-dev/tailgate/results"
)

func TestDemoEndToEnd(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "out")
	code, stdout, stderr := runCLI(t, "demo", "--rows", "1000", "--scenario", "testdata/demo-small.yaml", "--out", dir, "--no-tui", "--size", "400x225")
	if code != 0 {
		t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", code, stdout, stderr)
	}
	for _, name := range []string{"results.json", "summary.md", "latency-by-depth.png", "spectrum.png", "timeline.png"} {
		path := filepath.Join(dir, name)
		if !strings.Contains(stdout, path) {
			t.Errorf("stdout does not list %s", path)
		}
		if !strings.HasSuffix(name, ".png") {
			continue
		}
		f, err := os.Open(path)
		if err != nil {
			t.Fatal(err)
		}
		cfg, err := png.DecodeConfig(f)
		f.Close()
		if err != nil || cfg.Width != 400 || cfg.Height != 225 {
			t.Errorf("%s: %dx%d, %v; want a 400x225 PNG", name, cfg.Width, cfg.Height, err)
		}
	}
	if !regexp.MustCompile(`offset: page 40 takes [0-9.]+× as long as page 1 at p50`).MatchString(stdout) ||
		!regexp.MustCompile(`cursor: stays within [0-9.]+× of page 1 at every depth up to 40`).MatchString(stdout) {
		t.Errorf("no headline in stdout:\n%s", stdout)
	}
	if !strings.Contains(stderr, "demo database: 1,000 posts") {
		t.Errorf("no fill summary on stderr:\n%s", stderr)
	}

	res, err := results.ReadResultFile(filepath.Join(dir, "results.json"))
	if err != nil {
		t.Fatal(err)
	}
	if res.Total.Errors != 0 {
		t.Fatalf("%d errors: %v", res.Total.Errors, res.Total.ErrorSamples)
	}
	for _, name := range []string{"offset", "cursor"} {
		for _, g := range []string{"depth=1", "depth=5", "depth=40"} {
			if s := res.Lookup(name, g); s == nil || s.Requests == 0 {
				t.Errorf("no %s{%s} requests", name, g)
			}
		}
	}
	md, err := os.ReadFile(filepath.Join(dir, "summary.md"))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"## tailgate demo", "![", "(latency-by-depth.png)", "pagination-small"} {
		if !bytes.Contains(md, []byte(want)) {
			t.Errorf("summary.md lacks %q", want)
		}
	}
}

func TestDemoEmbeddedScenario(t *testing.T) {
	s, err := demoScenario(&Env{Stderr: io.Discard}, "", paginationLab)
	if err != nil {
		t.Fatal(err)
	}
	f := demoCmdFlags{db: demoFlags{rows: 1000}}
	plan, err := demoPlan(s, "http://127.0.0.1:9", f)
	if err != nil {
		t.Fatal(err)
	}
	names := map[string]bool{}
	for _, fl := range plan.Flows {
		names[fl.Name] = true
	}
	if !names["offset"] || !names["cursor"] {
		t.Fatalf("flows %v, want offset and cursor", names)
	}
	base := plan.PlannedDuration()

	f.duration, f.rate = "7s", "20/s"
	plan, err = demoPlan(s, "http://127.0.0.1:9", f)
	if err != nil {
		t.Fatal(err)
	}
	sp, ok := plan.Pacer.(*loadgen.StagedPacer)
	if !ok {
		t.Fatalf("pacer %T, want the scenario's stages", plan.Pacer)
	}
	stages := sp.Stages()
	last := stages[len(stages)-1].Pacer.(loadgen.ConstantPacer)
	if last.Length != 7*time.Second || last.PerSecond != 20 {
		t.Fatalf("last stage %v, want 20/s for 7s", last)
	}
	if warm := stages[0].Pacer.Duration(); plan.PlannedDuration() != warm+7*time.Second || warm == 0 || base <= plan.PlannedDuration() {
		t.Fatalf("planned %v (warmup %v, before %v)", plan.PlannedDuration(), warm, base)
	}
}

func TestDemoUsageErrors(t *testing.T) {
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"rows zero", []string{"demo", "--rows", "0"}, "--rows"},
		{"argument", []string{"demo", "extra"}, "unexpected argument"},
		{"bad duration", []string{"demo", "--duration", "soon"}, "--duration"},
		{"short duration", []string{"demo", "--duration", "10ms"}, "at least 1s"},
		{"bad rate", []string{"demo", "--rate", "fast"}, "--rate"},
		{"bad size", []string{"demo", "--size", "10x10"}, "--size"},
		{"missing scenario", []string{"demo", "--scenario", "testdata/nope.yaml"}, "nope.yaml"},
		{"serve rows", []string{"serve-demo", "--rows", "-1"}, "--rows"},
		{"serve public", []string{"serve-demo", "--addr", "0.0.0.0:8080"}, "--public"},
		{"serve all interfaces", []string{"serve-demo", "--addr", ":8080"}, "--public"},
		{"serve lan", []string{"serve-demo", "--addr", "192.168.1.10:8080"}, "--public"},
		{"serve no port", []string{"serve-demo", "--addr", "127.0.0.1"}, "HOST:PORT"},
		{"serve bad port", []string{"serve-demo", "--addr", "127.0.0.1:http-ish"}, "bad port"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			args := append(tt.args, "--out", t.TempDir())
			if tt.args[0] == "serve-demo" {
				args = tt.args
			}
			code, stdout, stderr := runCLI(t, args...)
			if code != ExitUsage || !strings.Contains(stderr, tt.want) {
				t.Fatalf("exit %d, want %d with %q\nstdout: %s\nstderr: %s", code, ExitUsage, tt.want, stdout, stderr)
			}
		})
	}
	if err := checkDemoAddr("0.0.0.0:0", true); err != nil {
		t.Fatalf("--public: %v", err)
	}
	for _, ok := range []string{"127.0.0.1:0", "localhost:8080", "[::1]:8080"} {
		if err := checkDemoAddr(ok, false); err != nil {
			t.Errorf("%s: %v", ok, err)
		}
	}
}

func TestServeDemoHelpSaysWhyLoopback(t *testing.T) {
	code, stdout, _ := runCLI(t, "serve-demo", "--help")
	if code != 0 || !strings.Contains(stdout, "loopback") || !strings.Contains(stdout, "--public") {
		t.Fatalf("exit %d:\n%s", code, stdout)
	}
}

// syncBuffer is a bytes.Buffer safe for a writer and a reader goroutine.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func TestServeDemoUntilSignal(t *testing.T) {
	var stdout, stderr syncBuffer
	sig := make(chan os.Signal, 1)
	env := &Env{Stdout: &stdout, Stderr: &stderr, Getenv: func(string) string { return "" }, Signals: sig}
	db := filepath.Join(t.TempDir(), "kept.db")
	exit := make(chan int, 1)
	go func() {
		exit <- Main([]string{"serve-demo", "--addr", "127.0.0.1:0", "--rows", "300", "--db", db}, env)
	}()

	re := regexp.MustCompile(`listening on (http://127\.0\.0\.1:[0-9]+)`)
	var url string
	deadline := time.Now().Add(20 * time.Second)
	for url == "" {
		if m := re.FindStringSubmatch(stdout.String()); m != nil {
			url = m[1]
			break
		}
		select {
		case code := <-exit:
			t.Fatalf("exited %d before listening:\n%s\n%s", code, stdout.String(), stderr.String())
		case <-time.After(20 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatalf("not listening after 20s:\n%s\n%s", stdout.String(), stderr.String())
		}
	}
	for target, want := range map[string]int{"/health": 200, "/api/posts?page=2": 200, "/api/posts?page=abc": 400, "/api/posts/cursor?cursor=%21": 400} {
		res, err := http.Get(url + target)
		if err != nil {
			t.Fatal(err)
		}
		var body map[string]any
		err = json.NewDecoder(bufio.NewReader(res.Body)).Decode(&body)
		res.Body.Close()
		if err != nil || res.StatusCode != want {
			t.Fatalf("%s: status %d (want %d), body %v, %v", target, res.StatusCode, want, body, err)
		}
	}
	sig <- os.Interrupt
	select {
	case code := <-exit:
		if code != 0 {
			t.Fatalf("exit %d after Ctrl-C:\n%s", code, stderr.String())
		}
	case <-time.After(10 * time.Second):
		t.Fatal("still serving 10s after Ctrl-C")
	}
	if _, err := os.Stat(db); err != nil {
		t.Fatalf("--db file not kept: %v", err)
	}
}

func TestDemoHeadline(t *testing.T) {
	group := func(name, depth string, d time.Duration) *results.Stats {
		s := results.NewStats(name, "depth="+depth)
		for range 100 {
			s.Latency.Record(d)
		}
		return s
	}
	res := &results.Result{Groups: []*results.Stats{
		group("offset", "1", time.Millisecond),
		group("offset", "100", 5*time.Millisecond),
		group("offset", "10000", 42*time.Millisecond),
		group("cursor", "1", time.Millisecond),
		group("cursor", "100", 1300*time.Microsecond),
		group("cursor", "10000", 1100*time.Microsecond),
	}}
	got := paginationHeadline(res)
	want := []string{
		"offset: page 10000 takes 42× as long as page 1 at p50 (42.0ms vs 1.00ms) and 42× at p99 (42.0ms vs 1.00ms)",
		"cursor: stays within 1.3× of page 1 at every depth up to 10000 (p50 1.00ms at page 1, 1.10ms at page 10000)",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("headline:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	for n, want := range map[int]string{0: "0", 999: "999", 1000: "1,000", 300000: "300,000", 1234567: "1,234,567", -4500: "-4,500"} {
		if got := groupThousands(n); got != want {
			t.Errorf("groupThousands(%d) = %q, want %q", n, got, want)
		}
	}
	if got := paginationHeadline(&results.Result{}); len(got) != 1 || !strings.Contains(got[0], "not enough") {
		t.Fatalf("empty result: %q", got)
	}
}

func TestDemoCtrlCDuringFill(t *testing.T) {
	var stdout, stderr syncBuffer
	sig := make(chan os.Signal, 1)
	sig <- os.Interrupt
	env := &Env{Stdout: &stdout, Stderr: &stderr, Getenv: func(string) string { return "" }, Signals: sig}
	start := time.Now()
	code := Main([]string{"demo", "--rows", "2000000", "--out", t.TempDir(), "--quiet"}, env)
	if code != ExitInterrupted || !strings.Contains(stderr.String(), "interrupted") {
		t.Fatalf("exit %d after Ctrl-C in the fill:\n%s", code, stderr.String())
	}
	if d := time.Since(start); d > 20*time.Second {
		t.Fatalf("the fill went on for %s after Ctrl-C", d)
	}
}
