package loadgen

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// h2cServer starts an httptest server that speaks HTTP/1.1 and h2c with
// prior knowledge, so both transports can talk to it.
func h2cServer(t *testing.T, h http.Handler) *httptest.Server {
	srv := httptest.NewUnstartedServer(h)
	var p http.Protocols
	p.SetHTTP1(true)
	p.SetUnencryptedHTTP2(true)
	srv.Config.Protocols = &p
	srv.Start()
	t.Cleanup(srv.Close)
	return srv
}

// echoRequest describes the request it got: method, protocol, body length and
// the sensitive headers present.
func echoRequest(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	var present []string
	for _, h := range []string{"Authorization", "Cookie", "Proxy-Authorization", "X-Api-Key", "X-Custom-Secret", "X-Keep"} {
		if r.Header.Get(h) != "" {
			present = append(present, h)
		}
	}
	fmt.Fprintf(w, "%s %s body=%d headers=%s", r.Method, r.Proto, len(body), strings.Join(present, ","))
}

func TestRedirects(t *testing.T) {
	other := h2cServer(t, http.HandlerFunc(echoRequest))
	var mu sync.Mutex
	hops := 0
	srv := h2cServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		hops++
		mu.Unlock()
		p := r.URL.Path
		switch {
		case p == "/loop":
			http.Redirect(w, r, "/loop", http.StatusFound)
		case strings.HasPrefix(p, "/chain/"):
			n, _ := strconv.Atoi(strings.TrimPrefix(p, "/chain/"))
			if n == 0 {
				echoRequest(w, r)
				return
			}
			http.Redirect(w, r, "/chain/"+strconv.Itoa(n-1), http.StatusMovedPermanently)
		case p == "/cross":
			// Another host name (and port).
			http.Redirect(w, r, strings.Replace(other.URL, "127.0.0.1", "localhost", 1)+"/landing", http.StatusFound)
		case p == "/cross-port-same-host":
			// Same IP, other port: another origin all the same.
			http.Redirect(w, r, other.URL+"/x", http.StatusTemporaryRedirect)
		case p == "/same307":
			http.Redirect(w, r, "/echo", http.StatusTemporaryRedirect)
		case p == "/see-other":
			http.Redirect(w, r, "/echo", http.StatusSeeOther)
		case p == "/no-location":
			w.WriteHeader(http.StatusFound)
		default:
			echoRequest(w, r)
		}
	}))
	secret := []Header{{"Authorization", "Bearer s3cret"}, {"Cookie", "session=s3cret"}, {"Proxy-Authorization", "Basic s3cret"},
		{"X-Api-Key", "s3cret"}, {"X-Custom-Secret", "s3cret"}, {"X-Keep", "1"}}
	tests := []struct {
		name   string
		follow int
		method string
		path   string
		hdr    []Header
		body   string
		status int
		want   string // body prefix after the method/proto part
		kind   ErrorKind
		msg    string
		hops   int
		allow  []string
	}{
		{name: "not followed by default", path: "/chain/1", status: 301, hops: 1},
		{name: "followed within limit", follow: 3, path: "/chain/3", status: 200, want: "body=0", hops: 4},
		{name: "limit exceeded", follow: 2, path: "/chain/3", kind: KindRedirect, msg: "stopped after 2 redirects", hops: 3},
		{name: "loop", follow: 5, path: "/loop", kind: KindRedirect, msg: "stopped after 5 redirects", hops: 6},
		{name: "3xx without Location is the response", follow: 5, path: "/no-location", status: 302, hops: 1},
		{name: "another host is refused", follow: 1, path: "/cross", hdr: secret, kind: KindRedirect, msg: "localhost is not the target's host; allow it with --allow-host localhost", hops: 1},
		{name: "an allowed host gets no credentials", follow: 1, path: "/cross", hdr: secret, status: 200, want: "body=0 headers=X-Keep", hops: 1, allow: []string{"localhost"}},
		{name: "other port strips credentials", follow: 1, method: "PUT", path: "/cross-port-same-host", hdr: secret, body: "abc", status: 200, want: "body=3 headers=X-Keep", hops: 1},
		{name: "same-origin 307 keeps method, body, credentials", follow: 1, method: "POST", path: "/same307", hdr: secret, body: "hello", status: 200,
			want: "body=5 headers=Authorization,Cookie,Proxy-Authorization,X-Api-Key,X-Custom-Secret,X-Keep", hops: 2},
		{name: "303 turns POST into GET", follow: 1, method: "POST", path: "/see-other", body: "hello", status: 200, want: "body=0", hops: 2},
	}
	for _, h2 := range []bool{false, true} {
		for _, tt := range tests {
			t.Run(tt.name+map[bool]string{false: "/h1", true: "/h2c"}[h2], func(t *testing.T) {
				tr, err := NewTransport(ClientOptions{HTTP2: h2, FollowRedirects: tt.follow, Timeout: 5 * time.Second,
					AllowHosts: tt.allow, SecretHeaders: []string{"x-custom-secret"}})
				if err != nil {
					t.Fatal(err)
				}
				defer tr.Close()
				c, _ := tr.NewClient()
				defer c.Close()
				mu.Lock()
				hops = 0
				mu.Unlock()
				method := tt.method
				if method == "" {
					method = "GET"
				}
				res, err := tdo(c, context.Background(), method, srv.URL+tt.path, func(r *Request) {
					r.Header = tt.hdr
					r.Body = []byte(tt.body)
					r.KeepBody = 200
				})
				mu.Lock()
				gotHops := hops
				mu.Unlock()
				if gotHops != tt.hops {
					t.Errorf("first server saw %d requests, want %d", gotHops, tt.hops)
				}
				if tt.kind != KindNone {
					wantKind(t, err, tt.kind)
					if !strings.Contains(err.Error(), tt.msg) {
						t.Fatalf("error %q does not say %q", err, tt.msg)
					}
					return
				}
				if err != nil {
					t.Fatal(err)
				}
				if res.Status != tt.status {
					t.Fatalf("status %d, want %d (body %q)", res.Status, tt.status, res.Body)
				}
				if tt.want != "" {
					proto := map[bool]string{false: "HTTP/1.1", true: "HTTP/2.0"}[h2]
					if !strings.Contains(string(res.Body), proto+" "+tt.want) {
						t.Fatalf("final response %q, want %q", res.Body, proto+" "+tt.want)
					}
				}
				if !h2 && res.BytesIn < int64(len("HTTP/1.1 200 OK\r\n\r\n")) {
					t.Fatalf("BytesIn = %d, want the heads counted", res.BytesIn)
				}
			})
		}
	}
}

