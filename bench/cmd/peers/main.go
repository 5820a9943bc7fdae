// Command peers measures tailgate side by side with wrk, vegeta and hey on
// this machine and writes BENCHMARKS.md. bench/peers.sh installs the peers,
// builds the binaries and calls it; run it directly only with every binary
// already in place:
//
//	go run ./bench/cmd/peers --tailgate bin/tailgate --target bin/target --out BENCHMARKS.md
//
// Every figure that can come from the server does (nginx stub_status, the
// target's /count), every run is repeated and interleaved with the peers',
// and ratios are taken pair by pair within a repetition before the median,
// so slow drift of a shared machine cancels out. The tool under test is
// pinned to CPU 0 and the server to CPU 1.
package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/tailgate-dev/tailgate/results"
)

// config is the command line.
type config struct {
	quick    bool
	reps     int
	sections map[int]bool
	out      string
	tailgate string
	target   string
	wrk      string
	vegeta   string
	hey      string
	wrk2     string
	nginx    string
	// tailgateBase, if set, is a second tailgate binary measured beside
	// the first in section 6: an A/B in one interleaved run.
	tailgateBase string
	// keep is a measurements.json whose sections this run does not
	// measure are kept in the document.
	keep      string
	toolCPU   string
	serverCPU string
	nice      int
	work      string
	command   string // how the script was invoked, for the document
	// tailgateRev describes the measured source (commit), for the document.
	tailgateRev string
	src         string
	notes       string
}

// durations of each section's runs; --quick shrinks them.
type durations struct {
	throughput, rate, co, memShort, memLong time.Duration
	open                                    time.Duration
	benchtime                               string
}

func main() {
	if err := run(); err != nil {
		fmt.Fprintf(os.Stderr, "peers: %v\n", err)
		os.Exit(1)
	}
}

func run() error {
	var c config
	var sections string
	reps := 3
	if v := os.Getenv("REPS"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			return fmt.Errorf("REPS=%q: want a positive integer", v)
		}
		reps = n
	}
	flag.BoolVar(&c.quick, "quick", false, "smoke variant: one repetition, short runs, writes BENCHMARKS.quick.md unless --out is given")
	flag.IntVar(&c.reps, "reps", reps, "repetitions of every run (env REPS)")
	flag.StringVar(&sections, "sections", "1,2,3,4,5,6", "sections to run: 1 throughput, 2 rate accuracy, 3 coordinated omission, 4 memory, 5 go test -bench, 6 open model vs wrk2")
	flag.StringVar(&c.out, "out", "", "Markdown file to write (default BENCHMARKS.md)")
	flag.StringVar(&c.tailgate, "tailgate", "bin/tailgate", "tailgate binary")
	flag.StringVar(&c.target, "target", "bin/target", "bench/target binary")
	flag.StringVar(&c.wrk, "wrk", "wrk", "wrk binary")
	flag.StringVar(&c.vegeta, "vegeta", "vegeta", "vegeta binary")
	flag.StringVar(&c.hey, "hey", "hey", "hey binary")
	flag.StringVar(&c.wrk2, "wrk2", "wrk2", "wrk2 binary (built by peers.sh from ../shared/peers)")
	flag.StringVar(&c.tailgateBase, "tailgate-base", "", "a second tailgate binary to measure beside --tailgate in section 6 (an A/B)")
	flag.StringVar(&c.keep, "keep", "", "keep the sections this run does not measure from an earlier run's `measurements.json`")
	flag.StringVar(&c.nginx, "nginx", "nginx", "nginx binary")
	flag.IntVar(&c.nice, "nice", 0, "run tools and servers at this nice level (e.g. -5 on a machine shared with other work; the same for every tool)")
	flag.StringVar(&c.toolCPU, "tool-cpu", "0", "CPU list the load generators are pinned to")
	flag.StringVar(&c.serverCPU, "server-cpu", "1", "CPU list the servers are pinned to")
	flag.StringVar(&c.command, "command", "", "command line to record in the document (set by peers.sh)")
	flag.StringVar(&c.src, "src", ".", "source tree the go test benchmarks of section 5 run in (the one tailgate was built from)")
	flag.StringVar(&c.tailgateRev, "tailgate-rev", "", "which tailgate source was measured, for the document (set by peers.sh)")
	flag.StringVar(&c.notes, "notes", "bench/notes.md", "Markdown appended to the document as its closing notes (analysis that outlives one run); skipped if missing")
	render := flag.String("render", "", "write the document again from a `measurements.json` of an earlier run, measuring nothing")
	flag.Parse()
	if *render != "" {
		return renderAgain(*render, c.out, c.notes)
	}
	if c.quick && !isFlagSet("reps") {
		c.reps = 1
	}
	if c.out == "" {
		c.out = "BENCHMARKS.md"
		if c.quick {
			c.out = "BENCHMARKS.quick.md"
		}
	}
	c.sections = map[int]bool{}
	for _, s := range strings.Split(sections, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(s))
		if err != nil || n < 1 || n > 6 {
			return fmt.Errorf("--sections %q: want numbers 1..6", sections)
		}
		c.sections[n] = true
	}
	if c.command == "" {
		c.command = strings.Join(os.Args, " ")
	}
	paths := []*string{&c.tailgate, &c.target, &c.nginx}
	if c.sections[1] || c.sections[3] {
		paths = append(paths, &c.wrk, &c.hey)
	}
	if c.sections[1] || c.sections[2] || c.sections[3] || c.sections[4] {
		paths = append(paths, &c.vegeta)
	}
	if c.sections[6] {
		paths = append(paths, &c.wrk2)
		if c.tailgateBase != "" {
			paths = append(paths, &c.tailgateBase)
		}
	}
	for _, p := range paths {
		abs, err := lookPath(*p)
		if err != nil {
			return err
		}
		*p = abs
	}
	work, err := os.MkdirTemp("", "tailgate-bench-")
	if err != nil {
		return fmt.Errorf("work dir: %w", err)
	}
	c.work = work
	logf("work dir %s, %d repetitions", work, c.reps)

	d := durations{throughput: 10 * time.Second, rate: 10 * time.Second, co: 20 * time.Second,
		memShort: 20 * time.Second, memLong: 120 * time.Second, open: 10 * time.Second, benchtime: "1s"}
	if c.quick {
		d = durations{throughput: 2 * time.Second, rate: 2 * time.Second, co: 10 * time.Second,
			memShort: 2 * time.Second, memLong: 6 * time.Second, open: 2 * time.Second, benchtime: "100ms"}
	}

	ctx, cancel := signalContext()
	defer cancel()

	b := &bench{c: c, d: d}
	defer b.stopServers()
	if err := b.startServers(ctx); err != nil {
		return err
	}
	doc := &document{c: c, d: d, started: time.Now()}
	if c.keep != "" {
		if err := doc.keepFrom(c.keep); err != nil {
			return err
		}
		b.d = doc.d
	}
	doc.Machine = machineInfo()
	doc.Versions = b.versions()
	rawPath := filepath.Join(work, "measurements.json")
	saveRaw := func() {
		doc.finished = time.Now()
		doc.save()
		if raw, err := json.MarshalIndent(doc, "", "  "); err == nil {
			_ = os.WriteFile(rawPath, raw, 0o644)
		}
	}
	defer saveRaw()
	if c.sections[1] {
		if doc.Throughput, err = b.throughput(ctx); err != nil {
			return fmt.Errorf("throughput: %w", err)
		}
	}
	if c.sections[2] {
		saveRaw()
		if doc.Rates, err = b.rateAccuracy(ctx); err != nil {
			return fmt.Errorf("rate accuracy: %w", err)
		}
	}
	if c.sections[3] {
		saveRaw()
		if doc.CO, err = b.coordinatedOmission(ctx); err != nil {
			return fmt.Errorf("coordinated omission: %w", err)
		}
	}
	if c.sections[4] {
		saveRaw()
		if doc.Memory, err = b.memory(ctx); err != nil {
			return fmt.Errorf("memory: %w", err)
		}
	}
	if c.sections[6] {
		saveRaw()
		if doc.Open, err = b.openModel(ctx); err != nil {
			return fmt.Errorf("open model vs wrk2: %w", err)
		}
	}
	b.stopServers()
	if c.sections[5] {
		if doc.GoBench, err = b.goBench(ctx); err != nil {
			return fmt.Errorf("go test -bench: %w", err)
		}
	}
	doc.finished = time.Now()
	doc.save()
	var buf bytes.Buffer
	doc.write(&buf)
	if err := os.WriteFile(c.out, buf.Bytes(), 0o644); err != nil {
		return fmt.Errorf("write %s: %w", c.out, err)
	}
	raw, err := json.MarshalIndent(doc, "", "  ")
	if err == nil {
		err = os.WriteFile(filepath.Join(work, "measurements.json"), raw, 0o644)
	}
	if err != nil {
		return fmt.Errorf("raw measurements: %w", err)
	}
	logf("wrote %s (raw measurements in %s)", c.out, filepath.Join(work, "measurements.json"))
	return nil
}

