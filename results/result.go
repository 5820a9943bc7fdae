package results

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"time"
)

// ResultVersion is the version of the results file format written by this
// build. Readers accept exactly this version.
const ResultVersion = 1

// LateThreshold is the send lag above which an arrival counts as late.
const LateThreshold = 10 * time.Millisecond

// Result is everything a run measured. It is the content of the results file.
type Result struct {
	// Version is the file format version (ResultVersion).
	Version int  `json:"version"`
	Meta    Meta `json:"meta"`
	// Total covers every request after the warmup.
	Total *Stats `json:"total"`
	// Requests has one entry per request name, sorted by name.
	Requests []*Stats `json:"requests"`
	// Groups has one entry per request name and tag group, sorted.
	Groups []*Stats `json:"groups,omitempty"`
	// Warmup covers the requests of the warmup, nil without one.
	Warmup *Stats `json:"warmup,omitempty"`
	// Schedule says how well the client kept to the plan.
	Schedule Schedule `json:"schedule"`
	// Timeline has one entry per second of the run (warmup included).
	Timeline []Interval `json:"timeline"`
}

// Meta describes the run.
type Meta struct {
	Tool            string            `json:"tool"`
	ToolVersion     string            `json:"tool_version"`
	Command         []string          `json:"command,omitempty"`
	Name            string            `json:"name"`
	Target          string            `json:"target"`
	Model           Model             `json:"model"`
	Profile         string            `json:"profile"`
	PlannedRate     float64           `json:"planned_rate,omitempty"`
	PlannedRequests uint64            `json:"planned_requests,omitempty"`
	VUs             int               `json:"vus,omitempty"`
	Connections     int               `json:"connections"`
	MaxInFlight     int               `json:"max_in_flight"`
	HTTP2           bool              `json:"http2,omitempty"`
	Timeout         Duration          `json:"timeout"`
	Start           time.Time         `json:"start"`
	End             time.Time         `json:"end"`
	PlannedDuration Duration          `json:"planned_duration"`
	Warmup          Duration          `json:"warmup,omitempty"`
	Host            string            `json:"host"`
	GoVersion       string            `json:"go_version"`
	OS              string            `json:"os"`
	NumCPU          int               `json:"num_cpu"`
	Shard           Shard             `json:"shard"`
	PlanHash        string            `json:"plan_hash,omitempty"`
	Partial         bool              `json:"partial,omitempty"`
	StopReason      string            `json:"stop_reason,omitempty"`
	Tags            map[string]string `json:"tags,omitempty"`
}

// Measured returns the measured time after the warmup: the elapsed time,
// but at least the planned duration of a run that was not cut short (the
// last arrival of a 10s plan is due just before 10s and may finish sooner;
// the rate is still per planned second).
func (m *Meta) Measured() time.Duration {
	d := m.End.Sub(m.Start)
	if !m.Partial && d < m.PlannedDuration.D() {
		d = m.PlannedDuration.D()
	}
	d -= m.Warmup.D()
	if d < 0 {
		return 0
	}
	return d
}

// Stats are the totals of one request name, tag group, or the whole run.
type Stats struct {
	// Name is the request name ("" for the total).
	Name string `json:"name,omitempty"`
	// Group is the tag group, e.g. "depth=100".
	Group    string `json:"group,omitempty"`
	Requests uint64 `json:"requests"`
	Errors   uint64 `json:"errors"`
	BytesIn  uint64 `json:"bytes_in"`
	BytesOut uint64 `json:"bytes_out"`
	// Status counts responses by HTTP status code.
	Status map[int]uint64 `json:"status,omitempty"`
	// ErrorKinds counts failed requests by ErrorKind name.
	ErrorKinds map[string]uint64 `json:"error_kinds,omitempty"`
	// ErrorSamples keeps the first message seen for each error kind.
	ErrorSamples map[string]string `json:"error_samples,omitempty"`
	// Latency is completion − intended send time (the headline figure).
	Latency *Histogram `json:"latency"`
	// Service is completion − actual send time.
	Service *Histogram `json:"service"`
	// SendLag is actual send − intended send time.
	SendLag *Histogram `json:"send_lag"`
}

