package loadgen

import (
	"context"
	"time"
)

// The start of a request, the same for the HTTP/1.1 and HTTP/2 clients:
// its deadline, its method, its target split from the URL, and the check
// of the user's headers that both clients' encoders rely on.

// urlCache is a client's last request URL and its split: a static
// request is split once.
type urlCache struct {
	url    string
	target h1Target
}

// beginCall starts a request in call and s: it refuses one whose context
// is done, bounds it by the sooner of the timeout and the context's
// deadline (ctxBound says the context's came first), defaults the method
// to GET and splits the URL through u. It allocates nothing for a URL seen
// last time. It fills the caller's call and s rather than returning them:
// returned, the two took 264 bytes of every request's stack, and a
// closed-loop worker's deepest moment (a read of the response) then just
// passed 4 KiB, so every worker's stack doubled to 8 KiB (20 MiB more at
// 5000 connections).
func beginCall(ctx context.Context, req *Request, res *Response, timeout time.Duration, follow bool, u *urlCache, call *h1Call, s *h1Send) (ctxBound bool, err error) {
	if err := ctx.Err(); err != nil {
		return false, canceledError(err, "before sending")
	}
	now := time.Now()
	deadline := now.Add(timeout)
	if d, ok := ctx.Deadline(); ok && d.Before(deadline) {
		deadline, ctxBound = d, true
	}
	method := req.Method
	if method == "" {
		method = "GET"
	}
	if req.URL != u.url || u.url == "" {
		t, err := splitURL(req.URL)
		if err != nil {
			return false, err
		}
		u.url, u.target = req.URL, t
	}
	*call = h1Call{ctx: ctx, req: req, res: res, start: now, deadline: deadline, follow: follow}
	*s = h1Send{method: method, target: u.target, header: req.Header, body: req.Body}
	return ctxBound, nil
}

// requestShape records which headers the user set, so the client adds
// its defaults only where the user did not.
type requestShape struct {
	host, userAgent, auth bool
	hostValue             string // the user's Host, HTTP/2's :authority
	close                 bool   // a Connection header with the token close
}

// checkRequest refuses a method or header that cannot go on the wire
// (not a token, a value with CR, LF or NUL) and returns the request's
// shape.
func checkRequest(method string, hdr []Header) (requestShape, error) {
	var shape requestShape
	if !isToken(method) {
		return shape, clientErrorf("invalid method %q", method)
	}
	for i := range hdr {
		h := &hdr[i]
		if !isToken(h.Name) {
			return shape, clientErrorf("invalid header name %q", h.Name)
		}
		if !validHeaderValue(h.Value) {
			return shape, clientErrorf("header %s: value contains CR, LF or NUL", h.Name)
		}
		switch {
		case equalFold(h.Name, "Host"):
			shape.host, shape.hostValue = true, h.Value
		case equalFold(h.Name, "User-Agent"):
			shape.userAgent = true
		case equalFold(h.Name, "Authorization"):
			shape.auth = true
		case equalFold(h.Name, "Connection"):
			if hasToken([]byte(h.Value), "close") {
				shape.close = true
			}
		}
	}
	return shape, nil
}

// framedByClient reports whether a user header would contradict what the
// client writes itself: the body's framing (Content-Length,
// Transfer-Encoding) and the connection's handling (Connection). Neither
// client sends the user's.
func framedByClient(name string) bool {
	return equalFold(name, "Content-Length") || equalFold(name, "Transfer-Encoding") || equalFold(name, "Connection")
}
