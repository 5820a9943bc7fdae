package loadgen

import (
	"net"
	"net/url"
	"sort"
	"strings"
)

// secretHeaders are the headers whose values are credentials: redacted in
// everything tailgate writes and never carried across a redirect to
// another host. One list for the command line, scenarios and the client.
var secretHeaders = []string{"Authorization", "Cookie", "Proxy-Authorization", "X-Api-Key"}

// IsSecretHeader reports whether name is a credential header: one of
// tailgate's own list or of extra (header names the user declared secret).
func IsSecretHeader(name string, extra []string) bool {
	for _, h := range secretHeaders {
		if strings.EqualFold(h, name) {
			return true
		}
	}
	for _, h := range extra {
		if strings.EqualFold(h, name) {
			return true
		}
	}
	return false
}

// SecretHeaderNames returns tailgate's own list of credential headers,
// for documentation and messages.
func SecretHeaderNames() []string { return append([]string(nil), secretHeaders...) }

// SameHost reports whether two host names (no ports) name the same host;
// names compare without case.
func SameHost(a, b string) bool {
	return a != "" && strings.EqualFold(strings.Trim(a, "[]"), strings.Trim(b, "[]"))
}

// HostAllowed reports whether host is one of allow (host names, or
// host:port and URLs, whose host name counts).
func HostAllowed(host string, allow []string) bool {
	for _, a := range allow {
		if SameHost(host, HostName(a)) {
			return true
		}
	}
	return false
}

// HostName takes the host name out of "host", "host:port", "[::1]:80" or a URL.
func HostName(s string) string {
	if _, rest, ok := strings.Cut(s, "://"); ok {
		s = rest
	}
	if i := strings.IndexAny(s, "/?#"); i >= 0 {
		s = s[:i]
	}
	if h, _, err := net.SplitHostPort(s); err == nil {
		return h
	}
	return strings.Trim(s, "[]")
}

// URLSecrets returns the parts of a URL that must not be shown: its
// user-info (user:password@, or a token given as the user name) and the
// values of the query parameters named in query. Add them to Plan.Redact.
func URLSecrets(raw string, query []string) []string {
	u, err := url.Parse(raw)
	if err != nil {
		return nil
	}
	var out []string
	if u.User != nil {
		if pw, ok := u.User.Password(); ok {
			out = append(out, u.User.Username()+":"+pw, pw)
		} else if name := u.User.Username(); name != "" {
			out = append(out, name)
		}
		if esc := u.User.String(); esc != "" {
			out = append(out, esc)
		}
	}
	if len(query) > 0 {
		q := u.Query()
		for _, name := range query {
			for _, v := range q[name] {
				if v != "" {
					out = append(out, v, url.QueryEscape(v))
				}
			}
		}
	}
	return out
}

// SortSecrets orders secrets longest first, so that Redact masks a value
// whole before a shorter secret inside it, and drops duplicates and empty
// values.
func SortSecrets(secrets []string) []string {
	seen := map[string]bool{}
	out := secrets[:0:0]
	for _, s := range secrets {
		if s != "" && !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return len(out[i]) > len(out[j]) })
	return out
}
