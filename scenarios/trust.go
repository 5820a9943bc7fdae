package scenarios

import (
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"path/filepath"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/tailgate-dev/tailgate/loadgen"
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
// directory once symbolic links are followed, a regular file of at most
// limit bytes. Errors never quote the file's contents.
func (d *decoder) openConfined(p string, limit int64) (*os.File, error) {
	full := p
	if !filepath.IsAbs(full) {
		full = filepath.Join(d.dir, p)
	}
	real, err := filepath.EvalSymlinks(full)
	if err != nil {
		return nil, unwrapPathError(err)
	}
	if real, err = filepath.Abs(real); err != nil {
		return nil, err
	}
	if !d.inAllowedDir(real) {
		return nil, errOutside
	}
	// Checked before opening: opening a FIFO blocks until it has a writer.
	if fi, err := os.Stat(real); err != nil {
		return nil, unwrapPathError(err)
	} else if !fi.Mode().IsRegular() {
		return nil, fmt.Errorf("not a regular file")
	}
	f, err := os.Open(real)
	if err != nil {
		return nil, unwrapPathError(err)
	}
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, err
	}
	if !fi.Mode().IsRegular() {
		f.Close()
		return nil, fmt.Errorf("not a regular file")
	}
	if fi.Size() > limit {
		f.Close()
		return nil, fmt.Errorf("%d bytes, more than the limit of %d", fi.Size(), limit)
	}
	return f, nil
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

// readConfined reads a whole file opened by openConfined.
func (d *decoder) readConfined(p string, limit int64) ([]byte, error) {
	f, err := d.openConfined(p, limit)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return readCapped(f, limit)
}

// readCapped reads r to its end, failing (rather than truncating) when it
// holds more than limit bytes: files such as /proc's report a size of 0.
func readCapped(r io.Reader, limit int64) ([]byte, error) {
	return io.ReadAll(&cappedReader{r: r, left: limit})
}

// errTooLarge is returned by a cappedReader that reached its limit.
var errTooLarge = errors.New("larger than the limit")

// cappedReader reads at most left bytes and fails on the next one, so a
// file that grows past a limit is an error, never a silent truncation.
type cappedReader struct {
	r    io.Reader
	left int64
}

func (c *cappedReader) Read(p []byte) (int, error) {
	if c.left <= 0 {
		var one [1]byte
		n, err := c.r.Read(one[:])
		switch {
		case n > 0:
			return 0, errTooLarge
		case err != nil:
			return 0, err
		}
		return 0, io.EOF
	}
	if int64(len(p)) > c.left {
		p = p[:c.left]
	}
	n, err := c.r.Read(p)
	c.left -= int64(n)
	return n, err
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
