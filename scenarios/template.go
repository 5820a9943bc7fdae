package scenarios

import (
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"text/template/parse"
	"time"

	"github.com/tailgate-dev/tailgate/loadgen"
)

// Templates use Go text/template syntax, parsed once at load with
// text/template/parse, but they are not executed by text/template: its
// reflection-based executor allocates on every action. Instead the parse tree
// is compiled into a small expression tree that renders by appending to a
// reused byte buffer, which keeps the hot path allocation-free. The price is
// a deliberately small language: values, pipelines and the built-in
// functions below, no if/range/with.

// fnID names a built-in template function.
type fnID uint8

const (
	fnRandInt fnID = iota + 1
	fnPick
	fnSeq
	fnUUID
	fnNow
	fnEnv
	fnURLQuery
)

var funcNames = map[string]fnID{
	"randInt":  fnRandInt,
	"pick":     fnPick,
	"seq":      fnSeq,
	"uuid":     fnUUID,
	"now":      fnNow,
	"env":      fnEnv,
	"urlquery": fnURLQuery,
}

// parseFuncs tells text/template/parse which identifiers are functions; the
// values only need to be non-nil.
var parseFuncs = func() map[string]any {
	m := make(map[string]any, len(funcNames))
	for name := range funcNames {
		m[name] = struct{}{}
	}
	return m
}()

func funcList() []string {
	out := make([]string, 0, len(funcNames))
	for name := range funcNames {
		out = append(out, name)
	}
	return out
}

type exprKind uint8

const (
	eText exprKind = iota
	eStr
	eNum
	eVar
	eCall
)

type refKind uint8

const (
	refUnresolved refKind = iota
	refVar                // a value of the vars section
	refData               // a column of a data feed
	refCapture            // a value captured by an earlier step
)

// expr is one node of a compiled template.
type expr struct {
	kind exprKind
	text string // literal text, string or number as written, variable name
	num  int64  // value of an integer literal
	fn   fnID
	args []*expr
	off  int // byte offset in the template source, for error positions
	// ref is where a variable's value comes from, resolved after the whole
	// file is read.
	ref     refKind
	idx     int
	col     int
	isInt   bool
	nowUnit string
}

// maxDepth bounds nesting of function calls; each level has its own scratch
// buffer at render time.
const maxDepth = 8

// tmpl is a compiled template.
type tmpl struct {
	src   string
	pos   Pos
	style byte // 'p' plain, 'q' quoted on one line, 'b' anything else
	parts []*expr
	// static templates render to text, computed once at load.
	static bool
	text   string
	// vars are the variable references, for static checks.
	vars []*expr
	// env is set when the template inserts an environment value (a secret).
	env bool
	// secrets are the environment values the template inserts.
	secrets []string
}

var templateErrPrefix = regexp.MustCompile(`^template: [^:]*:(\d+):(?:\d+:)? ?`)
var notDefined = regexp.MustCompile(`function "([^"]*)" not defined`)

// compileTemplate parses src. Problems are reported through p at positions
// inside the scalar where they can be located.
func compileTemplate(src string, at Pos, style byte, getenv func(string) (string, error), p *problems) *tmpl {
	t := &tmpl{src: src, pos: at, style: style}
	if !strings.Contains(src, "{{") {
		t.static, t.text = true, src
		return t
	}
	trees, err := parse.Parse("t", src, "{{", "}}", parseFuncs)
	if err != nil {
		msg := err.Error()
		line := 0
		if m := templateErrPrefix.FindStringSubmatch(msg); m != nil {
			line, _ = strconv.Atoi(m[1])
			msg = msg[len(m[0]):]
		}
		if m := notDefined.FindStringSubmatch(msg); m != nil {
			msg = fmt.Sprintf("unknown template function %q%s", m[1], suggest(m[1], funcList()))
		} else {
			msg = "template: " + msg
		}
		pos := at
		if line > 1 && style == 'b' {
			pos.Line += line
		}
		p.add(pos.Line, pos.Col, "%s", msg)
		return nil
	}
	if len(trees) != 1 || trees["t"] == nil {
		t.errAt(p, 0, "template: {{define}} and {{block}} are not supported")
		return nil
	}
	c := &tcompiler{t: t, p: p, getenv: getenv, ok: true}
	for _, n := range trees["t"].Root.Nodes {
		switch n := n.(type) {
		case *parse.TextNode:
			t.parts = append(t.parts, &expr{kind: eText, text: string(n.Text), off: int(n.Pos)})
		case *parse.CommentNode:
		case *parse.ActionNode:
			if len(n.Pipe.Decl) > 0 {
				c.fail(int(n.Pos), "template: variables ($x :=) are not supported")
				continue
			}
			if e := c.pipe(n.Pipe, 0); e != nil {
				t.parts = append(t.parts, e)
			}
		default:
			c.fail(int(n.Position()), "template: only values can be inserted ({{if}}, {{range}}, {{with}} and {{template}} are not supported)")
		}
	}
	if !c.ok {
		return nil
	}
	for _, e := range t.parts {
		if height(e) > maxDepth {
			t.errAt(p, e.off, "template: nested too deeply (at most %d functions inside each other)", maxDepth)
			return nil
		}
	}
	t.fold()
	return t
}

