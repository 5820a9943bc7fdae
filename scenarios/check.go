package scenarios

import (
	"errors"
	"fmt"
	"net/url"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/tailgate-dev/tailgate/internal/format"
	"go.yaml.in/yaml/v3"
)

// maxDuration bounds a run (the engine's limit).
const maxDuration = format.MaxDuration

// parseDuration is format.ParseDuration with a clearer message for
// values that are well formed but too large for a duration.
func parseDuration(s string) (time.Duration, error) {
	d, err := format.ParseDuration(s)
	if err == nil {
		return d, nil
	}
	if m := bigDuration.FindStringSubmatch(strings.TrimSpace(s)); m != nil {
		if v, perr := strconv.ParseFloat(m[1], 64); perr == nil {
			if unit, ok := durationUnits[m[2]]; ok && v*float64(unit) > float64(maxDuration) {
				return 0, fmt.Errorf("duration %q: above the maximum of %s", s, maxDuration)
			}
		}
	}
	return 0, err
}

var bigDuration = regexp.MustCompile(`^([0-9]+(?:\.[0-9]*)?)(ns|us|µs|ms|s|m|h)$`)

var durationUnits = map[string]time.Duration{
	"ns": time.Nanosecond, "us": time.Microsecond, "µs": time.Microsecond,
	"ms": time.Millisecond, "s": time.Second, "m": time.Minute, "h": time.Hour,
}

// parseRate is format.ParseRate with a clearer message for numbers too
// large to represent.
func parseRate(s string) (float64, error) {
	v, err := format.ParseRate(s)
	if err == nil {
		return v, nil
	}
	num, _, _ := strings.Cut(strings.TrimSpace(s), "/")
	if _, perr := strconv.ParseFloat(strings.TrimSpace(num), 64); errors.Is(perr, strconv.ErrRange) {
		return 0, fmt.Errorf("rate %q: out of range (at most %d/s)", s, format.MaxRate)
	}
	return 0, err
}
func formatRate(r float64) string { return format.RateSpec(r) }

// checkTarget checks a base URL: http or https, a host, no query.
func checkTarget(raw string) error {
	u, err := checkURL(raw)
	if err != nil {
		return err
	}
	if u.RawQuery != "" || u.Fragment != "" {
		return fmt.Errorf("%q: the target is a base URL without ?query or #fragment", raw)
	}
	return nil
}

func checkURL(raw string) (*url.URL, error) {
	if !strings.Contains(raw, "://") {
		return nil, fmt.Errorf("%q has no scheme (did you mean http://%s?)", raw, strings.TrimPrefix(raw, "//"))
	}
	u, err := url.Parse(raw)
	if err != nil {
		if ue, ok := err.(*url.Error); ok {
			err = ue.Err
		}
		return nil, fmt.Errorf("%q is not a URL: %v", raw, err)
	}
	switch u.Scheme {
	case "http", "https":
	case "":
		return nil, fmt.Errorf("%q has no scheme (did you mean http://%s?)", raw, strings.TrimPrefix(raw, "//"))
	default:
		return nil, fmt.Errorf("%q: unsupported scheme %q (use http or https)", raw, u.Scheme)
	}
	if u.Hostname() == "" {
		return nil, fmt.Errorf("%q has no host", raw)
	}
	if p := u.Port(); p != "" {
		if n, err := strconv.Atoi(p); err != nil || n < 1 || n > 65535 {
			return nil, fmt.Errorf("%q: bad port %q", raw, p)
		}
	}
	return u, nil
}

// checkURLTemplate checks what can be checked of a url template at load:
// all of it when it is static, its scheme and host otherwise.
func checkURLTemplate(t *tmpl) error {
	if t.static {
		_, err := checkURL(t.text)
		return err
	}
	lead := ""
	if len(t.parts) > 0 && t.parts[0].kind == eText {
		lead = t.parts[0].text
	}
	scheme, rest, ok := strings.Cut(lead, "://")
	if !ok {
		return fmt.Errorf("%q must start with http:// or https:// and a host (use path for URLs relative to target)", t.src)
	}
	if scheme != "http" && scheme != "https" {
		return fmt.Errorf("%q: unsupported scheme %q (use http or https)", t.src, scheme)
	}
	end := strings.IndexAny(rest, "/?#")
	if end <= 0 {
		return fmt.Errorf("%q: the host must be written out, not templated, and followed by /", t.src)
	}
	if _, err := checkURL(scheme + "://" + rest[:end]); err != nil {
		return err
	}
	return nil
}

