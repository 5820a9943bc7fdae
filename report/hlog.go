package report

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
	"time"

	hdrhistogram "github.com/HdrHistogram/hdrhistogram-go"
	"github.com/tailgate-dev/tailgate/results"
)

// WriteHlog writes the timeline of a result as an HdrHistogram interval log
// (format 1.3, as written by HdrHistogram's HistogramLogWriter): a
// "#[StartTime: …]" and "#[BaseTime: …]" header, the legend, then per
// interval one untagged line with the latency of every request and one
// "Tag=name,…" line per request name. Timestamps are seconds relative to
// BaseTime, the interval max is in milliseconds, and the histograms hold
// microseconds, so HdrHistogram's log processors read it with an output
// value unit ratio of 1000 to print milliseconds.
func WriteHlog(w io.Writer, r *results.Result) error {
	bw := bufio.NewWriter(w)
	lw := hdrhistogram.NewHistogramLogWriter(bw)
	startMs := r.Meta.Start.UnixMilli()
	if r.Meta.Start.IsZero() {
		startMs = 0
	}
	baseMs := startMs - startMs%1000 // #[BaseTime] has whole seconds only
	lw.SetBaseTime(baseMs)
	if err := lw.OutputLogFormatVersion(); err != nil {
		return fmt.Errorf("write hlog: %w", err)
	}
	_ = lw.OutputComment(fmt.Sprintf("[tailgate %s: %s, latency = completion - intended send time, values in microseconds]",
		hlogSafe(r.Meta.ToolVersion), hlogSafe(r.Meta.Name+" "+r.Meta.Target)))
	if r.Meta.Warmup > 0 {
		_ = lw.OutputComment(fmt.Sprintf("[warmup: the first %s are warmup]", r.Meta.Warmup.D()))
	}
	_ = lw.OutputStartTime(startMs)
	_ = lw.OutputBaseTime(baseMs)
	_ = lw.OutputLegend()

	tags := hlogTags(r)
	lead := float64(startMs-baseMs) / 1000
	for i := range r.Timeline {
		iv := &r.Timeline[i]
		at := lead + iv.Start.D().Seconds()
		length := iv.Length.D().Seconds()
		if err := writeHlogLine(bw, "", at, length, iv.Total.Latency); err != nil {
			return fmt.Errorf("write hlog: interval %d: %w", i, err)
		}
		for j := range iv.Series {
			s := &iv.Series[j]
			if err := writeHlogLine(bw, tags[s.Name], at, length, s.Latency); err != nil {
				return fmt.Errorf("write hlog: interval %d, %s: %w", i, s.Name, err)
			}
		}
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("write hlog: %w", err)
	}
	return nil
}

// writeHlogLine writes one interval line. hdrhistogram-go's writer scales
// the max column for nanosecond histograms only, so tailgate writes the
// line itself in the same format: ms for the max of a µs histogram.
func writeHlogLine(w io.Writer, tag string, at, length float64, h *results.Histogram) error {
	if h == nil {
		h = results.NewHistogram()
	}
	payload, err := h.Encode()
	if err != nil {
		return err
	}
	// Max reads an encoded histogram without its dense form, which would
	// cost ~180 KiB a line on an hour-long timeline.
	maxMs := float64(h.Max()) / float64(time.Millisecond)
	prefix := ""
	if tag != "" {
		prefix = "Tag=" + tag + ","
	}
	_, err = fmt.Fprintf(w, "%s%.3f,%.3f,%.3f,%s\n", prefix, at, length, maxMs, payload)
	return err
}

// hlogTags maps request names to log tags: tags may not hold commas,
// spaces or line breaks, so those become '_', and clashes get a suffix.
func hlogTags(r *results.Result) map[string]string {
	var names []string
	seen := map[string]bool{}
	add := func(n string) {
		if !seen[n] {
			seen[n] = true
			names = append(names, n)
		}
	}
	for _, s := range r.Requests {
		if s != nil {
			add(s.Name)
		}
	}
	for i := range r.Timeline {
		for _, s := range r.Timeline[i].Series {
			add(s.Name)
		}
	}
	out := map[string]string{}
	used := map[string]bool{}
	for _, n := range names {
		tag := HlogTag(n)
		for k := 2; used[tag]; k++ {
			tag = HlogTag(n) + "~" + strconv.Itoa(k)
		}
		used[tag] = true
		out[n] = tag
	}
	return out
}

// HlogTag returns the interval log tag of a request name: the name with
// commas, whitespace and '=' replaced by '_' ("GET /a" → "GET_/a").
func HlogTag(name string) string {
	if name == "" {
		return "unnamed"
	}
	return strings.Map(func(c rune) rune {
		switch c {
		case ',', ' ', '\t', '\r', '\n', '=':
			return '_'
		}
		return c
	}, name)
}

func hlogSafe(s string) string { return strings.NewReplacer("\n", " ", "\r", " ").Replace(s) }

// Hlog is an HdrHistogram interval log as read by ReadHlog.
type Hlog struct {
	// StartTime is from the "#[StartTime: …]" header (zero without one).
	StartTime time.Time
	// BaseTime is from the "#[BaseTime: …]" header (zero without one);
	// interval timestamps are relative to it.
	BaseTime time.Time
	// Intervals are in file order.
	Intervals []HlogInterval
}

// HlogInterval is one interval line of a log.
type HlogInterval struct {
	// Tag is "" for untagged lines.
	Tag string
	// Start is the interval timestamp as written (relative to BaseTime).
	Start time.Duration
	// Length is the interval length.
	Length time.Duration
	// Max is the max column as written (milliseconds for tailgate logs).
	Max float64
	// Histogram is the decoded interval histogram.
	Histogram *results.Histogram
}