// renderAgain writes the document from saved measurements.
func renderAgain(path, out, notes string) error {
	raw, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	var doc document
	if err := json.Unmarshal(raw, &doc); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	doc.restore()
	doc.c.notes = notes
	if out == "" {
		out = "BENCHMARKS.md"
	}
	var buf bytes.Buffer
	doc.write(&buf)
	if err := os.WriteFile(out, buf.Bytes(), 0o644); err != nil {
		return err
	}
	logf("wrote %s from %s", out, path)
	return nil
}

func isFlagSet(name string) bool {
	set := false
	flag.Visit(func(f *flag.Flag) {
		if f.Name == name {
			set = true
		}
	})
	return set
}

func lookPath(p string) (string, error) {
	if strings.ContainsRune(p, '/') {
		abs, err := filepath.Abs(p)
		if err != nil {
			return "", err
		}
		if _, err := os.Stat(abs); err != nil {
			return "", fmt.Errorf("binary %s: %w (run bench/peers.sh, which builds and installs everything)", p, err)
		}
		return abs, nil
	}
	abs, err := exec.LookPath(p)
	if err != nil {
		home, _ := os.UserHomeDir()
		alt := filepath.Join(home, "go", "bin", p)
		if _, serr := os.Stat(alt); serr == nil {
			return alt, nil
		}
		return "", fmt.Errorf("%s not found: %w (run bench/peers.sh, which installs it)", p, err)
	}
	return abs, nil
}

func logf(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "%s "+format+"\n", append([]any{time.Now().Format("15:04:05")}, args...)...)
}

// ---------------------------------------------------------------- servers

// bench holds the running servers and the measurements' settings.
type bench struct {
	c config
	d durations

	nginx       *exec.Cmd
	nginxURL    string // static file
	nginxStatus string // stub_status
	target      *exec.Cmd
	targetURL   string
}

func freePort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}

const nginxConf = `worker_processes 1;
daemon off;
master_process on;
user root;
pid %[1]s/nginx.pid;
error_log %[1]s/error.log warn;
events { worker_connections 8192; }
http {
    access_log off;
    keepalive_requests 100000000;
    keepalive_timeout 120s;
    client_body_temp_path %[1]s/tmp;
    proxy_temp_path %[1]s/tmp;
    fastcgi_temp_path %[1]s/tmp;
    uwsgi_temp_path %[1]s/tmp;
    scgi_temp_path %[1]s/tmp;
    server {
        listen 127.0.0.1:%[2]d backlog=4096;
        location = /index.html { root %[1]s/html; }
        location = /nginx_status { stub_status; }
    }
}
`

