package loadgen

import (
	"bufio"
	"io"
)

// readLine returns the next line without its line ending. The slice is
// valid until the next read. Lines longer than the read buffer are
// assembled in c.scratch, up to limit bytes.
func (c *h1Client) readLine(limit int) ([]byte, error) {
	line, err := c.br.ReadSlice('\n')
	if err == bufio.ErrBufferFull {
		c.scratch = append(c.scratch[:0], line...)
		for err == bufio.ErrBufferFull {
			if len(c.scratch) > limit {
				c.lineBytes += int64(len(c.scratch))
				return nil, protocolErrorf("line longer than %d bytes", limit)
			}
			line, err = c.br.ReadSlice('\n')
			c.scratch = append(c.scratch, line...)
		}
		line = c.scratch
	}
	c.lineBytes += int64(len(line))
	if err != nil {
		if err == io.EOF && len(line) > 0 {
			err = io.ErrUnexpectedEOF
		}
		return nil, err
	}
	if len(line) > limit {
		return nil, protocolErrorf("line longer than %d bytes", limit)
	}
	line = line[:len(line)-1]
	if n := len(line); n > 0 && line[n-1] == '\r' {
		line = line[:n-1]
	}
	return line, nil
}

// readResponse reads one response (skipping 1xx interim responses) and its
// whole body into res.
func (c *h1Client) readResponse(method string, req *Request, res *Response, wantLocation bool) (h1Status, error) {
	c.lineBytes = 0
	if cap(c.scratch) > h1KeepScratch {
		// A line of up to h1MaxHeaderBytes grew it to as much as twice
		// that; kept, a hostile server would pin ~2 MiB per connection
		// (2 GB at -c 1000). Long lines are rare, so the next one pays
		// for its own buffer.
		c.scratch = nil
	}
	var st h1Status
	var clen int64
	var chunked bool
	var err error
	for interim := 0; ; interim++ {
		st, clen, chunked, err = c.readHead(req, res, wantLocation)
		if err != nil {
			res.BytesIn += c.lineBytes
			return st, err
		}
		if st.status >= 200 || st.status == 101 {
			break
		}
		if interim >= h1MaxInformational {
			res.BytesIn += c.lineBytes
			return st, protocolErrorf("more than %d informational (1xx) responses", h1MaxInformational)
		}
		res.Header = res.Header[:0]
		res.GroupValue = res.GroupValue[:0]
		res.resetQuota()
	}
	res.Status = st.status
	res.BytesIn += c.lineBytes
	c.lineBytes = 0
	switch {
	case method == "HEAD" || st.status == 204 || st.status == 304:
		return st, nil
	case st.status == 101:
		// The server switched protocols we never asked for; nothing on the
		// connection is HTTP/1.1 any more.
		st.close = true
		return st, nil
	case chunked:
		err = c.readChunked(req, res)
	case clen >= 0:
		err = c.readBody(clen, req, res, false)
	default:
		st.close = true
		err = c.readBody(-1, req, res, true)
	}
	res.BytesIn += c.lineBytes
	c.lineBytes = 0
	return st, err
}

