package scenarios

import (
	"bytes"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/tailgate-dev/tailgate/loadgen"
	"github.com/tailgate-dev/tailgate/results"
)

// CompileOptions adjusts how a scenario becomes a plan.
type CompileOptions struct {
	// Target replaces the scenario's target (the base of request paths).
	Target string
	// AllowHosts are hosts besides the target's that absolute request URLs
	// and redirects may reach (--allow-host); any other is refused.
	AllowHosts []string
	// RedactQuery names query parameters whose values are secret, besides
	// the scenario's secret_query (--redact-query).
	RedactQuery []string
	// SecretHeaders names credential headers besides the scenario's
	// secret_headers (--secret-header): their values written in the file
	// are redacted, and they stay behind on a redirect to another host.
	SecretHeaders []string
}

// Compile turns a checked scenario into a plan for loadgen.Run. Flows
// become weighted loadgen.Flows, requests with a weight of their own become
// one-step flows, and the load section becomes a pacer (open model) or VUs
// (closed model). Command-line overrides are applied to the plan afterwards.
func Compile(s *Scenario, opts CompileOptions) (loadgen.Plan, error) {
	target := s.Target
	if opts.Target != "" {
		if err := checkTarget(opts.Target); err != nil {
			return loadgen.Plan{}, fmt.Errorf("target: %w", err)
		}
		target = strings.TrimRight(opts.Target, "/")
	}
	c := &compiled{s: s, vars: s.vars, feeds: s.feeds}
	plan := loadgen.Plan{
		Name:   s.Name,
		Target: target,
		Redact: s.Secrets(),
		Client: loadgen.ClientOptions{
			Timeout:         s.defaults.timeout,
			HTTP2:           s.defaults.http2,
			Insecure:        s.defaults.insecure,
			FollowRedirects: s.defaults.followRedirects,
			AllowHosts:      opts.AllowHosts,
			SecretHeaders:   append(s.SecretHeaders(), opts.SecretHeaders...),
		},
	}
	if err := checkHosts(s, target, opts.AllowHosts); err != nil {
		return plan, err
	}
	plan.Redact = append(plan.Redact, urlSecrets(s, target, opts.RedactQuery)...)
	plan.Redact = loadgen.SortSecrets(append(plan.Redact, headerSecrets(s, opts.SecretHeaders)...))
	if plan.Target == "" {
		plan.Target = "(no target)"
	}
	for _, f := range s.flows {
		lf := loadgen.Flow{Name: f.name, Weight: f.weight, Timed: true}
		for _, fs := range f.steps {
			if fs.req == nil {
				return plan, fmt.Errorf("flow %q: step without a request", f.name)
			}
			for range fs.repeat {
				st, err := c.newStep(fs.req, fs, target, len(lf.Steps) == 0)
				if err != nil {
					return plan, err
				}
				lf.Steps = append(lf.Steps, st)
			}
		}
		plan.Flows = append(plan.Flows, lf)
	}
	for _, r := range s.requests {
		if r.weight <= 0 {
			continue
		}
		st, err := c.newStep(r, nil, target, true)
		if err != nil {
			return plan, err
		}
		plan.Flows = append(plan.Flows, loadgen.Flow{Name: r.name, Weight: r.weight, Steps: []loadgen.Step{st}})
	}
	plan.Load = s.Load
	return plan, nil
}

// compiled is the run-time side of a scenario: shared read-only data plus
// one state per worker.
type compiled struct {
	s      *Scenario
	vars   []*varDef
	feeds  []*feed
	mu     sync.Mutex
	states atomic.Pointer[[]*state]
}

// state is a worker's scratch: the current iteration's variable values and
// data rows, and buffers reused by every request the worker renders.
type state struct {
	vals   [][]byte
	rows   []int
	urlBuf []byte
	tmpBuf []byte
	grpBuf []byte
	strs   map[string]string
	r      renderer
}

