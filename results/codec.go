package results

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"runtime"
	"time"
)

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
	type fields Result // same fields, no methods
	// The head is every field but the timeline, which is Result's last
	// field: the shallower Timeline shadows the embedded one and, nil,
	// is omitted.
	head := struct {
		*fields
		Timeline []Interval `json:"timeline,omitempty"`
	}{fields: (*fields)(r)}
	b, err := e.value(&head, "")
	if err != nil {
		return fmt.Errorf("encode result: %w", err)
	}
	// An indented object ends with its closing brace on a line of its
	// own: the timeline goes in before it.
	b, ok := bytes.CutSuffix(b, []byte("\n}"))
	if !ok {
		return fmt.Errorf("encode result: unexpected layout")
	}
	ew := &errWriter{w: w}
	ew.write(b)
	if len(r.Timeline) == 0 {
		ew.write([]byte(",\n  \"timeline\": []\n}\n"))
		return ew.err
	}
	ew.write([]byte(",\n  \"timeline\": [\n    "))
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

// ErrVersion is wrapped by decode errors for a results file of another
// format version.
var ErrVersion = errors.New("unsupported results version")

// DecodeResult reads a results file from rd: at most MaxResultFileSize
// bytes, every histogram of the tool's geometry, every figure plausible
// (see Check).
func DecodeResult(rd io.Reader) (*Result, error) {
	data, err := io.ReadAll(io.LimitReader(rd, MaxResultFileSize+1))
	if err != nil {
		return nil, err
	}
	if len(data) > MaxResultFileSize {
		return nil, fmt.Errorf("%w: over the limit of %s", ErrTooLarge, formatBytes(MaxResultFileSize))
	}
	return decodeResult(data)
}

func decodeResult(data []byte) (*Result, error) {
	if err := sniffResults(data); err != nil {
		return nil, err
	}
	var probe struct {
		Version json.RawMessage `json:"version"`
	}
	if err := json.Unmarshal(data, &probe); err != nil {
		return nil, describeJSONError(data, err)
	}
	if probe.Version == nil {
		return nil, errors.New("not a tailgate results file: no \"version\" field")
	}
	var version int
	if err := json.Unmarshal(probe.Version, &version); err != nil {
		return nil, fmt.Errorf("not a tailgate results file: its \"version\" is %.20s, not a results format version", probe.Version)
	}
	if version < MinResultVersion || version > ResultVersion {
		return nil, fmt.Errorf("%w %d (this tailgate reads versions %d to %d)", ErrVersion, version, MinResultVersion, ResultVersion)
	}
	var r Result
	if err := json.Unmarshal(data, &r); err != nil {
		return nil, describeJSONError(data, err)
	}
	if r.Total == nil {
		return nil, errors.New("results file has no \"total\"")
	}
	// A missing histogram is an empty one that allocates its counts only
	// if something is recorded into it: "{}" must not cost 600 KiB.
	for _, s := range append(append(append([]*Stats{r.Total}, r.Requests...), r.Groups...), r.Flows...) {
		if s == nil {
			return nil, errors.New("results file has a null stats entry")
		}
		if s.Latency == nil {
			s.Latency = &Histogram{}
		}
		if s.Service == nil {
			s.Service = &Histogram{}
		}
		if s.SendLag == nil {
			s.SendLag = &Histogram{}
		}
	}
	if err := r.Check(); err != nil {
		return nil, err
	}
	return &r, nil
}

// sniffJSON rejects data that is not JSON from its first bytes: the JSON
// grammar is decided left to right, so a syntax error inside a prefix
// (other than the prefix ending early) is the error of the whole file. A
// file of zeros or of another format is refused before it is read whole.
func sniffJSON(prefix []byte) error {
	err := json.Unmarshal(prefix, new(json.RawMessage))
	var syn *json.SyntaxError
	if errors.As(err, &syn) && syn.Offset < int64(len(prefix)) {
		return describeJSONError(prefix, err)
	}
	return nil
}

// posError is an error at a line and column of a file's text.
type posError struct {
	line, col int
	err       error
}

func (e *posError) Error() string { return fmt.Sprintf("%d:%d: %v", e.line, e.col, e.err) }

func (e *posError) Unwrap() error { return e.err }

// describeJSONError turns a JSON error into one at its line and column
// ("line:col: message") when it has a position.
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
	return &posError{line: line, col: col, err: err}
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
