package loadgen

import (
	"bufio"
	"bytes"
	"io"
)

// h1Framer reads one HTTP/1.1 response from bytes handed to it as they
// come, for the socket loop (sockloop_linux.go), which owns no goroutine per
// connection and so cannot block in a reader the way h1Client does. It
// agrees with h1Client.readResponse on every input (FuzzFramerAgreesWithReader):
// the head is parsed by the same readHead once it is whole, the body is
// framed by the same rules (HEAD, 1xx, 204, 304, 101, chunked,
// Content-Length, to the end of the connection) and counted, never kept.
// Only what the socket loop's requests need is supported: no kept headers,
// body or Location, which is why the loop runs static requests without
// checks alone.
type h1Framer struct {
	hp     *h1HeadParser
	method string // the request's, for HEAD
	state  frameState
	remain int64  // body or chunk bytes still to come
	line   []byte // an unfinished head or line carried between feeds
	// interim counts the 1xx responses skipped; trailers the bytes of the
	// trailer block so far.
	interim, trailers int
	// got says a byte of this response has come: a connection that dies
	// before one may be retried.
	got bool
	st  h1Status
}

// frameState is where in a response the framer is.
type frameState uint8

const (
	frameHead      frameState = iota // the status line and headers
	frameBody                        // remain bytes of a Content-Length body
	frameUntilEOF                    // a body that ends with the connection
	frameChunkSize                   // a chunk-size line
	frameChunkData                   // remain bytes of a chunk
	frameChunkEnd                    // the line ending a chunk's data
	frameTrailers                    // the trailer block
	frameDone                        // the response is whole
)

// h1HeadParser parses whole heads for framers: one serves every
// connection of a socket loop, which parses one head at a time.
type h1HeadParser struct {
	c   h1Client     // a shell whose readHead parses a whole head
	src bytes.Reader // what c.br reads: the head's bytes
	req Request      // the request's options as readHead sees them (none kept)
}

// h1FrameHeadBuffer is the head parser's read buffer; longer lines are
// assembled in the shell's scratch, as h1Client does.
const h1FrameHeadBuffer = 4 << 10

func newH1HeadParser() *h1HeadParser {
	hp := &h1HeadParser{}
	hp.c.br = bufio.NewReaderSize(&hp.src, h1FrameHeadBuffer)
	return hp
}

// parse reads head, a status line and headers through its blank line (or
// what came of them), with readHead.
func (hp *h1HeadParser) parse(head []byte, res *Response) (st h1Status, clen int64, chunked bool, err error) {
	hp.src.Reset(head)
	hp.c.br.Reset(&hp.src)
	hp.c.lineBytes = 0
	st, clen, chunked, err = hp.c.readHead(&hp.req, res, false)
	if cap(hp.c.scratch) > h1KeepScratch {
		hp.c.scratch = nil
	}
	return st, clen, chunked, err
}

// reset readies the framer for the response to a request with method.
func (f *h1Framer) reset(method string) {
	f.method, f.state, f.remain = method, frameHead, 0
	f.interim, f.trailers, f.got = 0, 0, false
	f.st = h1Status{}
	if cap(f.line) > h1KeepScratch {
		f.line = nil // a hostile head's buffer is not kept
	}
	f.line = f.line[:0]
}

// feed takes the next bytes of the response, filling res (status, quota,
// bytes in), and returns how many it used and whether the response is
// whole. Bytes after a whole response are not used. An error ends the
// response and its connection.
func (f *h1Framer) feed(p []byte, res *Response) (used int, done bool, err error) {
	if len(p) > 0 {
		f.got = true
	}
	for used < len(p) && f.state != frameDone {
		var n int
		switch f.state {
		case frameHead:
			n, err = f.feedHead(p[used:], res)
		case frameBody, frameChunkData:
			n = int(min(int64(len(p)-used), f.remain))
			f.remain -= int64(n)
			if f.remain == 0 {
				if f.state == frameBody {
					f.state = frameDone
				} else {
					f.state = frameChunkEnd
				}
			}
		case frameUntilEOF:
			n = len(p) - used
		default:
			n, err = f.feedLine(p[used:])
		}
		used += n
		res.BytesIn += int64(n)
		if err != nil {
			return used, false, err
		}
	}
	return used, f.state == frameDone, nil
}

// eof tells the framer the connection ended: the end of a body that runs
// to it, or an error that says where the response was cut.
func (f *h1Framer) eof() (done bool, err error) {
	switch {
	case f.state == frameDone:
		return true, nil
	case f.state == frameUntilEOF:
		f.state = frameDone
		return true, nil
	case f.state == frameHead && len(f.line) == 0:
		return false, io.EOF
	case f.state == frameHead:
		// The head so far, parsed as the reader would have: a bad line in
		// it is the error, else the cut (EOF at a line's start, or
		// unexpected EOF within one).
		_, _, _, err := f.hp.parse(f.line, &Response{})
		if err == nil {
			err = io.ErrUnexpectedEOF
		}
		return false, err
	}
	return false, io.ErrUnexpectedEOF
}

