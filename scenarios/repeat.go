package scenarios

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/tidwall/gjson"
	"go.yaml.in/yaml/v3"

	"github.com/tailgate-dev/tailgate/loadgen"
)

// repeatKeys are the keys of a request or step that send its request more
// than once per iteration: retry, and until with every and timeout.
var repeatKeys = []string{"retry", "until", "every", "timeout"}

// repeatSpec is what a request or a step says about retrying and polling.
// A step's retry replaces its request's; a step's until (with its every
// and timeout) replaces the request's until.
type repeatSpec struct {
	retry *loadgen.Retry
	until *untilSpec
	// every and timeout go with until; their nodes are kept to say where
	// one was written without it.
	every, timeout   time.Duration
	everyN, timeoutN *yaml.Node
	untilN           *yaml.Node
}

// untilSpec is one condition a poll waits for.
type untilSpec struct {
	json, header, equals string
	status               int
	describe             string
}

// maxRetries bounds retry.max: a request retried more often is a loop.
const maxRetries = 100

// repeatKey decodes one of repeatKeys into rs.
func (d *decoder) repeatKey(rs *repeatSpec, key string, k, v *yaml.Node) {
	switch key {
	case "retry":
		rs.retry = d.retry(v)
	case "until":
		rs.until, rs.untilN = d.until(v), k
	case "every":
		rs.everyN = k
		rs.every, _ = d.positive(key, v)
	case "timeout":
		rs.timeoutN = k
		rs.timeout, _ = d.positive(key, v)
	}
}

// positive reads a duration that must be more than zero.
func (d *decoder) positive(key string, v *yaml.Node) (time.Duration, bool) {
	t, ok := d.duration(key, v)
	if ok && t <= 0 {
		d.errf(v, "%s: must be more than 0s", key)
		return 0, false
	}
	return t, ok
}

// checkRepeat reports an every or timeout without until, and an until
// without every, once the request's or step's keys are all read.
func (d *decoder) checkRepeat(rs *repeatSpec) {
	if rs.untilN == nil {
		for _, n := range []*yaml.Node{rs.everyN, rs.timeoutN} {
			if n != nil {
				d.errf(n, "%s: only with until (it is how often and how long to poll; the request timeout is defaults.timeout)", n.Value)
			}
		}
		return
	}
	if rs.everyN == nil {
		d.errf(rs.untilN, "until: give every (how long to wait between polls), e.g. every: 1s")
		return
	}
	if rs.timeoutN != nil && rs.every > 0 && rs.timeout > 0 && rs.every >= rs.timeout {
		d.errf(rs.everyN, "every: %s is not shorter than timeout %s, so there would be one poll", rs.every, rs.timeout)
	}
}

// over returns rs with what a step says in place of its request's.
func (rs repeatSpec) over(step repeatSpec) repeatSpec {
	if step.retry != nil {
		rs.retry = step.retry
	}
	if step.untilN != nil {
		rs.until, rs.untilN, rs.every, rs.timeout = step.until, step.untilN, step.every, step.timeout
	}
	return rs
}

var retryKeys = []string{"on", "max", "backoff"}

func (d *decoder) retry(n *yaml.Node) *loadgen.Retry {
	r := &loadgen.Retry{Backoff: loadgen.Backoff{Kind: loadgen.BackoffRetryAfter}}
	var onSet, maxSet bool
	ok := d.fields(n, "retry", retryKeys, func(key string, k, v *yaml.Node) {
		switch key {
		case "on":
			onSet = true
			r.On = d.retryStatuses(v)
		case "max":
			maxSet = true
			if m, ok := d.integer("retry.max", v, 1); ok {
				if m > maxRetries {
					d.errf(v, "retry.max: at most %d, got %d", maxRetries, m)
					return
				}
				r.Max = int(m)
			}
		case "backoff":
			if s, ok := d.str(key, v); ok {
				b, err := parseBackoff(s)
				if err != nil {
					d.errf(v, "backoff: %v", err)
					return
				}
				r.Backoff = b
			}
		}
	})
	if !ok {
		return nil
	}
	if !onSet {
		d.errf(n, "retry: give on, the statuses to retry, e.g. on: [429, 503]")
	}
	if !maxSet {
		d.errf(n, "retry: give max, how many retries may follow the first attempt, e.g. max: 3")
	}
	if len(r.On) == 0 || r.Max == 0 {
		d.unsure = true
		return nil
	}
	return r
}

// retryStatuses reads retry.on: statuses of 400 and above (a success is
// never retried).
func (d *decoder) retryStatuses(n *yaml.Node) []int {
	nodes := []*yaml.Node{n}
	if n.Kind == yaml.SequenceNode {
		nodes = n.Content
	}
	var out []int
	for _, c := range nodes {
		c = resolve(c)
		v, ok := d.integer("retry.on", c, 100)
		switch {
		case !ok:
		case v > 599:
			d.errf(c, "retry.on: %d is not an HTTP status (100–599)", v)
		case v < 400:
			d.errf(c, "retry.on: %d is not an error status; only statuses of 400 and above are retried", v)
		default:
			out = append(out, int(v))
		}
	}
	return out
}

