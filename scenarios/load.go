package scenarios

import (
	"fmt"
	"time"

	"go.yaml.in/yaml/v3"
)

// LoadSpec is the load section of a scenario.
type LoadSpec struct {
	// Stages are the open-model stages, run in order.
	Stages []Stage
	// VUs, Iterations, Duration and Think describe a closed-model run.
	VUs        int
	Iterations uint64
	Duration   time.Duration
	Think      time.Duration
	// Warmup is run before the measured load and left out of the summary:
	// load.warmup adds it in front of Duration or the stages, at the rate
	// the measured load starts with; warmup stages are it themselves.
	Warmup time.Duration
	// MaxInFlight caps arrivals running or waiting (open model).
	MaxInFlight int
	// Connections caps concurrent connections.
	Connections int
	// Overload is "queue" or "drop" ("" for the default).
	Overload string
	// Arrivals is "uniform" (the default, "") or "poisson": arrivals at
	// random with the stages' rate, reproducible with Seed.
	Arrivals string
	// Seed seeds Poisson arrivals (1 when not given).
	Seed uint64
}

// Stage is one open-model stage: a constant rate (From == To) or a linear
// ramp from From to To per second over Duration.
type Stage struct {
	Name     string
	Duration time.Duration
	From, To float64
	// Warmup marks a leading stage as part of the warmup.
	Warmup bool
}

var loadKeys = []string{"stages", "rate", "duration", "vus", "iterations", "think", "warmup", "max_in_flight", "connections", "overload", "arrivals", "seed"}
var stageKeys = []string{"name", "duration", "rate", "from", "to", "warmup"}

func (d *decoder) load(n *yaml.Node) LoadSpec {
	var l LoadSpec
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
		case "overload":
			if s, ok := d.str(key, v); ok {
				if s != "queue" && s != "drop" {
					d.errf(v, "overload: %q: use queue or drop", s)
				} else {
					l.Overload = s
				}
			}
		case "arrivals":
			arrivalsNode = v
			if s, ok := d.str(key, v); ok {
				if s != "uniform" && s != "poisson" {
					d.errf(v, "arrivals: %q: use uniform or poisson", s)
				} else {
					l.Arrivals = s
				}
			}
		case "seed":
			seedNode = v
			if x, ok := d.integer(key, v, 0); ok {
				l.Seed = uint64(x)
			}
		}
	})
	if n.Kind != yaml.MappingNode {
		return l
	}
	open := stagesNode != nil || rateNode != nil
	if arrivalsNode != nil && l.Arrivals == "poisson" && !open {
		d.errf(arrivalsNode, "arrivals: poisson needs the open model (stages or rate), not vus")
	}
	if seedNode != nil && l.Arrivals != "poisson" {
		d.errf(seedNode, "seed: only for arrivals: poisson")
	}
	if open && vusNode != nil {
		d.errf(vusNode, "load: vus (closed model) and stages/rate (open model) exclude each other")
		return l
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
		l.Stages = d.stages(stagesNode)
		l.Duration = 0
		lead := true
		var warm time.Duration
		anyWarm := false
		for _, st := range l.Stages {
			if st.Warmup {
				anyWarm = true
				if !lead {
					d.errf(stagesNode, "stages: only leading stages can be warmup stages")
				}
				warm += st.Duration
			} else {
				lead = false
			}
		}
		if anyWarm {
			if warmupNode != nil {
				d.errf(warmupNode, "warmup: give it either here or with warmup: true on stages, not both")
			}
			l.Warmup = warm
		}
	case rateNode != nil:
		if durNode == nil {
			d.errf(rateNode, "load: rate needs a duration")
		} else if rate > 0 && l.Duration > 0 {
			l.Stages = []Stage{{Duration: l.Duration, From: rate, To: rate}}
		}
		l.Duration = 0
	case vusNode != nil:
		if durNode == nil && itersNode == nil {
			d.errf(vusNode, "load: vus needs a duration or iterations")
		}
	default:
		d.errf(n, "load: give stages or rate+duration (open model), or vus (closed model)")
	}
	if len(l.Stages) > 0 && l.Stages[0].Warmup {
		// load.warmup comes on top of the load; warmup stages are part of
		// the stages, and at least one stage must be left to measure.
		measured := false
		for _, st := range l.Stages {
			measured = measured || !st.Warmup
		}
		if !measured {
			d.errf(stagesNode, "stages: every stage is a warmup stage, which leaves nothing to measure")
		}
	}
	return l
}

func (d *decoder) stages(n *yaml.Node) []Stage {
	if n.Kind != yaml.SequenceNode {
		d.errf(n, "stages: want a list, got %s", kindName(n))
		return nil
	}
	if len(n.Content) == 0 {
		d.errf(n, "stages: the list is empty")
		return nil
	}
	var out []Stage
	var total time.Duration
	for i, sn := range n.Content {
		sn = resolve(sn)
		st := Stage{}
		var rateNode, fromNode, toNode, durNode *yaml.Node
		ok := d.fields(sn, fmt.Sprintf("stage %d", i+1), stageKeys, func(key string, k, v *yaml.Node) {
			switch key {
			case "name":
				st.Name, _ = d.name(key, v)
			case "duration":
				durNode = v
				st.Duration, _ = d.duration(key, v)
			case "rate":
				rateNode = v
				st.From, _ = d.rate(key, v)
				st.To = st.From
			case "from":
				fromNode = v
				st.From, _ = d.rate(key, v)
			case "to":
				toNode = v
				st.To, _ = d.rate(key, v)
			case "warmup":
				st.Warmup, _ = d.boolean(key, v)
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
		if st.Duration > 0 && st.From > 0 && st.To > 0 {
			total += st.Duration
			out = append(out, st)
		}
	}
	if total > maxDuration {
		d.errf(n, "stages: %s in total is above the maximum of %s", total, maxDuration)
		return nil
	}
	return out
}
