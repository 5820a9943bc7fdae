package cli

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/tailgate-dev/tailgate/loadgen"
	"github.com/tailgate-dev/tailgate/report"
)

const reportUsage = `
Usage: tailgate report RESULTS.json [flags]

Print a results file (written by 'tailgate hit -o' or 'tailgate run -o') in
another form. Latency is completion − intended send time, so queueing in
the client is included (no coordinated omission).

Formats (--format):
  text      the terminal summary printed at the end of a run (default)
  markdown  GitHub Markdown, ready to paste into a pull request
  json      a stable summary for scripts:
              {"total": {"requests", "errors", "rate", "latency_ms": {"p50",
              "p90", "p95", "p99", "p99.9", "max"}, "service_ms": {…}},
               "requests": {"<name>": {…same…}}, "groups", "meta", "schedule"}
  hlog      the one-second timeline as an HdrHistogram interval log: one
            untagged line per interval (all requests) and one Tag=<name>
            line per request name; values in µs, readable by
            HdrHistogram's HistogramLogReader and log processors

Examples:
  tailgate report results.json
  tailgate report results.json --format markdown -o summary.md
  tailgate report results.json --format json | jq '.total.latency_ms["p99.9"]'
  tailgate report results.json --png-dir charts/ --size 1200x675
`

type reportFlags struct {
	format string
	out    string
	pngDir string
	size   string
}

// reportFormats maps --format values to writers.
var reportFormats = map[string]func(io.Writer, *loadgen.Result) error{
	"text":     report.WriteText,
	"markdown": report.WriteMarkdown,
	"md":       report.WriteMarkdown,
	"json":     report.WriteJSON,
	"hlog":     report.WriteHlog,
}

func cmdReport(_ context.Context, env *Env, args []string) error {
	var f reportFlags
	fs := newFlagSet(env, "report", reportUsage)
	fs.StringVar(&f.format, "format", "text", "output `format`: text, markdown, json or hlog")
	fs.StringVarP(&f.out, "output", "o", "", "write to `file` instead of stdout (atomically)")
	fs.StringVar(&f.pngDir, "png-dir", "", "also write PNG charts into `dir` (created if missing)")
	fs.StringVar(&f.size, "size", "1600x900", "PNG chart size `WxH` in pixels")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return usagef("want exactly one results file, got %d arguments (see --help)", fs.NArg())
	}
	write, ok := reportFormats[strings.ToLower(f.format)]
	if !ok {
		return usagef("--format %q: use text, markdown, json or hlog", f.format)
	}
	width, height, err := parseSize(f.size)
	if err != nil {
		return err
	}
	path := fs.Arg(0)
	res, err := loadgen.ReadResultFile(path)
	if err != nil {
		return &UsageError{Err: err}
	}
	if res.Meta.Partial {
		reason := res.Meta.StopReason
		if reason == "" {
			reason = "the run did not finish"
		}
		fmt.Fprintf(env.Stderr, "tailgate report: %s is a partial result (%s)\n", path, reason)
	}
	if err := writeReportOutput(env.Stdout, f.out, func(w io.Writer) error { return write(w, res) }); err != nil {
		return err
	}
	if f.pngDir != "" {
		if err := os.MkdirAll(f.pngDir, 0o755); err != nil {
			return fmt.Errorf("--png-dir: %w", err)
		}
		files, err := writeCharts(f.pngDir, width, height, res)
		if err != nil {
			return err
		}
		for _, name := range files {
			fmt.Fprintf(env.Stderr, "chart written to %s\n", name)
		}
	}
	return nil
}

// parseSize parses "WxH" with sane pixel bounds.
func parseSize(s string) (int, int, error) {
	ws, hs, ok := strings.Cut(strings.ToLower(strings.TrimSpace(s)), "x")
	w, errW := strconv.Atoi(ws)
	h, errH := strconv.Atoi(hs)
	if !ok || errW != nil || errH != nil {
		return 0, 0, usagef("--size %q: want WIDTHxHEIGHT in pixels, e.g. 1600x900", s)
	}
	if w < 200 || h < 150 || w > 10000 || h > 10000 {
		return 0, 0, usagef("--size %q: width must be 200–10000 and height 150–10000 pixels", s)
	}
	return w, h, nil
}

// writeReportOutput runs write into stdout, or into path atomically (a
// temporary file renamed over it) so a failed write never leaves half a
// report behind.
func writeReportOutput(stdout io.Writer, path string, write func(io.Writer) error) error {
	if path == "" || path == "-" {
		return write(stdout)
	}
	var buf bytes.Buffer
	if err := write(&buf); err != nil {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	_, werr := tmp.Write(buf.Bytes())
	cerr := tmp.Close()
	if werr == nil {
		werr = cerr
	}
	if werr == nil {
		werr = os.Chmod(tmp.Name(), 0o644)
	}
	if werr == nil {
		werr = os.Rename(tmp.Name(), path)
	}
	if werr != nil {
		_ = os.Remove(tmp.Name())
		return fmt.Errorf("write %s: %w", path, werr)
	}
	return nil
}
