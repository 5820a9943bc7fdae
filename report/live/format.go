package live

import (
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/charmbracelet/x/ansi"
	"github.com/tailgate-dev/tailgate/internal/format"
)

// fmtLatency formats a latency; zero means "no data" and is "-".
func fmtLatency(d time.Duration) string {
	if d <= 0 {
		return "-"
	}
	return format.Duration(d)
}

// fmtAxisRate formats a round axis value in at most four cells.
func fmtAxisRate(r float64) string {
	switch {
	case r >= 1e6:
		return strconv.FormatFloat(r/1e6, 'f', -1, 64) + "M"
	case r >= 1e4:
		return strconv.FormatFloat(r/1e3, 'f', -1, 64) + "k"
	default:
		return strconv.FormatFloat(r, 'f', -1, 64)
	}
}

// fmtClock formats elapsed run time: 7s, 1m05s, 2h03m.
func fmtClock(d time.Duration) string {
	if d < 0 {
		d = 0
	}
	s := int64(d.Round(time.Second) / time.Second)
	switch {
	case s < 60:
		return strconv.FormatInt(s, 10) + "s"
	case s < 3600:
		return fmt.Sprintf("%dm%02ds", s/60, s%60)
	default:
		return fmt.Sprintf("%dh%02dm", s/3600, s/60%60)
	}
}

// fmtPercent formats part/whole as a percentage; "-" when whole is zero.
func fmtPercent(part, whole uint64) string {
	if whole == 0 {
		return "-"
	}
	return format.Percent(float64(part) / float64(whole))
}

// width is the number of terminal cells s takes, ignoring escape codes.
// The dashboard's own text (ASCII, box drawing, blocks, braille) is counted
// directly; anything else (names and messages from the user) goes through
// the full grapheme-aware measure, which costs ten times more.
func width(s string) int {
	n := 0
	for i := 0; i < len(s); {
		c := s[i]
		switch {
		case c == 0x1b && i+1 < len(s) && s[i+1] == '[':
			// Skip a CSI sequence: parameters, then one final byte.
			j := i + 2
			for j < len(s) && (s[j] < 0x40 || s[j] > 0x7e) {
				j++
			}
			i = j + 1
			continue
		case c >= 0x20 && c < 0x7f:
			n++
			i++
			continue
		case c >= 0x80:
			r, size := utf8.DecodeRuneInString(s[i:])
			if narrow(r) {
				n++
				i += size
				continue
			}
		}
		return ansi.StringWidth(s)
	}
	return n
}

// narrow reports runes known to take one cell and never to combine.
func narrow(r rune) bool {
	switch {
	case r == 'µ', r == '×', r == '…', r == '−', r == '↳', r == '↑', r == '↓':
		return true
	case r >= 0x2500 && r <= 0x259f: // box drawing, blocks
		return true
	case r >= 0x25a0 && r <= 0x25ff: // geometric shapes (▸)
		return r == '▸'
	case r >= 0x2800 && r <= 0x28ff: // braille
		return true
	}
	return false
}

// fit pads or truncates s to exactly w cells.
func fit(s string, w int) string {
	if w <= 0 {
		return ""
	}
	n := width(s)
	if n > w {
		s = ansi.Truncate(s, w, "…")
		n = width(s)
	}
	if n < w {
		s += strings.Repeat(" ", w-n)
	}
	return s
}

// right right-aligns s in w cells, truncating on the right when it is too
// long.
func right(s string, w int) string {
	n := width(s)
	if n >= w {
		return fit(s, w)
	}
	return strings.Repeat(" ", w-n) + s
}

// spread puts l on the left and r on the right of a w-cell line; r is
// dropped when both do not fit.
func spread(l, r string, w int) string {
	lw, rw := width(l), width(r)
	if lw+rw+2 > w {
		return fit(l, w)
	}
	return l + strings.Repeat(" ", w-lw-rw) + r
}

// flow lays out items separated by gap, wrapping to new lines at w cells.
func flow(items []string, gap string, w int) []string {
	var lines []string
	cur, curW := "", 0
	for _, it := range items {
		iw := width(it)
		switch {
		case curW == 0:
			cur, curW = it, iw
		case curW+width(gap)+iw <= w:
			cur += gap + it
			curW += width(gap) + iw
		default:
			lines = append(lines, fit(cur, w))
			cur, curW = it, iw
		}
	}
	if curW > 0 {
		lines = append(lines, fit(cur, w))
	}
	return lines
}
