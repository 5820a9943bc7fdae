package loadgen

import (
	"bufio"
	"bytes"
	"context"
	"io"
	"net"
	"net/http"
	"testing"
	"time"
)

// FuzzH1Response feeds arbitrary bytes to the raw client as a server's
// answer (over a net.Pipe) and checks that it never panics or hangs, that
// every failure is a classified error, and that a success is a sane parse:
// a real status, no more bytes counted than sent, no more body kept than
// asked. Where net/http also accepts the bytes, both must read the same
// status.
func FuzzH1Response(f *testing.F) {
	seeds := []string{
		"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello",
		"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5;a=b\r\nhello\r\n0\r\nT: 1\r\n\r\n",
		"HTTP/1.0 200 OK\r\n\r\nuntil close",
		"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 204 No Content\r\n\r\n",
		"HTTP/1.1 301 Moved\r\nLocation: /x\r\nContent-Length: 0\r\n\r\nHTTP/1.1 200 OK\r\n\r\n",
		"HTTP/1.1 200 OK\r\nX: a\r\n b\r\nConnection: close\r\n\r\n",
		"HTTP/1.1 200\nContent-Length: 1\n\nx",
		"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nfffffffffffffff\r\n",
		"garbage\r\n\r\n",
		"",
	}
	for _, s := range seeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		c := newTestH1(t, ClientOptions{Timeout: 5 * time.Second})
		c.t.dial = func(ctx context.Context, addr string, deadline time.Time) (net.Conn, error) {
			cli, srv := net.Pipe()
			go func() {
				defer srv.Close()
				if _, err := readReqHead(bufio.NewReader(srv)); err != nil {
					return
				}
				srv.Write(data)
			}()
			return cli, nil
		}
		for i := range 2 {
			req := Request{Method: "GET", URL: "http://fuzz/", KeepBody: 64, KeepHeaders: true}
			var res Response
			err := c.Do(context.Background(), &req, &res)
			if res.BytesIn > int64(len(data)) {
				t.Fatalf("request %d: BytesIn %d > %d bytes sent", i, res.BytesIn, len(data))
			}
			if len(res.Body) > req.KeepBody {
				t.Fatalf("request %d: kept %d body bytes, asked for %d", i, len(res.Body), req.KeepBody)
			}
			if err != nil {
				if k := Classify(err); k != KindEOF && k != KindProtocol {
					t.Fatalf("request %d: error %v classified %s, want eof or protocol", i, err, k)
				}
				return
			}
			if res.Status < 100 || res.Status > 999 {
				t.Fatalf("request %d: status %d accepted", i, res.Status)
			}
			if i == 0 && res.Status >= 200 {
				if hr, herr := http.ReadResponse(bufio.NewReader(bytes.NewReader(data)), nil); herr == nil {
					_, berr := io.Copy(io.Discard, hr.Body)
					if berr == nil && hr.StatusCode >= 200 && hr.StatusCode != res.Status {
						t.Fatalf("status %d, net/http reads %d", res.Status, hr.StatusCode)
					}
				}
			}
		}
	})
}
