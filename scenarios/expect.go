package scenarios

import (
	"bytes"
	"fmt"
	"math"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"unsafe"

	"github.com/tidwall/gjson"
	"go.yaml.in/yaml/v3"

	"github.com/tailgate-dev/tailgate/loadgen"
)

// Response checks: a request's or step's expect. A check that fails fails
// the request with error kind check and names itself ("json data.state"),
// and the results count failures per check.

// checkKind says what a check looks at.
type checkKind uint8

const (
	chkStatus checkKind = iota + 1
	chkJSON
	chkBody
	chkMaxSize
	chkMinSize
)

// jsonOp is what a json check asks of the value at its path.
type jsonOp uint8

const (
	opEquals jsonOp = iota + 1
	opMatches
	opExists
)

// check is one response check.
type check struct {
	name     string // how reports name it: "status", "json data.id", …
	pos      Pos
	kind     checkKind
	statuses []int
	path     string
	op       jsonOp
	want     gjson.Result // the value equals compares with
	re       *regexp.Regexp
	exists   bool
	needle   []byte
	size     int64
}

var expectKeys = []string{"status", "json", "body_contains", "max_size", "min_size"}

// expect decodes an expect mapping into its checks, in a fixed order:
// status, json checks in file order, body_contains, max_size, min_size.
func (d *decoder) expect(n *yaml.Node) []*check {
	var out []*check
	var minSize, maxSize *check
	d.fields(n, "expect", expectKeys, func(key string, k, v *yaml.Node) {
		c := &check{name: key, pos: d.pos(k)}
		switch key {
		case "status":
			c.kind, c.statuses = chkStatus, d.expectStatuses(v)
			if len(c.statuses) == 0 {
				return
			}
		case "json":
			out = append(out, d.jsonChecks(v)...)
			return
		case "body_contains":
			s, ok := d.str(key, v)
			if !ok {
				return
			}
			if s == "" {
				d.errf(v, "body_contains: want the text the body must contain, got an empty text")
				return
			}
			c.kind, c.needle = chkBody, []byte(s)
		case "max_size", "min_size":
			size, ok := d.size(key, v)
			if !ok {
				return
			}
			c.size = size
			if c.kind = chkMaxSize; key == "min_size" {
				c.kind, minSize = chkMinSize, c
			} else {
				maxSize = c
			}
		}
		out = append(out, c)
	})
	if minSize != nil && maxSize != nil && minSize.size > maxSize.size {
		d.p.add(minSize.pos.Line, minSize.pos.Col, "expect: min_size %d is above max_size %d: no response can pass", minSize.size, maxSize.size)
	}
	slices.SortStableFunc(out, func(a, b *check) int { return int(a.kind) - int(b.kind) })
	return out
}

// expectStatuses reads expect.status: statuses of 100–599, any of them
// (a 404 listed here is a success).
func (d *decoder) expectStatuses(n *yaml.Node) []int {
	nodes := []*yaml.Node{n}
	if n.Kind == yaml.SequenceNode {
		nodes = n.Content
		if len(nodes) == 0 {
			d.errf(n, "status: want a status or a list of statuses, got an empty list")
		}
	}
	var out []int
	for _, c := range nodes {
		c = resolve(c)
		v, ok := d.integer("status", c, 100)
		if !ok {
			continue
		}
		if v > 599 {
			d.errf(c, "status: %d is not an HTTP status (100–599)", v)
			continue
		}
		out = append(out, int(v))
	}
	return out
}