// Merged returns all the histograms with the given tag merged into one.
func (l *Hlog) Merged(tag string) (*results.Histogram, error) {
	out := results.NewHistogram()
	for i := range l.Intervals {
		if l.Intervals[i].Tag == tag {
			if err := out.Merge(l.Intervals[i].Histogram); err != nil {
				return nil, fmt.Errorf("tag %q: %w", tag, err)
			}
		}
	}
	return out, nil
}

// Tags returns the tags in order of first appearance ("" for untagged).
func (l *Hlog) Tags() []string {
	var out []string
	seen := map[string]bool{}
	for _, iv := range l.Intervals {
		if !seen[iv.Tag] {
			seen[iv.Tag] = true
			out = append(out, iv.Tag)
		}
	}
	return out
}

// maxHlogLine bounds one line of a log; a V2 compressed histogram of the
// widest geometry stays far below it.
const maxHlogLine = 16 << 20

// ReadHlog reads an HdrHistogram interval log. Unlike hdrhistogram-go's
// reader it rejects malformed lines instead of skipping them, with a
// "line:col: message" error.
func ReadHlog(rd io.Reader) (*Hlog, error) {
	sc := bufio.NewScanner(rd)
	sc.Buffer(make([]byte, 0, 64<<10), maxHlogLine)
	out := &Hlog{}
	lineNo := 0
	for sc.Scan() {
		lineNo++
		line := bytes.TrimRight(sc.Bytes(), "\r")
		if len(bytes.TrimSpace(line)) == 0 {
			continue
		}
		if line[0] == '#' {
			if err := out.readHeader(string(line)); err != nil {
				return nil, fmt.Errorf("%d:1: %w", lineNo, err)
			}
			continue
		}
		if bytes.HasPrefix(line, []byte(`"StartTimestamp"`)) {
			continue
		}
		iv, col, err := parseHlogInterval(string(line))
		if err != nil {
			return nil, fmt.Errorf("%d:%d: %w", lineNo, col, err)
		}
		out.Intervals = append(out.Intervals, iv)
	}
	if err := sc.Err(); err != nil {
		if errors.Is(err, bufio.ErrTooLong) {
			return nil, fmt.Errorf("%d:1: line longer than %d bytes", lineNo+1, maxHlogLine)
		}
		return nil, fmt.Errorf("read hlog: %w", err)
	}
	return out, nil
}

// ReadHlogFile reads an interval log from a regular file of at most
// results.MaxResultFileSize bytes (see results.OpenInput: a named pipe or
// a device is refused, never waited on or read without end). Errors name
// the file.
func ReadHlogFile(path string) (*Hlog, error) {
	f, _, err := results.OpenInput(path, results.MaxResultFileSize)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	l, err := ReadHlog(f)
	if err != nil {
		return nil, fmt.Errorf("%s:%w", path, colonPrefix(err))
	}
	return l, nil
}

// colonPrefix makes path + ":" + err read as "path:line:col: msg" when
// err starts with a position and "path: msg" otherwise.
func colonPrefix(err error) error {
	if msg := err.Error(); msg != "" && msg[0] >= '0' && msg[0] <= '9' {
		return err
	}
	return fmt.Errorf(" %w", err)
}

func (l *Hlog) readHeader(line string) error {
	for _, h := range []struct {
		prefix string
		dst    *time.Time
	}{{"#[StartTime:", &l.StartTime}, {"#[BaseTime:", &l.BaseTime}} {
		rest, ok := strings.CutPrefix(line, h.prefix)
		if !ok {
			continue
		}
		rest = strings.TrimSpace(rest)
		end := strings.IndexFunc(rest, func(c rune) bool { return (c < '0' || c > '9') && c != '.' })
		if end < 0 {
			end = len(rest)
		}
		secs, err := strconv.ParseFloat(rest[:end], 64)
		if err != nil || secs < 0 || secs > 1e11 {
			return fmt.Errorf("%s: want seconds since the epoch, got %q", strings.TrimPrefix(h.prefix, "#["), rest[:end])
		}
		whole, frac := math.Modf(secs)
		*h.dst = time.Unix(int64(whole), int64(frac*1e9)).UTC()
	}
	return nil
}

// parseHlogInterval parses "[Tag=name,]start,length,max,payload". On error
// it returns the 1-based column of the bad field.
func parseHlogInterval(line string) (HlogInterval, int, error) {
	var iv HlogInterval
	col := 1
	if rest, ok := strings.CutPrefix(line, "Tag="); ok {
		comma := strings.IndexByte(rest, ',')
		if comma < 0 {
			return iv, col, errors.New("tag without interval fields")
		}
		iv.Tag = rest[:comma]
		line = rest[comma+1:]
		col += len("Tag=") + comma + 1
	}
	fields := strings.SplitN(line, ",", 4)
	if len(fields) != 4 {
		return iv, col, fmt.Errorf("want start,length,max,histogram; got %d fields", len(fields))
	}
	var nums [3]float64
	for i, name := range []string{"start timestamp", "interval length", "interval max"} {
		v, err := strconv.ParseFloat(fields[i], 64)
		if err != nil || math.IsNaN(v) || math.IsInf(v, 0) || v < 0 || v > 1e11 {
			return iv, col, fmt.Errorf("%s %q: want a non-negative number", name, fields[i])
		}
		nums[i] = v
		col += len(fields[i]) + 1
	}
	iv.Start = time.Duration(nums[0] * float64(time.Second))
	iv.Length = time.Duration(nums[1] * float64(time.Second))
	iv.Max = nums[2]
	h, err := results.DecodeHistogram([]byte(strings.TrimSpace(fields[3])))
	if err != nil {
		return iv, col, err
	}
	iv.Histogram = h
	return iv, col, nil
}
