package scenarios

import (
	"fmt"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

// decoder walks the YAML node tree, collecting problems.
type decoder struct {
	p      *problems
	getenv func(string) string
	dir    string
	file   string
	trust  Trust
	// envAllowed are the environment variables the scenario may read.
	envAllowed map[string]bool
	// unsure is set when names may be missing because of an earlier
	// problem (a data file that failed to load, a broken variable).
	unsure bool
	// streamsNode is where load.streams was given, for the check that
	// the scenario uses HTTP/2.
	streamsNode *yaml.Node
}

func (d *decoder) errf(n *yaml.Node, format string, args ...any) {
	d.p.add(n.Line, n.Column, format, args...)
}

func (d *decoder) pos(n *yaml.Node) Pos { return Pos{File: d.file, Line: n.Line, Col: n.Column} }

// resolve follows aliases.
func resolve(n *yaml.Node) *yaml.Node {
	for i := 0; n != nil && n.Kind == yaml.AliasNode && i < 100; i++ {
		n = n.Alias
	}
	return n
}

// kindName describes a node's type for people, never as a Go type.
func kindName(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.ScalarNode:
		switch n.ShortTag() {
		case "!!null":
			return "nothing"
		case "!!bool":
			return "true/false"
		case "!!int", "!!float":
			return "a number (" + n.Value + ")"
		}
		return fmt.Sprintf("the text %q", clip(n.Value))
	case yaml.AliasNode:
		return "an alias"
	}
	return "something else"
}

func clip(s string) string {
	if len(s) > 40 {
		return s[:37] + "..."
	}
	return s
}

// fields walks a mapping. With known != nil, other keys are reported with a
// suggestion. Duplicate keys are always reported.
func (d *decoder) fields(n *yaml.Node, what string, known []string, fn func(key string, k, v *yaml.Node)) bool {
	n = resolve(n)
	if n == nil {
		return false
	}
	if n.Kind != yaml.MappingNode {
		d.errf(n, "%s: want a mapping, got %s", what, kindName(n))
		return false
	}
	seen := map[string]*yaml.Node{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := resolve(n.Content[i]), resolve(n.Content[i+1])
		if k == nil || v == nil {
			continue
		}
		if k.Kind != yaml.ScalarNode {
			d.errf(k, "%s: keys must be plain names, got %s", what, kindName(k))
			continue
		}
		key := k.Value
		if prev, dup := seen[key]; dup {
			d.errf(k, "duplicate key %q in %s (first at line %d)", key, what, prev.Line)
			continue
		}
		seen[key] = k
		if known != nil && !contains(known, key) {
			d.errf(k, "unknown key %q in %s%s", key, what, suggest(key, known))
			continue
		}
		fn(key, k, v)
	}
	return true
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// str reads a scalar as text.
func (d *decoder) str(key string, n *yaml.Node) (string, bool) {
	if n.Kind != yaml.ScalarNode || n.ShortTag() == "!!null" {
		d.errf(n, "%s: want text, got %s", key, kindName(n))
		return "", false
	}
	return n.Value, true
}

// name reads a non-empty single-line name.
func (d *decoder) name(key string, n *yaml.Node) (string, bool) {
	s, ok := d.str(key, n)
	if !ok {
		return "", false
	}
	if strings.TrimSpace(s) == "" || strings.ContainsAny(s, "\r\n\t") {
		d.errf(n, "%s: want a non-empty name on one line", key)
		return "", false
	}
	return s, true
}

func (d *decoder) integer(key string, n *yaml.Node, minimum int64) (int64, bool) {
	if n.Kind != yaml.ScalarNode || n.ShortTag() != "!!int" {
		d.errf(n, "%s: want a whole number, got %s", key, kindName(n))
		return 0, false
	}
	var v int64
	if err := n.Decode(&v); err != nil {
		d.errf(n, "%s: %s is out of range", key, n.Value)
		return 0, false
	}
	if v < minimum {
		switch minimum {
		case 0:
			d.errf(n, "%s: must not be negative, got %d", key, v)
		default:
			d.errf(n, "%s: must be at least %d, got %d", key, minimum, v)
		}
		return 0, false
	}
	return v, true
}

func (d *decoder) boolean(key string, n *yaml.Node) (bool, bool) {
	if n.Kind != yaml.ScalarNode || n.ShortTag() != "!!bool" {
		d.errf(n, "%s: want true or false, got %s", key, kindName(n))
		return false, false
	}
	var b bool
	if err := n.Decode(&b); err != nil {
		d.errf(n, "%s: want true or false, got %s", key, kindName(n))
		return false, false
	}
	return b, true
}

func (d *decoder) duration(key string, n *yaml.Node) (time.Duration, bool) {
	return parseScalar(d, key, n, "a duration such as 10s", parseDuration)
}

func (d *decoder) rate(key string, n *yaml.Node) (float64, bool) {
	return parseScalar(d, key, n, "a rate such as 100/s", parseRate)
}

// parseScalar decodes a plain scalar with parse, reporting a non-scalar as
// "want <what>" and a parse failure with parse's message.
func parseScalar[T any](d *decoder, key string, n *yaml.Node, what string, parse func(string) (T, error)) (T, bool) {
	var zero T
	if n.Kind != yaml.ScalarNode || n.ShortTag() == "!!null" || n.ShortTag() == "!!bool" {
		d.errf(n, "%s: want %s, got %s", key, what, kindName(n))
		return zero, false
	}
	v, err := parse(n.Value)
	if err != nil {
		d.errf(n, "%s: %v", key, err)
		return zero, false
	}
	return v, true
}

// tmpl compiles a scalar as a template.
func (d *decoder) tmpl(key string, n *yaml.Node) *tmpl {
	s, ok := d.str(key, n)
	if !ok {
		return nil
	}
	style := byte('b')
	switch {
	case strings.ContainsAny(s, "\n\r\t\\\"'"):
	case n.Style == 0:
		style = 'p'
	case n.Style == yaml.DoubleQuotedStyle || n.Style == yaml.SingleQuotedStyle:
		style = 'q'
	}
	return compileTemplate(s, d.pos(n), style, d.lookupEnv, d.p)
}
