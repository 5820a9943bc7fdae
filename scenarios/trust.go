package scenarios

import (
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/tailgate-dev/tailgate/loadgen"
	"github.com/tailgate-dev/tailgate/results"
)

// Trust widens what a scenario may reach (docs/security.md). A scenario can
// arrive with a pull request, so by default it reads files only under its
// own directory, environment variables only that its env list names, and
// sends requests only to its target's host; the person who runs tailgate
// widens that on the command line.
type Trust struct {
	// Dirs are directories, besides the scenario's own, whose files
	// body_file and data feeds may read (--allow-dir).
	Dirs []string
	// Env names environment variables the scenario may read although its
	// env list does not name them (--env).
	Env []string
}

// WithTrust sets what the scenario may reach beyond its defaults.
func WithTrust(t Trust) Option {
	return func(c *config) { c.trust = t }
}

// envNames decodes the top-level env list: the environment variables the
// scenario reads with {{ env "NAME" }}.
func (d *decoder) envNames(n *yaml.Node) {
	n = resolve(n)
	if n.Kind != yaml.SequenceNode {
		d.errf(n, "env: want a list of environment variable names, e.g. env: [API_TOKEN], got %s", kindName(n))
		return
	}
	for _, c := range n.Content {
		c = resolve(c)
		name, ok := d.str("env", c)
		if !ok {
			continue
		}
		if !isIdent(name) {
			d.errf(c, "env: %q is not an environment variable name (letters, digits and _)", clip(name))
			continue
		}
		d.envAllowed[name] = true
	}
}

// lookupEnv returns the value of an environment variable the scenario is
// allowed to read.
func (d *decoder) lookupEnv(name string) (string, error) {
	if !d.envAllowed[name] {
		return "", fmt.Errorf("environment variable %s is not in the scenario's env list: add env: [%s] at the top of the file (or pass --env %s)", name, name, name)
	}
	if v := d.getenv(name); v != "" {
		return v, nil
	}
	return "", fmt.Errorf("environment variable %s is not set (or empty)", name)
}

// errOutside is the error for a file outside every allowed directory.
var errOutside = errors.New("outside the scenario's directory (allow its directory with --allow-dir)")

// openConfined opens a file named by the scenario (body_file, a data feed):
// relative to the scenario's directory, inside it or inside an allowed
// directory once symbolic links are followed, then as every input file is
// opened (results.OpenInput: a regular file of at most limit bytes, a
// named pipe refused without blocking). Errors never quote the file's
// contents, and name it as the scenario does (the caller's part), not
// with its links resolved.
func (d *decoder) openConfined(p string, limit int64) (*os.File, int64, string, error) {
	full := p
	if !filepath.IsAbs(full) {
		full = filepath.Join(d.dir, p)
	}
	real, err := filepath.EvalSymlinks(full)
	if err != nil {
		return nil, 0, "", unwrapPathError(err)
	}
	if real, err = filepath.Abs(real); err != nil {
		return nil, 0, "", err
	}
	if !d.inAllowedDir(real) {
		return nil, 0, "", errOutside
	}
	f, size, err := results.OpenInput(real, limit)
	if err != nil {
		return nil, 0, "", inputCause(err)
	}
	return f, size, real, nil
}

// inputCause drops the path from a results input error: the scenario's
// messages name the file as the scenario wrote it.
func inputCause(err error) error {
	var ie *results.InputError
	if errors.As(err, &ie) {
		return ie.Err
	}
	return err
}

// inAllowedDir reports whether the absolute, link-free path lies under the
// scenario's directory or a directory of Trust.Dirs.
func (d *decoder) inAllowedDir(path string) bool {
	for _, dir := range append([]string{d.dir}, d.trust.Dirs...) {
		real, err := filepath.EvalSymlinks(dir)
		if err != nil {
			continue
		}
		if real, err = filepath.Abs(real); err != nil {
			continue
		}
		rel, err := filepath.Rel(real, path)
		if err == nil && rel != ".." && !strings.HasPrefix(rel, ".."+string(filepath.Separator)) {
			return true
		}
	}
	return false
}

// readConfined reads a whole file opened by openConfined, refusing one
// that grows past limit while it is read.
func (d *decoder) readConfined(p string, limit int64) ([]byte, error) {
	f, size, real, err := d.openConfined(p, limit)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	b, err := results.ReadOpenedInput(f, real, size, limit)
	if err != nil {
		return nil, inputCause(err)
	}
	return b, nil
}

// checkHosts refuses requests whose absolute URL names a host other than
// the target's, unless it is allowed: a scenario must not send what it
// reads to a host the person running it did not name.
func checkHosts(s *Scenario, target string, allow []string) error {
	targetHost := ""
	if u, err := url.Parse(target); err == nil {
		targetHost = u.Hostname()
	}
	for _, r := range s.requests {
		if r.url == nil || r.weight == 0 && !s.usedInFlow(r) {
			continue
		}
		h := urlTemplateHost(r.url)
		if loadgen.SameHost(h, targetHost) || loadgen.HostAllowed(h, allow) {
			continue
		}
		if targetHost == "" {
			return fmt.Errorf("%s: url: host %s: the scenario has no target, so only hosts allowed with --allow-host can be reached (--allow-host %s)", r.url.pos, h, h)
		}
		return fmt.Errorf("%s: url: host %s is not the target's (%s); allow it with --allow-host %s", r.url.pos, h, targetHost, h)
	}
	return nil
}

// usedInFlow reports whether a flow sends r.
func (s *Scenario) usedInFlow(r *request) bool {
	for _, f := range s.flows {
		for _, st := range f.steps {
			if st.req == r {
				return true
			}
		}
	}
	return false
}
