package loadgen

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"time"

	"golang.org/x/net/http2"
	"golang.org/x/net/http2/hpack"
)

// roundTrip runs one request on the connection: it waits for a stream
// slot, writes the request, and waits for the reader to complete the
// response, or, on a solo connection, reads it itself (h2solo.go).
func (c *h2Conn) roundTrip(cl *h2Client, call *h1Call, s *h1Send) (h1Status, error) {
	shape, err := checkRequest(s.method, s.header)
	if err != nil {
		return h1Status{}, err
	}
	ctx, st := call.ctx, &cl.st
	drain(st.done)
	drain(st.wake)
	if !c.solo {
		cl.timer.Reset(time.Until(call.deadline))
		defer cl.timer.Stop()
	}
	if err := c.takeSlot(ctx, cl, call.deadline); err != nil {
		return h1Status{}, err
	}
	if c.solo {
		cl.watch(ctx)
		cl.setReading(c)
		defer cl.setReading(nil)
		c.arm(call.deadline, cl.slack)
		c.soloCatchUp(call.start)
		// After the arm: a cancellation before it left no kick behind.
		if cerr := ctx.Err(); cerr != nil {
			c.releaseSlot()
			return h1Status{}, canceledError(cerr, "before sending")
		}
	}
	st.req, st.res = call.req, call.res
	st.status, st.final, st.trailers, st.err, st.gotFrame = 0, false, false, nil, false
	st.loc = st.loc[:0]
	st.follow, st.keepHdr, st.groupHdr = call.follow, call.req.KeepHeaders, ""
	if g := call.req.GroupBy; g != nil {
		st.groupHdr = g.Header
	}
	st.recvUnack, st.wantWin = 0, false

	c.wmu.Lock()
	if c.nextID > 1<<31-1 {
		c.wmu.Unlock()
		c.takesNew.Store(false)
		c.releaseSlot()
		return h1Status{}, &h2RetryError{err: &StepError{Kind: KindReset, Name: "HTTP/2 stream IDs used up", Err: errors.New("connection ran out of stream IDs")}}
	}
	id := c.nextID
	c.nextID += 2
	c.hbuf.Reset()
	if err := cl.encodeHeaders(c.henc, s, shape); err != nil {
		c.wmu.Unlock()
		c.releaseSlot()
		return h1Status{}, err
	}
	c.mu.Lock()
	if c.dead != nil || c.goAway {
		err := c.deadOrGoAway()
		c.mu.Unlock()
		c.wmu.Unlock()
		c.releaseSlot()
		return h1Status{}, &h2RetryError{err: err}
	}
	st.id, st.sendWin = id, c.initWin
	maxFrame := int(c.maxSend)
	c.streams[id] = st
	c.mu.Unlock()
	block := c.hbuf.Bytes()
	first := block[:min(len(block), maxFrame)]
	rest := block[len(first):]
	err = c.fr.WriteHeaders(http2.HeadersFrameParam{StreamID: id, BlockFragment: first, EndStream: len(s.body) == 0, EndHeaders: len(rest) == 0})
	for len(rest) > 0 && err == nil {
		n := min(len(rest), maxFrame)
		err = c.fr.WriteContinuation(id, n == len(rest), rest[:n])
		rest = rest[n:]
	}
	call.res.BytesOut += int64(len(block)) + 9
	switch {
	case err != nil:
		c.wmu.Unlock()
	case len(s.body) > 0:
		err = c.sendBody(cl, call, id, s.body, maxFrame)
	default:
		c.flushRequest()
	}
	stopped := err == errStopped || err == errTorn
	if err != nil && !stopped {
		// The stream gets its error from the connection's end.
		c.close(c.connError(err, false))
	}
	switch {
	case stopped:
	case c.solo:
		err = c.soloRead(st, false)
		stopped = err != nil
	default:
		select {
		case <-st.done:
		case <-ctx.Done():
			stopped = true
		case <-cl.timer.C:
			stopped = true
		}
	}
	if stopped {
		return h1Status{}, c.stop(st, ctx, err == errTorn)
	}
	if st.err != nil {
		if cerr := ctx.Err(); cerr != nil && c.solo {
			// The kick of a cancellation failed the write or the read.
			return h1Status{}, canceledError(cerr, "read response")
		}
		return h1Status{}, st.err
	}
	return h1Status{status: call.res.Status, location: st.follow && len(st.loc) > 0}, nil
}

