package loadgen

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"strconv"
	"time"
)

// planHash identifies the schedule and the requests of a plan so that
// results of shards of different plans are never merged. It covers what
// every shard must agree on: the target, the model and its profile (with
// arrival count and duration, so that "1000/s for 5s" and a float-rounded
// variant differ), flows with their weights and steps, the warmup and the
// shard count. It leaves out what may differ between processes of one plan:
// the shard index, connections, timeouts, client certificates.
func planHash(p *Plan) string {
	h := sha256.New()
	field := func(name string, v any) { fmt.Fprintf(h, "%s=%v\n", name, v) }
	field("hash", 1) // bump when the hashed fields change
	field("target", p.Target)
	field("model", p.Model())
	if p.Pacer != nil {
		field("profile", p.Pacer.String())
		field("count", p.Pacer.Count())
		field("duration", int64(p.Pacer.Duration()))
	} else {
		field("vus", p.VUs)
		field("iterations", p.Iterations)
		field("duration", int64(p.Duration))
		field("think", int64(p.Think))
	}
	field("warmup", int64(p.Warmup))
	shards := p.Shard.Count
	if shards <= 1 {
		shards = 1
	}
	field("shards", shards)
	for _, f := range p.Flows {
		field("flow", strconv.Quote(f.Name))
		field("weight", f.Weight)
		for _, s := range f.Steps {
			describeStep(h, s)
		}
	}
	sum := h.Sum(nil)
	return hex.EncodeToString(sum[:12])
}

// describeStep writes what identifies a step: the request of a static step,
// the description of a step that has one, else its type.
func describeStep(w io.Writer, s Step) {
	switch st := s.(type) {
	case *StaticStep:
		r := &st.Request
		fmt.Fprintf(w, "step=static %q %q %q %q\n", r.Name, r.Group, r.Method, r.URL)
		if g := r.GroupBy; g != nil {
			fmt.Fprintf(w, "group_by=%q %q %d\n", g.Label, g.Header, g.Limit)
		}
	case fmt.Stringer:
		fmt.Fprintf(w, "step=%q\n", st.String())
	default:
		fmt.Fprintf(w, "step=%T\n", s)
	}
}

// runID names a run in its results: the plan's RunID when it has one, else
// an id derived from the plan hash and the start instant, so that the
// shards of one run, which share both, share the id without being told.
// Shards started without an instant share the plan hash only; a whole run
// without one is named by its own start.
func runID(p *Plan, hash string, startAt, start time.Time) string {
	if p.RunID != "" {
		return p.RunID
	}
	h := sha256.New()
	fmt.Fprintf(h, "plan=%s\n", hash)
	switch {
	case !startAt.IsZero():
		fmt.Fprintf(h, "start=%d\n", startAt.UnixNano())
	case p.Shard.Count <= 1:
		fmt.Fprintf(h, "start=%d\n", start.UnixNano())
	}
	return hex.EncodeToString(h.Sum(nil)[:8])
}