// height is the nesting depth of e's function calls; rendering keeps one
// scratch buffer per level.
func height(e *expr) int {
	h := 0
	for _, a := range e.args {
		h = max(h, height(a)+1)
	}
	return h
}

// errAt reports a problem at byte offset off of the template source.
func (t *tmpl) errAt(p *problems, off int, format string, args ...any) {
	pos := t.posAt(off)
	p.add(pos.Line, pos.Col, format, args...)
}

// posAt maps a byte offset of the template to a file position when the
// scalar's source text is the template itself (plain or simple quoted
// scalars on one line); otherwise it is the scalar's start.
func (t *tmpl) posAt(off int) Pos {
	pos := t.pos
	switch t.style {
	case 'p':
		pos.Col += off
	case 'q':
		pos.Col += off + 1
	}
	return pos
}

// fold merges adjacent literals and marks templates without dynamic parts
// as static, so they are rendered once at load.
func (t *tmpl) fold() {
	var parts []*expr
	for _, e := range t.parts {
		if e.kind == eStr || e.kind == eNum {
			e = &expr{kind: eText, text: e.text, off: e.off}
		}
		if e.kind == eText && len(parts) > 0 && parts[len(parts)-1].kind == eText {
			last := parts[len(parts)-1]
			parts[len(parts)-1] = &expr{kind: eText, text: last.text + e.text, off: last.off}
			continue
		}
		parts = append(parts, e)
	}
	t.parts = parts
	if len(parts) == 0 {
		t.static, t.text = true, ""
	} else if len(parts) == 1 && parts[0].kind == eText {
		t.static, t.text = true, parts[0].text
	}
}

type tcompiler struct {
	t      *tmpl
	p      *problems
	getenv func(string) (string, error)
	ok     bool
}

func (c *tcompiler) fail(off int, format string, args ...any) {
	c.ok = false
	c.t.errAt(c.p, off, format, args...)
}

// pipe compiles a pipeline: each command after the first is a function
// called with the previous result as its last argument.
func (c *tcompiler) pipe(p *parse.PipeNode, depth int) *expr {
	if depth >= maxDepth {
		c.fail(int(p.Pos), "template: nested too deeply")
		return nil
	}
	if len(p.Decl) > 0 {
		c.fail(int(p.Pos), "template: variables ($x :=) are not supported")
		return nil
	}
	var prev *expr
	for i, cmd := range p.Cmds {
		e := c.command(cmd, prev, i > 0, depth)
		if e == nil {
			return nil
		}
		prev = e
	}
	return prev
}

func (c *tcompiler) command(cmd *parse.CommandNode, prev *expr, piped bool, depth int) *expr {
	if len(cmd.Args) == 0 {
		c.fail(int(cmd.Pos), "template: empty command")
		return nil
	}
	first := cmd.Args[0]
	id, isFunc := first.(*parse.IdentifierNode)
	if !isFunc {
		if piped {
			c.fail(int(first.Position()), "template: only a function can follow |")
			return nil
		}
		if len(cmd.Args) > 1 {
			c.fail(int(cmd.Args[1].Position()), "template: %s is not a function and takes no arguments", first.String())
			return nil
		}
		return c.operand(first, depth)
	}
	e := &expr{kind: eCall, fn: funcNames[id.Ident], text: id.Ident, off: int(id.Pos)}
	for _, a := range cmd.Args[1:] {
		ae := c.operand(a, depth+1)
		if ae == nil {
			return nil
		}
		e.args = append(e.args, ae)
	}
	if prev != nil {
		e.args = append(e.args, prev)
	}
	return c.checkCall(e)
}