// feedHead gathers a head until its blank line and parses it whole.
func (f *h1Framer) feedHead(p []byte, res *Response) (int, error) {
	head, n := p, 0
	from := 0
	if len(f.line) > 0 {
		// A head split across reads: gather it (rare; small reads).
		from = max(len(f.line)-2, 0)
		f.line = append(f.line, p...)
		head = f.line
	}
	end := headEnd(head, from)
	if end < 0 {
		if len(f.line) == 0 {
			f.line = append(f.line, p...)
		}
		if len(f.line) > h1MaxHeaderBytes+2 {
			return len(p), protocolErrorf("response head larger than %d bytes", h1MaxHeaderBytes)
		}
		return len(p), nil
	}
	// Of p, what the head's end leaves behind is not used.
	n = len(p) - (len(head) - end)
	st, clen, chunked, err := f.hp.parse(head[:end], res)
	f.line = f.line[:0]
	if err != nil {
		return n, err
	}
	if st.status < 200 && st.status != 101 {
		if f.interim >= h1MaxInformational {
			return n, protocolErrorf("more than %d informational (1xx) responses", h1MaxInformational)
		}
		f.interim++
		res.Header = res.Header[:0]
		res.GroupValue = res.GroupValue[:0]
		res.resetQuota()
		return n, nil
	}
	res.Status = st.status
	f.st = st
	switch {
	case f.method == "HEAD" || st.status == 204 || st.status == 304:
		f.state = frameDone
	case st.status == 101:
		f.st.close = true
		f.state = frameDone
	case chunked:
		f.state = frameChunkSize
	case clen > 0:
		f.state, f.remain = frameBody, clen
	case clen == 0:
		f.state = frameDone
	default:
		f.st.close = true
		f.state = frameUntilEOF
	}
	return n, nil
}

// headEnd returns the length of the head at the start of b (through its
// blank line), or -1 if the blank line has not come; from is where the
// search may start (the bytes before it were searched already). Lines end
// with LF, optionally after CR, as readLine reads them; a blank first line
// ends the head at once, and readHead rejects it.
func headEnd(b []byte, from int) int {
	if from == 0 {
		switch {
		case len(b) >= 1 && b[0] == '\n':
			return 1
		case len(b) >= 2 && b[0] == '\r' && b[1] == '\n':
			return 2
		}
	}
	for i := from; ; {
		j := bytes.IndexByte(b[i:], '\n')
		if j < 0 {
			return -1
		}
		i += j + 1
		switch {
		case i < len(b) && b[i] == '\n':
			return i + 1
		case i+1 < len(b) && b[i] == '\r' && b[i+1] == '\n':
			return i + 2
		}
	}
}

// feedLine gathers one line of a chunked body (a chunk's size, the end of
// its data, a trailer) and acts on it.
func (f *h1Framer) feedLine(p []byte) (int, error) {
	i := bytes.IndexByte(p, '\n')
	if i < 0 {
		f.line = append(f.line, p...)
		if len(f.line) > h1MaxHeaderBytes {
			return len(p), protocolErrorf("line longer than %d bytes", h1MaxHeaderBytes)
		}
		return len(p), nil
	}
	line := p[:i]
	if len(f.line) > 0 {
		f.line = append(f.line, line...)
		line = f.line
	}
	if len(line) > h1MaxHeaderBytes {
		return i + 1, protocolErrorf("line longer than %d bytes", h1MaxHeaderBytes)
	}
	if n := len(line); n > 0 && line[n-1] == '\r' {
		line = line[:n-1]
	}
	err := f.onLine(line)
	f.line = f.line[:0]
	return i + 1, err
}

// onLine moves a chunked body on by one line, as readChunked does.
func (f *h1Framer) onLine(line []byte) error {
	switch f.state {
	case frameChunkSize:
		size, ok := parseChunkSize(line)
		if !ok {
			return protocolErrorf("bad chunk size line %q", clip(line))
		}
		if size == 0 {
			f.state = frameTrailers
		} else {
			f.state, f.remain = frameChunkData, size
		}
	case frameChunkEnd:
		if len(line) != 0 {
			return protocolErrorf("chunk data longer than its size")
		}
		f.state = frameChunkSize
	case frameTrailers:
		if len(line) == 0 {
			f.state = frameDone
			return nil
		}
		f.trailers += len(line)
		if f.trailers > h1MaxHeaderBytes {
			return protocolErrorf("trailers larger than %d bytes", h1MaxHeaderBytes)
		}
	}
	return nil
}