func (b *bench) startServers(ctx context.Context) error {
	prefix := filepath.Join(b.c.work, "nginx")
	for _, d := range []string{prefix, filepath.Join(prefix, "html"), filepath.Join(prefix, "tmp")} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return err
		}
	}
	// A small static file: 128 bytes of body, like a tiny JSON answer.
	body := strings.Repeat("tailgate benchmark payload. ", 5)[:127] + "\n"
	if err := os.WriteFile(filepath.Join(prefix, "html", "index.html"), []byte(body), 0o644); err != nil {
		return err
	}
	port, err := freePort()
	if err != nil {
		return fmt.Errorf("port: %w", err)
	}
	conf := filepath.Join(prefix, "nginx.conf")
	if err := os.WriteFile(conf, fmt.Appendf(nil, nginxConf, prefix, port), 0o644); err != nil {
		return err
	}
	b.nginx = exec.Command("nice", b.pinned(b.c.serverCPU, b.c.nginx, "-p", prefix, "-c", conf, "-e", filepath.Join(prefix, "error.log"))...)
	b.nginx.Stdout, b.nginx.Stderr = os.Stderr, os.Stderr
	if err := b.nginx.Start(); err != nil {
		return fmt.Errorf("start nginx: %w", err)
	}
	logf("nginx pid %d on 127.0.0.1:%d (CPU %s)", b.nginx.Process.Pid, port, b.c.serverCPU)
	b.nginxURL = fmt.Sprintf("http://127.0.0.1:%d/index.html", port)
	b.nginxStatus = fmt.Sprintf("http://127.0.0.1:%d/nginx_status", port)
	if err := waitHTTP(ctx, b.nginxStatus); err != nil {
		return fmt.Errorf("nginx: %w (see %s/error.log)", err, prefix)
	}

	tport, err := freePort()
	if err != nil {
		return fmt.Errorf("port: %w", err)
	}
	b.target = exec.Command("nice", b.pinned(b.c.serverCPU, b.c.target,
		"--addr", fmt.Sprintf("127.0.0.1:%d", tport), "--stall-every", "5s", "--stall-for", "500ms")...)
	b.target.Stdout, b.target.Stderr = os.Stderr, os.Stderr
	if err := b.target.Start(); err != nil {
		return fmt.Errorf("start target: %w", err)
	}
	logf("target pid %d on 127.0.0.1:%d (CPU %s)", b.target.Process.Pid, tport, b.c.serverCPU)
	b.targetURL = fmt.Sprintf("http://127.0.0.1:%d/", tport)
	if err := waitHTTP(ctx, b.targetURL+"count"); err != nil {
		return fmt.Errorf("target: %w", err)
	}
	return nil
}

// pinned returns the arguments of nice(1) that run argv at the configured
// nice level, pinned to cpus with taskset(1).
func (b *bench) pinned(cpus string, argv ...string) []string {
	return append([]string{"-n", strconv.Itoa(b.c.nice), "taskset", "-c", cpus}, argv...)
}

// stopServers ends the servers this program started, by PID.
func (b *bench) stopServers() {
	for _, p := range []**exec.Cmd{&b.nginx, &b.target} {
		cmd := *p
		if cmd == nil || cmd.Process == nil {
			continue
		}
		_ = cmd.Process.Signal(syscall.SIGTERM)
		done := make(chan struct{})
		go func() { _ = cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			_ = cmd.Process.Kill()
			<-done
		}
		logf("stopped pid %d", cmd.Process.Pid)
		*p = nil
	}
}