// maxInterned bounds a worker's table of rendered strings (URLs, header
// values, groups). A repeated value costs no allocation; a new one costs
// one. The table is emptied when full, so values that never repeat (tokens,
// UUIDs) cannot grow it, while the few that do repeat come back at once.
const maxInterned = 1024

func (c *compiled) state(worker int) *state {
	if p := c.states.Load(); p != nil && worker >= 0 && worker < len(*p) {
		if st := (*p)[worker]; st != nil {
			return st
		}
	}
	return c.newState(worker)
}

func (c *compiled) newState(worker int) *state {
	c.mu.Lock()
	defer c.mu.Unlock()
	var cur []*state
	if p := c.states.Load(); p != nil {
		cur = *p
	}
	if worker < 0 {
		worker = 0
	}
	if worker < len(cur) && cur[worker] != nil {
		return cur[worker]
	}
	next := make([]*state, max(len(cur), worker+1))
	copy(next, cur)
	st := &state{
		vals: make([][]byte, len(c.vars)),
		rows: make([]int, len(c.feeds)),
		strs: make(map[string]string),
	}
	st.r.st, st.r.c = st, c
	next[worker] = st
	c.states.Store(&next)
	return st
}

// intern returns b as a string, reusing an earlier equal string.
func (st *state) intern(b []byte) string {
	if s, ok := st.strs[string(b)]; ok {
		return s
	}
	s := string(b)
	if len(st.strs) >= maxInterned {
		clear(st.strs)
	}
	st.strs[s] = s
	return s
}

// begin sets up an iteration: data rows, then variables in file order.
func (c *compiled) begin(it *loadgen.Iteration, st *state) error {
	for i, f := range c.feeds {
		n := uint64(len(f.rows))
		switch f.mode {
		case modeSequential:
			st.rows[i] = int(it.Seq % n)
		case modeRandom:
			st.rows[i] = it.Rand.IntN(int(n))
		case modeUnique:
			if it.Seq >= n {
				return &loadgen.StepError{Kind: loadgen.KindClient, Name: "data " + f.name, NotSent: loadgen.NotSentFeedExhausted,
					Err: fmt.Errorf("all %d rows are used (mode unique)", n)}
			}
			st.rows[i] = int(it.Seq)
		}
	}
	for i, v := range c.vars {
		b, err := v.value.render(st.vals[i][:0], &st.r)
		st.vals[i] = b
		if err != nil {
			return &loadgen.StepError{Kind: loadgen.KindClient, Name: "vars " + v.name, NotSent: renderReason(err), Err: err}
		}
	}
	return nil
}

// step is one compiled request of a flow.
type step struct {
	c           *compiled
	first       bool
	name        string
	method      string
	base        string
	url         *tmpl
	query       []compiledParam
	headers     []*header
	body        *tmpl
	tags        []compiledParam
	captures    []*capture
	expect      []int
	think       time.Duration
	keepBody    int
	keepHeaders bool
	groupBy     *groupBy
	checks      []*check
	// expected are the statuses of expect.status, which succeed whatever
	// their class.
	expected []int
	repeat   *loadgen.Repeat // nil: one attempt
	// staticURL and staticGroup are set when they never change.
	staticURL   string
	staticGroup string
	groupStatic bool
}

type compiledParam struct {
	prefix string // "key=" escaped, with the separator
	// amp is prefix with "&" for a rendered URL that turned out to have
	// a query already.
	amp   string
	value *tmpl
}

var (
	_ loadgen.Step           = (*step)(nil)
	_ loadgen.Thinker        = (*step)(nil)
	_ loadgen.StatusExpecter = (*step)(nil)
	_ loadgen.Repeater       = (*step)(nil)
)

