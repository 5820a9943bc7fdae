package results

import (
	"encoding/base64"
	"errors"
	"io"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/tailgate-dev/tailgate/internal/hdrtest"
	"github.com/tailgate-dev/tailgate/internal/specialfile"
)

// allocated returns the bytes f allocates on the heap.
func allocated(f func()) uint64 {
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	f()
	runtime.ReadMemStats(&after)
	return after.TotalAlloc - before.TotalAlloc
}

// TestReadResultFileRefusesNonRegular: a named pipe is refused at once
// (it used to block forever), a device and a directory are refused, a
// sparse file of 1 GiB is refused from its first bytes and one larger than
// the cap from its size, each in one line and without reading the file.
func TestReadResultFileRefusesNonRegular(t *testing.T) {
	dir := t.TempDir()
	sparse := func(name string, size int64) string {
		p := filepath.Join(dir, name)
		f, err := os.Create(p)
		if err != nil {
			t.Fatal(err)
		}
		if err := f.Truncate(size); err != nil {
			t.Fatal(err)
		}
		if err := f.Close(); err != nil {
			t.Fatal(err)
		}
		return p
	}
	tests := []struct {
		name string
		make func(t *testing.T) string
		want string
		is   error
	}{
		{"named pipe", func(t *testing.T) string {
			p := filepath.Join(dir, "pipe")
			specialfile.FIFO(t, p)
			return p
		}, "not a regular file (a named pipe)", ErrNotRegular},
		{"character device", func(t *testing.T) string {
			p := filepath.Join(dir, "null")
			specialfile.NullDevice(t, p)
			return p
		}, "not a regular file (a character device)", ErrNotRegular},
		{"directory", func(*testing.T) string { return dir }, "not a regular file (a directory)", ErrNotRegular},
		{"sparse 1 GiB", func(*testing.T) string { return sparse("sparse.json", 1<<30) }, "invalid character '\\x00'", nil},
		{"over the cap", func(*testing.T) string { return sparse("huge.json", MaxResultFileSize+1) }, "over the limit of 1 GiB", ErrTooLarge},
		{"missing", func(*testing.T) string { return filepath.Join(dir, "none.json") }, "no such file or directory", os.ErrNotExist},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := tt.make(t)
			done := make(chan error, 1)
			var err error
			n := allocated(func() {
				go func() { _, err := ReadResultFile(p); done <- err }()
				select {
				case err = <-done:
				case <-time.After(10 * time.Second): // a hang is the failure
					t.Fatal("ReadResultFile blocked")
				}
			})
			if err == nil {
				t.Fatal("no error")
			}
			msg := err.Error()
			if !strings.HasPrefix(msg, p) || !strings.Contains(msg, tt.want) || strings.Contains(msg, "\n") {
				t.Fatalf("error %q: want one line starting with the path and saying %q", msg, tt.want)
			}
			if tt.is != nil && !errors.Is(err, tt.is) {
				t.Fatalf("error %v is not %v", err, tt.is)
			}
			if n > 1<<20 {
				t.Fatalf("refusing it allocated %d bytes", n)
			}
		})
	}
}

