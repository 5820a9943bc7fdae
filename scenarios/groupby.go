package scenarios

import (
	"fmt"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/tailgate-dev/tailgate/loadgen"
)

// groupBy is a request's or step's group_by: the part of the response that
// joins its result group.
type groupBy struct {
	by  *loadgen.GroupBy
	pos Pos
}

// groupBy decodes group_by: status, or {header: NAME, limit: N}.
func (d *decoder) groupBy(n *yaml.Node) *groupBy {
	const want = "want status or {header: NAME}"
	g := &groupBy{pos: d.pos(n)}
	switch n.Kind {
	case yaml.ScalarNode:
		if n.ShortTag() != "!!str" || n.Value != "status" {
			d.errf(n, "group_by: %s, got %s", want, kindName(n))
			return nil
		}
		g.by = &loadgen.GroupBy{Label: "status"}
		return g
	case yaml.MappingNode:
	default:
		d.errf(n, "group_by: %s, got %s", want, kindName(n))
		return nil
	}
	by := &loadgen.GroupBy{}
	before, sawHeader := len(d.p.list), false
	d.fields(n, "group_by", []string{"header", "limit"}, func(key string, k, v *yaml.Node) {
		switch key {
		case "header":
			sawHeader = true
			if h, ok := d.str(key, v); ok {
				if !validHeaderName(h) {
					d.errf(v, "header: %q is not a header name", h)
					return
				}
				by.Header = strings.ToLower(h)
				by.Label = by.Header
			}
		case "limit":
			if l, ok := d.integer(key, v, 1); ok {
				if l > loadgen.MaxGroupByLimit {
					d.errf(v, "limit: at most %d distinct values, got %d", loadgen.MaxGroupByLimit, l)
					return
				}
				by.Limit = int(l)
			}
		}
	})
	if by.Header == "" {
		if !sawHeader && len(d.p.list) == before {
			d.errf(n, "group_by: name the response header to group by (header: NAME), or write group_by: status")
		}
		return nil
	}
	g.by = by
	return g
}

// checkGroupBy reports a group_by whose label is also one of the request's
// tags: the group would name the key twice.
func (d *decoder) checkGroupBy(g *groupBy, r *request) {
	if g == nil {
		return
	}
	for _, t := range r.tags {
		if t.key == g.by.Label {
			d.p.add(g.pos.Line, g.pos.Col, "group_by %s: request %q has a tag of that name; rename the tag", g.by.Label, r.name)
		}
	}
}

func (g *groupBy) String() string {
	if g == nil {
		return ""
	}
	return fmt.Sprintf("%s/%s/%d", g.by.Label, g.by.Header, g.by.Limit)
}