// parseBackoff reads "retry-after", a duration such as "500ms", or
// "exponential 100ms".
func parseBackoff(s string) (loadgen.Backoff, error) {
	s = strings.TrimSpace(s)
	if s == "retry-after" {
		return loadgen.Backoff{Kind: loadgen.BackoffRetryAfter}, nil
	}
	kind := loadgen.BackoffFixed
	if rest, ok := strings.CutPrefix(s, "exponential "); ok {
		kind, s = loadgen.BackoffExponential, strings.TrimSpace(rest)
	}
	d, err := parseDuration(s)
	if err != nil || d <= 0 {
		return loadgen.Backoff{}, fmt.Errorf("unknown backoff %q (use retry-after, a duration such as 500ms, or exponential 100ms)", s)
	}
	return loadgen.Backoff{Kind: kind, Base: d}, nil
}

var untilKeys = []string{"json", "equals", "status", "header"}

func (d *decoder) until(n *yaml.Node) *untilSpec {
	u := &untilSpec{}
	conds := 0
	var equalsN, jsonN *yaml.Node
	ok := d.fields(n, "until", untilKeys, func(key string, k, v *yaml.Node) {
		switch key {
		case "json":
			conds++
			jsonN = k
			if p, ok := d.str(key, v); ok {
				if err := checkJSONPath(p); err != nil {
					d.errf(v, "json: bad JSON path %q: %v", p, err)
					return
				}
				u.json = p
			}
		case "equals":
			equalsN = k
			if v.Kind != yaml.ScalarNode {
				d.errf(v, "equals: want a value, got %s", kindName(v))
				return
			}
			u.equals = v.Value
		case "status":
			conds++
			if s, ok := d.integer(key, v, 100); ok {
				if s > 599 {
					d.errf(v, "status: %d is not an HTTP status (100–599)", s)
					return
				}
				u.status = int(s)
			}
		case "header":
			conds++
			d.fields(v, "until.header", []string{"name", "equals"}, func(hk string, hkn, hv *yaml.Node) {
				s, ok := d.str(hk, hv)
				switch {
				case !ok:
				case hk == "name" && !validHeaderName(s):
					d.errf(hv, "name: %q is not a header name", s)
				case hk == "name":
					u.header = s
				default:
					u.equals = s
				}
			})
			if u.header == "" || v.Kind == yaml.MappingNode && len(v.Content) < 4 {
				d.errf(v, "until.header: give name and equals, e.g. {name: X-Job-State, equals: done}")
			}
		}
	})
	if !ok {
		return nil
	}
	switch {
	case conds == 1 && u.json == "" && u.header == "" && u.status == 0:
		return nil // the condition's own error is reported
	case conds != 1:
		d.errf(n, "until: give one of json (with equals), status or header")
		return nil
	case jsonN != nil && equalsN == nil:
		d.errf(n, "until: json needs equals, the value awaited")
		return nil
	case jsonN == nil && equalsN != nil:
		d.errf(equalsN, "equals: only with json (header has an equals of its own)")
		return nil
	}
	switch {
	case u.json != "":
		u.describe = fmt.Sprintf("json %s == %s", u.json, u.equals)
	case u.header != "":
		u.describe = fmt.Sprintf("header %s == %s", u.header, u.equals)
	default:
		u.describe = fmt.Sprintf("status %d", u.status)
	}
	return u
}

// compileRepeat turns what a request and its step say into the step's
// loadgen.Repeat (nil when it neither retries nor polls), and asks for the
// parts of the response the condition reads.
func (s *step) compileRepeat(rs repeatSpec, requestTimeout time.Duration) {
	if rs.retry == nil && rs.until == nil {
		return
	}
	s.repeat = &loadgen.Repeat{Retry: rs.retry}
	u := rs.until
	if u == nil {
		return
	}
	timeout := rs.timeout
	if timeout == 0 {
		timeout = requestTimeout
	}
	lu := &loadgen.Until{Every: rs.every, Timeout: timeout, Describe: u.describe}
	switch {
	case u.json != "":
		s.keepBody = keepBodyLimit
		path, want := u.json, u.equals
		lu.Holds = func(res *loadgen.Response) bool { return jsonEquals(gjson.GetBytes(res.Body, path), want) }
	case u.header != "":
		s.keepHeaders = true
		name, want := u.header, u.equals
		lu.Holds = func(res *loadgen.Response) bool {
			v, ok := res.HeaderValue(name)
			return ok && v == want
		}
	default:
		status := u.status
		lu.Status = status
		lu.Holds = func(res *loadgen.Response) bool { return res.Status == status }
	}
	s.repeat.Until = lu
}

// jsonEquals compares a JSON value with a value written in YAML: as text,
// and as numbers when both are numbers (1 and 1.0 are equal).
func jsonEquals(r gjson.Result, want string) bool {
	if !r.Exists() {
		return false
	}
	if r.String() == want {
		return true
	}
	if r.Type == gjson.Number {
		f, err := strconv.ParseFloat(want, 64)
		return err == nil && !math.IsNaN(f) && f == r.Num
	}
	return false
}

// Repeat implements loadgen.Repeater.
func (s *step) Repeat() *loadgen.Repeat { return s.repeat }