// urlTemplateHost returns the host name of a checked absolute URL
// template; checkURLTemplate has made sure it is written out.
func urlTemplateHost(t *tmpl) string {
	lead := t.text
	if !t.static {
		lead = t.parts[0].text
	}
	_, rest, _ := strings.Cut(lead, "://")
	if end := strings.IndexAny(rest, "/?#"); end >= 0 {
		rest = rest[:end]
	}
	u, err := url.Parse("http://" + rest)
	if err != nil {
		return rest
	}
	return strings.ToLower(u.Hostname())
}

// scopeRef is what a variable name refers to outside captures.
type scopeRef struct {
	kind     refKind
	idx, col int
	what     string
}

// check resolves every template variable, and checks the references
// between sections: flows to requests, thresholds to requests, captures
// to the steps that use them.
func (d *decoder) check(s *Scenario, root *yaml.Node) {
	scope := map[string]scopeRef{}
	for i, f := range s.feeds {
		for c, col := range f.columns {
			if prev, ok := scope[col]; ok {
				d.p.add(f.pos.Line, f.pos.Col, "data feed %q: column %q is already %s", f.name, col, prev.what)
				continue
			}
			scope[col] = scopeRef{kind: refData, idx: i, col: c, what: fmt.Sprintf("a column of data feed %q", f.name)}
		}
	}
	allCaptures := map[string]bool{}
	var capList []*capture
	for _, r := range s.requests {
		capList = append(capList, r.captures...)
	}
	for _, f := range s.flows {
		for _, st := range f.steps {
			capList = append(capList, st.captures...)
		}
	}
	for _, c := range capList {
		allCaptures[c.name] = true
	}
	for i, v := range s.vars {
		if v.value == nil {
			d.unsure = true
		}
		d.resolve(v.value, scope, nil, allCaptures, "vars are computed at the start of each iteration, before any capture")
		if prev, ok := scope[v.name]; ok {
			d.p.add(v.pos.Line, v.pos.Col, "variable %q: the name is already %s", v.name, prev.what)
			continue
		}
		scope[v.name] = scopeRef{kind: refVar, idx: i, what: "a variable"}
	}
	for _, c := range capList {
		if prev, ok := scope[c.name]; ok {
			d.p.add(c.pos.Line, c.pos.Col, "capture %q: the name is already %s", c.name, prev.what)
		}
	}

	byName := map[string]*request{}
	for _, r := range s.requests {
		byName[r.name] = r
	}
	used := map[string]bool{}
	flowNames := map[string]bool{}
	for _, f := range s.flows {
		flowNames[f.name] = true
		captured := map[string]bool{}
		for i, st := range f.steps {
			r := byName[st.reqName]
			if r == nil {
				d.p.add(st.reqPos.Line, st.reqPos.Col, "flow %q step %d: no request named %q%s", f.name, i+1, st.reqName, suggest(st.reqName, s.RequestNames()))
				continue
			}
			st.req = r
			used[r.name] = true
			d.checkGroupBy(st.groupBy, r)
			hint := fmt.Sprintf("request %q is step %d of flow %q, and a capture can only be used by later steps of the same flow", r.name, i+1, f.name)
			for _, t := range requestTemplates(s, r) {
				d.resolve(t, scope, captured, allCaptures, hint)
			}
			for _, c := range r.captures {
				captured[c.name] = true
			}
			for _, c := range st.captures {
				captured[c.name] = true
			}
		}
	}
	total := 0
	for _, f := range s.flows {
		total += f.weight
	}
	for _, r := range s.requests {
		total += r.weight
		if r.weight > 0 {
			if flowNames[r.name] {
				d.p.add(r.pos.Line, r.pos.Col, "request %q has a weight, so it runs as a flow of its own, but a flow has the same name", r.name)
			}
			hint := fmt.Sprintf("request %q runs on its own (weight %d), so it sees no captures; use it in a flow after the step that captures it", r.name, r.weight)
			for _, t := range requestTemplates(s, r) {
				d.resolve(t, scope, nil, allCaptures, hint)
			}
			continue
		}
		if !used[r.name] {
			d.p.add(r.pos.Line, r.pos.Col, "request %q is never sent: give it a weight or use it in a flow", r.name)
		}
	}
	if total == 0 && len(s.requests) > 0 && len(d.p.list) == 0 {
		d.p.add(root.Line, root.Column, "nothing to run: every flow and request has weight 0")
	}

	// Secrets: environment values, and header values of Authorization,
	// Cookie and Proxy-Authorization written in the file.
	secretNames := map[string]bool{}
	addSecrets := func(t *tmpl) {
		if t == nil {
			return
		}
		s.secrets = append(s.secrets, t.secrets...)
	}
	for _, v := range s.vars {
		addSecrets(v.value)
	}
	allHeaders := append([]*header(nil), s.defaults.headers...)
	for _, r := range s.requests {
		for _, t := range requestTemplates(s, r) {
			addSecrets(t)
		}
		allHeaders = append(allHeaders, r.headers...)
	}
	for _, h := range allHeaders {
		if !s.isSecretHeader(h.name) || h.value == nil {
			continue
		}
		if h.value.static {
			if v := strings.TrimSpace(h.value.text); v != "" {
				s.secrets = append(s.secrets, v)
				if _, cred, ok := strings.Cut(v, " "); ok && len(cred) >= 4 {
					s.secrets = append(s.secrets, cred)
				}
			}
		}
		for _, e := range h.value.vars {
			secretNames[e.text] = true
		}
	}
	for _, r := range s.requests {
		for _, q := range r.query {
			if q.value != nil && contains(s.secretQuery, q.key) {
				for _, e := range q.value.vars {
					secretNames[e.text] = true
				}
			}
		}
	}
	// A variable is secret when it feeds a secret header or query
	// parameter, or reads env.
	for changed := true; changed; {
		changed = false
		for _, v := range s.vars {
			if v.value == nil {
				continue
			}
			if v.value.env && !secretNames[v.name] {
				secretNames[v.name], changed = true, true
			}
			if secretNames[v.name] {
				for _, e := range v.value.vars {
					if !secretNames[e.text] {
						secretNames[e.text], changed = true, true
					}
				}
			}
		}
	}
	for _, r := range s.requests {
		for _, tg := range r.tags {
			if tg.value == nil {
				continue
			}
			if tg.value.env {
				d.p.add(tg.pos.Line, tg.pos.Col, "tag %s: must not use env (tags are shown in results; env values are secrets)", tg.key)
				continue
			}
			for _, e := range tg.value.vars {
				if secretNames[e.text] {
					p := tg.value.posAt(e.off)
					d.p.add(p.Line, p.Col, "tag %s: .%s is a secret (it comes from env or feeds a credential header) and tags are shown in results", tg.key, e.text)
				}
			}
		}
	}
	sort.Slice(s.secrets, func(i, j int) bool { return len(s.secrets[i]) > len(s.secrets[j]) })
	s.secrets = dedupe(s.secrets)

}