func waitHTTP(ctx context.Context, url string) error {
	deadline := time.Now().Add(10 * time.Second)
	for {
		req, _ := http.NewRequestWithContext(ctx, "GET", url, nil)
		resp, err := http.DefaultClient.Do(req)
		if err == nil {
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return nil
			}
			err = fmt.Errorf("status %d", resp.StatusCode)
		}
		if time.Now().After(deadline) || ctx.Err() != nil {
			return fmt.Errorf("%s not answering: %w", url, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// nginxCount reads the requests counter of stub_status (which counts the
// status request itself too).
func (b *bench) nginxCount() (uint64, error) {
	body, err := get(b.nginxStatus)
	if err != nil {
		return 0, err
	}
	lines := strings.Split(body, "\n")
	if len(lines) < 3 {
		return 0, fmt.Errorf("stub_status: unexpected %q", body)
	}
	f := strings.Fields(lines[2])
	if len(f) != 3 {
		return 0, fmt.Errorf("stub_status: unexpected %q", body)
	}
	return strconv.ParseUint(f[2], 10, 64)
}

func (b *bench) targetCount() (uint64, error) {
	body, err := get(b.targetURL + "count")
	if err != nil {
		return 0, err
	}
	return strconv.ParseUint(strings.TrimSpace(body), 10, 64)
}

func get(url string) (string, error) {
	c := http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
	resp, err := c.Get(url)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return "", err
	}
	if resp.StatusCode != 200 {
		return "", fmt.Errorf("%s: status %d", url, resp.StatusCode)
	}
	return string(body), nil
}

// ---------------------------------------------------------------- running tools

// proc is one finished tool process.
type proc struct {
	Stdout, Stderr string        `json:"-"`
	Wall           time.Duration `json:"wall"`
	CPU            time.Duration `json:"cpu"` // user + system
	User           time.Duration `json:"user"`
	MaxRSS         int64         `json:"maxrss"` // bytes
}

// step is one process of a pipeline: argv, and a file for stdout ("" to
// capture it).
type step struct {
	argv   []string
	stdout string
	stdin  string
}

// runPinned runs a pipeline of processes, each pinned to the tool CPU,
// and returns what each used. CPU time is the rusage from wait4. Peak RSS
// comes from /usr/bin/time wrapped around each step: wait4's ru_maxrss
// of a child of this Go program is at least this program's own RSS, since
// Go starts children with a clone that shares the parent's memory until
// exec, and Linux counts the memory before exec in the child's maximum.
// GNU time forks its child with a copy of its own small memory instead.
func (b *bench) runPinned(ctx context.Context, limit time.Duration, steps ...step) ([]proc, error) {
	cmds := make([]*exec.Cmd, len(steps))
	outs := make([]*bytes.Buffer, len(steps))
	errs := make([]*bytes.Buffer, len(steps))
	var closers []io.Closer
	defer func() {
		for _, c := range closers {
			_ = c.Close()
		}
	}()
	rctx, cancel := context.WithTimeout(ctx, limit)
	defer cancel()
	rssFiles := make([]string, len(steps))
	for i, s := range steps {
		rssFiles[i] = filepath.Join(b.c.work, fmt.Sprintf("maxrss-%d-%d", time.Now().UnixNano(), i))
		argv := append([]string{"-f", "%M", "-o", rssFiles[i], "nice"}, b.pinned(b.c.toolCPU, s.argv...)...)
		cmd := exec.CommandContext(rctx, "/usr/bin/time", argv...)
		// time runs the tool as its child: on a timeout, end both.
		cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
		cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
		cmd.Env = os.Environ()
		outs[i], errs[i] = &bytes.Buffer{}, &bytes.Buffer{}
		cmd.Stderr = errs[i]
		if s.stdin != "" {
			f, err := os.Open(s.stdin)
			if err != nil {
				return nil, err
			}
			closers = append(closers, f)
			cmd.Stdin = f
		}
		if s.stdout != "" {
			f, err := os.Create(s.stdout)
			if err != nil {
				return nil, err
			}
			closers = append(closers, f)
			cmd.Stdout = f
		} else if i < len(steps)-1 {
			// Piped into the next step below.
		} else {
			cmd.Stdout = outs[i]
		}
		cmds[i] = cmd
	}
	for i := 0; i < len(cmds)-1; i++ {
		if cmds[i].Stdout != nil {
			continue
		}
		r, w, err := os.Pipe()
		if err != nil {
			return nil, err
		}
		cmds[i].Stdout = w
		cmds[i+1].Stdin = r
		closers = append(closers, r, w)
	}
	start := time.Now()
	for i, cmd := range cmds {
		if err := cmd.Start(); err != nil {
			return nil, fmt.Errorf("%s: %w", steps[i].argv[0], err)
		}
	}
	// The parent's copies of the pipe ends must go, or readers never see EOF.
	for _, c := range closers {
		_ = c.Close()
	}
	closers = nil
	out := make([]proc, len(cmds))
	var firstErr error
	for i, cmd := range cmds {
		err := cmd.Wait()
		p := proc{Wall: time.Since(start), Stdout: outs[i].String(), Stderr: errs[i].String()}
		if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
			// time's own CPU is included and negligible.
			p.CPU = time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
			p.User = time.Duration(ru.Utime.Nano())
		}
		if kib, rerr := readMaxRSS(rssFiles[i]); rerr == nil {
			p.MaxRSS = kib * 1024
		} else if err == nil {
			err = rerr
		}
		out[i] = p
		if err != nil && firstErr == nil && !okExit(steps[i].argv[0], err) {
			firstErr = fmt.Errorf("%s: %w\n%s", strings.Join(steps[i].argv, " "), err, tail(p.Stderr, 800))
		}
	}
	if rctx.Err() == context.DeadlineExceeded && ctx.Err() == nil {
		return out, fmt.Errorf("%w after %s", errTimedOut, limit)
	}
	if firstErr != nil {
		return out, firstErr
	}
	return out, rctx.Err()
}

// errTimedOut marks a tool killed for running far past its planned length.
// The run is kept, with a note, rather than ending the whole benchmark: a
// peer that falls hopelessly behind its schedule is itself a result.
var errTimedOut = errors.New("killed")

// fatal reports whether err must end the benchmark.
func fatal(err error) bool { return err != nil && !errors.Is(err, errTimedOut) }

// note is the text a run keeps for a non-fatal error.
func note(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

// okExit accepts tailgate's "thresholds failed" exit (1) as a finished run.
func okExit(name string, err error) bool {
	var ee *exec.ExitError
	return errors.As(err, &ee) && ee.ExitCode() == 1 && strings.HasSuffix(name, "tailgate")
}

func tail(s string, n int) string {
	if len(s) > n {
		return "…" + s[len(s)-n:]
	}
	return s
}

// counted runs a pipeline and returns it with the number of requests the
// server saw meanwhile.
func (b *bench) counted(ctx context.Context, server string, limit time.Duration, steps ...step) ([]proc, uint64, error) {
	read := b.nginxCount
	adjust := uint64(1) // the status request after the run counts itself
	if server == "target" {
		read, adjust = b.targetCount, 0
	}
	before, err := read()
	if err != nil {
		return nil, 0, err
	}
	ps, runErr := b.runPinned(ctx, limit, steps...)
	if fatal(runErr) {
		return ps, 0, runErr
	}
	// Let the server finish requests still in its queue.
	time.Sleep(200 * time.Millisecond)
	after, err := read()
	if err != nil {
		return ps, 0, err
	}
	return ps, after - before - adjust, runErr
}

func secs(d time.Duration) string { return strconv.Itoa(int(d / time.Second)) }

// readMaxRSS reads the peak RSS in KiB that /usr/bin/time -f %M wrote to
// path: the last line (time writes a line about a non-zero exit before it).
func readMaxRSS(path string) (int64, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return 0, fmt.Errorf("peak RSS: %w", err)
	}
	_ = os.Remove(path)
	lines := strings.Fields(strings.TrimSpace(string(raw)))
	if len(lines) == 0 {
		return 0, fmt.Errorf("peak RSS: %s is empty", path)
	}
	kib, err := strconv.ParseInt(lines[len(lines)-1], 10, 64)
	if err != nil {
		return 0, fmt.Errorf("peak RSS: %s: %q", path, raw)
	}
	return kib, nil
}

// ---------------------------------------------------------------- 1 throughput

// ThroughputRun is one closed-loop run of one tool.
type ThroughputRun struct {
	Tool     string  `json:"tool"`
	Rep      int     `json:"rep"`
	Requests uint64  `json:"requests"` // server-side
	Rate     float64 `json:"rate"`     // server-side requests / planned duration
	CPU      float64 `json:"cpu_s_per_100k"`
	Command  string  `json:"command"`
	Note     string  `json:"note,omitempty"`
}

var peerTools = []string{"tailgate", "wrk", "vegeta", "hey"}

func (b *bench) throughputCmd(tool string) []step {
	d := b.d.throughput
	u := b.nginxURL
	switch tool {
	case "tailgate":
		return []step{{argv: []string{b.c.tailgate, "hit", u, "--vus", "50", "-c", "50", "-d", secs(d) + "s", "--quiet"}}}
	case "wrk":
		return []step{{argv: []string{b.c.wrk, "-t1", "-c50", "-d" + secs(d) + "s", u}}}
	case "vegeta":
		tf := filepath.Join(b.c.work, "vegeta-nginx.txt")
		_ = os.WriteFile(tf, []byte("GET "+u+"\n"), 0o644)
		return []step{{argv: []string{b.c.vegeta, "attack", "-targets=" + tf, "-rate=0", "-workers=50", "-max-workers=50", "-duration=" + secs(d) + "s"}, stdout: os.DevNull}}
	case "hey":
		return []step{{argv: []string{b.c.hey, "-c", "50", "-z", secs(d) + "s", u}, stdout: os.DevNull}}
	}
	// invariant: tool comes from peerTools, every one of which is handled above.
	panic("unknown tool " + tool)
}

func (b *bench) throughput(ctx context.Context) ([]ThroughputRun, error) {
	logf("1. max throughput: %d reps × %v", b.c.reps, peerTools)
	var out []ThroughputRun
	for rep := 0; rep < b.c.reps; rep++ {
		for _, tool := range rotate(peerTools, rep) {
			steps := b.throughputCmd(tool)
			ps, n, err := b.counted(ctx, "nginx", b.d.throughput+30*time.Second, steps...)
			if fatal(err) {
				return out, err
			}
			var cpu time.Duration
			for _, p := range ps {
				cpu += p.CPU
			}
			r := ThroughputRun{Tool: tool, Rep: rep, Requests: n, Rate: float64(n) / b.d.throughput.Seconds(),
				Command: b.commandLine(steps), Note: note(err)}
			if n > 0 {
				r.CPU = cpu.Seconds() / float64(n) * 1e5
			}
			logf("  rep %d %-8s %8.0f req/s  %.2f CPU-s/100k", rep+1, tool, r.Rate, r.CPU)
			out = append(out, r)
		}
	}
	return out, nil
}

func rotate(s []string, k int) []string {
	k %= len(s)
	return append(append([]string(nil), s[k:]...), s[:k]...)
}

// commandLine shows a pipeline as a user would type it: binaries by name,
// files in the work directory as $WORK/name.
func (b *bench) commandLine(steps []step) string {
	var parts []string
	for _, s := range steps {
		argv := append([]string(nil), s.argv...)
		argv[0] = filepath.Base(argv[0])
		for i := range argv {
			argv[i] = strings.ReplaceAll(argv[i], b.c.work, "$WORK")
		}
		line := strings.Join(argv, " ")
		if s.stdin != "" {
			line += " < " + filepath.Base(s.stdin)
		}
		switch s.stdout {
		case "":
		case os.DevNull:
			line += " > /dev/null"
		default:
			line += " > " + strings.ReplaceAll(s.stdout, b.c.work, "$WORK")
		}
		parts = append(parts, line)
	}
	return strings.Join(parts, " | ")
}

// ---------------------------------------------------------------- 2 rate accuracy

// RateRun is one open-model run at a fixed rate.
type RateRun struct {
	Tool     string        `json:"tool"`
	Rep      int           `json:"rep"`
	Rate     int           `json:"rate"`
	Planned  uint64        `json:"planned"`
	Server   uint64        `json:"server"`
	LagP50   time.Duration `json:"lag_p50"`
	LagP99   time.Duration `json:"lag_p99"`
	LagMax   time.Duration `json:"lag_max"`
	Late     uint64        `json:"late"`
	Warnings []string      `json:"warnings"`
	CPU      float64       `json:"cpu_s_per_100k"`
	Command  string        `json:"command"`
	Note     string        `json:"note,omitempty"`
}

func (b *bench) rateAccuracy(ctx context.Context) ([]RateRun, error) {
	rates := []int{1000, 10000, 25000}
	tools := []string{"tailgate", "vegeta"}
	logf("2. rate accuracy: %d reps × %v × %v", b.c.reps, rates, tools)
	d := b.d.rate
	var out []RateRun
	for rep := 0; rep < b.c.reps; rep++ {
		for _, rate := range rates {
			for _, tool := range rotate(tools, rep) {
				res := filepath.Join(b.c.work, fmt.Sprintf("rate-%s-%d-%d.json", tool, rate, rep))
				var steps []step
				switch tool {
				case "tailgate":
					steps = []step{{argv: []string{b.c.tailgate, "hit", b.nginxURL, "-r", fmt.Sprintf("%d/s", rate), "-d", secs(d) + "s", "-c", "50", "-o", res, "--quiet"}, stdout: os.DevNull}}
				case "vegeta":
					tf := filepath.Join(b.c.work, "vegeta-nginx.txt")
					_ = os.WriteFile(tf, []byte("GET "+b.nginxURL+"\n"), 0o644)
					steps = []step{{argv: []string{b.c.vegeta, "attack", "-targets=" + tf, fmt.Sprintf("-rate=%d", rate), "-duration=" + secs(d) + "s"}, stdout: os.DevNull}}
				}
				ps, n, err := b.counted(ctx, "nginx", d+60*time.Second, steps...)
				if fatal(err) {
					return out, err
				}
				r := RateRun{Tool: tool, Rep: rep, Rate: rate, Planned: uint64(rate) * uint64(d/time.Second), Server: n, Command: b.commandLine(steps), Note: note(err)}
				if n > 0 {
					r.CPU = ps[0].CPU.Seconds() / float64(n) * 1e5
				}
				for _, line := range strings.Split(ps[0].Stderr, "\n") {
					if strings.HasPrefix(line, "warning:") {
						r.Warnings = append(r.Warnings, strings.TrimSpace(strings.TrimPrefix(line, "warning:")))
					}
				}
				if tool == "tailgate" && r.Note == "" {
					tr, err := results.ReadResultFile(res)
					if err != nil {
						return out, fmt.Errorf("tailgate result: %w", err)
					}
					lag := tr.Total.SendLag
					r.LagP50, r.LagP99, r.LagMax = lag.Percentile(50), lag.Percentile(99), lag.Max()
					r.Late = tr.Schedule.Late
				}
				logf("  rep %d %-8s %6d/s server %d of %d (%+.3f%%) lag p99 %v", rep+1, tool, rate, n, r.Planned, deviation(n, r.Planned), r.LagP99)
				out = append(out, r)
			}
		}
	}
	return out, nil
}

func deviation(got, want uint64) float64 {
	if want == 0 {
		return 0
	}
	return (float64(got) - float64(want)) / float64(want) * 100
}

// ---------------------------------------------------------------- 3 coordinated omission

// Stall parameters of the target in section 3 and the request rate.
const (
	coStallEvery = 5 * time.Second
	coStallFor   = 500 * time.Millisecond
	coRate       = 1000
)

// COTruth is the analytical latency distribution of an open-model client at
// a constant rate against the stalling target, apart from the base service
// time b (a fraction of a millisecond on loopback).
//
// A request arriving at phase u = t mod T of a period waits S − u when
// u < S and nothing otherwise. Arrivals are uniform in u, so
// P(wait > x) = (S − x)/T for 0 ≤ x < S. The q-quantile of the wait is
// therefore 0 for q ≤ 1 − S/T and S − (1 − q)·T above it; the maximum is S.
type COTruth struct {
	P50, P99, P999, Max time.Duration
}

func coTruth(stallEvery, stallFor time.Duration) COTruth {
	q := func(p float64) time.Duration {
		tail := (1 - p/100) * float64(stallEvery)
		if tail >= float64(stallFor) {
			return 0
		}
		return time.Duration(float64(stallFor) - tail)
	}
	return COTruth{P50: q(50), P99: q(99), P999: q(99.9), Max: stallFor}
}

// CORun is what one tool reported in one run of section 3.
type CORun struct {
	Tool   string        `json:"tool"`
	Rep    int           `json:"rep"`
	Server uint64        `json:"server"`
	Client uint64        `json:"client"`
	P50    time.Duration `json:"p50"`
	P99    time.Duration `json:"p99"`
	P999   time.Duration `json:"p999"`
	Max    time.Duration `json:"max"`
	// Source says where each figure comes from.
	Source  string `json:"source"`
	Command string `json:"command"`
	Note    string `json:"note,omitempty"`
}

const wrkLua = `done = function(summary, latency, requests)
  io.write(string.format("TAILGATE-BENCH %d %d %d %d %d\n", summary.requests,
    latency:percentile(50), latency:percentile(99), latency:percentile(99.9), latency.max))
end
`

func (b *bench) coordinatedOmission(ctx context.Context) ([]CORun, error) {
	logf("3. coordinated omission: %d reps × %v at %d/s against a stall of %v every %v", b.c.reps, peerTools, coRate, coStallFor, coStallEvery)
	d := b.d.co
	ds := secs(d) + "s"
	u := b.targetURL
	lua := filepath.Join(b.c.work, "percentiles.lua")
	if err := os.WriteFile(lua, []byte(wrkLua), 0o644); err != nil {
		return nil, err
	}
	tf := filepath.Join(b.c.work, "vegeta-target.txt")
	if err := os.WriteFile(tf, []byte("GET "+u+"\n"), 0o644); err != nil {
		return nil, err
	}
	var out []CORun
	for rep := 0; rep < b.c.reps; rep++ {
		for _, tool := range rotate(peerTools, rep) {
			var steps []step
			res := filepath.Join(b.c.work, fmt.Sprintf("co-%s-%d", tool, rep))
			switch tool {
			case "tailgate":
				steps = []step{{argv: []string{b.c.tailgate, "hit", u, "-r", fmt.Sprintf("%d/s", coRate), "-d", ds, "-c", "50", "-o", res + ".json", "--quiet"}, stdout: os.DevNull}}
			case "wrk":
				steps = []step{{argv: []string{b.c.wrk, "-t1", "-c50", "-d" + ds, "-s", lua, u}}}
			case "vegeta":
				steps = []step{{argv: []string{b.c.vegeta, "attack", "-targets=" + tf, fmt.Sprintf("-rate=%d", coRate), "-duration=" + ds}, stdout: res + ".bin"}}
			case "hey":
				// hey paces per worker: -q is requests per second per worker.
				steps = []step{{argv: []string{b.c.hey, "-c", "50", "-q", strconv.Itoa(coRate / 50), "-z", ds, "-o", "csv", u}, stdout: res + ".csv"}}
			}
			ps, n, err := b.counted(ctx, "target", d+60*time.Second, steps...)
			if fatal(err) {
				return out, err
			}
			r := CORun{Tool: tool, Rep: rep, Server: n, Command: b.commandLine(steps), Note: note(err)}
			if r.Note != "" {
				logf("  rep %d %-8s %s", rep+1, tool, r.Note)
				out = append(out, r)
				continue
			}
			switch tool {
			case "tailgate":
				err = coTailgate(&r, res+".json")
			case "wrk":
				err = coWrk(&r, ps[0].Stdout)
			case "vegeta":
				err = coVegeta(ctx, b, &r, res+".bin")
			case "hey":
				err = coHey(&r, res+".csv")
			}
			if err != nil {
				return out, fmt.Errorf("%s: %w", tool, err)
			}
			logf("  rep %d %-8s p50 %v p99 %v p99.9 %v max %v (server %d)", rep+1, tool, r.P50, r.P99, r.P999, r.Max, n)
			out = append(out, r)
		}
	}
	return out, nil
}

func coTailgate(r *CORun, path string) error {
	res, err := results.ReadResultFile(path)
	if err != nil {
		return err
	}
	h := res.Total.Latency
	r.Client = res.Total.Requests
	r.P50, r.P99, r.P999, r.Max = h.Percentile(50), h.Percentile(99), h.Percentile(99.9), h.Max()
	r.Source = "results file (latency from the intended send time)"
	return nil
}

// coWrk reads the line the Lua done() hook printed.
func coWrk(r *CORun, stdout string) error {
	var line string
	for _, l := range strings.Split(stdout, "\n") {
		if strings.HasPrefix(l, "TAILGATE-BENCH ") {
			line = l
		}
	}
	f := strings.Fields(line)
	if len(f) != 6 {
		return fmt.Errorf("no percentiles from the Lua hook in %q", line)
	}
	var v [5]int64
	for i := range v {
		n, err := strconv.ParseInt(f[i+1], 10, 64)
		if err != nil {
			return fmt.Errorf("the Lua hook's line %q: %w", line, err)
		}
		v[i] = n
	}
	r.Client = uint64(v[0])
	r.P50, r.P99, r.P999, r.Max = time.Duration(v[1])*time.Microsecond, time.Duration(v[2])*time.Microsecond, time.Duration(v[3])*time.Microsecond, time.Duration(v[4])*time.Microsecond
	r.Source = "wrk's own histogram via a Lua done() hook"
	return nil
}

func coVegeta(ctx context.Context, b *bench, r *CORun, bin string) error {
	rep, err := exec.CommandContext(ctx, b.c.vegeta, "report", "-type=json", bin).Output()
	if err != nil {
		return fmt.Errorf("vegeta report: %w", err)
	}
	var m struct {
		Requests  uint64 `json:"requests"`
		Latencies struct {
			P50 int64 `json:"50th"`
			P99 int64 `json:"99th"`
			Max int64 `json:"max"`
		} `json:"latencies"`
	}
	if err := json.Unmarshal(rep, &m); err != nil {
		return fmt.Errorf("vegeta report: %w", err)
	}
	r.Client = m.Requests
	r.P50, r.P99, r.Max = time.Duration(m.Latencies.P50), time.Duration(m.Latencies.P99), time.Duration(m.Latencies.Max)
	// vegeta report has no p99.9: take it from the raw results.
	csvOut, err := exec.CommandContext(ctx, b.c.vegeta, "encode", "-to=csv", bin).Output()
	if err != nil {
		return fmt.Errorf("vegeta encode: %w", err)
	}
	var lat []time.Duration
	rd := csv.NewReader(bytes.NewReader(csvOut))
	rd.FieldsPerRecord = -1
	for {
		rec, err := rd.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			return fmt.Errorf("vegeta csv: %w", err)
		}
		if len(rec) < 3 {
			continue
		}
		ns, err := strconv.ParseInt(rec[2], 10, 64)
		if err != nil {
			return fmt.Errorf("vegeta csv latency %q: %w", rec[2], err)
		}
		lat = append(lat, time.Duration(ns))
	}
	r.P999 = quantile(lat, 99.9)
	r.Source = "vegeta report -type=json (p99.9 from vegeta encode -to=csv)"
	return nil
}

