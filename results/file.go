package results

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
)

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
