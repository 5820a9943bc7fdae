package scenarios

import (
	"fmt"
	"time"

	"github.com/tailgate-dev/tailgate/loadgen"
	"go.yaml.in/yaml/v3"
)

// stage is one open-model stage as the file writes it: a constant rate
// (from == to) or a linear ramp from from to to per second over duration.
type stage struct {
	name     string
	duration time.Duration
	from, to float64
	// warmup marks a leading stage as part of the warmup.
	warmup bool
}

// pacer is the stage's arrivals.
func (st stage) pacer() loadgen.Pacer {
	if st.from == st.to {
		return loadgen.ConstantPacer{PerSecond: st.from, Length: st.duration}
	}
	return loadgen.RampPacer{From: st.from, To: st.to, Length: st.duration}
}

var loadKeys = []string{"stages", "rate", "duration", "vus", "iterations", "think", "warmup", "max_in_flight", "connections", "streams", "overload", "arrivals", "seed"}
var stageKeys = []string{"name", "duration", "rate", "from", "to", "warmup"}

// load decodes the load section into the one form of the load settings,
// loadgen.Load: stages (or rate and duration) become its pacer, load.warmup
// a warmup stage in front of it (the warmup rule of loadgen/warmup.go), and
// arrivals: poisson randomises it with the seed.
func (d *decoder) load(n *yaml.Node) loadgen.Load {
	var l loadgen.Load
	var stages []stage
	var arrivals string
	var seed uint64 = 1
	var rateNode, durNode, stagesNode, vusNode, itersNode, thinkNode, warmupNode, arrivalsNode, seedNode *yaml.Node
	var rate float64
	d.fields(n, "load", loadKeys, func(key string, k, v *yaml.Node) {
		switch key {
		case "stages":
			stagesNode = v
		case "rate":
			rateNode = v
			rate, _ = d.rate(key, v)
		case "duration":
			durNode = v
			l.Duration, _ = d.duration(key, v)
		case "vus":
			vusNode = v
			if x, ok := d.integer(key, v, 1); ok {
				if x > 100_000 {
					d.errf(v, "vus: at most 100000, got %d", x)
				} else {
					l.VUs = int(x)
				}
			}
		case "iterations":
			itersNode = v
			if x, ok := d.integer(key, v, 1); ok {
				l.Iterations = uint64(x)
			}
		case "think":
			thinkNode = v
			l.Think, _ = d.duration(key, v)
		case "warmup":
			warmupNode = v
			l.Warmup, _ = d.duration(key, v)
		case "max_in_flight":
			if x, ok := d.integer(key, v, 1); ok {
				l.MaxInFlight = int(min(x, 1<<30))
			}
		case "connections":
			if x, ok := d.integer(key, v, 1); ok {
				l.Connections = int(min(x, 1<<20))
			}
		case "streams":
			d.streamsNode = v
			if x, ok := d.integer(key, v, 1); ok {
				if x > 1<<16 {
					d.errf(v, "streams: at most 65536 per connection, got %d", x)
				} else {
					l.Streams = int(x)
				}
			}
		case "overload":
			if s, ok := d.str(key, v); ok {
				if s != "queue" && s != "drop" {
					d.errf(v, "overload: %q: use queue or drop", s)
				} else {
					l.Overload = loadgen.Overload(s)
				}
			}
		case "arrivals":
			arrivalsNode = v
			if s, ok := d.str(key, v); ok {
				if s != "uniform" && s != "poisson" {
					d.errf(v, "arrivals: %q: use uniform or poisson", s)
				} else {
					arrivals = s
				}
			}
		case "seed":
			seedNode = v
			if x, ok := d.integer(key, v, 0); ok && x > 0 {
				seed = uint64(x)
			}
		}
	})
	if n.Kind != yaml.MappingNode {
		return loadgen.Load{}
	}
	open := stagesNode != nil || rateNode != nil
	if arrivalsNode != nil && arrivals == "poisson" && !open {
		d.errf(arrivalsNode, "arrivals: poisson needs the open model (stages or rate), not vus")
	}
	if seedNode != nil && arrivals != "poisson" {
		d.errf(seedNode, "seed: only for arrivals: poisson")
	}
	if open && vusNode != nil {
		d.errf(vusNode, "load: vus (closed model) and stages/rate (open model) exclude each other")
		return loadgen.Load{}
	}
	if open {
		if itersNode != nil {
			d.errf(itersNode, "iterations: only for the closed model (vus)")
		}
		if thinkNode != nil {
			d.errf(thinkNode, "think: only for the closed model (vus); pause between steps with think on a flow step")
		}
	}
	switch {
	case stagesNode != nil && rateNode != nil:
		d.errf(rateNode, "load: give either stages or rate, not both")
	case stagesNode != nil:
		if durNode != nil {
			d.errf(durNode, "load: duration goes on each stage")
		}
		stages = d.stages(stagesNode)
		l.Duration = 0
		lead := true
		var warm time.Duration
		anyWarm := false
		for _, st := range stages {
			if st.warmup {
				anyWarm = true
				if !lead {
					d.errf(stagesNode, "stages: only leading stages can be warmup stages")
				}
				warm += st.duration
			} else {
				lead = false
			}
		}
		if anyWarm {
			if warmupNode != nil {
				d.errf(warmupNode, "warmup: give it either here or with warmup: true on stages, not both")
			}
			// The warmup stages are the pacer's first: the warmup is
			// already in the load.
			l.Warmup, warmupNode = warm, nil
		}
	case rateNode != nil:
		if durNode == nil {
			d.errf(rateNode, "load: rate needs a duration")
		} else if rate > 0 && l.Duration > 0 {
			stages = []stage{{duration: l.Duration, from: rate, to: rate}}
		}
		l.Duration = 0
	case vusNode != nil:
		if durNode == nil && itersNode == nil {
			d.errf(vusNode, "load: vus needs a duration or iterations")
		}
	default:
		d.errf(n, "load: give stages or rate+duration (open model), or vus (closed model)")
	}
	if len(stages) > 0 && stages[0].warmup {
		// load.warmup comes on top of the load; warmup stages are part of
		// the stages, and at least one stage must be left to measure.
		measured := false
		for _, st := range stages {
			measured = measured || !st.warmup
		}
		if !measured {
			d.errf(stagesNode, "stages: every stage is a warmup stage, which leaves nothing to measure")
		}
	}
	switch {
	case len(stages) == 1 && stages[0].name == "":
		l.Pacer = stages[0].pacer()
	case len(stages) > 0:
		ps := make([]loadgen.Stage, len(stages))
		for i, st := range stages {
			ps[i] = loadgen.Stage{Name: st.name, Pacer: st.pacer()}
		}
		l.Pacer = loadgen.NewStagedPacer(ps...)
	}
	if warmupNode != nil && l.Warmup > 0 {
		w := l.Warmup
		l.Warmup = 0
		if err := l.SetWarmup(w); err != nil {
			d.errf(warmupNode, "warmup: %v", err)
		}
	}
	// Poisson arrivals cover the warmup as well.
	if arrivals == "poisson" && l.Pacer != nil {
		p, err := loadgen.NewPoissonPacer(l.Pacer, seed)
		if err != nil {
			d.errf(arrivalsNode, "arrivals: %v", err)
		} else {
			l.Pacer = p
		}
	}
	return l
}