func (c *tcompiler) operand(n parse.Node, depth int) *expr {
	switch n := n.(type) {
	case *parse.FieldNode:
		if len(n.Ident) != 1 {
			c.fail(int(n.Pos), "template: %s: use a plain variable such as .%s", n.String(), n.Ident[0])
			return nil
		}
		e := &expr{kind: eVar, text: n.Ident[0], off: int(n.Pos)}
		c.t.vars = append(c.t.vars, e)
		return e
	case *parse.StringNode:
		return &expr{kind: eStr, text: n.Text, off: int(n.Pos)}
	case *parse.NumberNode:
		e := &expr{kind: eNum, text: n.Text, off: int(n.Pos)}
		if n.IsInt {
			e.isInt, e.num = true, n.Int64
		}
		return e
	case *parse.IdentifierNode:
		return c.checkCall(&expr{kind: eCall, fn: funcNames[n.Ident], text: n.Ident, off: int(n.Pos)})
	case *parse.PipeNode:
		return c.pipe(n, depth+1)
	case *parse.DotNode:
		c.fail(int(n.Pos), "template: {{ . }} is not supported; name a variable such as {{ .page }}")
	case *parse.VariableNode:
		c.fail(int(n.Pos), "template: template variables such as %s are not supported", n.String())
	default:
		c.fail(int(n.Position()), "template: %s is not supported here", n.String())
	}
	return nil
}

// checkCall checks a call's arguments at load, so that rendering can only
// fail on values that arrive at run time.
func (c *tcompiler) checkCall(e *expr) *expr {
	arity := func(want int) bool {
		if len(e.args) != want {
			c.fail(e.off, "template: %s takes %d argument%s, got %d", e.text, want, plural(want), len(e.args))
			return false
		}
		return true
	}
	switch e.fn {
	case fnSeq, fnUUID:
		if !arity(0) {
			return nil
		}
	case fnRandInt:
		if !arity(2) {
			return nil
		}
		for _, a := range e.args {
			if (a.kind == eNum && !a.isInt) || a.kind == eStr {
				c.fail(a.off, "template: randInt: want whole numbers, got %s", quoteArg(a))
				return nil
			}
		}
		if a, b := e.args[0], e.args[1]; a.kind == eNum && b.kind == eNum && a.num > b.num {
			c.fail(e.off, "template: randInt %d %d: the first bound must not exceed the second", a.num, b.num)
			return nil
		}
	case fnPick:
		if len(e.args) == 0 {
			c.fail(e.off, "template: pick needs at least one value to pick from")
			return nil
		}
	case fnURLQuery:
		if !arity(1) {
			return nil
		}
	case fnNow:
		switch len(e.args) {
		case 0:
			e.nowUnit = "rfc3339"
		case 1:
			a := e.args[0]
			if a.kind != eStr || (a.text != "rfc3339" && a.text != "unix" && a.text != "unixms") {
				c.fail(a.off, "template: now takes \"rfc3339\", \"unix\" or \"unixms\", got %s", quoteArg(a))
				return nil
			}
			e.nowUnit = a.text
		default:
			c.fail(e.off, "template: now takes at most one argument, got %d", len(e.args))
			return nil
		}
	case fnEnv:
		if !arity(1) {
			return nil
		}
		a := e.args[0]
		if a.kind != eStr {
			c.fail(a.off, "template: env takes the name of an environment variable in quotes, e.g. env \"API_TOKEN\"")
			return nil
		}
		v, err := c.getenv(a.text)
		if err != nil {
			c.fail(a.off, "%v", err)
			return nil
		}
		// Resolved once at load; the value is a secret from now on.
		c.t.env = true
		c.t.secrets = append(c.t.secrets, v)
		return &expr{kind: eText, text: v, off: e.off}
	default:
		c.fail(e.off, "unknown template function %q%s", e.text, suggest(e.text, funcList()))
		return nil
	}
	return e
}

func quoteArg(a *expr) string {
	if a.kind == eStr {
		return strconv.Quote(a.text)
	}
	return a.text
}

func plural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}

// renderer renders templates for one worker. It is not safe for concurrent
// use; each worker owns one through its state.
type renderer struct {
	it   *loadgen.Iteration
	st   *state
	c    *compiled
	bufs [maxDepth + 1][]byte
}

// errCaptureMissing is returned when a template reads a capture that the
// iteration has not set (the static check makes this rare: a capture of an
// optional step).
var errCaptureMissing = errors.New("no value captured")

// render appends the template's value to dst.
func (t *tmpl) render(dst []byte, r *renderer) ([]byte, error) {
	if t.static {
		return append(dst, t.text...), nil
	}
	var err error
	for _, e := range t.parts {
		if dst, err = r.eval(dst, e, 0); err != nil {
			return dst, err
		}
	}
	return dst, nil
}

