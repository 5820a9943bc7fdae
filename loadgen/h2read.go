package loadgen

import (
	"errors"
	"fmt"
	"io"
	"strconv"
	"time"

	"golang.org/x/net/http2"
	"golang.org/x/net/http2/hpack"
)

// readLoop is the connection's reader goroutine: it reads every frame the
// server sends and hands each response to the worker waiting for it.
func (c *h2Conn) readLoop() {
	defer close(c.readerDone)
	for {
		f, err := c.readFrame()
		if err == nil && f != nil {
			c.lastRead.Store(time.Now().UnixNano())
			err = c.handle(f)
		}
		if err != nil && c.readFailed(err) {
			return
		}
	}
}

// readFailed takes an error from reading or handling a frame: a stream
// error resets that stream, anything else ends the connection (with a
// GOAWAY first if the server broke the protocol). It reports whether the
// connection ended.
func (c *h2Conn) readFailed(err error) bool {
	var se http2.StreamError
	if errors.As(err, &se) {
		c.resetStream(se.StreamID, se.Code, &StepError{Kind: KindProtocol, Name: "HTTP/2 protocol error", Err: err})
		return false
	}
	var ce http2.ConnectionError
	var ste *StepError
	if errors.As(err, &ce) || (errors.As(err, &ste) && ste.Kind == KindProtocol) {
		c.writeControl(func(fr *http2.Framer) error {
			return fr.WriteGoAway(0, http2.ErrCodeProtocol, nil)
		})
	}
	c.close(c.readError(err))
	return true
}

// readFrame reads the next frame. A header block fragment is read into
// the connection's own buffer and handled here (f is nil): the Framer
// allocates a HeadersFrame per HEADERS frame, one allocation per response.
func (c *h2Conn) readFrame() (http2.Frame, error) {
	fh, err := c.fr.ReadFrameHeader()
	if err != nil {
		return nil, err
	}
	if fh.Type != http2.FrameHeaders && fh.Type != http2.FrameContinuation {
		return c.fr.ReadFrameForHeader(fh)
	}
	if fh.StreamID == 0 {
		return nil, http2.ConnectionError(http2.ErrCodeProtocol)
	}
	if cap(c.hpay) < int(fh.Length) {
		c.hpay = make([]byte, fh.Length)
	}
	frag := c.hpay[:fh.Length]
	if _, err := io.ReadFull(c.br, frag); err != nil {
		return nil, err
	}
	if fh.Type == http2.FrameHeaders {
		if fh.Flags.Has(http2.FlagHeadersPadded) {
			if len(frag) == 0 || int(frag[0]) > len(frag)-1 {
				return nil, http2.ConnectionError(http2.ErrCodeProtocol)
			}
			frag = frag[1 : len(frag)-int(frag[0])]
		}
		if fh.Flags.Has(http2.FlagHeadersPriority) {
			if len(frag) < 5 {
				return nil, http2.ConnectionError(http2.ErrCodeProtocol)
			}
			frag = frag[5:]
		}
	}
	c.lastRead.Store(time.Now().UnixNano())
	streamEnd := fh.Type == http2.FrameHeaders && fh.Flags.Has(http2.FlagHeadersEndStream)
	if err := c.onHeaderBlock(fh.StreamID, frag, fh.Flags.Has(http2.FlagHeadersEndHeaders), streamEnd, int(fh.Length)); err != nil {
		return nil, err
	}
	return nil, nil
}

// readError classifies the error that ended the reader.
func (c *h2Conn) readError(err error) error {
	c.mu.Lock()
	dead, goAway := c.dead, c.goAway
	c.mu.Unlock()
	if dead != nil {
		return dead
	}
	err = c.connError(err, false)
	if goAway {
		return fmt.Errorf("after GOAWAY: %w", err)
	}
	return err
}

