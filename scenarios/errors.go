package scenarios

import (
	"fmt"
	"sort"
	"strings"

	suggestpkg "github.com/tailgate-dev/tailgate/internal/suggest"
)

// Pos is a position in a scenario file. Line and Col are 1-based.
type Pos struct {
	File      string
	Line, Col int
}

// String formats the position as "file:line:col".
func (p Pos) String() string {
	return fmt.Sprintf("%s:%d:%d", p.File, p.Line, p.Col)
}

// Error is one problem of a scenario file, at a position.
type Error struct {
	Pos Pos
	Msg string
}

// Error implements error as "file:line:col: message".
func (e *Error) Error() string { return e.Pos.String() + ": " + e.Msg }

// Errors lists every problem of one file in file order. Load returns it so
// a user fixes all mistakes in one round instead of one per run.
type Errors []*Error

// Error implements error: one problem per line.
func (es Errors) Error() string {
	lines := make([]string, len(es))
	for i, e := range es {
		lines[i] = e.Error()
	}
	return strings.Join(lines, "\n")
}

// problems collects errors while a file is decoded.
type problems struct {
	file string
	list Errors
	seen map[string]bool
}

func (p *problems) add(line, col int, format string, args ...any) {
	if line < 1 {
		line = 1
	}
	if col < 1 {
		col = 1
	}
	e := &Error{Pos: Pos{File: p.file, Line: line, Col: col}, Msg: fmt.Sprintf(format, args...)}
	key := e.Error()
	if p.seen == nil {
		p.seen = map[string]bool{}
	}
	if p.seen[key] {
		return
	}
	p.seen[key] = true
	p.list = append(p.list, e)
}

func (p *problems) err() error {
	if len(p.list) == 0 {
		return nil
	}
	sort.SliceStable(p.list, func(i, j int) bool {
		a, b := p.list[i].Pos, p.list[j].Pos
		if a.Line != b.Line {
			return a.Line < b.Line
		}
		return a.Col < b.Col
	})
	return p.list
}

// suggest returns ` (did you mean "x"?)` for the closest candidate, or "".
func suggest(name string, candidates []string) string {
	return suggestpkg.DidYouMean(name, candidates)
}
