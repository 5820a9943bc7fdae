package scenarios

import (
	"fmt"
	"sort"

	"github.com/tailgate-dev/tailgate/results"
)

// tagWarnings warns about tags whose values can grow without bound: a tag
// that uses seq, uuid or now makes a new group per iteration, and one that
// uses a captured value lets the target choose how many groups there are.
// The engine keeps at most results.MaxGroupsPerRequest groups of one
// request and folds the rest into "other"; the warning says so before the
// run rather than after.
func (s *Scenario) tagWarnings() []string {
	vars := map[string]*varDef{}
	for _, v := range s.vars {
		vars[v.name] = v
	}
	var out []string
	for _, r := range s.requests {
		for _, tg := range r.tags {
			if why := unbounded(tg.value, vars, map[string]bool{}); why != "" {
				out = append(out, fmt.Sprintf("%s: tag %s of request %q uses %s: each distinct value is a group of its own; beyond %d groups per request the rest are counted as %q",
					tg.pos, tg.key, r.name, why, results.MaxGroupsPerRequest, results.OtherGroup))
			}
		}
	}
	sort.Strings(out)
	return out
}

// unbounded names what makes a template's values unbounded ("seq", "a
// captured value .token"), following variables of the vars section.
func unbounded(t *tmpl, vars map[string]*varDef, seen map[string]bool) string {
	if t == nil || t.static {
		return ""
	}
	var walk func(e *expr) string
	walk = func(e *expr) string {
		switch e.kind {
		case eCall:
			switch e.fn {
			case fnSeq:
				return "seq"
			case fnUUID:
				return "uuid"
			case fnNow:
				return "now"
			}
			for _, a := range e.args {
				if why := walk(a); why != "" {
					return why
				}
			}
		case eVar:
			switch e.ref {
			case refCapture:
				return "a captured value (." + e.text + ")"
			case refVar:
				if v := vars[e.text]; v != nil && !seen[e.text] {
					seen[e.text] = true
					return unbounded(v.value, vars, seen)
				}
			}
		}
		return ""
	}
	for _, e := range t.parts {
		if why := walk(e); why != "" {
			return why
		}
	}
	return ""
}
