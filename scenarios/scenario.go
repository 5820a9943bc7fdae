// Package scenarios reads tailgate scenario files: named requests, flows of
// steps with captures, variables, data feeds, load stages and thresholds.
// Load decodes and checks a file strictly, reporting every problem as
// "file:line:col: message"; Compile turns a Scenario into a loadgen.Plan.
// See README.md in this directory for the file format.
package scenarios

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/tailgate-dev/tailgate/loadgen"
	"github.com/tailgate-dev/tailgate/results"
)

// MaxFileSize bounds a scenario file; anything larger is not a scenario.
const MaxFileSize = 4 << 20

// Scenario is a decoded and checked scenario file.
type Scenario struct {
	// File is the path the scenario was read from.
	File string
	// Name names the run (default: the file name without extension).
	Name string
	// Description is free text for people.
	Description string
	// Target is the base URL that request paths are joined to.
	Target string
	// Load is the load section; zero when the file has none.
	Load loadgen.Load
	// Thresholds are the pass/fail checks evaluated after the run.
	Thresholds []*results.Threshold

	targetPos Pos
	defaults  defaults
	vars      []*varDef
	feeds     []*feed
	requests  []*request
	flows     []*flow
	secrets   []string
	// secretHeaders and secretQuery name headers and query parameters
	// whose values are secret (secret_headers, secret_query).
	secretHeaders []string
	secretQuery   []string
}

type defaults struct {
	headers         []*header
	timeout         time.Duration
	http2           bool
	insecure        bool
	followRedirects int
}

type header struct {
	name  string
	value *tmpl
	pos   Pos
}

type param struct {
	key   string
	value *tmpl
	pos   Pos
}

type varDef struct {
	name  string
	value *tmpl
	pos   Pos
}

type request struct {
	name      string
	pos       Pos
	method    string
	url       *tmpl // absolute URL template, or nil when path is used
	path      *tmpl
	query     []*param
	headers   []*header
	body      *tmpl
	weight    int
	weightSet bool
	tags      []*param
	captures  []*capture
	expect    []int
	groupBy   *groupBy
	checks    []*check
	rep       repeatSpec // retry, until
}

type flow struct {
	name   string
	pos    Pos
	weight int
	steps  []*flowStep
}

type flowStep struct {
	pos      Pos
	reqName  string
	reqPos   Pos
	req      *request
	think    time.Duration
	captures []*capture
	repeat   int
	groupBy  *groupBy   // replaces the request's
	checks   []*check   // replace the request's of the same name
	rep      repeatSpec // retry, until (over the request's)
}

// Option configures Load and Parse.
type Option func(*config)

type config struct {
	getenv func(string) string
	trust  Trust
}

// WithGetenv sets the lookup of environment variables used by env "NAME"
// in templates (default os.Getenv).
func WithGetenv(fn func(string) string) Option {
	return func(c *config) {
		if fn != nil {
			c.getenv = fn
		}
	}
}

// Load reads and checks the scenario file at path. Its error is an Errors
// listing every problem found, or an I/O error.
func Load(path string, opts ...Option) (*Scenario, error) {
	// The one way tailgate reads a file it is given (results.OpenInput):
	// regular files only, a named pipe refused without blocking, the size
	// bounded before and while reading.
	src, err := results.ReadInput(path, MaxFileSize)
	if err != nil {
		return nil, err
	}
	return Parse(path, src, opts...)
}

// Parse decodes and checks a scenario from src; file names it in errors and
// is the base for relative paths (body_file, data files).
func Parse(file string, src []byte, opts ...Option) (*Scenario, error) {
	cfg := config{getenv: os.Getenv}
	for _, o := range opts {
		o(&cfg)
	}
	d := &decoder{p: &problems{file: file}, getenv: cfg.getenv, dir: filepath.Dir(file), file: file,
		trust: cfg.trust, envAllowed: map[string]bool{}}
	for _, name := range cfg.trust.Env {
		d.envAllowed[name] = true
	}
	s := d.decode(src)
	if err := d.p.err(); err != nil {
		return nil, err
	}
	return s, nil
}

// RequestNames returns the names of the scenario's requests in file order.
func (s *Scenario) RequestNames() []string {
	out := make([]string, len(s.requests))
	for i, r := range s.requests {
		out[i] = r.name
	}
	return out
}

// FlowNames returns the names of the flows that run: declared flows and
// requests with a weight of their own, in file order.
func (s *Scenario) FlowNames() []string {
	var out []string
	for _, f := range s.flows {
		out = append(out, f.name)
	}
	for _, r := range s.requests {
		if r.weight > 0 {
			out = append(out, r.name)
		}
	}
	return out
}

