package results

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"
)

// Output is a file tailgate writes (a results file, a checkpoint, a
// report, a chart), resolved by one rule:
//
//   - a regular file or a missing path is replaced atomically: a
//     temporary file in the same directory, synced, renamed over it, so a
//     reader never sees half a file;
//   - a symbolic link is followed, and its target replaced atomically in
//     the target's directory (the link stays a link);
//   - a character device, a named pipe or "-" (standard output) is
//     written straight through, never replaced: running as root with
//     "-o /dev/null" must not turn the machine's /dev/null into a file;
//   - anything else (a directory, a block device, a socket) is refused.
//
// CheckOutput applies the rule before a run sends any load, so that a
// directory given as the file, a missing parent or an unwritable
// directory fails at once rather than after an hour of measuring.
type Output struct {
	// Path is the path as given, used in messages.
	Path string
	// target is the file written: Path with its symbolic links followed.
	target string
	kind   outputKind
}

type outputKind int

const (
	outputReplace outputKind = iota // regular file or missing path
	outputStream                    // character device or named pipe
	outputStdout                    // "-"
)

// maxLinks bounds the symbolic links followed, as the kernel's ELOOP does.
const maxLinks = 40

// CheckOutput resolves path by the rule of Output and checks that it can
// be written, without writing it: for a file to replace, that its
// directory exists and takes new files (a file is created there and
// removed again); for a device or a pipe, that it is writable. Errors
// start with path, fit on one line and never name a temporary file.
func CheckOutput(path string) (*Output, error) {
	o, err := ResolveOutput(path)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	switch o.kind {
	case outputReplace:
		if err := probeDir(path, filepath.Dir(o.target)); err != nil {
			return nil, err
		}
	case outputStream:
		if err := writable(o.target); err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
	}
	return o, nil
}

// CheckDir checks that files can be made in dir, or in dir once made with
// its missing parents (as --png-dir is): the nearest part of it that
// exists must be a directory that takes new files. Nothing is left
// behind. Errors start with dir and fit on one line.
func CheckDir(dir string) error {
	if dir == "" {
		return errors.New("empty directory path")
	}
	p := dir
	for {
		fi, err := os.Stat(p)
		if err == nil {
			if !fi.IsDir() {
				if p == dir {
					return fmt.Errorf("%s is %s, not a directory", dir, describeKind(fi.Mode()))
				}
				return fmt.Errorf("%s: %s is not a directory", dir, p)
			}
			break
		}
		if !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("%s: %w", dir, bareError(err))
		}
		parent := filepath.Dir(p)
		if parent == p {
			return fmt.Errorf("%s: %w", dir, bareError(err))
		}
		p = parent
	}
	return probeDir(dir, p)
}

// probeDir checks that dir takes new files by making one and removing it;
// path is what errors name.
func probeDir(path, dir string) error {
	f, err := os.CreateTemp(dir, ".tailgate-check-*")
	if err != nil {
		return fmt.Errorf("%s: cannot create files in %s: %w", path, dir, bareError(err))
	}
	name := f.Name()
	_ = f.Close()
	if err := os.Remove(name); err != nil {
		return fmt.Errorf("%s: cannot remove files in %s: %w", path, dir, bareError(err))
	}
	return nil
}

// describeKind names the kind of any file, regular ones included.
func describeKind(m fs.FileMode) string {
	if m.IsRegular() {
		return "a regular file"
	}
	return describeMode(m)
}