// stop ends a request stopped by its deadline or its context: the stream
// is abandoned, and a solo connection whose read stopped inside a frame
// (torn) is closed.
func (c *h2Conn) stop(st *h2Stream, ctx context.Context, torn bool) error {
	if c.solo {
		c.rearm() // for the RST_STREAM
	}
	var err error
	if cerr := ctx.Err(); cerr != nil {
		err = canceledError(cerr, "read response")
	} else {
		err = &StepError{Kind: KindTimeout, Name: "timeout",
			Err: fmt.Errorf("read response: no complete response within %s", c.t.timeout)}
	}
	out := c.abandon(st, err, ctx.Err() == nil)
	if torn {
		c.close(err)
	}
	return out
}

// deadOrGoAway is why the connection takes no new stream. Called with mu
// held.
func (c *h2Conn) deadOrGoAway() error {
	if c.dead != nil {
		return c.dead
	}
	return &StepError{Kind: KindReset, Name: "HTTP/2 GOAWAY", Err: errors.New("the server is closing the connection")}
}

// takeSlot waits until the connection has room for one more stream, until
// deadline at most. A solo connection's client arms its timer only here.
func (c *h2Conn) takeSlot(ctx context.Context, cl *h2Client, deadline time.Time) error {
	st := &cl.st
	armed := false
	c.mu.Lock()
	for {
		if c.dead != nil || c.goAway {
			err := c.deadOrGoAway()
			c.mu.Unlock()
			if armed {
				cl.timer.Stop()
			}
			return &h2RetryError{err: err}
		}
		if c.active < c.limit {
			c.active++
			c.mu.Unlock()
			if armed {
				cl.timer.Stop()
			}
			return nil
		}
		c.waiters = append(c.waiters, st)
		c.mu.Unlock()
		if c.solo && !armed {
			cl.timer.Reset(time.Until(deadline))
			armed = true
		}
		select {
		case <-st.wake:
		case <-ctx.Done():
			c.dropWaiter(st)
			if armed {
				cl.timer.Stop()
			}
			return canceledError(ctx.Err(), "waiting for an HTTP/2 stream")
		case <-cl.timer.C:
			c.dropWaiter(st)
			return &StepError{Kind: KindTimeout, Name: "timeout",
				Err: fmt.Errorf("waiting for an HTTP/2 stream: none free within %s (the server allows %d per connection)", c.t.timeout, c.limitNow())}
		}
		c.mu.Lock()
	}
}

func (c *h2Conn) limitNow() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.limit
}

// dropWaiter takes a worker that gave up out of the waiters; one that was
// woken already passes its wake-up on.
func (c *h2Conn) dropWaiter(st *h2Stream) {
	c.mu.Lock()
	found := false
	for i, w := range c.waiters {
		if w == st {
			c.waiters = append(c.waiters[:i], c.waiters[i+1:]...)
			found = true
			break
		}
	}
	if !found {
		c.wakeOne()
	}
	c.mu.Unlock()
	drain(st.wake)
}

// releaseSlot gives back a slot taken for a stream never opened.
func (c *h2Conn) releaseSlot() {
	c.mu.Lock()
	c.active--
	c.wakeOne()
	c.mu.Unlock()
}

// sendBody writes the request body in DATA frames within the send
// windows, waiting for WINDOW_UPDATEs when they are spent. Called with
// wmu held; returns with it released.
func (c *h2Conn) sendBody(cl *h2Client, call *h1Call, id uint32, body []byte, maxFrame int) error {
	st := &cl.st
	for len(body) > 0 {
		c.mu.Lock()
		if c.streams[id] != st {
			// Answered or reset already: the rest of the body is moot.
			c.mu.Unlock()
			c.flush()
			return nil
		}
		n := min(len(body), maxFrame, int(max(c.sendWin, 0)), int(max(st.sendWin, 0)))
		if n == 0 && c.solo {
			st.wantWin = true
			c.mu.Unlock()
			c.flush()
			if err := c.soloRead(st, true); err != nil {
				return err
			}
			c.wmu.Lock()
			continue
		}
		if n == 0 {
			st.wantWin = true
			c.mu.Unlock()
			c.flush()
			select {
			case <-st.wake:
			case <-st.done:
				signal(st.done) // for roundTrip's wait
				return nil
			case <-call.ctx.Done():
				return errStopped
			case <-cl.timer.C:
				return errStopped
			}
			c.wmu.Lock()
			continue
		}
		c.sendWin -= int32(n)
		st.sendWin -= int32(n)
		c.mu.Unlock()
		if err := c.fr.WriteData(id, n == len(body), body[:n]); err != nil {
			c.wmu.Unlock()
			return err
		}
		call.res.BytesOut += int64(n) + 9
		body = body[n:]
	}
	c.flushRequest()
	return nil
}

