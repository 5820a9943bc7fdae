package loadgen

import (
	"bufio"
	"bytes"
	"strings"
	"testing"
)

// pullRead reads one response from data with h1Client's reader, as a
// connection's worker would, and returns what it made of it and how many
// bytes it used.
func pullRead(data []byte, method string) (st h1Status, res Response, used int, err error) {
	c := &h1Client{}
	src := bytes.NewReader(data)
	c.br = bufio.NewReaderSize(src, 64)
	st, err = c.readResponse(method, &Request{}, &res, false)
	used = len(data) - src.Len() - c.br.Buffered()
	return st, res, used, err
}

// frameRead feeds data to a framer in pieces of the given sizes (the last
// repeated), then the end of the connection.
func frameRead(data []byte, method string, pieces []int) (st h1Status, res Response, used int, err error) {
	f := &h1Framer{hp: newH1HeadParser()}
	f.reset(method)
	for k := 0; used < len(data); k++ {
		size := pieces[min(k, len(pieces)-1)]
		n, done, ferr := f.feed(data[used:min(used+size, len(data))], &res)
		used += n
		if ferr != nil {
			return f.st, res, used, ferr
		}
		if done {
			return f.st, res, used, nil
		}
	}
	if done, eerr := f.eof(); !done {
		return f.st, res, used, eerr
	}
	return f.st, res, used, nil
}

func TestFramerAgreesWithReader(t *testing.T) {
	long := strings.Repeat("a", 10000)
	cases := []struct{ name, method, data string }{
		{"content-length", "GET", "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello"},
		{"extra after body", "GET", "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nhiHTTP/1.1 200 OK\r\n\r\n"},
		{"chunked with trailers", "GET", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5;a=b\r\nhello\r\n3\r\nabc\r\n0\r\nT: 1\r\n\r\n"},
		{"until close", "GET", "HTTP/1.0 200 OK\r\n\r\nuntil close"},
		{"interim then 204", "GET", "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 204 No Content\r\n\r\n"},
		{"HEAD has no body", "HEAD", "HTTP/1.1 200 OK\r\nContent-Length: 99\r\n\r\n"},
		{"bare LF", "GET", "HTTP/1.1 200\nContent-Length: 1\n\nx"},
		{"connection close", "GET", "HTTP/1.1 503 No\r\nConnection: close\r\nContent-Length: 0\r\n\r\n"},
		{"long header line", "GET", "HTTP/1.1 200 OK\r\nX-Long: " + long + "\r\nContent-Length: 0\r\n\r\n"},
		{"quota", "GET", "HTTP/1.1 429 Slow\r\nRateLimit-Limit: 100\r\nRateLimit-Remaining: 0\r\nContent-Length: 0\r\n\r\n"},
		{"cut in head", "GET", "HTTP/1.1 200 OK\r\nContent-Le"},
		{"cut in body", "GET", "HTTP/1.1 200 OK\r\nContent-Length: 9\r\n\r\nabc"},
		{"cut in chunk", "GET", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhe"},
		{"nothing", "GET", ""},
		{"bad status", "GET", "garbage\r\n\r\n"},
		{"blank first line", "GET", "\r\nHTTP/1.1 200 OK\r\n\r\n"},
		{"bad chunk size", "GET", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n"},
		{"chunk too long", "GET", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n1\r\nab\r\n0\r\n\r\n"},
		{"two lengths", "GET", "HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab"},
		{"too many interim", "GET", strings.Repeat("HTTP/1.1 103 Early\r\n\r\n", 17) + "HTTP/1.1 200 OK\r\n\r\n"},
	}
	for _, tc := range cases {
		for _, pieces := range [][]int{{1 << 20}, {1}, {7, 3}, {17}} {
			checkFramer(t, tc.name, []byte(tc.data), tc.method, pieces)
		}
	}
}

// checkFramer fails t unless the framer, fed data in pieces, agrees with
// the reader: the same status, framing, bytes counted and used, quota and
// outcome.
func checkFramer(t *testing.T, name string, data []byte, method string, pieces []int) {
	t.Helper()
	pst, pres, pused, perr := pullRead(data, method)
	fst, fres, fused, ferr := frameRead(data, method, pieces)
	if (perr == nil) != (ferr == nil) || (perr != nil && Classify(perr) != Classify(ferr)) {
		t.Fatalf("%s, pieces %v: reader error %v (%v), framer error %v (%v)", name, pieces, perr, Classify(perr), ferr, Classify(ferr))
	}
	if perr != nil {
		return
	}
	if pst != fst || pres.Status != fres.Status || pres.BytesIn != fres.BytesIn || pused != fused || pres.Quota != fres.Quota {
		t.Fatalf("%s, pieces %v: reader %+v status %d in %d used %d quota %+v; framer %+v status %d in %d used %d quota %+v",
			name, pieces, pst, pres.Status, pres.BytesIn, pused, pres.Quota, fst, fres.Status, fres.BytesIn, fused, fres.Quota)
	}
}

// FuzzFramerAgreesWithReader checks the socket loop's framer against the
// goroutine engine's reader on arbitrary responses cut at arbitrary
// points.
func FuzzFramerAgreesWithReader(f *testing.F) {
	for _, s := range []string{
		"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello",
		"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5;a=b\r\nhello\r\n0\r\nT: 1\r\n\r\n",
		"HTTP/1.0 200 OK\r\n\r\nuntil close",
		"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 204 No Content\r\n\r\n",
		"HTTP/1.1 200 OK\r\nX: a\r\n b\r\nConnection: close\r\n\r\n",
		"garbage\r\n\r\n",
	} {
		f.Add([]byte(s), uint8(1), uint8(200), false)
	}
	f.Fuzz(func(t *testing.T, data []byte, a, b uint8, head bool) {
		method := "GET"
		if head {
			method = "HEAD"
		}
		checkFramer(t, "fuzz", data, method, []int{int(a) + 1, int(b) + 1})
	})
}