func (d *decoder) stages(n *yaml.Node) []stage {
	if n.Kind != yaml.SequenceNode {
		d.errf(n, "stages: want a list, got %s", kindName(n))
		return nil
	}
	if len(n.Content) == 0 {
		d.errf(n, "stages: the list is empty")
		return nil
	}
	var out []stage
	var total time.Duration
	for i, sn := range n.Content {
		sn = resolve(sn)
		st := stage{}
		var rateNode, fromNode, toNode, durNode *yaml.Node
		ok := d.fields(sn, fmt.Sprintf("stage %d", i+1), stageKeys, func(key string, k, v *yaml.Node) {
			switch key {
			case "name":
				st.name, _ = d.name(key, v)
			case "duration":
				durNode = v
				st.duration, _ = d.duration(key, v)
			case "rate":
				rateNode = v
				st.from, _ = d.rate(key, v)
				st.to = st.from
			case "from":
				fromNode = v
				st.from, _ = d.rate(key, v)
			case "to":
				toNode = v
				st.to, _ = d.rate(key, v)
			case "warmup":
				st.warmup, _ = d.boolean(key, v)
			}
		})
		if !ok {
			continue
		}
		switch {
		case durNode == nil:
			d.errf(sn, "stage %d: no duration", i+1)
		case rateNode != nil && (fromNode != nil || toNode != nil):
			d.errf(rateNode, "stage %d: give either rate (constant) or from and to (ramp)", i+1)
		case rateNode == nil && (fromNode == nil || toNode == nil):
			d.errf(sn, "stage %d: give rate (constant) or both from and to (ramp)", i+1)
		}
		if st.duration > 0 && st.from > 0 && st.to > 0 {
			total += st.duration
			out = append(out, st)
		}
	}
	if total > maxDuration {
		d.errf(n, "stages: %s in total is above the maximum of %s", total, maxDuration)
		return nil
	}
	return out
}