// errStopped says sendBody stopped at the request's deadline or
// cancellation.
var errStopped = errors.New("stopped")

// abandon gives up on a stream (timeout, cancellation): it is reset, and
// a connection that has not said a thing for the whole timeout is closed.
// A response that completed meanwhile is the outcome after all.
func (c *h2Conn) abandon(st *h2Stream, err error, timedOut bool) error {
	c.mu.Lock()
	open := c.streams[st.id] == st
	if open {
		c.finish(st.id, st, err)
	}
	c.mu.Unlock()
	drain(st.done)
	if !open {
		return st.err
	}
	id := st.id
	c.writeControl(func(fr *http2.Framer) error { return fr.WriteRSTStream(id, http2.ErrCodeCancel) })
	if timedOut && time.Since(time.Unix(0, c.lastRead.Load())) >= c.t.timeout {
		c.close(err)
	}
	return err
}

// encodeHeaders writes the request's header block with enc: the
// pseudo-headers, then the user's headers in lower case, without those
// HTTP/2 forbids (RFC 9113 §8.2.2), shape telling which defaults the
// user's headers replace (checkRequest). Credentials are never indexed, so
// they stay out of the compression table. Called with wmu held.
func (cl *h2Client) encodeHeaders(enc *hpack.Encoder, s *h1Send, shape requestShape) error {
	t := &s.target
	authority := t.authority
	if shape.host {
		authority = shape.hostValue
	}
	path := t.path
	if path == "" || path[0] != '/' || needsEscape(path) {
		b := make([]byte, 0, len(path)+8)
		if path == "" || path[0] != '/' {
			b = append(b, '/')
		}
		path = string(appendTarget(b, path))
	}
	scheme := "http"
	if t.tls {
		scheme = "https"
	}
	w := func(name, value string, sensitive bool) {
		_ = enc.WriteField(hpack.HeaderField{Name: name, Value: value, Sensitive: sensitive})
	}
	w(":method", s.method, false)
	w(":scheme", scheme, false)
	w(":authority", authority, false)
	w(":path", path, false)
	if !shape.userAgent {
		w("user-agent", cl.t.userAgent, false)
	}
	if t.userinfo != "" && !shape.auth {
		v, err := cl.basicAuth(t.userinfo)
		if err != nil {
			return err
		}
		w("authorization", v, true)
	}
	opts := &cl.t.opts
	for i := range s.header {
		h := &s.header[i]
		switch {
		case framedByClient(h.Name), equalFold(h.Name, "Host"), equalFold(h.Name, "Keep-Alive"),
			equalFold(h.Name, "Proxy-Connection"), equalFold(h.Name, "Upgrade"):
			continue
		case equalFold(h.Name, "TE") && h.Value != "trailers":
			continue
		}
		w(cl.lowerName(h.Name), h.Value, IsSecretHeader(h.Name, opts.SecretHeaders))
	}
	if len(s.body) > 0 || methodExpectsBody(s.method) {
		if cl.lenValue == "" || cl.lenBody != len(s.body) {
			cl.lenBody, cl.lenValue = len(s.body), strconv.Itoa(len(s.body))
		}
		w("content-length", cl.lenValue, false)
	}
	return nil
}

// needsEscape reports whether appendTarget would change p.
func needsEscape(p string) bool {
	for i := 0; i < len(p); i++ {
		if p[i] <= ' ' || p[i] >= 0x7f {
			return true
		}
	}
	return false
}

// lowerName returns name in lower case, from a cache: header names repeat.
func (cl *h2Client) lowerName(name string) string {
	lower := true
	for i := 0; i < len(name); i++ {
		if 'A' <= name[i] && name[i] <= 'Z' {
			lower = false
			break
		}
	}
	if lower {
		return name
	}
	if l, ok := cl.lower[name]; ok {
		return l
	}
	if cl.lower == nil || len(cl.lower) > 256 {
		cl.lower = map[string]string{}
	}
	l := lowerASCII(name)
	cl.lower[name] = l
	return l
}

// basicAuth encodes URL userinfo as a Basic credential, caching the last.
func (cl *h2Client) basicAuth(userinfo string) (string, error) {
	if userinfo == cl.authKey && cl.authVal != "" {
		return cl.authVal, nil
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
		return "", clientErrorf("URL userinfo: %v", err)
	}
	cl.authKey = userinfo
	cl.authVal = "Basic " + base64.StdEncoding.EncodeToString([]byte(u+":"+p))
	return cl.authVal, nil
}
