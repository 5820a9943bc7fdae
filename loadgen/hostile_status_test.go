package loadgen

import (
	"bufio"
	"context"
	"net"
	"net/http"
	"testing"
	"time"
)

// readHead reads a request head up to its blank line, not the body.
func readHead(c net.Conn) (*bufio.Reader, error) {
	br := bufio.NewReader(c)
	for {
		line, err := br.ReadString('\n')
		if err != nil {
			return br, err
		}
		if line == "\r\n" {
			return br, nil
		}
	}
}

// TestStatusBeyond599IsProtocol: a status of 600–999 is not HTTP; it is
// recorded with its number and counted as a protocol error, not http_5xx.
func TestStatusBeyond599IsProtocol(t *testing.T) {
	srv := newRawServer(t, func(c net.Conn) {
		for {
			if _, err := readHead(c); err != nil {
				return
			}
			if _, err := c.Write([]byte("HTTP/1.1 799 Whatever\r\nContent-Length: 0\r\n\r\n")); err != nil {
				return
			}
		}
	})
	res, err := Run(context.Background(), staticPlan(srv.URL, ConstantPacer{PerSecond: 100, Length: 50 * time.Millisecond}))
	if err != nil {
		t.Fatal(err)
	}
	if res.Total.Status[799] != res.Total.Requests || res.Total.ErrorKinds["protocol"] != res.Total.Requests || res.Total.ErrorKinds["http_5xx"] != 0 {
		t.Fatalf("statuses %v, error kinds %v; want every request 799 and protocol", res.Total.Status, res.Total.ErrorKinds)
	}
}

// TestEarlyAnswerBeforeTheBodyKeepsItsStatus: a server that answers a large
// upload at once (413) and closes without reading the body gives the
// request that status, not a reset.
func TestEarlyAnswerBeforeTheBodyKeepsItsStatus(t *testing.T) {
	srv := newRawServer(t, func(c net.Conn) {
		if _, err := readHead(c); err != nil {
			return
		}
		c.Write([]byte("HTTP/1.1 413 Payload Too Large\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"))
		// Returning closes the connection with the body unread.
	})
	tr, err := NewTransport(ClientOptions{Timeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer tr.Close()
	c, _ := tr.NewClient()
	defer c.Close()
	body := make([]byte, 32<<20)
	for range 3 { // on fresh and on replaced connections alike
		res, err := tdo(c, context.Background(), "POST", srv.URL+"/upload", func(r *Request) { r.Body = body })
		if err != nil || res.Status != http.StatusRequestEntityTooLarge {
			t.Fatalf("status %d, error %v; want 413 and no error", res.Status, err)
		}
	}
}
