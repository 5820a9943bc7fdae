package loadgen

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"syscall"
	"time"
)

// h1Status is what the head of a response said about framing and what to do
// next.
type h1Status struct {
	status   int
	close    bool // the connection ends after this response
	location bool // a Location header was copied into c.loc
}

// h1Call is what the exchanges of one Do share: the user's request and
// the response it fills, the context, and when the call started and must
// end.
type h1Call struct {
	ctx      context.Context
	req      *Request
	res      *Response
	start    time.Time
	deadline time.Time
	// follow says redirects are followed, so the reader keeps Location.
	follow bool
}

// h1Send is one request as it goes on the wire: the user's, or a
// redirect's follow-up with its own method, target, headers and body.
type h1Send struct {
	method string
	target h1Target
	header []Header
	body   []byte
}

// exchange sends one request and reads its response, on the current
// connection if it can, else on a new one. A request that found a reused
// connection closed by the server before any byte of the response arrived
// is sent once more on a fresh connection, if that is safe.
func (c *h1Client) exchange(call *h1Call, s h1Send) (h1Status, error) {
	ctx, deadline, res, t := call.ctx, call.deadline, call.res, &s.target
	var err error
	c.wbuf, err = c.appendRequest(c.wbuf[:0], s.method, t, s.header, s.body)
	if err != nil {
		return h1Status{}, err
	}
	inline := len(s.body) <= h1InlineBody
	if inline {
		c.wbuf = append(c.wbuf, s.body...)
	}
	idempotent := isIdempotent(s.method, s.header)
	for attempt := 0; ; attempt++ {
		fresh := false
		if (c.conn != nil && (c.tls != t.tls || c.auth != t.authority)) || (c.conn == nil && len(c.parked) > 0) {
			c.switchTo(t)
		}
		if c.conn != nil && call.start.Sub(c.lastUsed) > h1StaleAfter && c.stale() {
			_ = c.closeConn()
		}
		if c.conn == nil {
			if err := c.dial(ctx, t, deadline); err != nil {
				return h1Status{}, err
			}
			fresh = true
		}
		c.lastUsed = call.start
		if err := c.armDeadline(deadline); err != nil {
			// Only a connection closed under us refuses a deadline.
			_ = c.closeConn()
			if !fresh {
				continue
			}
			return h1Status{}, c.ioError(ctx, err, "set deadline")
		}
		// Checked after the deadline is set: a cancellation from here on
		// runs onCancel, which overrides it.
		if err := ctx.Err(); err != nil {
			_ = c.closeConn()
			return h1Status{}, canceledError(err, "before sending")
		}
		var n int
		var werr error
		if inline && c.rio != nil && (c.br == nil || c.br.Buffered() == 0) {
			n, werr = c.rio.sendAwait(c.wbuf)
		} else {
			n, werr = c.conn.Write(c.wbuf)
			if werr == nil && !inline {
				var m int
				m, werr = c.conn.Write(s.body)
				n += m
			}
		}
		res.BytesOut += int64(n)
		if werr != nil && n > 0 && isConnDrop(werr) && !c.interrupted(ctx, werr) {
			// A server may answer (413, 401) and close without reading
			// a large body: its response, when it came, is the outcome.
			c.reader()
			if st, rerr := c.readResponse(s.method, call.req, res, false); rerr == nil {
				_ = c.closeConn()
				st.close = true
				return st, nil
			}
		}
		if werr != nil {
			_ = c.closeConn()
			if !fresh && attempt == 0 && (n == 0 || idempotent) && !c.interrupted(ctx, werr) {
				continue
			}
			return h1Status{}, c.ioError(ctx, werr, "write request")
		}
		before := res.BytesIn
		c.reader()
		st, rerr := c.readResponse(s.method, call.req, res, call.follow)
		if n := res.BytesIn - before; n > int64(c.br.Size()) && c.br.Size() < h1ReadBuffer && c.br.Buffered() == 0 && rerr == nil {
			// Between responses nothing is buffered: the larger buffer
			// takes over the connection at no cost to what was read, and
			// stays the connection's own.
			c.giveBack()
			c.br = bufio.NewReaderSize(c.rd, grownReadBuffer(n))
		}
		if rerr != nil {
			_ = c.closeConn()
			if !fresh && attempt == 0 && idempotent && res.BytesIn == before && isConnDrop(rerr) && !c.interrupted(ctx, rerr) {
				continue
			}
			return h1Status{}, c.ioError(ctx, rerr, "read response")
		}
		c.served++
		if st.close || c.reqClose {
			_ = c.closeConn()
		}
		c.giveBack()
		return st, nil
	}
}

// interrupted reports whether err came from the deadline or a cancellation
// rather than from the server.
func (c *h1Client) interrupted(ctx context.Context, err error) bool {
	return ctx.Err() != nil || errors.Is(err, os.ErrDeadlineExceeded)
}

// isConnDrop reports whether err means the server closed or reset the
// connection.
func isConnDrop(err error) bool {
	return errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) ||
		errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE) || errors.Is(err, syscall.ECONNABORTED)
}

func canceledError(err error, phase string) error {
	kind := KindCanceled
	if errors.Is(err, context.DeadlineExceeded) {
		kind = KindTimeout
	}
	return &StepError{Kind: kind, Name: kind.String(), Err: fmt.Errorf("%s: %w", phase, err)}
}

// ioError names what failed during phase. Deadline errors become timeouts
// (or cancellations, when the run's context ended); the rest keep their
// cause for Classify.
func (c *h1Client) ioError(ctx context.Context, err error, phase string) error {
	if cerr := ctx.Err(); cerr != nil {
		return canceledError(cerr, phase)
	}
	var se *StepError
	if errors.As(err, &se) {
		return err
	}
	if errors.Is(err, os.ErrDeadlineExceeded) {
		return &StepError{Kind: KindTimeout, Name: "timeout",
			Err: fmt.Errorf("%s: no complete response within %s", phase, c.t.timeout)}
	}
	if c.tls && c.served == 0 && isConnDrop(err) {
		// The first exchange on a new TLS connection died: with TLS 1.3
		// that is how a server rejects a missing client certificate.
		if e := c.t.probe.explain(fmt.Errorf("%s: %w", phase, err)); e != nil {
			return e
		}
	}
	switch {
	case errors.Is(err, io.EOF):
		return &StepError{Kind: KindEOF, Name: "connection closed",
			Err: fmt.Errorf("%s: server closed the connection before responding: %w", phase, err)}
	case errors.Is(err, io.ErrUnexpectedEOF):
		return &StepError{Kind: KindEOF, Name: "connection closed",
			Err: fmt.Errorf("%s: server closed the connection mid-response: %w", phase, err)}
	}
	var oe *net.OpError
	if errors.As(err, &oe) && oe.Op == "remote error" {
		// A TLS alert after the handshake, e.g. a TLS 1.3 server that
		// rejects the client certificate only once it has checked it.
		err = fmt.Errorf("%s: %w", phase, err)
		if e := c.t.probe.explain(err); e != nil {
			return e
		}
		return tlsError(err, "")
	}
	return fmt.Errorf("%s: %w", phase, err)
}

// grownReadBuffer is the read buffer for a connection whose last response
// was n bytes, more than its buffer: the smallest power of two from
// h1FirstReadBuffer that holds it, at most h1ReadBuffer.
func grownReadBuffer(n int64) int {
	size := h1FirstReadBuffer
	for int64(size) < n && size < h1ReadBuffer {
		size *= 2
	}
	return size
}