func coHey(r *CORun, path string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	rd := csv.NewReader(bufio.NewReader(f))
	rd.FieldsPerRecord = -1
	var lat []time.Duration
	for first := true; ; first = false {
		rec, err := rd.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			return fmt.Errorf("hey csv: %w", err)
		}
		if first || len(rec) < 1 {
			continue // header
		}
		s, err := strconv.ParseFloat(rec[0], 64)
		if err != nil {
			return fmt.Errorf("hey csv response-time %q: %w", rec[0], err)
		}
		lat = append(lat, time.Duration(s*float64(time.Second)))
	}
	r.Client = uint64(len(lat))
	r.P50, r.P99, r.P999 = quantile(lat, 50), quantile(lat, 99), quantile(lat, 99.9)
	if len(lat) > 0 {
		r.Max = slices.Max(lat)
	}
	r.Source = "hey -o csv (per-request response times; nearest rank)"
	return nil
}

// quantile is the nearest-rank percentile p of xs (sorted in place).
func quantile(xs []time.Duration, p float64) time.Duration {
	if len(xs) == 0 {
		return 0
	}
	slices.Sort(xs)
	k := int(math.Ceil(p/100*float64(len(xs)))) - 1
	k = max(0, min(k, len(xs)-1))
	return xs[k]
}