// NewStats returns empty stats with the given name and group.
func NewStats(name, group string) *Stats {
	return &Stats{
		Name: name, Group: group,
		Status: map[int]uint64{}, ErrorKinds: map[string]uint64{}, ErrorSamples: map[string]string{},
		Latency: NewHistogram(), Service: NewHistogram(), SendLag: NewHistogram(),
	}
}

// Key is "name" or "name{group}", the label of the stats in reports.
func (s *Stats) Key() string { return SeriesKey(s.Name, s.Group) }

// SeriesKey labels a series: "total" for the whole run, "name" for a
// request name, "name{group}" for a tag group of it.
func SeriesKey(name, group string) string {
	switch {
	case name == "" && group == "":
		return "total"
	case group == "":
		return name
	default:
		return name + "{" + group + "}"
	}
}

// ErrorRate returns errors/requests (0 without requests).
func (s *Stats) ErrorRate() float64 {
	if s.Requests == 0 {
		return 0
	}
	return float64(s.Errors) / float64(s.Requests)
}

// Merge adds o into s.
func (s *Stats) Merge(o *Stats) error {
	s.Requests += o.Requests
	s.Errors += o.Errors
	s.BytesIn += o.BytesIn
	s.BytesOut += o.BytesOut
	if s.Status == nil {
		s.Status = map[int]uint64{}
	}
	for k, v := range o.Status {
		s.Status[k] += v
	}
	if s.ErrorKinds == nil {
		s.ErrorKinds = map[string]uint64{}
	}
	for k, v := range o.ErrorKinds {
		s.ErrorKinds[k] += v
	}
	if s.ErrorSamples == nil {
		s.ErrorSamples = map[string]string{}
	}
	for k, v := range o.ErrorSamples {
		if _, ok := s.ErrorSamples[k]; !ok {
			s.ErrorSamples[k] = v
		}
	}
	for _, p := range []struct{ dst, src **Histogram }{{&s.Latency, &o.Latency}, {&s.Service, &o.Service}, {&s.SendLag, &o.SendLag}} {
		if *p.src == nil {
			continue
		}
		if *p.dst == nil {
			*p.dst = NewHistogram()
		}
		if err := (*p.dst).Merge(*p.src); err != nil {
			return fmt.Errorf("stats %s: %w", s.Key(), err)
		}
	}
	return nil
}

// Schedule says how well an open-model client kept to its plan.
type Schedule struct {
	// Planned is the number of arrivals the plan (this shard's part) asked for.
	Planned uint64 `json:"planned"`
	// Sent is the number of requests started (first steps of flows and later
	// steps alike are counted in Stats; this counts arrivals).
	Sent uint64 `json:"sent"`
	// Dropped counts arrivals given up under the drop policy.
	Dropped uint64 `json:"dropped"`
	// Unsent counts planned arrivals never started because the run stopped
	// early (Ctrl-C, error).
	Unsent uint64 `json:"unsent"`
	// Late counts arrivals whose send lag exceeded LateThreshold.
	Late uint64 `json:"late"`
	// MaxInFlight is the most arrivals running or waiting at once.
	MaxInFlight int64 `json:"max_in_flight"`
}

// Interval is one second of the timeline.
type Interval struct {
	// Start is the offset of the interval from the run start.
	Start Duration `json:"start"`
	// Length is the interval's length (the last one may be shorter).
	Length Duration `json:"length"`
	// PlannedRate is the planned arrival rate at the interval start.
	PlannedRate float64 `json:"planned_rate,omitempty"`
	// Warmup marks intervals that belong to the warmup.
	Warmup bool          `json:"warmup,omitempty"`
	Total  IntervalStats `json:"total"`
	// Series has one entry per request name (groups are not kept per second).
	Series []IntervalStats `json:"series,omitempty"`
}

