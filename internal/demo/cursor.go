package demo

import (
	"encoding/base64"
	"errors"
	"strconv"
	"strings"
)

// Cursor is a keyset position: the (created_at, id) of the last row a client
// has seen. The next page holds the rows strictly after it in the order
// created_at DESC, id DESC.
type Cursor struct {
	CreatedAt int64
	ID        int64
}

// cursorPrefix versions the encoding so a future change can be told apart.
const cursorPrefix = "v1:"

// maxCursorLen bounds the encoded cursor a client may send.
const maxCursorLen = 64

// Encode returns the opaque form clients pass back: base64url (no padding)
// of "v1:<created_at>:<id>".
func (c Cursor) Encode() string {
	raw := cursorPrefix + strconv.FormatInt(c.CreatedAt, 10) + ":" + strconv.FormatInt(c.ID, 10)
	return base64.RawURLEncoding.EncodeToString([]byte(raw))
}

var errBadCursor = errors.New("malformed cursor (pass back next_cursor exactly as received)")

// ParseCursor decodes and validates an opaque cursor. Every input that
// Encode could not have produced is rejected.
func ParseCursor(s string) (Cursor, error) {
	if len(s) == 0 || len(s) > maxCursorLen {
		return Cursor{}, errBadCursor
	}
	raw, err := base64.RawURLEncoding.Strict().DecodeString(s)
	if err != nil {
		return Cursor{}, errBadCursor
	}
	rest, ok := strings.CutPrefix(string(raw), cursorPrefix)
	if !ok {
		return Cursor{}, errBadCursor
	}
	ts, id, ok := strings.Cut(rest, ":")
	if !ok {
		return Cursor{}, errBadCursor
	}
	c := Cursor{}
	if c.CreatedAt, ok = parseCanonical(ts); !ok {
		return Cursor{}, errBadCursor
	}
	if c.ID, ok = parseCanonical(id); !ok || c.ID == 0 {
		return Cursor{}, errBadCursor
	}
	// One cursor, one spelling: even a strict base64 decoder skips '\r'
	// and '\n' (the fuzzer found "\rdjE6Mzo0" accepted as "djE6Mzo0").
	if c.Encode() != s {
		return Cursor{}, errBadCursor
	}
	return c, nil
}

// parseCanonical parses a non-negative decimal integer written the way
// strconv.FormatInt writes it (no sign, no leading zeros).
func parseCanonical(s string) (int64, bool) {
	if s == "" || (len(s) > 1 && s[0] == '0') {
		return 0, false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return 0, false
		}
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return 0, false
	}
	return n, true
}