// ---------------------------------------------------------------- 4 memory

// MemRun is the peak RSS of one open-model run.
type MemRun struct {
	Tool     string        `json:"tool"`
	Rep      int           `json:"rep"`
	Duration time.Duration `json:"duration"`
	RSS      int64         `json:"rss"` // bytes, summed over the pipeline
	Parts    []int64       `json:"parts"`
	Server   uint64        `json:"server"`
	Command  string        `json:"command"`
	Note     string        `json:"note,omitempty"`
}

const memRate = 10000

func (b *bench) memory(ctx context.Context) ([]MemRun, error) {
	tools := []string{"tailgate", "vegeta"}
	lens := []time.Duration{b.d.memShort, b.d.memLong}
	logf("4. memory: %d reps × %v × %v at %d/s", b.c.reps, tools, lens, memRate)
	tf := filepath.Join(b.c.work, "vegeta-nginx.txt")
	if err := os.WriteFile(tf, []byte("GET "+b.nginxURL+"\n"), 0o644); err != nil {
		return nil, err
	}
	var out []MemRun
	for rep := 0; rep < b.c.reps; rep++ {
		for _, d := range lens {
			for _, tool := range rotate(tools, rep) {
				var steps []step
				switch tool {
				case "tailgate":
					res := filepath.Join(b.c.work, fmt.Sprintf("mem-%d-%d.json", d/time.Second, rep))
					steps = []step{{argv: []string{b.c.tailgate, "hit", b.nginxURL, "-r", fmt.Sprintf("%d/s", memRate), "-d", secs(d) + "s", "-c", "50", "-o", res, "--quiet"}, stdout: os.DevNull}}
				case "vegeta":
					steps = []step{
						{argv: []string{b.c.vegeta, "attack", "-targets=" + tf, fmt.Sprintf("-rate=%d", memRate), "-duration=" + secs(d) + "s"}},
						{argv: []string{b.c.vegeta, "report"}, stdout: os.DevNull},
					}
				}
				ps, n, err := b.counted(ctx, "nginx", d+60*time.Second, steps...)
				if fatal(err) {
					return out, err
				}
				r := MemRun{Tool: tool, Rep: rep, Duration: d, Server: n, Command: b.commandLine(steps), Note: note(err)}
				for _, p := range ps {
					r.RSS += p.MaxRSS
					r.Parts = append(r.Parts, p.MaxRSS)
				}
				logf("  rep %d %-8s %4v peak RSS %.1f MiB %v (server %d)", rep+1, tool, d, mib(r.RSS), r.Parts, n)
				out = append(out, r)
			}
		}
	}
	return out, nil
}

