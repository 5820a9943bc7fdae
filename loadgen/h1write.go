package loadgen

import (
	"encoding/base64"
	"errors"
	"net/url"
	"strconv"
)

// appendRequest serialises the request head (and body, when small) into
// dst. It allocates nothing unless the URL carries userinfo for the first
// time, or the request is invalid.
func (c *h1Client) appendRequest(dst []byte, method string, t *h1Target, hdr []Header, body []byte) ([]byte, error) {
	shape, err := checkRequest(method, hdr)
	if err != nil {
		return dst, err
	}
	c.reqClose = c.t.opts.DisableKeepAlive || shape.close
	dst = append(dst, method...)
	dst = append(dst, ' ')
	if t.path == "" || t.path[0] != '/' {
		dst = append(dst, '/')
	}
	dst = appendTarget(dst, t.path)
	dst = append(dst, " HTTP/1.1\r\n"...)
	if !shape.host {
		dst = append(dst, "Host: "...)
		dst = append(dst, t.authority...)
		dst = append(dst, "\r\n"...)
	}
	if !shape.userAgent {
		dst = append(dst, "User-Agent: "...)
		dst = append(dst, c.t.userAgent...)
		dst = append(dst, "\r\n"...)
	}
	if t.userinfo != "" && !shape.auth {
		enc, err := c.basicAuth(t.userinfo)
		if err != nil {
			return dst, err
		}
		dst = append(dst, "Authorization: Basic "...)
		dst = append(dst, enc...)
		dst = append(dst, "\r\n"...)
	}
	for i := range hdr {
		h := &hdr[i]
		// Connection is written below, as close or not at all.
		if framedByClient(h.Name) {
			continue
		}
		dst = append(dst, h.Name...)
		dst = append(dst, ": "...)
		dst = append(dst, h.Value...)
		dst = append(dst, "\r\n"...)
	}
	if len(body) > 0 || methodExpectsBody(method) {
		dst = append(dst, "Content-Length: "...)
		dst = strconv.AppendInt(dst, int64(len(body)), 10)
		dst = append(dst, "\r\n"...)
	}
	if c.reqClose {
		dst = append(dst, "Connection: close\r\n"...)
	}
	dst = append(dst, "\r\n"...)
	return dst, nil
}

// appendTarget writes the request target, percent-encoding the bytes that
// may not appear in it raw (controls, space, non-ASCII) the way net/url
// would; everything else, including existing escapes, goes as given.
func appendTarget(dst []byte, p string) []byte {
	const hex = "0123456789ABCDEF"
	for i := 0; i < len(p); i++ {
		c := p[i]
		if c <= ' ' || c >= 0x7f {
			dst = append(dst, '%', hex[c>>4], hex[c&15])
			continue
		}
		dst = append(dst, c)
	}
	return dst
}

func methodExpectsBody(m string) bool {
	return m == "POST" || m == "PUT" || m == "PATCH"
}

// basicAuth encodes URL userinfo as a Basic credential, caching the last
// one so a static request allocates only once.
func (c *h1Client) basicAuth(userinfo string) ([]byte, error) {
	if userinfo == c.authKey && c.authVal != nil {
		return c.authVal, nil
	}
	user, pass := userinfo, ""
	for i := 0; i < len(userinfo); i++ {
		if userinfo[i] == ':' {
			user, pass = userinfo[:i], userinfo[i+1:]
			break
		}
	}
	u, err1 := url.PathUnescape(user)
	p, err2 := url.PathUnescape(pass)
	if err := errors.Join(err1, err2); err != nil {
		return nil, clientErrorf("URL userinfo: %v", err)
	}
	plain := u + ":" + p
	c.authKey = userinfo
	c.authVal = base64.StdEncoding.AppendEncode(nil, []byte(plain))
	return c.authVal, nil
}

// isIdempotent reports whether a request may be sent again on a fresh
// connection after the first connection died without answering.
func isIdempotent(method string, hdr []Header) bool {
	switch method {
	case "GET", "HEAD", "OPTIONS", "TRACE", "PUT", "DELETE":
		return true
	}
	for i := range hdr {
		if equalFold(hdr[i].Name, "Idempotency-Key") || equalFold(hdr[i].Name, "X-Idempotency-Key") {
			return true
		}
	}
	return false
}