// IntervalStats are one series' figures for one interval.
type IntervalStats struct {
	Name     string `json:"name,omitempty"`
	Requests uint64 `json:"requests"`
	Errors   uint64 `json:"errors"`
	// Latency of the requests completed in the interval.
	Latency *Histogram `json:"latency"`
	// SendLag of the requests started in the interval (total only).
	SendLag *Histogram `json:"send_lag,omitempty"`
}

// Rate returns the achieved request rate per second after the warmup.
func (r *Result) Rate() float64 {
	d := r.Meta.Measured().Seconds()
	if d <= 0 || r.Total == nil {
		return 0
	}
	return float64(r.Total.Requests) / d
}

// Lookup returns the stats of a request name, or of name+group.
func (r *Result) Lookup(name, group string) *Stats {
	list := r.Requests
	if group != "" {
		list = r.Groups
	}
	for _, s := range list {
		if s.Name == name && s.Group == group {
			return s
		}
	}
	return nil
}

// Sort puts Requests and Groups in their canonical order.
func (r *Result) Sort() {
	less := func(list []*Stats) func(i, j int) bool {
		return func(i, j int) bool {
			if list[i].Name != list[j].Name {
				return list[i].Name < list[j].Name
			}
			return GroupLess(list[i].Group, list[j].Group)
		}
	}
	sort.SliceStable(r.Requests, less(r.Requests))
	sort.SliceStable(r.Groups, less(r.Groups))
}

// GroupLess orders groups so that numeric tag values sort numerically:
// depth=10 before depth=100.
func GroupLess(a, b string) bool {
	ai, bi := 0, 0
	for ai < len(a) && bi < len(b) {
		ca, cb := a[ai], b[bi]
		if isDigit(ca) && isDigit(cb) {
			sa := ai
			for ai < len(a) && isDigit(a[ai]) {
				ai++
			}
			sb := bi
			for bi < len(b) && isDigit(b[bi]) {
				bi++
			}
			na, nb := a[sa:ai], b[sb:bi]
			if len(na) != len(nb) {
				return len(na) < len(nb)
			}
			if na != nb {
				return na < nb
			}
			continue
		}
		if ca != cb {
			return ca < cb
		}
		ai++
		bi++
	}
	return len(a)-ai < len(b)-bi
}

func isDigit(c byte) bool { return '0' <= c && c <= '9' }

// Encode writes the result as indented JSON.
//
// The timeline is streamed one interval at a time: encoding/json builds a
// whole document in memory before writing it, and a checkpoint of a long
// run would otherwise hold a copy of the entire, growing file every two
// seconds. The output is the same as json.MarshalIndent(r, "", "  ").
func (r *Result) Encode(w io.Writer) error {
	var e resultEncoder
	return e.encode(w, r)
}

// resultEncoder encodes results with reused buffers: the checkpoints of a
// long run encode the results every two seconds, and with fresh buffers
// each time their garbage was most of what a steady run allocated.
type resultEncoder struct {
	buf bytes.Buffer
	enc *json.Encoder // writes into buf
}

// value encodes v, indented with prefix, into e.buf without the newline
// json.Encoder adds, and returns it; the bytes are valid until the next call.
func (e *resultEncoder) value(v any, prefix string) ([]byte, error) {
	if e.enc == nil {
		e.enc = json.NewEncoder(&e.buf)
	}
	e.buf.Reset()
	e.enc.SetIndent(prefix, "  ")
	if err := e.enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(e.buf.Bytes(), []byte("\n")), nil
}