// handle processes one frame; an error is a connection error.
func (c *h2Conn) handle(f http2.Frame) error {
	switch f := f.(type) {
	case *http2.DataFrame:
		return c.onData(f)
	case *http2.HeadersFrame:
		return c.onHeaderBlock(f.StreamID, f.HeaderBlockFragment(), f.HeadersEnded(), f.StreamEnded(), int(f.Length))
	case *http2.ContinuationFrame:
		return c.onHeaderBlock(f.StreamID, f.HeaderBlockFragment(), f.HeadersEnded(), false, int(f.Length))
	case *http2.RSTStreamFrame:
		c.onReset(f)
	case *http2.SettingsFrame:
		if f.IsAck() {
			return nil
		}
		if err := c.applySettings(f); err != nil {
			return err
		}
		c.writeControl(func(fr *http2.Framer) error { return fr.WriteSettingsAck() })
	case *http2.PingFrame:
		if !f.IsAck() {
			data := f.Data
			c.writeControl(func(fr *http2.Framer) error { return fr.WritePing(true, data) })
		}
	case *http2.WindowUpdateFrame:
		return c.onWindowUpdate(f)
	case *http2.GoAwayFrame:
		c.onGoAway(f)
	case *http2.PushPromiseFrame:
		// SETTINGS_ENABLE_PUSH is 0: a promise breaks the protocol.
		return &StepError{Kind: KindProtocol, Name: "HTTP/2 protocol error", Err: errors.New("PUSH_PROMISE with push disabled")}
	}
	// PRIORITY and unknown frame types are ignored, as the RFC says.
	return nil
}

// onHeaderBlock decodes a fragment of a header block. The decoder runs
// for every block, of streams abandoned too, so that its table stays in
// step with the server's.
func (c *h2Conn) onHeaderBlock(id uint32, frag []byte, ended, streamEnd bool, size int) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.hdrBytes == 0 {
		c.cur = c.streams[id]
		c.hdrErr = nil
		// Header values are decoded only when wanted: :status comes
		// first (pseudo-headers lead a block), and emit turns decoding
		// off after it unless headers are kept or redirects followed.
		c.hdec.SetEmitEnabled(true)
		if c.cur != nil {
			c.cur.gotFrame = true
			c.cur.trailers = c.cur.final
		}
	}
	c.hdrBytes += len(frag)
	st := c.cur
	if st != nil {
		st.res.BytesIn += int64(size) + 9
	}
	if c.hdrBytes > h2MaxHeaderList {
		return &StepError{Kind: KindProtocol, Name: "HTTP/2 protocol error", Err: fmt.Errorf("response header block over %d bytes", h2MaxHeaderList)}
	}
	if _, err := c.hdec.Write(frag); err != nil {
		return &StepError{Kind: KindProtocol, Name: "HTTP/2 protocol error", Err: fmt.Errorf("header block: %w", err)}
	}
	if !ended {
		return nil
	}
	c.hdrBytes = 0
	c.cur = nil
	if err := c.hdec.Close(); err != nil {
		return &StepError{Kind: KindProtocol, Name: "HTTP/2 protocol error", Err: fmt.Errorf("header block: %w", err)}
	}
	if st == nil {
		return nil
	}
	switch {
	case c.hdrErr != nil:
		c.resetLocked(id, st, http2.ErrCodeProtocol, c.hdrErr)
	case !st.trailers && st.status == 0:
		c.resetLocked(id, st, http2.ErrCodeProtocol, &StepError{Kind: KindProtocol, Name: "HTTP/2 protocol error", Err: errors.New("response without :status")})
	case st.trailers && !streamEnd:
		c.resetLocked(id, st, http2.ErrCodeProtocol, &StepError{Kind: KindProtocol, Name: "HTTP/2 protocol error", Err: errors.New("trailers without END_STREAM")})
	case streamEnd && st.final:
		c.finish(id, st, nil)
	case streamEnd:
		c.resetLocked(id, st, http2.ErrCodeProtocol, &StepError{Kind: KindProtocol, Name: "HTTP/2 protocol error", Err: errors.New("stream ended after an informational response")})
	}
	return nil
}