// TestH2CRoundTrip checks that --http2 speaks h2c with prior knowledge to
// an http:// target, reusing one connection.
func TestH2CRoundTrip(t *testing.T) {
	var mu sync.Mutex
	remotes := map[string]bool{}
	srv := h2cServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		remotes[r.RemoteAddr] = true
		mu.Unlock()
		if r.ProtoMajor != 2 {
			http.Error(w, "want HTTP/2, got "+r.Proto, http.StatusHTTPVersionNotSupported)
			return
		}
		w.Header().Set("X-Proto", r.Proto)
		body, _ := io.ReadAll(r.Body)
		fmt.Fprintf(w, "%s %s", r.Method, body)
	}))
	tr, err := NewTransport(ClientOptions{HTTP2: true, Connections: 4})
	if err != nil {
		t.Fatal(err)
	}
	defer tr.Close()
	c, _ := tr.NewClient()
	defer c.Close()
	for i := range 5 {
		res, err := tdo(c, context.Background(), "POST", srv.URL+"/", func(r *Request) {
			r.Body = []byte("ping")
			r.KeepBody = 100
			r.KeepHeaders = true
		})
		if err != nil {
			t.Fatal(err)
		}
		if p, _ := res.HeaderValue("x-proto"); res.Status != 200 || string(res.Body) != "POST ping" || p != "HTTP/2.0" {
			t.Fatalf("request %d: %d %q proto %q", i, res.Status, res.Body, p)
		}
	}
	mu.Lock()
	defer mu.Unlock()
	if len(remotes) != 1 {
		t.Fatalf("%d connections for 5 sequential requests, want 1", len(remotes))
	}
}

// TestH2CBodyTimeout checks that the timeout covers the whole body on the
// net/http path too: an endless HTTP/2 body ends in a timeout, counted.
func TestH2CBodyTimeout(t *testing.T) {
	stop := make(chan struct{})
	srv := h2cServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		chunk := make([]byte, 4096)
		for {
			select {
			case <-stop:
				return
			case <-r.Context().Done():
				return
			default:
			}
			if _, err := w.Write(chunk); err != nil {
				return
			}
			w.(http.Flusher).Flush()
		}
	}))
	defer close(stop)
	tr, err := NewTransport(ClientOptions{HTTP2: true, Timeout: 300 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer tr.Close()
	c, _ := tr.NewClient()
	res, err := tdo(c, context.Background(), "GET", srv.URL, nil)
	wantKind(t, err, KindTimeout)
	if res.BytesIn == 0 {
		t.Fatal("no body bytes counted before the timeout")
	}
}
