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