func dedupe(list []string) []string {
	seen := map[string]bool{}
	out := list[:0]
	for _, s := range list {
		if !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	return out
}

// requestTemplates returns every template a request renders, the default
// headers it inherits included.
func requestTemplates(s *Scenario, r *request) []*tmpl {
	var out []*tmpl
	add := func(t *tmpl) {
		if t != nil {
			out = append(out, t)
		}
	}
	add(r.url)
	add(r.path)
	for _, q := range r.query {
		add(q.value)
	}
	for _, h := range effectiveHeaders(s, r) {
		add(h.value)
	}
	add(r.body)
	for _, t := range r.tags {
		add(t.value)
	}
	return out
}

// effectiveHeaders merges the default headers with the request's own; the
// request wins on a name clash (case-insensitive).
func effectiveHeaders(s *Scenario, r *request) []*header {
	var out []*header
	for _, h := range s.defaults.headers {
		overridden := false
		for _, rh := range r.headers {
			if strings.EqualFold(rh.name, h.name) {
				overridden = true
			}
		}
		if !overridden {
			out = append(out, h)
		}
	}
	return append(out, r.headers...)
}

// resolve binds a template's variables to vars, data columns or captures.
func (d *decoder) resolve(t *tmpl, scope map[string]scopeRef, captured, allCaptures map[string]bool, hint string) {
	if t == nil {
		return
	}
	for _, e := range t.vars {
		if ref, ok := scope[e.text]; ok {
			e.ref, e.idx, e.col = ref.kind, ref.idx, ref.col
			continue
		}
		if captured[e.text] {
			e.ref = refCapture
			continue
		}
		if d.unsure {
			// A data file or variable failed to load: its names are
			// unknown, and "undefined" would only repeat that problem.
			continue
		}
		p := t.posAt(e.off)
		if allCaptures[e.text] {
			d.p.add(p.Line, p.Col, "undefined variable .%s: %s", e.text, hint)
			continue
		}
		names := make([]string, 0, len(scope)+len(captured))
		for n := range scope {
			names = append(names, n)
		}
		for n := range captured {
			names = append(names, n)
		}
		sort.Strings(names)
		d.p.add(p.Line, p.Col, "undefined variable .%s%s; define it under vars, as a data column, or capture it in an earlier step", e.text, suggest(e.text, names))
	}
}
