package loadgen

import (
	"fmt"
	"net"
)

// h1Target is an absolute http(s) URL split into the parts an HTTP/1.1
// request needs. Every field is a substring of the URL, so splitting
// allocates nothing.
type h1Target struct {
	tls bool
	// authority is host[:port] as written in the URL, without userinfo; it
	// is the Host header and the connection's identity.
	authority string
	// path is the request target (path and query); it may be empty or start
	// with '?', in which case the request gets a leading '/'.
	path string
	// userinfo is "user:password" when the URL carries one (still escaped).
	userinfo string
}

// splitURL splits an absolute http or https URL.
func splitURL(raw string) (h1Target, error) {
	var t h1Target
	i := 0
	for i < len(raw) && raw[i] != ':' {
		i++
	}
	if i+2 >= len(raw) || raw[i+1] != '/' || raw[i+2] != '/' {
		return t, clientErrorf("URL %q: not an absolute http:// or https:// URL", raw)
	}
	switch scheme := raw[:i]; {
	case equalFold(scheme, "http"):
	case equalFold(scheme, "https"):
		t.tls = true
	default:
		return t, clientErrorf("URL %q: unsupported scheme %q (use http or https)", raw, scheme)
	}
	rest := raw[i+3:]
	end := len(rest)
	for j := 0; j < len(rest); j++ {
		if c := rest[j]; c == '/' || c == '?' || c == '#' {
			end = j
			break
		}
	}
	auth := rest[:end]
	rest = rest[end:]
	for j := len(auth) - 1; j >= 0; j-- {
		if auth[j] == '@' {
			t.userinfo = auth[:j]
			auth = auth[j+1:]
			break
		}
	}
	if auth == "" {
		return t, clientErrorf("URL %q: no host", raw)
	}
	for j := 0; j < len(auth); j++ {
		if c := auth[j]; c <= ' ' || c >= 0x7f {
			return t, clientErrorf("URL %q: invalid character in host", raw)
		}
	}
	for j := 0; j < len(rest); j++ {
		if rest[j] == '#' {
			rest = rest[:j]
			break
		}
	}
	t.authority = auth
	t.path = rest
	return t, nil
}

// hostPort splits the authority into host (without IPv6 brackets) and port
// (defaulted from the scheme).
func (t *h1Target) hostPort() (host, port string) {
	a := t.authority
	port = "80"
	if t.tls {
		port = "443"
	}
	if len(a) > 0 && a[0] == '[' {
		end := len(a) - 1
		for end > 0 && a[end] != ']' {
			end--
		}
		if end <= 0 {
			return a, port
		}
		host = a[1:end]
		if rest := a[end+1:]; len(rest) > 1 && rest[0] == ':' {
			port = rest[1:]
		}
		return host, port
	}
	for j := len(a) - 1; j >= 0; j-- {
		if a[j] == ':' {
			if j+1 < len(a) {
				port = a[j+1:]
			}
			return a[:j], port
		}
	}
	return a, port
}

// dialAddr is the host:port to connect to.
func (t *h1Target) dialAddr() string {
	h, p := t.hostPort()
	return net.JoinHostPort(h, p)
}

// origin identifies the scheme, host and port of the target, with the
// default port filled in, for the same-origin test of redirects.
func (t *h1Target) origin() string {
	h, p := t.hostPort()
	s := "http://"
	if t.tls {
		s = "https://"
	}
	return s + net.JoinHostPort(lowerASCII(h), p)
}

func lowerASCII(s string) string {
	for i := 0; i < len(s); i++ {
		if 'A' <= s[i] && s[i] <= 'Z' {
			b := []byte(s)
			for j := i; j < len(b); j++ {
				if 'A' <= b[j] && b[j] <= 'Z' {
					b[j] += 'a' - 'A'
				}
			}
			return string(b)
		}
	}
	return s
}

func clientErrorf(format string, args ...any) error {
	return &StepError{Kind: KindClient, Name: "invalid request", Err: fmt.Errorf(format, args...)}
}

func protocolErrorf(format string, args ...any) error {
	return &StepError{Kind: KindProtocol, Name: "malformed HTTP response", Err: fmt.Errorf(format, args...)}
}

// isToken reports whether s is a non-empty RFC 9110 token (methods and
// header names).
func isToken(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if !tokenChar[s[i]] {
			return false
		}
	}
	return true
}

var tokenChar = func() (t [256]bool) {
	for c := '0'; c <= '9'; c++ {
		t[c] = true
	}
	for c := 'a'; c <= 'z'; c++ {
		t[c] = true
		t[c-'a'+'A'] = true
	}
	for _, c := range "!#$%&'*+-.^_`|~" {
		t[c] = true
	}
	return t
}()

// validHeaderValue rejects the bytes that would split or end the header
// block (CR, LF, NUL); anything else is sent as given.
func validHeaderValue(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c == '\r' || c == '\n' || c == 0 {
			return false
		}
	}
	return true
}

// equalFoldLower compares b, a byte slice or a string, with a lower-case
// ASCII literal, ignoring case, without converting a slice to a string.
func equalFoldLower[T []byte | string](b T, lower string) bool {
	if len(b) != len(lower) {
		return false
	}
	for i := 0; i < len(b); i++ {
		c := b[i]
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		if c != lower[i] {
			return false
		}
	}
	return true
}

// trimOWS trims optional whitespace (SP, HTAB) from both ends.
func trimOWS(b []byte) []byte {
	for len(b) > 0 && (b[0] == ' ' || b[0] == '\t') {
		b = b[1:]
	}
	for len(b) > 0 && (b[len(b)-1] == ' ' || b[len(b)-1] == '\t') {
		b = b[:len(b)-1]
	}
	return b
}

// parseDecimal parses a non-negative decimal number; ok is false for an
// empty, non-digit or overflowing value.
func parseDecimal(b []byte) (n int64, ok bool) {
	if len(b) == 0 || len(b) > 18 {
		return 0, false
	}
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int64(c-'0')
	}
	return n, true
}

// parseChunkSize parses "hex[ ;ext...]" of a chunk-size line.
func parseChunkSize(line []byte) (int64, bool) {
	var n int64
	i := 0
	for ; i < len(line); i++ {
		c := line[i]
		var d byte
		switch {
		case '0' <= c && c <= '9':
			d = c - '0'
		case 'a' <= c && c <= 'f':
			d = c - 'a' + 10
		case 'A' <= c && c <= 'F':
			d = c - 'A' + 10
		default:
			goto rest
		}
		if n > (1<<59)-1 {
			return 0, false
		}
		n = n<<4 | int64(d)
	}
rest:
	if i == 0 {
		return 0, false
	}
	tail := trimOWS(line[i:])
	if len(tail) > 0 && tail[0] != ';' {
		return 0, false
	}
	return n, true
}

// hasToken reports whether a comma-separated header value lists tok
// (lower case), ignoring case and whitespace.
func hasToken(v []byte, tok string) bool {
	for len(v) > 0 {
		end := len(v)
		for i, c := range v {
			if c == ',' {
				end = i
				break
			}
		}
		if equalFoldLower(trimOWS(v[:end]), tok) {
			return true
		}
		if end == len(v) {
			break
		}
		v = v[end+1:]
	}
	return false
}

// lastTokenIs reports whether the last element of a comma-separated list
// is tok (lower case).
func lastTokenIs(v []byte, tok string) bool {
	v = trimOWS(v)
	for i := len(v) - 1; i >= 0; i-- {
		if v[i] == ',' {
			return equalFoldLower(trimOWS(v[i+1:]), tok)
		}
	}
	return equalFoldLower(v, tok)
}