// Secrets returns the values that must never be shown: environment values
// and the values of Authorization, Cookie and Proxy-Authorization headers
// written in the file.
func (s *Scenario) Secrets() []string { return append([]string(nil), s.secrets...) }

var topKeys = []string{"name", "description", "target", "env", "secret_headers", "secret_query", "defaults", "vars", "data", "requests", "flows", "load", "thresholds"}

func (d *decoder) decode(src []byte) *Scenario {
	s := &Scenario{File: d.file}
	base := filepath.Base(d.file)
	s.Name = strings.TrimSuffix(base, filepath.Ext(base))
	var doc yaml.Node
	if err := yaml.Unmarshal(src, &doc); err != nil {
		d.syntax(src, err)
		return s
	}
	if doc.Kind == 0 || len(doc.Content) == 0 {
		d.p.add(1, 1, "the file is empty; a scenario needs at least target and requests")
		return s
	}
	root := resolve(doc.Content[0])
	if isResultsFile(root) {
		d.p.add(1, 1, "this is a tailgate results file, not a scenario: read it with 'tailgate report %s'", d.file)
		return s
	}
	// The env list comes first: templates anywhere in the file read it.
	if root.Kind == yaml.MappingNode {
		for i := 0; i+1 < len(root.Content); i += 2 {
			if k := resolve(root.Content[i]); k != nil && k.Kind == yaml.ScalarNode && k.Value == "env" {
				d.envNames(root.Content[i+1])
			}
		}
	}
	var requestsNode, flowsNode, thresholdsNode, varsNode *yaml.Node
	ok := d.fields(root, "the scenario", topKeys, func(key string, k, v *yaml.Node) {
		switch key {
		case "name":
			if name, ok := d.name(key, v); ok {
				s.Name = name
			}
		case "description":
			if t, ok := d.str(key, v); ok {
				s.Description = t
			}
		case "target":
			if t, ok := d.str(key, v); ok {
				if err := checkTarget(t); err != nil {
					d.errf(v, "target: %v", err)
				} else {
					s.Target = strings.TrimRight(t, "/")
					s.targetPos = d.pos(v)
				}
			}
		case "env":
			// Decoded before everything else.
		case "secret_headers":
			s.secretHeaders = d.nameList(key, v, validHeaderName, "a header name")
		case "secret_query":
			s.secretQuery = d.nameList(key, v, func(q string) bool { return q != "" && !strings.ContainsAny(q, "&=#? \t") }, "a query parameter name")
		case "defaults":
			d.defaults(v, &s.defaults)
		case "vars":
			varsNode = v
		case "data":
			s.feeds = d.feeds(v)
		case "requests":
			requestsNode = v
		case "flows":
			flowsNode = v
		case "load":
			s.Load = d.load(v)
		case "thresholds":
			thresholdsNode = v
		}
	})
	if !ok {
		return s
	}
	if varsNode != nil {
		s.vars = d.vars(varsNode)
	}
	if requestsNode == nil {
		d.errf(root, "the scenario has no requests section")
	} else {
		s.requests = d.requests(requestsNode, flowsNode == nil)
	}
	if flowsNode != nil {
		s.flows = d.flows(flowsNode)
	}
	if d.streamsNode != nil && !s.defaults.http2 {
		d.errf(d.streamsNode, "streams: concurrent streams per connection need HTTP/2 (defaults: http2: true)")
	}
	s.Thresholds = d.thresholds(s, thresholdsNode)
	d.check(s, root)
	return s
}

func (d *decoder) defaults(n *yaml.Node, out *defaults) {
	d.fields(n, "defaults", []string{"headers", "timeout", "http2", "insecure", "follow_redirects"}, func(key string, k, v *yaml.Node) {
		switch key {
		case "headers":
			out.headers = d.headers(v)
		case "timeout":
			out.timeout, _ = d.duration(key, v)
		case "http2":
			out.http2, _ = d.boolean(key, v)
		case "insecure":
			out.insecure, _ = d.boolean(key, v)
		case "follow_redirects":
			if r, ok := d.integer(key, v, 0); ok {
				out.followRedirects = int(r)
			}
		}
	})
}

func (d *decoder) headers(n *yaml.Node) []*header {
	var out []*header
	d.fields(n, "headers", nil, func(key string, k, v *yaml.Node) {
		if !validHeaderName(key) {
			d.errf(k, "header name %q: use letters, digits and - only", key)
			return
		}
		t := d.tmpl(key, v)
		if t == nil {
			return
		}
		if t.static && strings.ContainsAny(t.text, "\r\n") {
			d.errf(v, "header %s: value must be on one line", key)
			return
		}
		if strings.IndexByte(t.src, 0) >= 0 {
			d.errf(v, "header %s: value must not contain a NUL byte", key)
			return
		}
		out = append(out, &header{name: key, value: t, pos: d.pos(k)})
	})
	return out
}

