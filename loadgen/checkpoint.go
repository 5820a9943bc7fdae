package loadgen

import (
	"fmt"
	"time"

	"github.com/tailgate-dev/tailgate/results"
)

// checkpointer is where checkpoints go and how the collector copies its
// histograms for them.
type checkpointer struct {
	// write takes a checkpoint, on a goroutine of its own; nil when the
	// run takes none.
	write func(*results.Result) error
	// freeze makes the frozen copies a checkpoint holds.
	freeze func(*results.Histogram) *results.Histogram
	// recycle, when set, hands the previous checkpoint's copies back to
	// freeze for reuse.
	recycle func()
}

// newCheckpointer returns the checkpointer the configuration asks for. The
// file writer reuses one checkpoint's buffers for the next, since it is
// done with them once the file is written; a caller's sink keeps its
// Result, so its copies are fresh each time.
func (rec *recorder) newCheckpointer() *checkpointer {
	cfg := &rec.cfg
	switch {
	case cfg.checkpointPath != "":
		w := results.NewFileWriter(rec.enc)
		path := cfg.checkpointPath
		return &checkpointer{
			write:   func(res *results.Result) error { return w.WriteFile(res, path) },
			freeze:  w.Freeze,
			recycle: w.Recycle,
		}
	case cfg.checkpointSink != nil:
		return &checkpointer{write: cfg.checkpointSink, freeze: rec.freeze}
	}
	return &checkpointer{}
}

// maybeCheckpoint takes a checkpoint of the results so far when one is due.
// The write runs in its own goroutine on a cloned result, so a slow disk or
// sink never stalls the collector; a checkpoint still being written skips
// the next. A failed checkpoint is reported in the next snapshots
// (CheckpointError) until one succeeds.
func (rec *recorder) maybeCheckpoint(now time.Time) {
	cfg := &rec.cfg
	if (cfg.checkpointPath == "" && cfg.checkpointSink == nil) || now.Sub(rec.lastCheckpoint) < cfg.checkpointEvery {
		return
	}
	var c *checkpointer
	select {
	case c = <-rec.checkpointer:
	default:
		return
	}
	rec.lastCheckpoint = now
	if c.recycle != nil {
		c.recycle()
	}
	res := rec.build(true, "checkpoint", c.freeze)
	go func() {
		defer func() { rec.checkpointer <- c }()
		if err := c.write(res); err != nil {
			err = fmt.Errorf("checkpoint: %w", err)
			rec.checkpointErr.Store(&err)
			return
		}
		rec.checkpointErr.Store(nil)
	}()
}
