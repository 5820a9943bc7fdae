package loadgen

import (
	"fmt"
	"time"

	"github.com/tailgate-dev/tailgate/results"
)

// maybeCheckpoint writes the results so far when a checkpoint is due. The
// write runs in its own goroutine on a cloned result, so a slow disk never
// stalls the collector; a checkpoint still being written skips the next.
// A failed checkpoint is reported in the next snapshots (CheckpointError)
// until one succeeds.
func (rec *recorder) maybeCheckpoint(now time.Time) {
	cfg := &rec.cfg
	if cfg.checkpointPath == "" || now.Sub(rec.lastCheckpoint) < cfg.checkpointEvery {
		return
	}
	var w *results.FileWriter
	select {
	case w = <-rec.checkpointer:
	default:
		return
	}
	rec.lastCheckpoint = now
	w.Recycle()
	res := rec.build(true, "checkpoint", w.Freeze)
	go func() {
		defer func() { rec.checkpointer <- w }()
		if err := w.WriteFile(res, cfg.checkpointPath); err != nil {
			err = fmt.Errorf("checkpoint: %w", err)
			rec.checkpointErr.Store(&err)
			return
		}
		rec.checkpointErr.Store(nil)
	}()
}