func (c *compiled) newStep(r *request, fs *flowStep, target string, first bool) (*step, error) {
	st := &step{c: c, first: first, name: r.name, method: r.method, body: r.body, expect: r.expect, groupBy: r.groupBy}
	st.headers = effectiveHeaders(c.s, r)
	st.captures = append(st.captures, r.captures...)
	rs := r.rep
	if fs != nil {
		st.captures = append(st.captures, fs.captures...)
		st.think = fs.think
		if fs.groupBy != nil {
			st.groupBy = fs.groupBy
		}
		rs = rs.over(fs.rep)
	}
	st.checks = r.checks
	if fs != nil {
		st.checks = mergeChecks(r.checks, fs.checks)
	}
	for _, c := range st.checks {
		if c.needsBody() {
			st.keepBody = keepBodyLimit
		}
		if c.kind == chkStatus {
			st.expected = c.statuses
		}
	}
	timeout := c.s.defaults.timeout
	if timeout <= 0 {
		timeout = loadgen.DefaultTimeout
	}
	st.compileRepeat(rs, timeout)
	for _, cp := range st.captures {
		switch cp.kind {
		case capJSON, capRegex:
			st.keepBody = keepBodyLimit
		case capHeader:
			st.keepHeaders = true
		}
	}
	if r.url != nil {
		st.url = r.url
	} else {
		if target == "" {
			return nil, fmt.Errorf("%s: request %q has a path but the scenario has no target; set target or pass --target", r.pos, r.name)
		}
		st.base, st.url = target, r.path
	}
	hasQ := strings.Contains(r.url.srcOr(r.path), "?")
	for i, q := range r.query {
		sep := "&"
		if i == 0 && !hasQ {
			sep = "?"
		}
		kv := string(appendQueryEscape(nil, []byte(q.key))) + "="
		st.query = append(st.query, compiledParam{prefix: sep + kv, amp: "&" + kv, value: q.value})
	}
	for i, t := range r.tags {
		sep := ","
		if i == 0 {
			sep = ""
		}
		st.tags = append(st.tags, compiledParam{prefix: sep + t.key + "=", value: t.value})
	}
	urlStatic := st.url.static
	for _, q := range st.query {
		urlStatic = urlStatic && q.value.static
	}
	if urlStatic {
		b := append([]byte(st.base), st.url.text...)
		for _, q := range st.query {
			b = append(b, q.prefix...)
			b = appendQueryEscape(b, []byte(q.value.text))
		}
		st.staticURL = string(b)
	}
	st.groupStatic = true
	for _, t := range st.tags {
		st.groupStatic = st.groupStatic && t.value.static
	}
	if st.groupStatic {
		var b []byte
		for _, t := range st.tags {
			b = append(b, t.prefix...)
			b = append(b, t.value.text...)
		}
		st.staticGroup = string(b)
	}
	return st, nil
}

func (t *tmpl) srcOr(o *tmpl) string {
	if t != nil {
		return t.src
	}
	if o != nil {
		return o.src
	}
	return ""
}

func templateErr(what string, err error) error {
	return &loadgen.StepError{Kind: loadgen.KindClient, Name: "template " + what, NotSent: renderReason(err), Err: err}
}

// renderReason is why a template that failed to render left its request
// unsent: a value an earlier step did not capture, or the template itself.
func renderReason(err error) loadgen.NotSentReason {
	if errors.Is(err, errCaptureMissing) {
		return loadgen.NotSentCaptureMissing
	}
	return loadgen.NotSentTemplate
}

