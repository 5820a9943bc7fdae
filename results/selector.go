package results

import (
	"errors"
	"fmt"
	"strings"
	"unicode"
)

// Selector picks one series of a result: the whole run, a request name, a
// tag group of one request name, a tag group pooled over every request
// name, or a flow's iterations. It is written the same way everywhere a
// series is named — in thresholds, compare's --a and --b, report labels and
// JSON keys:
//
//	total               the whole run
//	offset              the requests named offset
//	offset{depth=100}   offset's requests tagged depth=100
//	{depth=100}         every request tagged depth=100
//	flow:checkout       the iterations of the flow named checkout
//
// Spaces around the name and the group are not part of them. The group runs
// from the first unescaped "{" to the final "}", so it may hold any
// character; in a name, "\" escapes the next character ("GET /users/\{id}"
// is a name with braces, "\total" a request named total, "\flow:x" a
// request named flow:x, "\ " a space the name begins or ends with). A flow
// is a series of its own beside the requests its steps send, so it has a
// prefix of its own rather than a name that could be a request's; it has
// no tag groups.
type Selector struct {
	// Name is the request name, or the flow name when Flow is set; empty
	// for the total or a pooled group.
	Name string
	// Group is the tag group, e.g. "depth=100" or "depth=100,sort=id".
	Group string
	// Flow selects the iterations of the flow Name (Result.Flows).
	Flow bool
}

// flowPrefix starts the selector of a flow.
const flowPrefix = "flow:"

// FlowSelector returns the selector of the flow named name.
func FlowSelector(name string) Selector { return Selector{Name: name, Flow: true} }

// Total is the selector of the whole run.
var Total = Selector{}

// IsTotal reports whether s selects the whole run.
func (s Selector) IsTotal() bool { return s.Name == "" && s.Group == "" && !s.Flow }

// String writes s in the form ParseSelector reads back.
func (s Selector) String() string {
	if s.IsTotal() {
		return "total"
	}
	var b strings.Builder
	if s.Flow {
		b.WriteString(flowPrefix)
	}
	// A request name that reads as a keyword (total, or the flow prefix)
	// starts with an escape; after the flow prefix nothing is a keyword.
	keyword := !s.Flow && (s.Name == "total" || strings.HasPrefix(s.Name, flowPrefix))
	runes := []rune(s.Name)
	for i, c := range runes {
		edge := (i == 0 || i == len(runes)-1) && unicode.IsSpace(c)
		if c == '\\' || c == '{' || edge || (i == 0 && keyword) {
			b.WriteByte('\\')
		}
		b.WriteRune(c)
	}
	if s.Group != "" {
		b.WriteString("{" + s.Group + "}")
	}
	return b.String()
}

// ParseSelector reads a selector written as described on Selector.
func ParseSelector(s string) (Selector, error) {
	text := s
	switch strings.TrimSpace(s) {
	case "":
		return Selector{}, errors.New("empty selector: write total, a request name, name{group} or {group}")
	case "total":
		return Total, nil
	}
	var sel Selector
	if rest, ok := strings.CutPrefix(strings.TrimLeftFunc(text, unicode.IsSpace), flowPrefix); ok {
		sel.Flow, text = true, rest
	}
	type char struct {
		r       rune
		escaped bool
	}
	var name []char
	escaped := false
scan:
	for i, c := range text {
		switch {
		case escaped:
			name = append(name, char{c, true})
			escaped = false
			continue
		case c == '\\':
			escaped = true
			continue
		case c != '{':
			name = append(name, char{c, false})
			continue
		}
		g, ok := strings.CutSuffix(strings.TrimRightFunc(text[i+1:], unicode.IsSpace), "}")
		if !ok {
			return Selector{}, fmt.Errorf("selector %q: the group has no closing }", s)
		}
		if sel.Group = strings.TrimSpace(g); sel.Group == "" {
			return Selector{}, fmt.Errorf("selector %q: empty group between { and }", s)
		}
		break scan
	}
	if escaped {
		return Selector{}, fmt.Errorf("selector %q: nothing after the final \\", s)
	}
	// Spaces around the name are not part of it unless escaped.
	for len(name) > 0 && !name[0].escaped && unicode.IsSpace(name[0].r) {
		name = name[1:]
	}
	for len(name) > 0 && !name[len(name)-1].escaped && unicode.IsSpace(name[len(name)-1].r) {
		name = name[:len(name)-1]
	}
	var b strings.Builder
	for _, c := range name {
		b.WriteRune(c.r)
	}
	sel.Name = b.String()
	switch {
	case sel.Flow && sel.Name == "":
		return Selector{}, fmt.Errorf("selector %q: empty flow name after %s", s, flowPrefix)
	case sel.Flow && sel.Group != "":
		return Selector{}, fmt.Errorf("selector %q: a flow has no tag groups; write %s%s", s, flowPrefix, sel.Name)
	case sel.IsTotal():
		return Selector{}, fmt.Errorf("selector %q: empty request name", s)
	}
	return sel, nil
}

// Select returns the stats sel picks from r, or nil when the result has no
// such series. A group without a name pools that group over every request
// name into new stats; a flow's stats count its iterations (see
// Result.Flows).
func (r *Result) Select(sel Selector) (*Stats, error) {
	switch {
	case sel.IsTotal():
		return r.Total, nil
	case sel.Flow:
		return r.LookupFlow(sel.Name), nil
	case sel.Name != "":
		return r.Lookup(sel.Name, sel.Group), nil
	}
	var out *Stats
	for _, s := range r.Groups {
		if s.Group != sel.Group {
			continue
		}
		if out == nil {
			out = NewStats("", sel.Group)
		}
		if err := out.Merge(s); err != nil {
			return nil, err
		}
	}
	return out, nil
}