func mib(b int64) float64 { return float64(b) / (1 << 20) }

// ---------------------------------------------------------------- 5 go test -bench

// GoBench is one benchmark line of go test -bench, one per -count.
type GoBench struct {
	Pkg       string  `json:"pkg"`
	Name      string  `json:"name"`
	NsOp      float64 `json:"ns_op"`
	BytesOp   float64 `json:"b_op"`
	AllocsOp  float64 `json:"allocs_op"`
	ExtraUnit string  `json:"extra_unit,omitempty"`
	Extra     float64 `json:"extra,omitempty"`
}

// hotPathBenches selects the hot-path benchmarks per package: the engine's
// own (loadgen/bench_test.go) and the template renderer's, which lives with
// the scenario engine when it exists. Other benchmarks in those packages
// (merging hour-long shards, …) measure other things and take long.
var hotPathBenches = []struct{ pkg, re string }{
	{"./loadgen/", "^Benchmark(SchedulerTick|Record|CollectSample|Engine)"},
	{"./scenarios/", "^Benchmark.*(Render|Template)"},
}

func (b *bench) goBench(ctx context.Context) ([]GoBench, error) {
	var out []GoBench
	for _, hb := range hotPathBenches {
		lc := exec.CommandContext(ctx, "go", "test", "-list", hb.re, hb.pkg)
		lc.Dir = b.c.src
		list, err := lc.Output()
		if err != nil || !strings.Contains(string(list), "Benchmark") {
			logf("5. no benchmarks matching %s in %s", hb.re, hb.pkg)
			continue
		}
		logf("5. go test -bench %s %s", hb.re, hb.pkg)
		cmd := exec.CommandContext(ctx, "nice", b.pinned(b.c.toolCPU, "go", "test", "-run", "^$", "-bench", hb.re, "-benchmem",
			"-benchtime", b.d.benchtime, "-count", strconv.Itoa(b.c.reps), hb.pkg)...)
		cmd.Dir = b.c.src
		cmd.Stderr = os.Stderr
		raw, err := cmd.Output()
		if err != nil {
			return out, fmt.Errorf("go test -bench %s: %w\n%s", hb.pkg, err, tail(string(raw), 2000))
		}
		out = append(out, parseGoBench(hb.pkg, string(raw))...)
	}
	return out, nil
}

