package scenarios

import (
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/tidwall/gjson"
	"go.yaml.in/yaml/v3"

	"github.com/tailgate-dev/tailgate/loadgen"
)

// captureKind says where a capture reads its value.
type captureKind uint8

const (
	capJSON captureKind = iota + 1
	capHeader
	capRegex
	capStatus
)

// capture stores a value of a response under a name for later steps.
type capture struct {
	name string
	pos  Pos
	kind captureKind
	path string // JSON path or header name
	re   *regexp.Regexp
}

// keepBodyLimit is how much of a response body a capturing step keeps.
const keepBodyLimit = 1 << 20

func (d *decoder) captures(n *yaml.Node) []*capture {
	var out []*capture
	d.fields(n, "capture", nil, func(name string, k, v *yaml.Node) {
		if !isIdent(name) {
			d.errf(k, "capture name %q: use letters, digits and _ (it is written {{ .%s }} in later steps)", name, "name")
			return
		}
		c := &capture{name: name, pos: d.pos(k)}
		count := 0
		d.fields(v, fmt.Sprintf("capture %q", name), []string{"json", "header", "regex", "status"}, func(key string, kk, vv *yaml.Node) {
			count++
			if count > 1 {
				d.errf(kk, "capture %q: give one of json, header, regex or status", name)
				return
			}
			switch key {
			case "json":
				if p, ok := d.str(key, vv); ok {
					if err := checkJSONPath(p); err != nil {
						d.errf(vv, "json: bad JSON path %q: %v", p, err)
						return
					}
					c.kind, c.path = capJSON, p
				}
			case "header":
				if h, ok := d.str(key, vv); ok {
					if !validHeaderName(h) {
						d.errf(vv, "header: %q is not a header name", h)
						return
					}
					c.kind, c.path = capHeader, h
				}
			case "regex":
				if p, ok := d.str(key, vv); ok {
					re, err := regexp.Compile(p)
					if err != nil {
						d.errf(vv, "regex: %v", strings.TrimPrefix(err.Error(), "error parsing regexp: "))
						return
					}
					if re.NumSubexp() > 1 {
						d.errf(vv, "regex: at most one (group) to capture, got %d", re.NumSubexp())
						return
					}
					c.kind, c.re = capRegex, re
				}
			case "status":
				if b, ok := d.boolean(key, vv); ok {
					if !b {
						d.errf(vv, "status: write status: true to capture the status code")
						return
					}
					c.kind = capStatus
				}
			}
		})
		if v.Kind == yaml.MappingNode && count == 0 {
			d.errf(k, "capture %q: give one of json, header, regex or status", name)
		}
		if c.kind != 0 {
			out = append(out, c)
		} else {
			d.unsure = true
		}
	})
	return out
}

// checkJSONPath checks the syntax of a gjson path: gjson itself never
// rejects a path, it just finds nothing, so typos would only show up as
// failed captures at run time.
func checkJSONPath(p string) error {
	if strings.TrimSpace(p) == "" {
		return fmt.Errorf("empty path")
	}
	if strings.HasPrefix(p, ".") || strings.HasSuffix(p, ".") {
		return fmt.Errorf("must not start or end with a dot")
	}
	if strings.Contains(p, "..") {
		return fmt.Errorf("empty path component (..)")
	}
	if strings.ContainsAny(p, " \t\r\n") && !strings.ContainsAny(p, "#(") {
		return fmt.Errorf("spaces are not allowed outside a #(...) query")
	}
	var stack []byte
	escaped := false
	inStr := false
	for i := 0; i < len(p); i++ {
		c := p[i]
		if escaped {
			escaped = false
			continue
		}
		if c == '\\' {
			escaped = true
			continue
		}
		if inStr {
			if c == '"' {
				inStr = false
			}
			continue
		}
		switch c {
		case '"':
			if len(stack) > 0 {
				inStr = true
			}
		case '(', '[', '{':
			stack = append(stack, c)
		case ')', ']', '}':
			open := map[byte]byte{')': '(', ']': '[', '}': '{'}[c]
			if len(stack) == 0 || stack[len(stack)-1] != open {
				return fmt.Errorf("unbalanced %q at offset %d", c, i)
			}
			stack = stack[:len(stack)-1]
		case '|', '@', '#', '*', '?', '.', '-', '_', ':', '!', '=', '<', '>', '%', ',', ' ':
		default:
			if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c >= 0x80 || len(stack) > 0) {
				return fmt.Errorf("unexpected %q at offset %d (escape it with \\)", c, i)
			}
		}
	}
	if escaped {
		return fmt.Errorf("ends with a lone \\")
	}
	if inStr || len(stack) > 0 {
		return fmt.Errorf("unclosed %q", stack)
	}
	return nil
}

// apply stores the capture's value of res into it.Vars.
func (c *capture) apply(it *loadgen.Iteration, res *loadgen.Response) error {
	var v string
	switch c.kind {
	case capJSON:
		r := gjson.GetBytes(res.Body, c.path)
		if !r.Exists() {
			if len(res.Body) >= keepBodyLimit {
				return c.fail("JSON path %s: not found in the first %d bytes of the body", c.path, keepBodyLimit)
			}
			return c.fail("JSON path %s: not found in the response body", c.path)
		}
		if r.Type == gjson.Null {
			return c.fail("JSON path %s: is null", c.path)
		}
		v = r.String()
	case capHeader:
		h, ok := res.HeaderValue(c.path)
		if !ok {
			return c.fail("no %s header in the response", c.path)
		}
		v = h
	case capRegex:
		m := c.re.FindSubmatch(res.Body)
		if m == nil {
			return c.fail("regex %s: no match in the response body", c.re)
		}
		if len(m) > 1 {
			v = string(m[1])
		} else {
			v = string(m[0])
		}
	case capStatus:
		v = strconv.Itoa(res.Status)
	}
	it.Vars[c.name] = v
	return nil
}

func (c *capture) fail(format string, args ...any) error {
	return &loadgen.StepError{Kind: loadgen.KindCapture, Name: "capture " + c.name, Err: fmt.Errorf(format, args...)}
}

// checkStatus is the expect_status check.
func checkStatus(want []int, status int) error {
	if len(want) == 0 || slices.Contains(want, status) {
		return nil
	}
	return &loadgen.StepError{Kind: loadgen.KindCapture, Name: "expect_status", Err: fmt.Errorf("status %d, want %v", status, want)}
}
