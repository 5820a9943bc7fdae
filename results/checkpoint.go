package results

import (
	"bufio"
	"fmt"
	"io"
)

// Encoder freezes histograms with one reused compression state. A producer
// that freezes many histograms (the engine's collector: every timeline
// interval, every checkpoint) keeps one for its whole life: each fresh
// encoder costs a zlib state of about 1.2 MiB.
type Encoder struct{ e *histEncoder }

// NewEncoder returns an encoder.
func NewEncoder() *Encoder { return &Encoder{e: newHistEncoder()} }

// Freeze returns an independent copy of h kept only in its compressed
// encoding, as Histogram.frozen does.
func (e *Encoder) Freeze(h *Histogram) *Histogram { return h.frozenWith(e.e) }

// FileWriter writes successive versions of one run's results file (the
// checkpoints) and reuses its buffers from one version to the next: with
// fresh buffers each time, checkpoints were most of a steady run's garbage.
// It is not safe for concurrent use.
type FileWriter struct{ w resultWriter }

// NewFileWriter returns a writer whose frozen copies are encoded with enc.
func NewFileWriter(enc *Encoder) *FileWriter {
	return &FileWriter{w: resultWriter{frozen: frozenCopies{enc: enc.e}}}
}

// Freeze returns a frozen copy of h in a buffer the writer reuses: the copy
// stays valid until Recycle.
func (w *FileWriter) Freeze(h *Histogram) *Histogram { return w.w.frozen.freeze(h) }

// Recycle makes the buffers of every copy handed out by Freeze available
// again; those copies must not be used afterwards.
func (w *FileWriter) Recycle() { w.w.frozen.reset() }

// WriteFile writes r to path atomically, as Result.WriteFile does. A path
// that is not replaced atomically (a device, a named pipe, "-") is
// refused: a checkpoint there would be one more copy of the results in
// the stream.
func (w *FileWriter) WriteFile(r *Result, path string) error {
	o, err := ResolveOutput(path)
	if err != nil {
		return fmt.Errorf("write results %s: %w", path, err)
	}
	if !o.Replaceable() {
		return fmt.Errorf("write results %s: checkpoints go only to a regular file", path)
	}
	return w.w.writeFile(r, path)
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
	c.h, c.enc, c.p = nil, b, nil
	return c
}

func (w *resultWriter) writeFile(r *Result, path string) error {
	o, err := ResolveOutput(path)
	if err == nil {
		err = o.write(nil, &w.bw, func(wr io.Writer) error { return w.enc.encode(wr, r) })
	}
	if err != nil {
		return fmt.Errorf("write results %s: %w", path, err)
	}
	return nil
}
