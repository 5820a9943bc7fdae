package results

// Encoder freezes histograms with one reused compression state. A producer
// that freezes many histograms (the engine's collector: every timeline
// interval, every checkpoint) keeps one for its whole life: each fresh
// encoder costs a zlib state of about 1.2 MiB.
type Encoder struct{ e *histEncoder }

// NewEncoder returns an encoder.
func NewEncoder() *Encoder { return &Encoder{e: newHistEncoder()} }

// Freeze returns an independent copy of h kept only in its compressed
// encoding, as Histogram.Frozen does.
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

// WriteFile writes r to path atomically, as Result.WriteFile does.
func (w *FileWriter) WriteFile(r *Result, path string) error { return w.w.writeFile(r, path) }
