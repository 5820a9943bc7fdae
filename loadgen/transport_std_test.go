package loadgen

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"time"
)

// stdTransport sends requests with net/http's HTTP/1.1 client. It is the
// reference the raw client is measured against (BenchmarkStdClientDo), and
// the way to check that Classify sorts net/http's errors, which a Plan's
// own Transport may return.
type stdTransport struct {
	probe   certProbe
	opts    ClientOptions
	timeout time.Duration
	client  *http.Client
	tr      *http.Transport
}

func newStdTransport(o ClientOptions, tlsConf *tls.Config) *stdTransport {
	t := &stdTransport{opts: o, timeout: o.TimeoutOrDefault()}
	if tlsConf != nil {
		tlsConf = tlsConf.Clone()
		t.probe.install(tlsConf)
	}
	tr := &http.Transport{
		Proxy:               nil,
		DialContext:         (&net.Dialer{Timeout: o.TimeoutOrDefault(), KeepAlive: 30 * time.Second}).DialContext,
		TLSClientConfig:     tlsConf,
		TLSHandshakeTimeout: o.TimeoutOrDefault(),
		MaxIdleConns:        0,
		MaxIdleConnsPerHost: o.Connections,
		MaxConnsPerHost:     o.Connections,
		DisableKeepAlives:   o.DisableKeepAlive,
		DisableCompression:  true,
	}
	t.tr = tr
	t.client = &http.Client{Transport: tr, CheckRedirect: t.checkRedirect}
	return t
}

// checkRedirect enforces the redirect limit and, because net/http keeps
// credentials on a redirect to a subdomain or another port, strips them
// itself whenever the origin changes.
func (t *stdTransport) checkRedirect(req *http.Request, via []*http.Request) error {
	if t.opts.FollowRedirects <= 0 {
		return http.ErrUseLastResponse
	}
	if len(via) > t.opts.FollowRedirects {
		return tooManyRedirects(t.opts.FollowRedirects, req.URL)
	}
	if err := t.opts.checkRedirectHost(via[0].URL, req.URL); err != nil {
		return err
	}
	if urlOrigin(req.URL.Scheme, req.URL.Host) != urlOrigin(via[0].URL.Scheme, via[0].URL.Host) {
		for name := range req.Header {
			if t.opts.dropOnRedirect(name) {
				req.Header.Del(name)
			}
		}
	}
	return nil
}

// NewClient implements Transport. All clients share the net/http pool.
func (t *stdTransport) NewClient() (Client, error) { return &stdClient{t: t}, nil }

// Close implements Transport.
func (t *stdTransport) Close() error {
	t.tr.CloseIdleConnections()
	return nil
}

// stdClient is one worker's handle on the shared net/http client. Its
// BytesIn counts body bytes only: net/http does not expose the size of the
// head on the wire (for HTTP/2 it is HPACK-compressed anyway).
type stdClient struct {
	t       *stdTransport
	discard [32 << 10]byte
}

// Close implements Client; connections belong to the transport's pool.
func (c *stdClient) Close() error { return nil }

// Do implements Client.
func (c *stdClient) Do(ctx context.Context, req *Request, res *Response) error {
	if err := ctx.Err(); err != nil {
		return canceledError(err, "before sending")
	}
	rctx, cancel := context.WithTimeout(ctx, c.t.timeout)
	defer cancel()
	var body io.Reader
	if len(req.Body) > 0 {
		body = bytes.NewReader(req.Body)
	}
	method := req.Method
	if method == "" {
		method = http.MethodGet
	}
	hr, err := http.NewRequestWithContext(rctx, method, req.URL, body)
	if err != nil {
		return &StepError{Kind: KindClient, Name: "invalid request", Err: err}
	}
	hr.Header["User-Agent"] = []string{"tailgate/" + Version}
	for _, h := range req.Header {
		if equalFold(h.Name, "Host") {
			hr.Host = h.Value
			continue
		}
		if equalFold(h.Name, "User-Agent") {
			hr.Header.Set(h.Name, h.Value)
			continue
		}
		hr.Header.Add(h.Name, h.Value)
	}
	res.BytesOut = int64(len(req.Body))
	resp, err := c.t.client.Do(hr)
	if err != nil {
		return c.wrap(ctx, rctx, err, "request")
	}
	defer resp.Body.Close()
	res.Status = resp.StatusCode
	if g := req.GroupBy; g != nil && g.Header != "" {
		res.GroupValue = append(res.GroupValue[:0], resp.Header.Get(g.Header)...)
	}
	if req.KeepHeaders {
		for k, vs := range resp.Header {
			for _, v := range vs {
				res.Header = append(res.Header, Header{Name: k, Value: v})
			}
		}
	}
	for {
		n, rerr := resp.Body.Read(c.discard[:])
		if n > 0 {
			res.BytesIn += int64(n)
			res.BodySize += int64(n)
			if room := req.KeepBody - len(res.Body); room > 0 {
				res.Body = append(res.Body, c.discard[:min(n, room)]...)
			}
		}
		if rerr == io.EOF {
			return nil
		}
		if rerr != nil {
			return c.wrap(ctx, rctx, rerr, "read body")
		}
	}
}

// wrap classifies a net/http error: the run's cancellation, the request
// timeout, a TLS failure with its reason, or the cause as is.
func (c *stdClient) wrap(ctx, rctx context.Context, err error, phase string) error {
	if cerr := ctx.Err(); cerr != nil {
		return canceledError(cerr, phase)
	}
	if rctx.Err() == context.DeadlineExceeded || errors.Is(err, os.ErrDeadlineExceeded) {
		return &StepError{Kind: KindTimeout, Name: "timeout", Err: fmt.Errorf("%s: no complete response within %s", phase, c.t.timeout)}
	}
	var se *StepError
	if errors.As(err, &se) {
		return err
	}
	if Classify(err) == KindTLS {
		if e := c.t.probe.explain(err); e != nil {
			return e
		}
		return tlsError(err, hostOfURLError(err))
	}
	return fmt.Errorf("%s: %w", phase, err)
}

// hostOfURLError finds the host name of the URL a *url.Error is about.
func hostOfURLError(err error) string {
	var ue *url.Error
	if !errors.As(err, &ue) {
		return ""
	}
	u, perr := url.Parse(ue.URL)
	if perr != nil {
		return ""
	}
	return u.Hostname()
}
