package loadgen

import (
	"fmt"
	"net/url"
	"strings"
)

// The redirect policy both clients follow: which statuses redirect, what a
// redirect to another origin leaves behind, and the error after too many.

// checkRedirectHost refuses a redirect to a host that is neither the first
// request's nor one of AllowHosts: a hostile target must not be able to
// send the load, and what the requests carry, to a host the person
// running tailgate did not name (docs/security.md).
func (o *ClientOptions) checkRedirectHost(first, next *url.URL) error {
	host := next.Hostname()
	if SameHost(host, first.Hostname()) || HostAllowed(host, o.AllowHosts) {
		return nil
	}
	return &StepError{Kind: KindRedirect, Name: "redirect to another host",
		Err: fmt.Errorf("redirect to %s: %s is not the target's host; allow it with --allow-host %s", redactURL(next), host, host)}
}

// dropOnRedirect reports whether a header stays behind on a redirect to
// another origin: credentials (IsSecretHeader, with the user's own secret
// headers) are meant for the origin the user named (net/http would keep
// them for a subdomain or another port).
func (o *ClientOptions) dropOnRedirect(name string) bool {
	return IsSecretHeader(name, o.SecretHeaders)
}

func isRedirect(status int) bool {
	switch status {
	case 301, 302, 303, 307, 308:
		return true
	}
	return false
}

// tooManyRedirects is the error of a request that hit the redirect limit.
func tooManyRedirects(limit int, next *url.URL) error {
	return &StepError{Kind: KindRedirect, Name: "too many redirects",
		Err: fmt.Errorf("stopped after %d redirects (next: %s)", limit, redactURL(next))}
}

// redactURL drops userinfo from a URL shown in an error.
func redactURL(u *url.URL) string {
	if u.User == nil {
		return u.String()
	}
	v := *u
	v.User = nil
	return v.String()
}

// urlOrigin is scheme://host:port with the default port filled in.
func urlOrigin(scheme, host string) string {
	t := h1Target{tls: strings.EqualFold(scheme, "https"), authority: host}
	return t.origin()
}

// redirector is what following redirects needs of a client: an exchange
// of one request, the Location its response carried, room for the
// follow-up's headers, and the options.
type redirector interface {
	exchange(call *h1Call, s h1Send) (h1Status, error)
	location() []byte
	redirectHeaders() *[]Header
	options() *ClientOptions
}

// followFrom follows the redirects of a call that got one. The call is
// copied so that, on the fast path, the caller's stays on its stack: a
// pointer handed to an interface's methods escapes.
func followFrom(c redirector, call h1Call, method string) error {
	return followRedirects(c, &call, method)
}

// followRedirects follows the Location of the response in call.res, up to
// the configured number of hops. It is off the fast path: redirects
// allocate.
func followRedirects(c redirector, call *h1Call, method string) error {
	req, res := call.req, call.res
	opts := c.options()
	limit := opts.FollowRedirects
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
		loc := string(c.location())
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
		if err := opts.checkRedirectHost(firstURL, next); err != nil {
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
		hdr := c.redirectHeaders()
		*hdr = (*hdr)[:0]
		for _, h := range req.Header {
			// A Host header names the first origin.
			if !sameOrigin && (opts.dropOnRedirect(h.Name) || equalFold(h.Name, "Host")) {
				continue
			}
			if body == nil && equalFold(h.Name, "Content-Type") {
				continue
			}
			*hdr = append(*hdr, h)
		}
		if !sameOrigin {
			// Credentials in the first URL's userinfo stay with that origin.
			target.userinfo = ""
		}
		res.Status = 0
		res.Header = res.Header[:0]
		res.Body = res.Body[:0]
		res.GroupValue = res.GroupValue[:0]
		res.resetQuota()
		res.BodySize = 0
		st, err := c.exchange(call, h1Send{method: method, target: target, header: *hdr, body: body})
		if err != nil || !st.location || !isRedirect(st.status) {
			return err
		}
	}
}