// emit receives one decoded header field of the block in progress.
func (c *h2Conn) emit(f hpack.HeaderField) {
	st := c.cur
	if st == nil || st.trailers || c.hdrErr != nil {
		return
	}
	if f.Name == ":status" {
		n, err := strconv.Atoi(f.Value)
		if err != nil || len(f.Value) != 3 || st.final {
			c.hdrErr = &StepError{Kind: KindProtocol, Name: "HTTP/2 protocol error", Err: fmt.Errorf("bad :status %q", f.Value)}
			return
		}
		// An informational head (100 Continue, 103 Early Hints) comes
		// before the final one and leaves nothing behind.
		st.status = n
		st.final = n >= 200 || n == 101
		if st.final {
			st.res.Status = n
			if !st.keepHdr && !st.follow && st.groupHdr == "" {
				c.hdec.SetEmitEnabled(false)
			}
		}
		return
	}
	if !st.final {
		return
	}
	if st.keepHdr && (len(f.Name) == 0 || f.Name[0] != ':') {
		st.res.Header = append(st.res.Header, Header{Name: f.Name, Value: f.Value})
	}
	if st.follow && f.Name == "location" {
		st.loc = append(st.loc[:0], f.Value...)
	}
	if st.groupHdr != "" && len(st.res.GroupValue) == 0 && equalFold(f.Name, st.groupHdr) {
		st.res.GroupValue = append(st.res.GroupValue, f.Value...)
	}
	quotaHeader(st.res, f.Name, f.Value)
}

// onData takes a DATA frame: counted, kept up to KeepBody, and returned
// to the flow-control windows.
func (c *h2Conn) onData(f *http2.DataFrame) error {
	n := f.Length
	id := f.StreamID
	c.mu.Lock()
	// The connection's window first: on a solo connection the frame that
	// ends the stream passes the reading to the slot's next holder.
	c.recvUnacked += n
	var connInc uint32
	if c.recvUnacked >= h2ConnWindow/2 {
		connInc, c.recvUnacked = c.recvUnacked, 0
	}
	st := c.streams[id]
	var streamInc uint32
	if st != nil {
		st.gotFrame = true
		data := f.Data()
		res := st.res
		res.BytesIn += int64(n) + 9
		res.BodySize += int64(len(data))
		if room := st.req.KeepBody - len(res.Body); room > 0 {
			res.Body = append(res.Body, data[:min(len(data), room)]...)
		}
		switch {
		case !st.final:
			c.resetLocked(id, st, http2.ErrCodeProtocol, &StepError{Kind: KindProtocol, Name: "HTTP/2 protocol error", Err: errors.New("DATA before the response head")})
		case f.StreamEnded():
			c.finish(id, st, nil)
		default:
			st.recvUnack += n
			if st.recvUnack >= h2StreamWindow/2 {
				streamInc, st.recvUnack = st.recvUnack, 0
			}
		}
	}
	c.mu.Unlock()
	if connInc > 0 || streamInc > 0 {
		c.writeControl(func(fr *http2.Framer) error {
			var err error
			if connInc > 0 {
				err = fr.WriteWindowUpdate(0, connInc)
			}
			if streamInc > 0 && err == nil {
				err = fr.WriteWindowUpdate(id, streamInc)
			}
			return err
		})
	}
	return nil
}

// onReset ends a stream the server reset. REFUSED_STREAM means the server
// did not process the request: it is sent again.
func (c *h2Conn) onReset(f *http2.RSTStreamFrame) {
	c.mu.Lock()
	defer c.mu.Unlock()
	st := c.streams[f.StreamID]
	if st == nil {
		return
	}
	err := &StepError{Kind: KindReset, Name: "HTTP/2 stream reset", Err: fmt.Errorf("the server reset the stream: %s", f.ErrCode)}
	if f.ErrCode == http2.ErrCodeRefusedStream {
		c.finish(f.StreamID, st, &h2RetryError{err: err})
		return
	}
	c.finish(f.StreamID, st, err)
}