func (r *renderer) eval(dst []byte, e *expr, depth int) ([]byte, error) {
	switch e.kind {
	case eText, eStr, eNum:
		return append(dst, e.text...), nil
	case eVar:
		switch e.ref {
		case refVar:
			return append(dst, r.st.vals[e.idx]...), nil
		case refData:
			f := r.c.feeds[e.idx]
			return append(dst, f.rows[r.st.rows[e.idx]][e.col]...), nil
		case refCapture:
			v, ok := r.it.Vars[e.text]
			if !ok {
				return dst, fmt.Errorf("{{ .%s }}: %w", e.text, errCaptureMissing)
			}
			return append(dst, v...), nil
		}
		return dst, fmt.Errorf("{{ .%s }}: undefined variable", e.text)
	case eCall:
		switch e.fn {
		case fnSeq:
			return strconv.AppendUint(dst, r.it.Seq, 10), nil
		case fnRandInt:
			lo, err := r.intArg(e.args[0], depth)
			if err != nil {
				return dst, err
			}
			hi, err := r.intArg(e.args[1], depth)
			if err != nil {
				return dst, err
			}
			if hi < lo {
				return dst, fmt.Errorf("randInt %d %d: the first bound exceeds the second", lo, hi)
			}
			span := uint64(hi - lo)
			if span == ^uint64(0) {
				return strconv.AppendInt(dst, int64(r.it.Rand.Uint64()), 10), nil
			}
			return strconv.AppendInt(dst, lo+int64(r.it.Rand.Uint64N(span+1)), 10), nil
		case fnPick:
			return r.eval(dst, e.args[r.it.Rand.IntN(len(e.args))], depth)
		case fnUUID:
			return appendUUID(dst, r.it.Rand.Uint64(), r.it.Rand.Uint64()), nil
		case fnNow:
			now := time.Now()
			switch e.nowUnit {
			case "unix":
				return strconv.AppendInt(dst, now.Unix(), 10), nil
			case "unixms":
				return strconv.AppendInt(dst, now.UnixMilli(), 10), nil
			}
			return now.UTC().AppendFormat(dst, time.RFC3339), nil
		case fnURLQuery:
			buf, err := r.eval(r.bufs[depth+1][:0], e.args[0], depth+1)
			r.bufs[depth+1] = buf
			if err != nil {
				return dst, err
			}
			return appendQueryEscape(dst, buf), nil
		}
	}
	return dst, fmt.Errorf("template: cannot render %q", e.text)
}

// intArg evaluates an argument that must be a whole number.
func (r *renderer) intArg(e *expr, depth int) (int64, error) {
	if e.kind == eNum && e.isInt {
		return e.num, nil
	}
	buf, err := r.eval(r.bufs[depth+1][:0], e, depth+1)
	r.bufs[depth+1] = buf
	if err != nil {
		return 0, err
	}
	n, ok := parseInt(buf)
	if !ok {
		return 0, fmt.Errorf("%s: want a whole number, got %q", e.text, buf)
	}
	return n, nil
}

// parseInt parses a decimal integer from b without allocating.
func parseInt(b []byte) (int64, bool) {
	if len(b) == 0 || len(b) > 19 {
		return 0, false
	}
	neg := false
	if b[0] == '-' || b[0] == '+' {
		neg = b[0] == '-'
		b = b[1:]
		if len(b) == 0 {
			return 0, false
		}
	}
	var n int64
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int64(c-'0')
	}
	if neg {
		n = -n
	}
	return n, true
}

const hexDigits = "0123456789abcdef"

// appendUUID appends a random (version 4) UUID made of the two words.
func appendUUID(dst []byte, hi, lo uint64) []byte {
	var b [16]byte
	for i := 0; i < 8; i++ {
		b[i] = byte(hi >> (56 - 8*i))
		b[8+i] = byte(lo >> (56 - 8*i))
	}
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	for i, c := range b {
		if i == 4 || i == 6 || i == 8 || i == 10 {
			dst = append(dst, '-')
		}
		dst = append(dst, hexDigits[c>>4], hexDigits[c&0xf])
	}
	return dst
}

// appendQueryEscape appends s escaped like url.QueryEscape, without the
// string conversion that url.QueryEscape would need.
func appendQueryEscape(dst, s []byte) []byte {
	for _, c := range s {
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9', c == '-', c == '_', c == '.', c == '~':
			dst = append(dst, c)
		case c == ' ':
			dst = append(dst, '+')
		default:
			dst = append(dst, '%', "0123456789ABCDEF"[c>>4], "0123456789ABCDEF"[c&0xf])
		}
	}
	return dst
}