// ResolveOutput resolves path by the rule of Output, following symbolic
// links, without checking that it can be written. Its errors do not
// repeat the path.
func ResolveOutput(path string) (*Output, error) {
	if path == "-" {
		return &Output{Path: path, kind: outputStdout}, nil
	}
	if path == "" {
		return nil, errors.New("empty output path")
	}
	p := path
	for range maxLinks {
		fi, err := os.Lstat(p)
		if errors.Is(err, fs.ErrNotExist) || errors.Is(err, syscall.ENOTDIR) {
			dir := filepath.Dir(p)
			st, err := os.Stat(dir)
			switch {
			case errors.Is(err, fs.ErrNotExist):
				return nil, fmt.Errorf("directory %s: %w", dir, bareError(err))
			case err != nil:
				return nil, fmt.Errorf("directory %s: %w", dir, bareError(err))
			case !st.IsDir():
				return nil, fmt.Errorf("%s is not a directory", dir)
			}
			return &Output{Path: path, target: p, kind: outputReplace}, nil
		}
		if err != nil {
			return nil, bareError(err)
		}
		m := fi.Mode()
		switch {
		case m&fs.ModeSymlink != 0:
			link, err := os.Readlink(p)
			if err != nil {
				return nil, bareError(err)
			}
			if !filepath.IsAbs(link) {
				link = filepath.Join(filepath.Dir(p), link)
			}
			p = link
			continue
		case m.IsRegular():
			return &Output{Path: path, target: p, kind: outputReplace}, nil
		case m.IsDir():
			return nil, fmt.Errorf("is a directory: give a file name (e.g. %s)", filepath.Join(path, "results.json"))
		case m&fs.ModeCharDevice != 0, m&fs.ModeNamedPipe != 0:
			return &Output{Path: path, target: p, kind: outputStream}, nil
		default:
			return nil, fmt.Errorf("is %s: tailgate writes only regular files, character devices and named pipes", describeMode(m))
		}
	}
	return nil, errors.New("too many levels of symbolic links")
}

// Replaceable reports whether the output is a file replaced atomically:
// the only kind that takes checkpoints, since each would be a second
// copy of the results in a pipe or a device.
func (o *Output) Replaceable() bool { return o.kind == outputReplace }

// Write writes the output with write: into stdout for "-" (os.Stdout when
// nil), straight into
// a device or a pipe, or into a temporary file renamed over the target.
// The temporary file is removed when anything fails.
func (o *Output) Write(stdout io.Writer, write func(io.Writer) error) error {
	var bw *bufio.Writer
	if err := o.write(stdout, &bw, write); err != nil {
		return fmt.Errorf("write %s: %w", o.Path, err)
	}
	return nil
}

// write is Write with a buffered writer kept by the caller across writes;
// its errors do not name the file.
func (o *Output) write(stdout io.Writer, bwp **bufio.Writer, write func(io.Writer) error) error {
	buffered := func(w io.Writer) error {
		if *bwp == nil {
			*bwp = bufio.NewWriterSize(w, 64<<10)
		} else {
			(*bwp).Reset(w)
		}
		// Drop the file from the buffer whatever happens, so a failed
		// write leaves nothing behind for the next one.
		defer (*bwp).Reset(nil)
		if err := write(*bwp); err != nil {
			return err
		}
		return (*bwp).Flush()
	}
	switch o.kind {
	case outputStdout:
		if stdout == nil {
			stdout = os.Stdout
		}
		if err := buffered(stdout); err != nil {
			return bareError(err)
		}
		return nil
	case outputStream:
		f, err := os.OpenFile(o.target, os.O_WRONLY, 0)
		if err != nil {
			return bareError(err)
		}
		err = buffered(f)
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			return bareError(err)
		}
		return nil
	}
	mode := fs.FileMode(0o644)
	if fi, err := os.Stat(o.target); err == nil && fi.Mode().IsRegular() {
		mode = fi.Mode().Perm() // replacing a file keeps its permissions
	}
	tmp, err := os.CreateTemp(filepath.Dir(o.target), "."+filepath.Base(o.target)+".tmp-*")
	if err != nil {
		return bareError(err)
	}
	err = buffered(tmp)
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Chmod(tmp.Name(), mode)
	}
	if err == nil {
		err = os.Rename(tmp.Name(), o.target)
	}
	if err != nil {
		_ = os.Remove(tmp.Name())
		return bareError(err)
	}
	return nil
}

// WriteOutput writes path by the rule of Output: a convenience for a file
// written once (a report, a chart).
func WriteOutput(path string, stdout io.Writer, write func(io.Writer) error) error {
	o, err := ResolveOutput(path)
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return o.Write(stdout, write)
}
