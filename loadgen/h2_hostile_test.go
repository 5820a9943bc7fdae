package loadgen

import (
	"bufio"
	"context"
	"encoding/binary"
	"io"
	"net"
	"testing"
	"time"
)

// h2Frame writes one HTTP/2 frame.
func h2Frame(w io.Writer, typ, flags byte, stream uint32, payload []byte) error {
	var h [9]byte
	h[0], h[1], h[2] = byte(len(payload)>>16), byte(len(payload)>>8), byte(len(payload))
	h[3], h[4] = typ, flags
	binary.BigEndian.PutUint32(h[5:], stream)
	if _, err := w.Write(h[:]); err != nil {
		return err
	}
	_, err := w.Write(payload)
	return err
}

// hostileH2Server speaks just enough h2c to take a request, then answers
// it with misbehave: a stream reset or a frame that breaks the protocol.
func hostileH2Server(t *testing.T, misbehave func(w io.Writer, stream uint32) error) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	t.Cleanup(func() { ln.Close(); <-done })
	go func() {
		defer close(done)
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				r := bufio.NewReader(c)
				preface := make([]byte, 24)
				if _, err := io.ReadFull(r, preface); err != nil {
					return
				}
				if h2Frame(c, 4, 0, 0, nil) != nil { // SETTINGS
					return
				}
				for {
					var h [9]byte
					if _, err := io.ReadFull(r, h[:]); err != nil {
						return
					}
					n := int(h[0])<<16 | int(h[1])<<8 | int(h[2])
					if _, err := io.CopyN(io.Discard, r, int64(n)); err != nil {
						return
					}
					typ, flags, stream := h[3], h[4], binary.BigEndian.Uint32(h[5:])&0x7fffffff
					switch {
					case typ == 4 && flags&1 == 0: // their SETTINGS: acknowledge
						h2Frame(c, 4, 1, 0, nil)
					case typ == 1: // HEADERS of a request
						if misbehave(c, stream) != nil {
							return
						}
					}
				}
			}()
		}
	}()
	return "http://" + ln.Addr().String()
}

// TestH2HostileServerClassification: an HTTP/2 stream reset and a
// protocol violation are classified as HTTP/1.1's reset and protocol are,
// not as other.
func TestH2HostileServerClassification(t *testing.T) {
	tests := []struct {
		name      string
		misbehave func(w io.Writer, stream uint32) error
		want      ErrorKind
	}{
		{"stream reset", func(w io.Writer, stream uint32) error {
			return h2Frame(w, 3, 0, stream, []byte{0, 0, 0, 2}) // RST_STREAM INTERNAL_ERROR
		}, KindReset},
		{"goaway", func(w io.Writer, stream uint32) error {
			return h2Frame(w, 7, 0, 0, []byte{0, 0, 0, 0, 0, 0, 0, 2}) // GOAWAY INTERNAL_ERROR
		}, KindReset},
		{"data on stream 0", func(w io.Writer, stream uint32) error {
			return h2Frame(w, 0, 0, 0, []byte("x")) // a connection PROTOCOL_ERROR
		}, KindProtocol},
		{"bad header block", func(w io.Writer, stream uint32) error {
			return h2Frame(w, 1, 4|1, stream, []byte{0xff, 0xff, 0xff, 0xff}) // HPACK garbage
		}, KindProtocol},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			url := hostileH2Server(t, tt.misbehave)
			tr, err := NewTransport(ClientOptions{HTTP2: true, Timeout: 5 * time.Second})
			if err != nil {
				t.Fatal(err)
			}
			defer tr.Close()
			c, _ := tr.NewClient()
			defer c.Close()
			_, err = tdo(c, context.Background(), "GET", url+"/", nil)
			if got := Classify(err); got != tt.want {
				t.Fatalf("Classify(%v) = %s, want %s", err, got, tt.want)
			}
		})
	}
}