func (e *resultEncoder) encode(w io.Writer, r *Result) error {
	type head Result // same fields, no methods
	h := head(*r)
	h.Timeline = nil
	b, err := e.value(&h, "")
	if err != nil {
		return fmt.Errorf("encode result: %w", err)
	}
	// b ends with `"timeline": null` then "\n}": reopen it as an array.
	const tail = "\"timeline\": null\n}"
	if !bytes.HasSuffix(b, []byte(tail)) {
		return fmt.Errorf("encode result: unexpected layout")
	}
	ew := &errWriter{w: w}
	ew.write(b[:len(b)-len(tail)])
	if len(r.Timeline) == 0 {
		ew.write([]byte("\"timeline\": []\n}\n"))
		return ew.err
	}
	ew.write([]byte("\"timeline\": [\n    "))
	for i := range r.Timeline {
		if i > 0 {
			ew.write([]byte(",\n    "))
		}
		if i%8 == 7 {
			// A long run's timeline takes milliseconds to encode; with
			// one CPU a checkpoint must not hold the processor that long.
			runtime.Gosched()
		}
		iv, err := e.value(&r.Timeline[i], "    ")
		if err != nil {
			return fmt.Errorf("encode result: timeline interval %d: %w", i, err)
		}
		ew.write(iv)
		if ew.err != nil {
			return ew.err
		}
	}
	ew.write([]byte("\n  ]\n}\n"))
	return ew.err
}

// errWriter keeps the first write error so a sequence of writes can be
// checked once.
type errWriter struct {
	w   io.Writer
	err error
}

func (e *errWriter) write(b []byte) {
	if e.err == nil {
		_, e.err = e.w.Write(b)
	}
}

// WriteFile writes the result to path atomically: a temporary file in the
// same directory, synced, then renamed over path. A reader never sees a
// half-written file.
func (r *Result) WriteFile(path string) error {
	var w resultWriter
	return w.writeFile(r, path)
}

// resultWriter writes successive versions of one run's results file (the
// checkpoints), reusing its buffers. It is not safe for concurrent use.
type resultWriter struct {
	bw  *bufio.Writer
	enc resultEncoder
	// frozen holds the checkpoint's copies of the running histograms.
	frozen frozenCopies
}

// frozenCopies makes frozen copies of histograms whose encodings live in
// buffers reused from one checkpoint to the next: a checkpoint copies the
// cumulative histograms of every series, and fresh copies each time were
// most of a steady run's remaining garbage. Copies handed out stay valid
// until the next reset.
type frozenCopies struct {
	hists []*Histogram
	n     int
	enc   *histEncoder // made on first use unless given
}

func (f *frozenCopies) reset() { f.n = 0 }

// freeze returns a frozen copy of h.
func (f *frozenCopies) freeze(h *Histogram) *Histogram {
	if h.h == nil && h.enc != nil {
		return &Histogram{enc: h.enc} // already frozen: share the encoding
	}
	if f.n == len(f.hists) {
		f.hists = append(f.hists, &Histogram{})
	}
	c := f.hists[f.n]
	if f.enc == nil {
		f.enc = newHistEncoder()
	}
	b, err := f.enc.appendEncoded(c.enc[:0], h.hist())
	if err != nil {
		return h.Clone()
	}
	f.n++
	c.h, c.enc = nil, b
	return c
}

func (w *resultWriter) writeFile(r *Result, path string) error {
	dir := filepath.Dir(path)
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return fmt.Errorf("write results %s: %w", path, err)
	}
	cleanup := func() { _ = os.Remove(tmp.Name()) }
	if w.bw == nil {
		w.bw = bufio.NewWriterSize(tmp, 64<<10)
	} else {
		w.bw.Reset(tmp)
	}
	// Drop the file from the buffer whatever happens, so a failed write
	// leaves nothing behind for the next checkpoint.
	defer w.bw.Reset(nil)
	if err := w.enc.encode(w.bw, r); err != nil {
		_ = tmp.Close()
		cleanup()
		return fmt.Errorf("write results %s: %w", path, err)
	}
	if err := w.bw.Flush(); err != nil {
		_ = tmp.Close()
		cleanup()
		return fmt.Errorf("write results %s: %w", path, err)
	}
	if err := tmp.Sync(); err != nil {
		_ = tmp.Close()
		cleanup()
		return fmt.Errorf("write results %s: %w", path, err)
	}
	if err := tmp.Close(); err != nil {
		cleanup()
		return fmt.Errorf("write results %s: %w", path, err)
	}
	if err := os.Chmod(tmp.Name(), 0o644); err != nil {
		cleanup()
		return fmt.Errorf("write results %s: %w", path, err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		cleanup()
		return fmt.Errorf("write results %s: %w", path, err)
	}
	return nil
}