// Prepare implements loadgen.Step: it renders the request into req, reusing
// the worker's buffers.
func (s *step) Prepare(it *loadgen.Iteration, req *loadgen.Request) error {
	st := s.c.state(it.Worker)
	r := &st.r
	r.it = it
	if s.first {
		if err := s.c.begin(it, st); err != nil {
			return err
		}
	}
	req.Name = s.name
	req.Method = s.method
	req.KeepBody = s.keepBody
	req.KeepHeaders = s.keepHeaders
	if s.groupBy != nil {
		req.GroupBy = s.groupBy.by
	}
	var err error
	if s.staticURL != "" {
		req.URL = s.staticURL
	} else {
		b := append(st.urlBuf[:0], s.base...)
		if b, err = s.url.render(b, r); err != nil {
			st.urlBuf = b
			return templateErr("url", err)
		}
		hasQ := bytes.IndexByte(b[len(s.base):], '?') >= 0
		for i, q := range s.query {
			prefix := q.prefix
			if i == 0 && hasQ {
				prefix = q.amp
			}
			b = append(b, prefix...)
			if q.value.static {
				b = appendQueryEscape(b, []byte(q.value.text))
				continue
			}
			tmp, err := q.value.render(st.tmpBuf[:0], r)
			st.tmpBuf = tmp
			if err != nil {
				st.urlBuf = b
				return templateErr("query", err)
			}
			b = appendQueryEscape(b, tmp)
		}
		st.urlBuf = b
		req.URL = st.intern(b)
	}
	for _, h := range s.headers {
		if h.value.static {
			req.Header = append(req.Header, loadgen.Header{Name: h.name, Value: h.value.text})
			continue
		}
		tmp, err := h.value.render(st.tmpBuf[:0], r)
		st.tmpBuf = tmp
		if err != nil {
			return templateErr("header "+h.name, err)
		}
		req.Header = append(req.Header, loadgen.Header{Name: h.name, Value: st.intern(tmp)})
	}
	if s.body != nil {
		if req.Body, err = s.body.render(req.Body[:0], r); err != nil {
			return templateErr("body", err)
		}
	}
	if s.groupStatic {
		req.Group = s.staticGroup
	} else {
		b := st.grpBuf[:0]
		for _, t := range s.tags {
			b = append(b, t.prefix...)
			if b, err = t.value.render(b, r); err != nil {
				st.grpBuf = b
				return templateErr("tags", err)
			}
		}
		st.grpBuf = b
		req.Group = st.intern(b)
	}
	return nil
}

// Inspect implements loadgen.Step: expect_status, the checks of expect,
// then captures in order.
func (s *step) Inspect(it *loadgen.Iteration, res *loadgen.Response) error {
	if err := checkStatus(s.expect, res.Status); err != nil {
		return err
	}
	for _, c := range s.checks {
		if err := c.apply(res); err != nil {
			return err
		}
	}
	for _, c := range s.captures {
		if err := c.apply(it, res); err != nil {
			return err
		}
	}
	return nil
}

// ExpectsStatus implements loadgen.StatusExpecter: the statuses of
// expect.status succeed, 400 and above included.
func (s *step) ExpectsStatus(status int) bool { return slices.Contains(s.expected, status) }

// ThinkTime implements loadgen.Thinker.
func (s *step) ThinkTime(*loadgen.Iteration) time.Duration { return s.think }

// Warnings lists what would make a run of plan (the scenario compiled, with
// any command-line overrides applied) fail for reasons visible before it
// starts: a unique data feed with fewer rows than planned iterations, a
// threshold on the planned rate in a closed-model run.
func (s *Scenario) Warnings(plan *loadgen.Plan, ths []*results.Threshold) []string {
	var out []string
	var iterations uint64
	switch {
	case plan.Pacer != nil:
		iterations = plan.Pacer.Count()
	case plan.Iterations > 0:
		iterations = plan.Iterations
	}
	for _, f := range s.feeds {
		if f.mode != modeUnique {
			continue
		}
		switch {
		case iterations > uint64(len(f.rows)):
			out = append(out, fmt.Sprintf("data feed %q (mode unique) has %d rows for %d planned iterations: the iterations after row %d will fail", f.name, len(f.rows), iterations, len(f.rows)))
		case iterations == 0:
			out = append(out, fmt.Sprintf("data feed %q (mode unique) has %d rows and the run is bounded by time: iterations beyond row %d will fail", f.name, len(f.rows), len(f.rows)))
		}
	}
	out = append(out, s.tagWarnings()...)
	if plan.Pacer == nil {
		for _, t := range ths {
			if t.OfPlan {
				out = append(out, fmt.Sprintf("threshold %q needs a planned rate, and this run uses the closed model: it will fail; use a rate such as 100/s", t.String()))
			}
		}
	}
	return out
}
