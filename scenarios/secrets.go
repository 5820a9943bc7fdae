package scenarios

import (
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/tailgate-dev/tailgate/loadgen"
)

// nameList decodes a list of names (secret_headers, secret_query), each
// checked by valid.
func (d *decoder) nameList(key string, n *yaml.Node, valid func(string) bool, what string) []string {
	n = resolve(n)
	if n.Kind != yaml.SequenceNode {
		d.errf(n, "%s: want a list of names, got %s", key, kindName(n))
		return nil
	}
	var out []string
	for _, c := range n.Content {
		c = resolve(c)
		s, ok := d.str(key, c)
		if !ok {
			continue
		}
		if !valid(s) {
			d.errf(c, "%s: %q is not %s", key, clip(s), what)
			continue
		}
		out = append(out, s)
	}
	return out
}

// isSecretHeader reports headers whose values are redacted everywhere:
// tailgate's list of credential headers and the scenario's secret_headers.
func (s *Scenario) isSecretHeader(name string) bool {
	return loadgen.IsSecretHeader(name, s.secretHeaders)
}

// SecretHeaders returns the header names the scenario declares secret
// (secret_headers), besides tailgate's own list.
func (s *Scenario) SecretHeaders() []string { return append([]string(nil), s.secretHeaders...) }

// SecretQuery returns the query parameter names whose values the scenario
// declares secret (secret_query).
func (s *Scenario) SecretQuery() []string { return append([]string(nil), s.secretQuery...) }

// isResultsFile reports whether a decoded document is a tailgate results
// file (JSON is YAML): a user who runs one should hear what it is.
func isResultsFile(root *yaml.Node) bool {
	if root == nil || root.Kind != yaml.MappingNode {
		return false
	}
	var version, meta bool
	for i := 0; i+1 < len(root.Content); i += 2 {
		switch root.Content[i].Value {
		case "version":
			version = true
		case "meta":
			meta = true
		}
	}
	return version && meta
}

// urlSecrets returns the secret parts of the URLs written in the scenario
// (user-info, values of secret query parameters) and of the target.
func urlSecrets(s *Scenario, target string, extraQuery []string) []string {
	names := append(append([]string(nil), s.secretQuery...), extraQuery...)
	out := loadgen.URLSecrets(target, names)
	for _, r := range s.requests {
		if r.url != nil && r.url.static {
			out = append(out, loadgen.URLSecrets(r.url.text, names)...)
		}
		if r.path != nil && r.path.static {
			out = append(out, loadgen.URLSecrets("http://x"+r.path.text, names)...)
		}
		for _, q := range r.query {
			if q.value != nil && q.value.static && contains(names, q.key) {
				out = append(out, q.value.text)
			}
		}
	}
	return out
}

// headerSecrets returns the values written in the file of headers that
// only the command line declares secret (--secret-header); the scenario's
// own credential headers are in Secrets already.
func headerSecrets(s *Scenario, names []string) []string {
	if len(names) == 0 {
		return nil
	}
	var out []string
	all := append([]*header(nil), s.defaults.headers...)
	for _, r := range s.requests {
		all = append(all, r.headers...)
	}
	for _, h := range all {
		if h.value != nil && h.value.static && loadgen.IsSecretHeader(h.name, names) {
			if v := strings.TrimSpace(h.value.text); v != "" {
				out = append(out, v)
			}
		}
	}
	return out
}
