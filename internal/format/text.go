package format

import (
	"fmt"
	"math"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Minus is the typographic minus sign, as wide as "+" in tables.
const Minus = "−"

// Signed formats x with verb (e.g. "%.1f%%") and an explicit sign: "+3.1%",
// "−3.1%". Zero, and a negative value that rounds to zero, get no sign.
func Signed(verb string, x float64) string {
	s := fmt.Sprintf(verb, math.Abs(x))
	switch {
	case x == 0:
		return s
	case x < 0 && strings.Trim(s, "0.%") != "":
		return Minus + s
	case x < 0:
		return s
	}
	return "+" + s
}

// Clean makes text from outside tailgate (names, tags, error messages,
// response bodies) safe to print: control characters, including ESC and
// the C1 range that terminals obey, and the bidirectional overrides that
// reorder what a reader sees become U+FFFD, and runs of whitespace
// (newlines included) become one space, so one value stays on one line.
func Clean(s string) string {
	var b strings.Builder
	space := false
	for _, r := range s {
		switch {
		case unicode.IsSpace(r):
			space = b.Len() > 0
			continue
		case unicode.IsControl(r) || bidiControl(r) || r == utf8.RuneError:
			r = utf8.RuneError
		}
		if space {
			b.WriteByte(' ')
			space = false
		}
		b.WriteRune(r)
	}
	return b.String()
}

// bidiControl reports the embedding, override and isolate controls that
// make text display in another order than it is stored.
func bidiControl(r rune) bool {
	return r >= 0x202a && r <= 0x202e || r >= 0x2066 && r <= 0x2069 || r == 0x200e || r == 0x200f || r == 0x061c
}

// Markdown makes text from outside tailgate safe in GitHub Markdown, in a
// paragraph or a table cell: it is cleaned (one line, no control
// characters) and every character that could start markup, a link, HTML
// or a cell boundary is escaped with a backslash.
func Markdown(s string) string {
	var b strings.Builder
	for _, c := range Clean(s) {
		switch c {
		case '|', '*', '_', '`', '[', ']', '<', '>', '#', '\\', '~', '&':
			b.WriteByte('\\')
		}
		b.WriteRune(c)
	}
	return b.String()
}

// MarkdownCode makes text safe inside a `code span` in a table cell:
// backticks cannot be escaped there, so they become ', and a pipe, which
// would still end the cell, is escaped.
func MarkdownCode(s string) string {
	s = strings.ReplaceAll(Clean(s), "`", "'")
	return strings.ReplaceAll(s, "|", `\|`)
}

// Width is the number of columns s takes in a fixed-width font, counting
// runes (µ, −, →), not bytes.
func Width(s string) int { return utf8.RuneCountInString(s) }

// PadLeft right-aligns s in n columns.
func PadLeft(s string, n int) string {
	if k := Width(s); k < n {
		return strings.Repeat(" ", n-k) + s
	}
	return s
}

// PadRight left-aligns s in n columns.
func PadRight(s string, n int) string {
	if k := Width(s); k < n {
		return s + strings.Repeat(" ", n-k)
	}
	return s
}

// Truncate shortens s to n columns, ending in "…" when it was cut.
func Truncate(s string, n int) string {
	if Width(s) <= n {
		return s
	}
	if n <= 0 {
		return ""
	}
	r := []rune(s)
	return string(r[:n-1]) + "…"
}

// Wrap breaks s into lines of at most width columns at spaces: the first
// line starts with first, the others with rest (usually an indent as wide
// as first). A word longer than a line gets a line of its own.
func Wrap(first, rest, s string, width int) []string {
	var lines []string
	line := first
	empty := true
	for _, word := range strings.Fields(s) {
		if !empty && Width(line)+1+Width(word) > width {
			lines = append(lines, line)
			line, empty = rest, true
		}
		if !empty {
			line += " "
		}
		line += word
		empty = false
	}
	return append(lines, line)
}
