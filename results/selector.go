package results

import (
	"errors"
	"fmt"
	"strings"
	"unicode"
)

// Selector picks one series of a result: the whole run, a request name, a
// tag group of one request name, or a tag group pooled over every request
// name. It is written the same way everywhere a series is named — in
// thresholds, compare's --a and --b, report labels and JSON keys:
//
//	total               the whole run
//	offset              the requests named offset
//	offset{depth=100}   offset's requests tagged depth=100
//	{depth=100}         every request tagged depth=100
//
// Spaces around the name and the group are not part of them. The group runs
// from the first unescaped "{" to the final "}", so it may hold any
// character; in a name, "\" escapes the next character ("GET /users/\{id}"
// is a name with braces, "\total" a request named total, "\ " a space
// the name begins or ends with).
type Selector struct {
	// Name is the request name; empty for the total or a pooled group.
	Name string
	// Group is the tag group, e.g. "depth=100" or "depth=100,sort=id".
	Group string
}

// Total is the selector of the whole run.
var Total = Selector{}

// IsTotal reports whether s selects the whole run.
func (s Selector) IsTotal() bool { return s.Name == "" && s.Group == "" }

// String writes s in the form ParseSelector reads back.
func (s Selector) String() string {
	if s.IsTotal() {
		return "total"
	}
	var b strings.Builder
	runes := []rune(s.Name)
	for i, c := range runes {
		edge := (i == 0 || i == len(runes)-1) && unicode.IsSpace(c)
		if c == '\\' || c == '{' || edge || (i == 0 && s.Name == "total") {
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
	type char struct {
		r       rune
		escaped bool
	}
	var name []char
	var sel Selector
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
	if sel.IsTotal() {
		return Selector{}, fmt.Errorf("selector %q: empty request name", s)
	}
	return sel, nil
}

// Select returns the stats sel picks from r, or nil when the result has no
// such series. A group without a name pools that group over every request
// name into new stats.
func (r *Result) Select(sel Selector) (*Stats, error) {
	switch {
	case sel.IsTotal():
		return r.Total, nil
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
