package loadgen

import (
	"fmt"
	"net/url"
)

// followRedirects follows the Location of the response in call.res, up to
// the configured number of hops. It is off the fast path: redirects
// allocate.
func (c *h1Client) followRedirects(call *h1Call, method string) error {
	req, res := call.req, call.res
	limit := c.t.opts.FollowRedirects
	first, _ := splitURL(req.URL)
	origin0 := first.origin()
	firstURL, err := url.Parse(req.URL)
	if err != nil {
		return &StepError{Kind: KindRedirect, Name: "redirect", Err: fmt.Errorf("base URL %q: %w", req.URL, err)}
	}
	cur := req.URL
	body := req.Body
	for hop := 1; ; hop++ {
		base, err := url.Parse(cur)
		if err != nil {
			return &StepError{Kind: KindRedirect, Name: "redirect", Err: fmt.Errorf("base URL %q: %w", cur, err)}
		}
		loc := string(c.loc)
		next, err := base.Parse(loc)
		if err != nil {
			return &StepError{Kind: KindRedirect, Name: "redirect", Err: fmt.Errorf("bad Location %q: %w", loc, err)}
		}
		if hop > limit {
			return tooManyRedirects(limit, next)
		}
		if next.Scheme != "http" && next.Scheme != "https" {
			return &StepError{Kind: KindRedirect, Name: "redirect", Err: fmt.Errorf("unsupported Location scheme in %q", loc)}
		}
		if err := c.t.opts.checkRedirectHost(firstURL, next); err != nil {
			return err
		}
		switch res.Status {
		case 301, 302, 303:
			// As browsers and net/http do: the follow-up is a GET without
			// body (HEAD stays HEAD).
			if method != "HEAD" {
				method = "GET"
			}
			body = nil
		}
		cur = next.String()
		target, err := splitURL(cur)
		if err != nil {
			return err
		}
		sameOrigin := target.origin() == origin0
		c.hdr = c.hdr[:0]
		for _, h := range req.Header {
			// A Host header names the first origin.
			if !sameOrigin && (c.t.opts.dropOnRedirect(h.Name) || equalFold(h.Name, "Host")) {
				continue
			}
			if body == nil && equalFold(h.Name, "Content-Type") {
				continue
			}
			c.hdr = append(c.hdr, h)
		}
		if !sameOrigin {
			// Credentials in the first URL's userinfo stay with that origin.
			target.userinfo = ""
		}
		res.Status = 0
		res.Header = res.Header[:0]
		res.Body = res.Body[:0]
		res.GroupValue = res.GroupValue[:0]
		res.BodySize = 0
		st, err := c.exchange(call, h1Send{method: method, target: target, header: c.hdr, body: body})
		if err != nil || !st.location || !isRedirect(st.status) {
			return err
		}
	}
}