func (d *decoder) vars(n *yaml.Node) []*varDef {
	var out []*varDef
	d.fields(n, "vars", nil, func(key string, k, v *yaml.Node) {
		if !isIdent(key) {
			d.errf(k, "variable name %q: use letters, digits and _ (it is written {{ .name }} in templates)", key)
			return
		}
		if _, isFunc := funcNames[key]; isFunc {
			d.errf(k, "variable name %q is the name of a template function", key)
			return
		}
		out = append(out, &varDef{name: key, value: d.tmpl(key, v), pos: d.pos(k)})
	})
	return out
}

var requestKeys = append([]string{"method", "url", "path", "query", "headers", "body", "body_file", "weight", "tags", "capture", "expect_status", "group_by", "expect"}, repeatKeys...)

func (d *decoder) requests(n *yaml.Node, noFlows bool) []*request {
	var out []*request
	ok := d.fields(n, "requests", nil, func(name string, k, v *yaml.Node) {
		if strings.TrimSpace(name) == "" || strings.ContainsAny(name, "\r\n\t{}") {
			d.errf(k, "request name %q: want a non-empty name on one line without { }", name)
			return
		}
		r := &request{name: name, pos: d.pos(k), method: "GET"}
		what := fmt.Sprintf("request %q", name)
		var urlNode *yaml.Node
		d.fields(v, what, requestKeys, func(key string, kk, vv *yaml.Node) {
			switch key {
			case "method":
				if m, ok := d.str(key, vv); ok {
					m = strings.ToUpper(m)
					if !validHeaderName(m) || strings.ContainsAny(m, "'") {
						d.errf(vv, "method: %q is not an HTTP method", m)
						return
					}
					r.method = m
				}
			case "url":
				urlNode = vv
				r.url = d.tmpl(key, vv)
				if r.url != nil {
					if err := checkURLTemplate(r.url); err != nil {
						d.errf(vv, "url: %v", err)
						r.url = nil
					}
				}
			case "path":
				urlNode = vv
				r.path = d.tmpl(key, vv)
				if r.path != nil && !strings.HasPrefix(r.path.src, "/") {
					d.errf(vv, "path: must start with / (use url for an absolute URL)")
					r.path = nil
				}
			case "query":
				d.fields(vv, "query", nil, func(qk string, qkn, qv *yaml.Node) {
					if t := d.tmpl(qk, qv); t != nil {
						r.query = append(r.query, &param{key: qk, value: t, pos: d.pos(qkn)})
					}
				})
			case "headers":
				r.headers = d.headers(vv)
			case "body":
				r.body = d.tmpl(key, vv)
			case "body_file":
				if p, ok := d.str(key, vv); ok {
					b, err := d.readConfined(p, maxBodyFile)
					if err != nil {
						d.errf(vv, "body_file: cannot read %s: %v", p, unwrapPathError(err))
						return
					}
					if r.body != nil {
						d.errf(kk, "give either body or body_file, not both")
						return
					}
					sn := *vv
					sn.Value = string(b)
					sn.Style = yaml.LiteralStyle
					r.body = d.tmpl(key, &sn)
				}
			case "weight":
				if w, ok := d.integer(key, vv, 0); ok {
					r.weight, r.weightSet = int(min(w, 1_000_000)), true
					if w > 1_000_000 {
						d.errf(vv, "weight: at most 1000000, got %d", w)
					}
				}
			case "tags":
				d.fields(vv, "tags", nil, func(tk string, tkn, tv *yaml.Node) {
					if !isIdent(tk) {
						d.errf(tkn, "tag name %q: use letters, digits and _", tk)
						return
					}
					if t := d.tmpl(tk, tv); t != nil {
						if t.static && strings.ContainsAny(t.text, ",=") {
							d.errf(tv, "tag %s: value must not contain , or =", tk)
							return
						}
						r.tags = append(r.tags, &param{key: tk, value: t, pos: d.pos(tv)})
					}
				})
				sort.Slice(r.tags, func(i, j int) bool { return r.tags[i].key < r.tags[j].key })
			case "capture":
				r.captures = d.captures(vv)
			case "expect_status":
				r.expect = d.statuses(key, vv)
			case "group_by":
				r.groupBy = d.groupBy(vv)
			case "expect":
				r.checks = d.expect(vv)
			default:
				d.repeatKey(&r.rep, key, kk, vv)
			}
		})
		d.checkExpectStatus(r)
		d.checkGroupBy(r.groupBy, r)
		d.checkRepeat(&r.rep)
		if urlNode == nil {
			d.errf(k, "request %q: give a path (joined to target) or a url", name)
		} else if r.url != nil && r.path != nil {
			d.errf(urlNode, "request %q: give either path or url, not both", name)
		}
		if !r.weightSet && noFlows {
			r.weight = 1
		}
		out = append(out, r)
	})
	if ok && len(n.Content) == 0 {
		d.errf(n, "requests: the scenario defines no requests")
	}
	return out
}

