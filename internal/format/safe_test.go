package format

import (
	"bytes"
	"fmt"
	"testing"
)

func TestSafeWriter(t *testing.T) {
	tests := []struct{ in, want string }{
		{"plain\ttext\n", "plain\ttext\n"},
		{"\x1b]0;pwned\x07title", "\ufffd]0;pwned\ufffdtitle"},
		{"ok\r FAKE pass", "ok\ufffd FAKE pass"},
		{"\x1b[2J\x1b[H", "\ufffd[2J\ufffd[H"},
		{"c1 \u009b31m", "c1 \ufffd31m"},
		{"bidi \u202eevil", "bidi \ufffdevil"},
		{"lone \x9b byte", "lone \ufffd byte"},
		{"del \x7f", "del \ufffd"},
		{"naïve ✓", "naïve ✓"},
	}
	for _, tt := range tests {
		var b bytes.Buffer
		fmt.Fprint(SafeWriter(&b), tt.in)
		if b.String() != tt.want {
			t.Errorf("%q → %q, want %q", tt.in, b.String(), tt.want)
		}
	}
	// A rune split between two writes is kept whole.
	var b bytes.Buffer
	w := SafeWriter(&b)
	s := []byte("✓\u009b")
	for i := range s {
		w.Write(s[i : i+1])
	}
	if b.String() != "✓\ufffd" {
		t.Errorf("split runes → %q", b.String())
	}
}

func FuzzSafeWriter(f *testing.F) {
	f.Add([]byte("a\x1b[31mb\r\n\u202e\x9b"))
	f.Fuzz(func(t *testing.T, p []byte) {
		var b bytes.Buffer
		SafeWriter(&b).Write(p)
		for _, r := range b.String() {
			if r != '\n' && r != '\t' && (r < 0x20 || r == 0x7f || r >= 0x80 && r < 0xa0 || bidiControl(r)) {
				t.Fatalf("%q passed %q", p, r)
			}
		}
	})
}