// jsonChecks reads expect.json: one {path, equals | matches | exists}
// mapping or a list of them.
func (d *decoder) jsonChecks(n *yaml.Node) []*check {
	nodes := []*yaml.Node{n}
	if n.Kind == yaml.SequenceNode {
		nodes = n.Content
	}
	var out []*check
	seen := map[string]bool{}
	for _, jn := range nodes {
		jn = resolve(jn)
		c := &check{kind: chkJSON, pos: d.pos(jn)}
		ops, sawPath, before := 0, false, len(d.p.list)
		ok := d.fields(jn, "json", []string{"path", "equals", "matches", "exists"}, func(key string, k, v *yaml.Node) {
			if key != "path" {
				if ops++; ops > 1 {
					d.errf(k, "json: give one of equals, matches or exists")
					return
				}
			}
			switch key {
			case "path":
				sawPath = true
				if p, ok := d.str(key, v); ok {
					if err := checkJSONPath(p); err != nil {
						d.errf(v, "path: bad JSON path %q: %v", p, err)
						return
					}
					c.path = p
				}
			case "equals":
				if v.Kind != yaml.ScalarNode {
					d.errf(v, "equals: want a text, number, true/false or null, got %s", kindName(v))
					return
				}
				c.op, c.want = opEquals, jsonValue(v)
			case "matches":
				if p, ok := d.str(key, v); ok {
					re, err := regexp.Compile(p)
					if err != nil {
						d.errf(v, "matches: %v", strings.TrimPrefix(err.Error(), "error parsing regexp: "))
						return
					}
					c.op, c.re = opMatches, re
				}
			case "exists":
				if b, ok := d.boolean(key, v); ok {
					c.op, c.exists = opExists, b
				}
			}
		})
		if !ok || len(d.p.list) > before {
			continue
		}
		if c.path == "" {
			if !sawPath {
				d.errf(jn, "json: name the value to check (path: data.id)")
			}
			continue
		}
		if ops == 0 {
			d.errf(jn, "json %s: give one of equals, matches or exists", c.path)
			continue
		}
		if c.op == 0 {
			continue
		}
		c.name = "json " + c.path
		if seen[c.path] {
			d.errf(jn, "json %s: the path is checked twice", c.path)
			continue
		}
		seen[c.path] = true
		out = append(out, c)
	}
	return out
}

// jsonValue turns a YAML scalar into the JSON value equals compares with.
func jsonValue(n *yaml.Node) gjson.Result {
	switch n.ShortTag() {
	case "!!null":
		return gjson.Result{Type: gjson.Null, Raw: "null"}
	case "!!bool":
		b, _ := strconv.ParseBool(strings.ToLower(n.Value))
		if b {
			return gjson.Result{Type: gjson.True, Raw: "true"}
		}
		return gjson.Result{Type: gjson.False, Raw: "false"}
	case "!!int", "!!float":
		var f float64
		if err := n.Decode(&f); err == nil && !math.IsInf(f, 0) && !math.IsNaN(f) {
			return gjson.Result{Type: gjson.Number, Num: f, Raw: n.Value}
		}
	}
	return gjson.Result{Type: gjson.String, Str: n.Value, Raw: strconv.Quote(n.Value)}
}

// sizeUnits are the units max_size and min_size take.
var sizeUnits = map[string]int64{"": 1, "B": 1, "KB": 1000, "KiB": 1 << 10, "MB": 1000 * 1000, "MiB": 1 << 20, "GB": 1000 * 1000 * 1000, "GiB": 1 << 30}

var sizeRe = regexp.MustCompile(`^([0-9]+)\s*([A-Za-z]*)$`)

// size reads a body size: a whole number of bytes, or one with a unit
// (B, KB, KiB, MB, MiB, GB, GiB).
func (d *decoder) size(key string, n *yaml.Node) (int64, bool) {
	if n.Kind != yaml.ScalarNode || (n.ShortTag() != "!!int" && n.ShortTag() != "!!str") {
		d.errf(n, "%s: want a size such as 1024 or 64KiB, got %s", key, kindName(n))
		return 0, false
	}
	m := sizeRe.FindStringSubmatch(strings.TrimSpace(n.Value))
	if m == nil {
		d.errf(n, "%s: %q is not a size: write bytes (1024) or a number with B, KB, KiB, MB, MiB, GB or GiB", key, n.Value)
		return 0, false
	}
	unit, ok := sizeUnits[m[2]]
	if !ok {
		d.errf(n, "%s: unknown unit %q (use B, KB, KiB, MB, MiB, GB or GiB)", key, m[2])
		return 0, false
	}
	v, err := strconv.ParseInt(m[1], 10, 64)
	if err != nil || v > math.MaxInt64/unit {
		d.errf(n, "%s: %s is out of range", key, n.Value)
		return 0, false
	}
	return v * unit, true
}

// mergeChecks returns the request's checks with the step's: a step's check
// replaces the request's of the same name.
func mergeChecks(req, step []*check) []*check {
	if len(step) == 0 {
		return req
	}
	out := slices.Clone(step)
	for _, c := range req {
		if !slices.ContainsFunc(step, func(s *check) bool { return s.name == c.name }) {
			out = append(out, c)
		}
	}
	slices.SortStableFunc(out, func(a, b *check) int { return int(a.kind) - int(b.kind) })
	return out
}