func parseGoBench(pkg, raw string) []GoBench {
	var out []GoBench
	for _, line := range strings.Split(raw, "\n") {
		f := strings.Fields(line)
		if len(f) < 4 || !strings.HasPrefix(f[0], "Benchmark") {
			continue
		}
		g := GoBench{Pkg: pkg, Name: f[0]}
		if i := strings.LastIndexByte(g.Name, '-'); i > 0 {
			g.Name = g.Name[:i]
		}
		for i := 2; i+1 < len(f); i += 2 {
			v, err := strconv.ParseFloat(f[i], 64)
			if err != nil {
				continue
			}
			switch f[i+1] {
			case "ns/op":
				g.NsOp = v
			case "B/op":
				g.BytesOp = v
			case "allocs/op":
				g.AllocsOp = v
			default:
				g.ExtraUnit, g.Extra = f[i+1], v
			}
		}
		out = append(out, g)
	}
	return out
}

// ---------------------------------------------------------------- machine

// Machine describes where the figures were measured.
type Machine struct {
	CPUs   int    `json:"cpus"`
	Model  string `json:"model"`
	Kernel string `json:"kernel"`
	Go     string `json:"go"`
}

func machineInfo() Machine {
	m := Machine{CPUs: runtime.NumCPU(), Go: runtime.Version()}
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for _, line := range strings.Split(string(b), "\n") {
			if k, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(k) == "model name" {
				m.Model = strings.TrimSpace(v)
				break
			}
		}
	}
	if out, err := exec.Command("uname", "-r").Output(); err == nil {
		m.Kernel = strings.TrimSpace(string(out))
	}
	if out, err := exec.Command("nproc").Output(); err == nil {
		if n, err := strconv.Atoi(strings.TrimSpace(string(out))); err == nil {
			m.CPUs = n
		}
	}
	return m
}

func (b *bench) versions() map[string]string {
	v := map[string]string{}
	first := func(s string) string {
		s = strings.TrimSpace(s)
		if i := strings.IndexByte(s, '\n'); i >= 0 {
			s = s[:i]
		}
		return s
	}
	out, _ := exec.Command(b.c.wrk, "-v").CombinedOutput()
	v["wrk"] = first(string(out))
	out, _ = exec.Command(b.c.nginx, "-v").CombinedOutput()
	v["nginx"] = first(string(out))
	if b.c.sections[6] {
		out, _ = exec.Command(b.c.wrk2, "-v").CombinedOutput()
		v["wrk2"] = "wrk2 44a94c1 from ../shared/peers: " + first(string(out))
	}
	for _, t := range []struct{ name, path string }{{"vegeta", b.c.vegeta}, {"hey", b.c.hey}, {"tailgate", b.c.tailgate}} {
		out, err := exec.Command("go", "version", "-m", t.path).Output()
		if err != nil {
			v[t.name] = "unknown"
			continue
		}
		for _, line := range strings.Split(string(out), "\n") {
			f := strings.Fields(line)
			if len(f) >= 3 && f[0] == "mod" {
				v[t.name] = f[1] + " " + f[2]
			}
		}
		if t.name == "tailgate" && b.c.tailgateRev != "" {
			v[t.name] = b.c.tailgateRev
		}
	}
	return v
}
