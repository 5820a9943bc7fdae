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

var thresholdKeys = []string{"request", "group", "expr"}

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
		var exprNode *yaml.Node
		d.fields(tn, "threshold", thresholdKeys, func(key string, k, v *yaml.Node) {
			switch key {
			case "request":
				sel.Name, _ = d.name(key, v)
			case "group":
				sel.Group, _ = d.name(key, v)
			case "expr":
				exprNode = v
			}
		})
		if tn.Kind != yaml.MappingNode {
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

// CheckThreshold checks that a threshold names a request of the scenario.
func (s *Scenario) CheckThreshold(t *results.Threshold) error {
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