// TestReadInputCapsAndReads: ReadInput returns a regular file's content,
// and refuses one over its limit with the sizes.
func TestReadInputCapsAndReads(t *testing.T) {
	p := filepath.Join(t.TempDir(), "data.csv")
	if err := os.WriteFile(p, []byte("a,b\n1,2\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	b, err := ReadInput(p, 8)
	if err != nil || string(b) != "a,b\n1,2\n" {
		t.Fatalf("ReadInput = %q, %v", b, err)
	}
	_, err = ReadInput(p, 7)
	if !errors.Is(err, ErrTooLarge) || !strings.Contains(err.Error(), "8 bytes, over the limit of 7 bytes") {
		t.Fatalf("over the limit: %v", err)
	}
}

// TestSizelessInputIsCut: a file whose size says nothing (as /proc's
// report 0) is read up to the limit and refused past it, by the streaming
// reader and by the whole-file read alike; a file of exactly the limit is
// read whole.
func TestSizelessInputIsCut(t *testing.T) {
	const limit = 8
	for _, tc := range []struct {
		in      string
		tooLong bool
	}{{"user\nalice\nbob\n", true}, {"user\nbob", false}, {"", false}} {
		stream, err1 := io.ReadAll(LimitInput(strings.NewReader(tc.in), "feed.csv", limit))
		whole, err2 := ReadOpenedInput(strings.NewReader(tc.in), "feed.csv", 0, limit)
		for _, got := range []struct {
			b   []byte
			err error
		}{{stream, err1}, {whole, err2}} {
			if tc.tooLong {
				var ie *InputError
				if !errors.Is(got.err, ErrTooLarge) || !errors.As(got.err, &ie) || ie.Path != "feed.csv" {
					t.Errorf("%q: want a too-large error naming feed.csv, got %v", tc.in, got.err)
				}
				continue
			}
			if got.err != nil || string(got.b) != tc.in {
				t.Errorf("%q: read %q, %v", tc.in, got.b, got.err)
			}
		}
	}
}

// TestGeometryBombRefused: a histogram declaring another geometry is
// refused from its header, before its counts are allocated (a 296-byte
// one declaring 1…2⁶³−1 at 5 digits took 49 MB), and one holding a value
// beyond the tool's hour can no longer become a negative duration.
func TestGeometryBombRefused(t *testing.T) {
	tests := []struct {
		name    string
		lowest  int64
		highest int64
		digits  int32
	}{
		{"widest at 5 digits", 1, math.MaxInt64, 5},
		{"beyond an hour", 1, 1 << 62, 3},
		{"5 digits", 1, histHighest, 5},
		{"lowest 0", 0, histHighest, 3},
		{"lowest 1000", 1000, histHighest, 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			enc := hdrtest.OneValue(tt.lowest, tt.highest, tt.digits)
			var err error
			n := allocated(func() { _, err = DecodeHistogram([]byte(enc)) })
			if err == nil || !strings.Contains(err.Error(), "tailgate writes only 1…3600000000µs (1h) at 3 digits") {
				t.Fatalf("DecodeHistogram: %v", err)
			}
			if n > 256<<10 {
				t.Fatalf("refusing it allocated %d bytes", n)
			}
			file := `{"version": 1, "total": {"requests": 1, "latency": "` + enc + `"}}`
			p := filepath.Join(t.TempDir(), "bomb.json")
			if err := os.WriteFile(p, []byte(file), 0o644); err != nil {
				t.Fatal(err)
			}
			n = allocated(func() { _, err = ReadResultFile(p) })
			if err == nil || !strings.HasPrefix(err.Error(), p+": decode histogram: ") {
				t.Fatalf("ReadResultFile: %v", err)
			}
			if n > 1<<20 {
				t.Fatalf("refusing the file allocated %d bytes", n)
			}
		})
	}
	good := hdrtest.OneValue(histLowest, histHighest, histDigits)
	if h, err := DecodeHistogram([]byte(good)); err != nil || h.Count() != 1 {
		t.Fatalf("the tool's geometry: %v", err)
	}
	for _, bad := range []string{"", "HISTFAAA", "!!!!", base64.StdEncoding.EncodeToString([]byte("12345678"))} {
		if _, err := DecodeHistogram([]byte(bad)); err == nil {
			t.Errorf("%q decoded", bad)
		}
	}
}

// TestCheckRefusesImpossibleFigures: a results file whose figures no run
// can produce is refused with what is wrong.
func TestCheckRefusesImpossibleFigures(t *testing.T) {
	tests := []struct{ name, file, want string }{
		{"errors over requests", `{"version":1,"total":{"requests":3,"errors":5}}`, "total: 5 errors in 3 requests"},
		{"retries over requests", `{"version":1,"total":{"requests":3,"errors":1,"retries":3}}`, "total: 3 retried attempts and 0 retried requests do not fit 3 requests with 1 errors"},
		{"request errors", `{"version":1,"total":{},"requests":[{"name":"a","requests":1,"errors":2}]}`, "requests[0]: 2 errors in 1 requests"},
		{"group errors", `{"version":1,"total":{},"groups":[{"name":"a","group":"g","errors":1}]}`, "groups[0]: 1 errors in 0 requests"},
		{"interval errors", `{"version":1,"total":{},"timeline":[{"total":{"errors":1}}]}`, "timeline[0].total: 1 errors in 0 requests"},
		{"series errors", `{"version":1,"total":{},"timeline":[{"total":{},"series":[{"name":"a","errors":1}]}]}`, "timeline[0].series[0]: 1 errors in 0 requests"},
		{"negative timeout", `{"version":1,"total":{},"meta":{"timeout":"-1s"}}`, "meta.timeout is negative"},
		{"negative interval", `{"version":1,"total":{},"timeline":[{"start":"-5s","total":{}}]}`, "timeline[0]: negative start"},
		{"negative rate", `{"version":1,"total":{},"meta":{"planned_rate":-1}}`, "meta.planned_rate is -1"},
		{"end before start", `{"version":1,"total":{},"meta":{"start":"2026-01-02T00:00:00Z","end":"2026-01-01T00:00:00Z"}}`, "meta.end"},
		{"shard bomb", `{"version":1,"total":{},"meta":{"shard":{"index":0,"count":100000000}}}`, "count of at most 100000"},
		{"shard index", `{"version":1,"total":{},"meta":{"shard":{"index":4,"count":4}}}`, "meta.shard 4/4"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := DecodeResult(strings.NewReader(tt.file))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error %v, want %q", err, tt.want)
			}
		})
	}
}
