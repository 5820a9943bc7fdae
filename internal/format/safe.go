package format

import (
	"io"
	"unicode"
	"unicode/utf8"
)

// SafeWriter returns a writer for human-facing text (a report, a summary,
// a log line) that replaces every control character but newline and tab
// with U+FFFD, as Clean does inside one value: names, tag groups, captured
// values and error messages come from files and servers that may be
// hostile, and an ESC or CR in them would move the cursor, retitle the
// terminal or overwrite a line with a fake verdict. Bidirectional controls
// and bytes that are not UTF-8 (a lone 0x9b is CSI to some terminals) are
// replaced too.
func SafeWriter(w io.Writer) io.Writer {
	if sw, ok := w.(*safeWriter); ok {
		return sw
	}
	return &safeWriter{w: w}
}

type safeWriter struct {
	w     io.Writer
	carry []byte // the start of a rune split between two writes
	buf   []byte
}

func (s *safeWriter) Write(p []byte) (int, error) {
	in := p
	if len(s.carry) > 0 {
		in = append(s.carry, p...)
		s.carry = nil
	}
	out := s.buf[:0]
	for len(in) > 0 {
		c := in[0]
		if c < utf8.RuneSelf {
			if c < 0x20 && c != '\n' && c != '\t' || c == 0x7f {
				out = utf8.AppendRune(out, utf8.RuneError)
			} else {
				out = append(out, c)
			}
			in = in[1:]
			continue
		}
		if !utf8.FullRune(in) {
			s.carry = append([]byte(nil), in...)
			break
		}
		r, n := utf8.DecodeRune(in)
		if r == utf8.RuneError || unicode.IsControl(r) || bidiControl(r) {
			out = utf8.AppendRune(out, utf8.RuneError)
		} else {
			out = append(out, in[:n]...)
		}
		in = in[n:]
	}
	s.buf = out
	if _, err := s.w.Write(out); err != nil {
		return 0, err
	}
	return len(p), nil
}