// onGoAway stops new streams; those above the last stream the server will
// process are sent again on another connection.
func (c *h2Conn) onGoAway(f *http2.GoAwayFrame) {
	c.takesNew.Store(false)
	c.mu.Lock()
	defer c.mu.Unlock()
	c.goAway = true
	err := &StepError{Kind: KindReset, Name: "HTTP/2 GOAWAY", Err: fmt.Errorf("the server is closing the connection (%s) before processing the request", f.ErrCode)}
	for id, st := range c.streams {
		if id > f.LastStreamID {
			c.finish(id, st, &h2RetryError{err: err})
		}
	}
	for _, w := range c.waiters {
		signal(w.wake)
	}
	c.waiters = c.waiters[:0]
	if c.active == 0 {
		c.idleClose.Store(true)
		if c.dead == nil {
			c.dead = err
		}
		go func() { _ = c.nc.Close() }()
		return
	}
	c.idleClose.Store(true)
}

// onWindowUpdate grows a send window and wakes the workers waiting for one.
func (c *h2Conn) onWindowUpdate(f *http2.WindowUpdateFrame) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	inc := int64(f.Increment)
	if f.StreamID == 0 {
		if int64(c.sendWin)+inc > 1<<31-1 {
			return &StepError{Kind: KindProtocol, Name: "HTTP/2 protocol error", Err: errors.New("connection send window over 2^31-1")}
		}
		c.sendWin += int32(inc)
	} else if st := c.streams[f.StreamID]; st != nil {
		if int64(st.sendWin)+inc > 1<<31-1 {
			c.resetLocked(f.StreamID, st, http2.ErrCodeFlowControl, &StepError{Kind: KindProtocol, Name: "HTTP/2 protocol error", Err: errors.New("stream send window over 2^31-1")})
			return nil
		}
		st.sendWin += int32(inc)
	}
	for _, st := range c.streams {
		if st.wantWin {
			st.wantWin = false
			signal(st.wake)
		}
	}
	return nil
}

// applySettings takes the server's SETTINGS.
func (c *h2Conn) applySettings(f *http2.SettingsFrame) error {
	table := int64(-1)
	c.mu.Lock()
	err := f.ForeachSetting(func(s http2.Setting) error {
		if err := s.Valid(); err != nil {
			return &StepError{Kind: KindProtocol, Name: "HTTP/2 protocol error", Err: err}
		}
		switch s.ID {
		case http2.SettingMaxConcurrentStreams:
			old := c.limit
			c.limit = min(c.t.streams, int(min(s.Val, 1<<20)))
			for range max(c.limit-old, 0) {
				c.wakeOne()
			}
			if c.solo && c.limit == 0 {
				c.retireLocked()
			}
		case http2.SettingInitialWindowSize:
			delta := int32(s.Val) - c.initWin
			c.initWin = int32(s.Val)
			for _, st := range c.streams {
				st.sendWin += delta
				if delta > 0 && st.wantWin {
					st.wantWin = false
					signal(st.wake)
				}
			}
		case http2.SettingMaxFrameSize:
			c.maxSend = s.Val
		case http2.SettingHeaderTableSize:
			table = int64(s.Val)
		}
		return nil
	})
	c.mu.Unlock()
	if table >= 0 {
		// The encoder belongs to the writers (wmu, taken before mu).
		c.wmu.Lock()
		c.henc.SetMaxDynamicTableSize(uint32(min(table, 4096)))
		c.wmu.Unlock()
	}
	return err
}

// resetStream fails stream id with err and resets it on the wire.
func (c *h2Conn) resetStream(id uint32, code http2.ErrCode, err error) {
	c.mu.Lock()
	if st := c.streams[id]; st != nil {
		c.resetLocked(id, st, code, err)
	}
	c.mu.Unlock()
}

// resetLocked fails st with err and queues a RST_STREAM. Called with mu
// held; the frame goes out from another goroutine, since mu must not be
// held while taking wmu.
func (c *h2Conn) resetLocked(id uint32, st *h2Stream, code http2.ErrCode, err error) {
	c.finish(id, st, err)
	go c.writeControl(func(fr *http2.Framer) error { return fr.WriteRSTStream(id, code) })
}