// maxBodyFile bounds a body_file; bodies are held in memory.
const maxBodyFile = 64 << 20

func unwrapPathError(err error) error {
	if pe, ok := err.(*os.PathError); ok {
		return pe.Err
	}
	return err
}

func (d *decoder) statuses(key string, n *yaml.Node) []int {
	var nodes []*yaml.Node
	if n.Kind == yaml.SequenceNode {
		nodes = n.Content
	} else {
		nodes = []*yaml.Node{n}
	}
	var out []int
	for _, c := range nodes {
		c = resolve(c)
		v, ok := d.integer(key, c, 100)
		if !ok {
			continue
		}
		if v > 599 {
			d.errf(c, "%s: %d is not an HTTP status (100–599)", key, v)
			continue
		}
		if v >= 400 {
			d.errf(c, "%s: %d: statuses of 400 and above count as errors here; list it under expect: {status: ...} to make it a success", key, v)
			continue
		}
		out = append(out, int(v))
	}
	return out
}

var flowKeys = []string{"weight", "steps"}
var stepKeys = append([]string{"request", "think", "capture", "repeat", "group_by", "expect"}, repeatKeys...)

func (d *decoder) flows(n *yaml.Node) []*flow {
	var out []*flow
	d.fields(n, "flows", nil, func(name string, k, v *yaml.Node) {
		if strings.TrimSpace(name) == "" || strings.ContainsAny(name, "\r\n\t") {
			d.errf(k, "flow name %q: want a non-empty name on one line", name)
			return
		}
		f := &flow{name: name, pos: d.pos(k), weight: 1}
		what := fmt.Sprintf("flow %q", name)
		var stepsNode *yaml.Node
		d.fields(v, what, flowKeys, func(key string, kk, vv *yaml.Node) {
			switch key {
			case "weight":
				if w, ok := d.integer(key, vv, 0); ok {
					f.weight = int(min(w, 1_000_000))
					if w > 1_000_000 {
						d.errf(vv, "weight: at most 1000000, got %d", w)
					}
				}
			case "steps":
				stepsNode = vv
			}
		})
		if stepsNode == nil {
			d.errf(k, "flow %q: no steps", name)
		} else if stepsNode.Kind != yaml.SequenceNode {
			d.errf(stepsNode, "steps: want a list, got %s", kindName(stepsNode))
		} else if len(stepsNode.Content) == 0 {
			d.errf(stepsNode, "flow %q: no steps", name)
		} else {
			for _, sn := range stepsNode.Content {
				if st := d.step(resolve(sn)); st != nil {
					f.steps = append(f.steps, st)
				}
			}
			if n := len(f.steps); n > 0 && f.steps[n-1].think > 0 && f.steps[n-1].repeat == 1 {
				last := f.steps[n-1]
				d.p.add(last.pos.Line, last.pos.Col, "flow %q: think on the last step has no effect (it pauses before the next step; the closed model's load.think pauses between iterations)", name)
			}
		}
		out = append(out, f)
	})
	return out
}

func (d *decoder) step(n *yaml.Node) *flowStep {
	st := &flowStep{pos: d.pos(n), repeat: 1}
	if n.Kind == yaml.ScalarNode {
		name, ok := d.name("step", n)
		if !ok {
			return nil
		}
		st.reqName, st.reqPos = name, d.pos(n)
		return st
	}
	d.fields(n, "step", stepKeys, func(key string, k, v *yaml.Node) {
		switch key {
		case "request":
			if name, ok := d.name(key, v); ok {
				st.reqName, st.reqPos = name, d.pos(v)
			}
		case "think":
			st.think, _ = d.duration(key, v)
		case "capture":
			st.captures = d.captures(v)
		case "group_by":
			st.groupBy = d.groupBy(v)
		case "expect":
			st.checks = d.expect(v)
		case "repeat":
			if r, ok := d.integer(key, v, 1); ok {
				if r > 10000 {
					d.errf(v, "repeat: at most 10000, got %d", r)
					return
				}
				st.repeat = int(r)
			}
		default:
			d.repeatKey(&st.rep, key, k, v)
		}
	})
	d.checkRepeat(&st.rep)
	if st.reqName == "" && n.Kind == yaml.MappingNode {
		d.errf(n, "step: name the request to send (request: NAME)")
		return nil
	}
	return st
}
