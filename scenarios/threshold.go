package scenarios

import (
	"fmt"

	"go.yaml.in/yaml/v3"

	"github.com/tailgate-dev/tailgate/results"
)

// A scenario's thresholds are results.Threshold values: one grammar and one
// evaluation for scenario files, --threshold flags and results files. The
// decoder checks each where it was written (the requests are decoded
// first), so that problems point at it.

var thresholdKeys = []string{"request", "group", "flow", "expr"}

func (d *decoder) thresholds(s *Scenario, n *yaml.Node) []*results.Threshold {
	if n == nil {
		return nil
	}
	if n.Kind != yaml.SequenceNode {
		d.errf(n, "thresholds: want a list, got %s", kindName(n))
		return nil
	}
	var out []*results.Threshold
	add := func(at *yaml.Node, t *results.Threshold) {
		if err := s.CheckThreshold(t); err != nil {
			d.errf(at, "%v", err)
		}
		out = append(out, t)
	}
	for _, tn := range n.Content {
		tn = resolve(tn)
		if tn.Kind == yaml.ScalarNode {
			text, ok := d.str("threshold", tn)
			if !ok {
				continue
			}
			t, err := results.ParseThreshold(text)
			if err != nil {
				d.errf(tn, "threshold: %v", err)
				continue
			}
			add(tn, t)
			continue
		}
		var sel results.Selector
		var exprNode, reqNode, flowNode *yaml.Node
		d.fields(tn, "threshold", thresholdKeys, func(key string, k, v *yaml.Node) {
			switch key {
			case "request":
				sel.Name, _ = d.name(key, v)
				reqNode = k
			case "group":
				sel.Group, _ = d.name(key, v)
			case "flow":
				sel.Name, _ = d.name(key, v)
				sel.Flow, flowNode = true, k
			case "expr":
				exprNode = v
			}
		})
		if tn.Kind != yaml.MappingNode {
			continue
		}
		if flowNode != nil && (reqNode != nil || sel.Group != "") {
			d.errf(flowNode, "threshold: flow selects a flow's iterations; it goes without request and group")
			continue
		}
		if exprNode == nil {
			d.errf(tn, "threshold: no expr (e.g. expr: p99 < 250ms)")
			continue
		}
		expr, ok := d.str("expr", exprNode)
		if !ok {
			continue
		}
		t, err := results.NewThreshold(sel, expr)
		if err != nil {
			d.errf(exprNode, "threshold: %v", err)
			continue
		}
		add(tn, t)
	}
	return out
}

// CheckThreshold checks that a threshold names a request, or a flow, of
// the scenario.
func (s *Scenario) CheckThreshold(t *results.Threshold) error {
	if t.Selector.Flow {
		var names []string
		for _, f := range s.flows {
			if f.name == t.Selector.Name {
				return nil
			}
			names = append(names, f.name)
		}
		if len(names) == 0 {
			return fmt.Errorf("threshold %q: the scenario has no flows (a request that runs on its own is selected by its name)", t.String())
		}
		hint := suggest(t.Selector.Name, names)
		if hint == "" && s.request(t.Selector.Name) != nil {
			hint = fmt.Sprintf(" (%s is a request: select it as %s)", t.Selector.Name, results.Selector{Name: t.Selector.Name})
		}
		return fmt.Errorf("threshold %q: no flow named %q%s", t.String(), t.Selector.Name, hint)
	}
	if name := t.Selector.Name; name != "" && s.request(name) == nil {
		return fmt.Errorf("threshold %q: no request named %q%s", t.String(), name, suggest(name, s.RequestNames()))
	}
	return nil
}

func (s *Scenario) request(name string) *request {
	for _, r := range s.requests {
		if r.name == name {
			return r
		}
	}
	return nil
}
