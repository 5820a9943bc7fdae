package loadgen

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
)

// NewTransport returns the HTTP transport for the options.
func NewTransport(o ClientOptions) (Transport, error) {
	return newStdTransport(o)
}

// stdTransport sends requests with net/http.
type stdTransport struct {
	opts   ClientOptions
	client *http.Client
	tr     *http.Transport
}

func newStdTransport(o ClientOptions) (*stdTransport, error) {
	tr := &http.Transport{
		MaxIdleConnsPerHost: o.Connections,
		MaxConnsPerHost:     o.Connections,
		DisableKeepAlives:   o.DisableKeepAlive,
		DisableCompression:  true,
	}
	c := &http.Client{
		Transport: tr,
		CheckRedirect: func(req *http.Request, via []*http.Request) error {
			if len(via) > o.FollowRedirects {
				return &StepError{Kind: KindRedirect, Name: "redirect", Err: fmt.Errorf("stopped after %d redirects", o.FollowRedirects)}
			}
			return nil
		},
	}
	if o.FollowRedirects == 0 {
		c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	}
	return &stdTransport{opts: o, client: c, tr: tr}, nil
}

func (t *stdTransport) NewClient() (Client, error) { return &stdClient{t: t}, nil }

func (t *stdTransport) Close() error {
	t.tr.CloseIdleConnections()
	return nil
}

type stdClient struct {
	t       *stdTransport
	discard [32 << 10]byte
}

func (c *stdClient) Close() error { return nil }

func (c *stdClient) Do(ctx context.Context, req *Request, res *Response) error {
	ctx, cancel := context.WithTimeout(ctx, c.t.opts.TimeoutOrDefault())
	defer cancel()
	var body io.Reader
	if len(req.Body) > 0 {
		body = bytes.NewReader(req.Body)
	}
	method := req.Method
	if method == "" {
		method = http.MethodGet
	}
	hr, err := http.NewRequestWithContext(ctx, method, req.URL, body)
	if err != nil {
		return &StepError{Kind: KindClient, Name: "build request", Err: err}
	}
	for _, h := range req.Header {
		if equalFold(h.Name, "Host") {
			hr.Host = h.Value
			continue
		}
		hr.Header.Add(h.Name, h.Value)
	}
	res.BytesOut = int64(len(req.Body))
	resp, err := c.t.client.Do(hr)
	if err != nil {
		var ue interface{ Unwrap() error }
		if errors.As(err, &ue) && ctx.Err() == context.DeadlineExceeded {
			return &StepError{Kind: KindTimeout, Name: "timeout", Err: fmt.Errorf("no response within %s", c.t.opts.TimeoutOrDefault())}
		}
		return err
	}
	defer resp.Body.Close()
	res.Status = resp.StatusCode
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
			if room := req.KeepBody - len(res.Body); room > 0 {
				res.Body = append(res.Body, c.discard[:min(n, room)]...)
			}
		}
		if rerr == io.EOF {
			return nil
		}
		if rerr != nil {
			if ctx.Err() == context.DeadlineExceeded {
				return &StepError{Kind: KindTimeout, Name: "timeout", Err: fmt.Errorf("body not read within %s", c.t.opts.TimeoutOrDefault())}
			}
			return rerr
		}
	}
}
