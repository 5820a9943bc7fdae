package loadgen

import (
	"fmt"
	"net/url"
	"strings"
)

// The redirect policy both clients follow: which statuses redirect, what a
// redirect to another origin leaves behind, and the error after too many.

// credentialHeaders carry credentials meant for the origin the user named.
// A redirect to another origin drops them (net/http would keep them for a
// subdomain or another port).
var credentialHeaders = [...]string{"Authorization", "Cookie", "Proxy-Authorization"}

// isCredentialHeader reports whether name is one of credentialHeaders, in
// any case.
func isCredentialHeader(name string) bool {
	for _, h := range credentialHeaders {
		if equalFold(name, h) {
			return true
		}
	}
	return false
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