// ErrVersion is wrapped by decode errors for a results file of another
// format version.
var ErrVersion = errors.New("unsupported results version")

// DecodeResult reads a results file from rd.
func DecodeResult(rd io.Reader) (*Result, error) {
	var probe struct {
		Version *int `json:"version"`
	}
	data, err := io.ReadAll(rd)
	if err != nil {
		return nil, err
	}
	if err := json.Unmarshal(data, &probe); err != nil {
		return nil, describeJSONError(data, err)
	}
	if probe.Version == nil {
		return nil, errors.New("not a tailgate results file (no \"version\" field)")
	}
	if *probe.Version != ResultVersion {
		return nil, fmt.Errorf("%w %d (this tailgate reads version %d)", ErrVersion, *probe.Version, ResultVersion)
	}
	var r Result
	if err := json.Unmarshal(data, &r); err != nil {
		return nil, describeJSONError(data, err)
	}
	if r.Total == nil {
		return nil, errors.New("results file has no \"total\"")
	}
	for _, s := range append(append([]*Stats{r.Total}, r.Requests...), r.Groups...) {
		if s == nil {
			return nil, errors.New("results file has a null stats entry")
		}
		if s.Latency == nil {
			s.Latency = NewHistogram()
		}
		if s.Service == nil {
			s.Service = NewHistogram()
		}
		if s.SendLag == nil {
			s.SendLag = NewHistogram()
		}
	}
	return &r, nil
}

// describeJSONError turns a JSON error into "line:col: message".
func describeJSONError(data []byte, err error) error {
	var off int64 = -1
	var syn *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.As(err, &syn):
		// Offset counts the bytes read, the bad one included.
		off = syn.Offset - 1
	case errors.As(err, &typ):
		off = typ.Offset
	case errors.Is(err, io.ErrUnexpectedEOF):
		off = int64(len(data))
		err = errors.New("unexpected end of file (truncated?)")
	}
	if off < 0 {
		return err
	}
	line, col := 1, 1
	for i := int64(0); i < off && i < int64(len(data)); i++ {
		if data[i] == '\n' {
			line++
			col = 1
		} else {
			col++
		}
	}
	return fmt.Errorf("%d:%d: %w", line, col, err)
}

// ReadResultFile reads and decodes a results file; errors name the file.
func ReadResultFile(path string) (*Result, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	r, err := DecodeResult(f)
	if err != nil {
		return nil, fmt.Errorf("%s:%w", path, prefixColon(err))
	}
	return r, nil
}

// prefixColon makes "file:" + err read as "file:line:col: msg" when err has a
// position, and "file: msg" otherwise.
func prefixColon(err error) error {
	msg := err.Error()
	if len(msg) > 0 && isDigit(msg[0]) {
		return err
	}
	return fmt.Errorf(" %w", err)
}

// Duration is a time.Duration that reads and writes JSON as a string such as
// "1.5s" (and accepts a number of nanoseconds).
type Duration time.Duration

// D returns the time.Duration.
func (d Duration) D() time.Duration { return time.Duration(d) }

// MarshalJSON implements json.Marshaler.
func (d Duration) MarshalJSON() ([]byte, error) {
	return json.Marshal(time.Duration(d).String())
}

// UnmarshalJSON implements json.Unmarshaler.
func (d *Duration) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		var n int64
		if err2 := json.Unmarshal(b, &n); err2 != nil {
			return fmt.Errorf("duration: want a string like \"1.5s\": %w", err)
		}
		*d = Duration(n)
		return nil
	}
	v, err := time.ParseDuration(s)
	if err != nil {
		return fmt.Errorf("duration %q: %w", s, err)
	}
	*d = Duration(v)
	return nil
}
