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
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"
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
	h2load   string
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
	// sectionsDir holds the hand-written sections, included after the
	// measured ones (handwritten.go).
	sectionsDir string
}

// durations of each section's runs; --quick shrinks them.
type durations struct {
	throughput, rate, co, memShort, memLong time.Duration
	open                                    time.Duration
	h2, tls, conns                          time.Duration
	benchtime                               string
}

// lastSection is the highest section number --sections accepts; the
// hand-written sections (--sections-dir) are numbered after it.
const lastSection = 9

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
	flag.StringVar(&sections, "sections", "1,2,3,4,5,6,7,8,9", "sections to run: 1 throughput, 2 rate accuracy, 3 coordinated omission, 4 memory, 5 go test -bench, 6 open model vs wrk2, 7 HTTP/2 vs h2load, 8 TLS vs wrk, 9 connection scale")
	flag.StringVar(&c.out, "out", "", "Markdown file to write (default BENCHMARKS.md)")
	flag.StringVar(&c.tailgate, "tailgate", "bin/tailgate", "tailgate binary")
	flag.StringVar(&c.target, "target", "bin/target", "bench/target binary")
	flag.StringVar(&c.wrk, "wrk", "wrk", "wrk binary")
	flag.StringVar(&c.vegeta, "vegeta", "vegeta", "vegeta binary")
	flag.StringVar(&c.hey, "hey", "hey", "hey binary")
	flag.StringVar(&c.wrk2, "wrk2", "wrk2", "wrk2 binary (built by peers.sh from ../shared/peers)")
	flag.StringVar(&c.tailgateBase, "tailgate-base", "", "a second tailgate binary to measure beside --tailgate in sections 6 and 7 (an A/B)")
	flag.StringVar(&c.keep, "keep", "", "keep the sections this run does not measure from an earlier run's `measurements.json`")
	flag.StringVar(&c.nginx, "nginx", "nginx", "nginx binary")
	flag.StringVar(&c.h2load, "h2load", "h2load", "h2load binary (Debian's nghttp2-client)")
	flag.IntVar(&c.nice, "nice", 0, "run tools and servers at this nice level (e.g. -5 on a machine shared with other work; the same for every tool)")
	flag.StringVar(&c.toolCPU, "tool-cpu", "0", "CPU list the load generators are pinned to")
	flag.StringVar(&c.serverCPU, "server-cpu", "1", "CPU list the servers are pinned to")
	flag.StringVar(&c.command, "command", "", "command line to record in the document (set by peers.sh)")
	flag.StringVar(&c.src, "src", ".", "source tree the go test benchmarks of section 5 run in (the one tailgate was built from)")
	flag.StringVar(&c.tailgateRev, "tailgate-rev", "", "which tailgate source was measured, for the document (set by peers.sh)")
	flag.StringVar(&c.notes, "notes", "bench/notes.md", "Markdown appended to the document as its closing notes (analysis that outlives one run); skipped if missing")
	flag.StringVar(&c.sectionsDir, "sections-dir", "bench/sections", "hand-written sections (`*.md`, each starting with its `## Title`) included after the measured ones, numbered on from "+strconv.Itoa(lastSection+1)+"; skipped if missing")
	render := flag.String("render", "", "write the document again from a `measurements.json` of an earlier run, measuring nothing")
	flag.Parse()
	if *render != "" {
		return renderAgain(*render, c.out, c.notes, c.sectionsDir)
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
		if err != nil || n < 1 || n > lastSection {
			return fmt.Errorf("--sections %q: want numbers 1..%d", sections, lastSection)
		}
		c.sections[n] = true
	}
	if c.command == "" {
		c.command = strings.Join(os.Args, " ")
	}
	paths := []*string{&c.tailgate, &c.target, &c.nginx}
	if c.sections[1] || c.sections[3] || c.sections[8] {
		paths = append(paths, &c.wrk, &c.hey)
	}
	if c.sections[7] {
		paths = append(paths, &c.h2load)
	}
	if c.sections[9] {
		paths = append(paths, &c.wrk, &c.wrk2)
	}
	if c.sections[1] || c.sections[2] || c.sections[3] || c.sections[4] {
		paths = append(paths, &c.vegeta)
	}
	if c.sections[6] {
		paths = append(paths, &c.wrk2)
	}
	if c.sections[6] || c.sections[7] {
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
		memShort: 20 * time.Second, memLong: 120 * time.Second, open: 10 * time.Second, h2: 10 * time.Second, tls: 10 * time.Second, conns: 10 * time.Second, benchtime: "1s"}
	if c.quick {
		d = durations{throughput: 2 * time.Second, rate: 2 * time.Second, co: 10 * time.Second,
			memShort: 2 * time.Second, memLong: 6 * time.Second, open: 2 * time.Second, h2: 2 * time.Second, tls: 2 * time.Second, conns: 2 * time.Second, benchtime: "100ms"}
	}

	ctx, cancel := signalContext()
	defer cancel()

	b := &bench{c: c, d: d}
	defer b.stopServers()
	if err := b.startServers(ctx); err != nil {
		return err
	}
	doc := &document{c: c, d: d, started: time.Now()}
	if doc.hand, err = readHandwritten(c.sectionsDir); err != nil {
		return err
	}
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
	if c.sections[7] {
		saveRaw()
		if doc.H2, err = b.h2Bench(ctx); err != nil {
			return fmt.Errorf("HTTP/2 vs h2load: %w", err)
		}
	}
	if c.sections[8] {
		saveRaw()
		if doc.TLS, err = b.tlsBench(ctx); err != nil {
			return fmt.Errorf("TLS vs wrk: %w", err)
		}
	}
	if c.sections[9] {
		saveRaw()
		if doc.Conns, err = b.connScale(ctx); err != nil {
			return fmt.Errorf("connection scale: %w", err)
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
func renderAgain(path, out, notes, sectionsDir string) error {
	raw, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	var doc document
	if err := json.Unmarshal(raw, &doc); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	doc.restore()
	doc.c.notes, doc.c.sectionsDir = notes, sectionsDir
	if doc.hand, err = readHandwritten(sectionsDir); err != nil {
		return err
	}
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