// readHead reads a status line and headers. clen is -1 when the response
// has no Content-Length.
func (c *h1Client) readHead(req *Request, res *Response, wantLocation bool) (st h1Status, clen int64, chunked bool, err error) {
	clen = -1
	line, err := c.readLine(h1MaxHeaderBytes)
	if err != nil {
		return st, clen, false, err
	}
	// "HTTP/1.x SSS[ reason]"
	if len(line) < 12 || string(line[:7]) != "HTTP/1." || line[7] < '0' || line[7] > '9' || line[8] != ' ' ||
		(len(line) > 12 && line[12] != ' ') {
		return st, clen, false, protocolErrorf("bad status line %q", clip(line))
	}
	for _, d := range line[9:12] {
		if d < '0' || d > '9' {
			return st, clen, false, protocolErrorf("bad status code in %q", clip(line))
		}
	}
	st.status = int(line[9]-'0')*100 + int(line[10]-'0')*10 + int(line[11]-'0')
	if st.status < 100 {
		return st, clen, false, protocolErrorf("bad status code in %q", clip(line))
	}
	http10 := line[7] == '0'
	keepAlive := false
	size := len(line)
	var te bool
	c.loc = c.loc[:0]
	for {
		line, err = c.readLine(h1MaxHeaderBytes)
		if err != nil {
			return st, clen, false, err
		}
		if len(line) == 0 {
			break
		}
		size += len(line)
		if size > h1MaxHeaderBytes {
			return st, clen, false, protocolErrorf("response head larger than %d bytes", h1MaxHeaderBytes)
		}
		if line[0] == ' ' || line[0] == '\t' {
			// Obsolete line folding continues the previous value; only
			// kept headers need it.
			if req.KeepHeaders && len(res.Header) > 0 {
				h := &res.Header[len(res.Header)-1]
				h.Value += " " + string(trimOWS(line))
			}
			continue
		}
		colon := -1
		for i, b := range line {
			if b == ':' {
				colon = i
				break
			}
		}
		if colon <= 0 {
			return st, clen, false, protocolErrorf("bad header line %q", clip(line))
		}
		name := line[:colon]
		if b := name[len(name)-1]; b == ' ' || b == '\t' {
			return st, clen, false, protocolErrorf("space before colon in header %q", clip(name))
		}
		value := trimOWS(line[colon+1:])
		switch len(name) {
		case 14:
			if equalFoldLower(name, "content-length") {
				n, ok := parseDecimal(value)
				if !ok || (clen >= 0 && n != clen) {
					return st, clen, false, protocolErrorf("bad Content-Length %q", clip(value))
				}
				clen = n
			}
		case 17:
			if equalFoldLower(name, "transfer-encoding") {
				te = true
				chunked = lastTokenIs(value, "chunked")
			}
		case 10:
			if equalFoldLower(name, "connection") {
				if hasToken(value, "close") {
					st.close = true
				}
				if hasToken(value, "keep-alive") {
					keepAlive = true
				}
			}
		case 8:
			if wantLocation && equalFoldLower(name, "location") {
				c.loc = append(c.loc[:0], value...)
				st.location = true
			}
		}
		quotaHeader(res, name, value)
		if req.KeepHeaders {
			res.Header = append(res.Header, Header{Name: string(name), Value: string(value)})
		}
		if g := req.GroupBy; g != nil && g.Header != "" && len(res.GroupValue) == 0 && isHeader(name, g.Header) {
			res.GroupValue = append(res.GroupValue, value...)
		}
	}
	if http10 && !keepAlive {
		st.close = true
	}
	if te {
		// Transfer-Encoding overrides Content-Length (RFC 9112 6.3); a body
		// not framed by chunked runs to the end of the connection, and a
		// message with both is suspect, so the connection is not reused.
		if clen >= 0 {
			st.close = true
		}
		clen = -1
		if !chunked {
			st.close = true
		}
	}
	return st, clen, chunked, nil
}

// clip shortens a slice of a malformed response for an error message.
func clip(b []byte) string {
	const max = 64
	if len(b) > max {
		return string(b[:max]) + "…"
	}
	return string(b)
}

// readBody reads n body bytes (or up to EOF when untilEOF), keeping the
// first req.KeepBody of them in res.Body and counting all of them. It reads
// from the bufio buffer in place, so a discarded body is never copied.
func (c *h1Client) readBody(n int64, req *Request, res *Response, untilEOF bool) error {
	for untilEOF || n > 0 {
		if c.br.Buffered() == 0 {
			if _, err := c.br.Peek(1); err != nil {
				if untilEOF && err == io.EOF {
					return nil
				}
				if err == io.EOF {
					err = io.ErrUnexpectedEOF
				}
				return err
			}
		}
		k := c.br.Buffered()
		if !untilEOF && int64(k) > n {
			k = int(n)
		}
		if room := req.KeepBody - len(res.Body); room > 0 {
			p, _ := c.br.Peek(min(k, room))
			res.Body = append(res.Body, p...)
		}
		_, _ = c.br.Discard(k)
		res.BytesIn += int64(k)
		res.BodySize += int64(k)
		n -= int64(k)
	}
	return nil
}

// readChunked reads a chunked body and its trailers.
func (c *h1Client) readChunked(req *Request, res *Response) error {
	for {
		line, err := c.readLine(h1MaxHeaderBytes)
		if err != nil {
			return chunkEOF(err)
		}
		size, ok := parseChunkSize(line)
		if !ok {
			return protocolErrorf("bad chunk size line %q", clip(line))
		}
		if size == 0 {
			break
		}
		if err := c.readBody(size, req, res, false); err != nil {
			return err
		}
		line, err = c.readLine(h1MaxHeaderBytes)
		if err != nil {
			return chunkEOF(err)
		}
		if len(line) != 0 {
			return protocolErrorf("chunk data longer than its size")
		}
	}
	trailers := 0
	for {
		line, err := c.readLine(h1MaxHeaderBytes)
		if err != nil {
			return chunkEOF(err)
		}
		if len(line) == 0 {
			return nil
		}
		trailers += len(line)
		if trailers > h1MaxHeaderBytes {
			return protocolErrorf("trailers larger than %d bytes", h1MaxHeaderBytes)
		}
	}
}

// chunkEOF turns a clean EOF inside a chunked body into an unexpected one.
func chunkEOF(err error) error {
	if err == io.EOF {
		return io.ErrUnexpectedEOF
	}
	return err
}