// needsBody reports whether a check reads the body.
func (c *check) needsBody() bool { return c.kind == chkJSON || c.kind == chkBody }

// apply checks res, returning a *loadgen.StepError of kind check.
func (c *check) apply(res *loadgen.Response) error {
	switch c.kind {
	case chkStatus:
		if !slices.Contains(c.statuses, res.Status) {
			return c.fail("status %d, want %s", res.Status, statusList(c.statuses))
		}
	case chkMaxSize:
		if res.BodySize > c.size {
			return c.fail("body of %d bytes, want at most %d", res.BodySize, c.size)
		}
	case chkMinSize:
		if res.BodySize < c.size {
			return c.fail("body of %d bytes, want at least %d", res.BodySize, c.size)
		}
	case chkBody:
		if !bytes.Contains(res.Body, c.needle) {
			return c.fail("%q is not in the %s", c.needle, bodyScope(res))
		}
	case chkJSON:
		return c.applyJSON(res)
	}
	return nil
}

func (c *check) applyJSON(res *loadgen.Response) error {
	// gjson.GetBytes copies what it finds so that it may outlive the body;
	// a check's result is dropped before the body is reused (messages are
	// formatted copies), so it reads the body in place.
	r := gjson.Get(unsafe.String(unsafe.SliceData(res.Body), len(res.Body)), c.path)
	switch c.op {
	case opExists:
		if r.Exists() != c.exists {
			if c.exists {
				return c.fail("not found in the %s", bodyScope(res))
			}
			return c.fail("present (%s), want it absent", clip(r.Raw))
		}
		return nil
	}
	if !r.Exists() {
		return c.fail("not found in the %s", bodyScope(res))
	}
	switch c.op {
	case opEquals:
		if !jsonEqual(r, c.want) {
			return c.fail("got %s, want %s", clip(r.Raw), clip(c.want.Raw))
		}
	case opMatches:
		if !c.re.MatchString(r.String()) {
			return c.fail("%s does not match %s", clip(r.Raw), c.re)
		}
	}
	return nil
}

// jsonEqual compares a JSON value with the one equals gave: numbers as
// numbers (3 equals 3.0), text with a JSON string, true, false and null
// with themselves.
func jsonEqual(got, want gjson.Result) bool {
	if got.Type != want.Type {
		return false
	}
	switch got.Type {
	case gjson.Number:
		return got.Num == want.Num
	case gjson.String:
		return got.Str == want.Str
	}
	return true
}

// bodyScope says how much of the body a check saw.
func bodyScope(res *loadgen.Response) string {
	if int64(len(res.Body)) < res.BodySize {
		return fmt.Sprintf("first %d bytes of the body", len(res.Body))
	}
	return "response body"
}

func statusList(list []int) string {
	if len(list) == 1 {
		return strconv.Itoa(list[0])
	}
	parts := make([]string, len(list))
	for i, s := range list {
		parts[i] = strconv.Itoa(s)
	}
	return "one of " + strings.Join(parts, ", ")
}

func (c *check) fail(format string, args ...any) error {
	return &loadgen.StepError{Kind: loadgen.KindCheck, Name: "check " + c.name, Check: c.name, Err: fmt.Errorf(format, args...)}
}

func (c *check) String() string {
	switch c.kind {
	case chkStatus:
		return fmt.Sprintf("status=%v", c.statuses)
	case chkJSON:
		return fmt.Sprintf("json %q op=%d want=%q re=%v exists=%v", c.path, c.op, c.want.Raw, c.re, c.exists)
	case chkBody:
		return fmt.Sprintf("body_contains=%q", c.needle)
	}
	return fmt.Sprintf("%s=%d", c.name, c.size)
}

// checkExpectStatus reports a request with both expect_status and
// expect.status: they say the same thing two ways.
func (d *decoder) checkExpectStatus(r *request) {
	for _, c := range r.checks {
		if c.kind == chkStatus && len(r.expect) > 0 {
			d.p.add(c.pos.Line, c.pos.Col, "request %q: give expect.status or expect_status, not both", r.name)
		}
	}
}
