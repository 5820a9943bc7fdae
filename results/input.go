package results

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"syscall"
)

// MaxResultFileSize bounds the results files tailgate reads. A results
// file is decoded whole, so its size bounds the memory a hostile or broken
// file can make a reader take (about three times the file while it
// decodes). A day-long run with a dozen series writes well under it.
const MaxResultFileSize = 1 << 30

// ErrNotRegular is wrapped by ReadInput errors for a path that is not a
// regular file: a directory, a device, a named pipe or a socket.
var ErrNotRegular = errors.New("not a regular file")

// ErrTooLarge is wrapped by ReadInput errors for a file over its limit.
var ErrTooLarge = errors.New("file too large")

// OpenInput opens path for reading if it is a regular file of at most
// limit bytes, and returns it with its size. It never blocks on a named
// pipe (it is opened non-blocking and refused) and never reads from a
// device, whose size says nothing of what it would yield. Errors start
// with the path and fit on one line.
//
// It is the one way tailgate opens a file it was given to read: results
// files, interval logs, scenarios and their data files.
func OpenInput(path string, limit int64) (*os.File, int64, error) {
	// O_NONBLOCK: opening a named pipe for reading otherwise waits for a
	// writer, forever if none comes. It has no effect on regular files.
	f, err := os.OpenFile(path, os.O_RDONLY|syscall.O_NONBLOCK, 0)
	if err != nil {
		return nil, 0, &InputError{Path: path, Err: bareError(err)}
	}
	fi, err := f.Stat()
	if err != nil {
		_ = f.Close()
		return nil, 0, &InputError{Path: path, Err: bareError(err)}
	}
	if !fi.Mode().IsRegular() {
		_ = f.Close()
		return nil, 0, &InputError{Path: path, Err: fmt.Errorf("%w (%s); tailgate reads only regular files", ErrNotRegular, describeMode(fi.Mode()))}
	}
	if fi.Size() > limit {
		_ = f.Close()
		return nil, 0, &InputError{Path: path, Err: fmt.Errorf("%w: %s, over the limit of %s", ErrTooLarge, formatBytes(fi.Size()), formatBytes(limit))}
	}
	return f, fi.Size(), nil
}

// InputError is the error of OpenInput, ReadInput and a LimitInput reader:
// what went wrong with the file at Path. A caller that names the file
// otherwise (as the user wrote it, say, rather than with its links
// resolved) takes Err.
type InputError struct {
	Path string
	Err  error
}

// Error returns the path and the cause, on one line.
func (e *InputError) Error() string { return e.Path + ": " + e.Err.Error() }

// Unwrap returns the cause, so that errors.Is finds ErrNotRegular and
// ErrTooLarge.
func (e *InputError) Unwrap() error { return e.Err }

// ReadInput reads the whole of a regular file of at most limit bytes, as
// OpenInput opens it. The buffer is allocated once at the file's size, so
// a file of limit bytes costs limit bytes, never the doubling of a growing
// buffer; a file that grows while it is read is refused at the limit.
func ReadInput(path string, limit int64) ([]byte, error) {
	f, size, err := OpenInput(path, limit)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return ReadOpenedInput(f, path, size, limit)
}

// ReadOpenedInput reads the whole of f, a file of path that OpenInput
// opened with limit and found size bytes long, refusing more than limit.
// The buffer is allocated once at the file's size; a file that reports no
// size (as /proc's do) grows it to at most limit.
func ReadOpenedInput(f io.Reader, path string, size, limit int64) ([]byte, error) {
	buf := make([]byte, 0, size+1) // +1: room to see a file that grew
	for {
		if int64(len(buf)) > limit {
			return nil, grewPast(path, limit)
		}
		if len(buf) == cap(buf) {
			buf = append(buf, 0)[:len(buf)]
		}
		n, err := f.Read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+n]
		if errors.Is(err, io.EOF) {
			return buf, nil
		}
		if err != nil {
			return nil, &InputError{Path: path, Err: bareError(err)}
		}
	}
}

// grewPast is the error for a file that held more than limit bytes,
// though its size said otherwise when it was opened.
func grewPast(path string, limit int64) error {
	return &InputError{Path: path, Err: fmt.Errorf("%w: it grew past the limit of %s while being read", ErrTooLarge, formatBytes(limit))}
}

// LimitInput returns a reader of f, a file of path that OpenInput opened
// with limit, for a caller that streams it (a CSV feed): it fails, rather
// than stops, at byte limit+1, so a file that grows while it is read, or
// one whose size says nothing (as /proc's report 0), is an error and never
// a silent truncation.
func LimitInput(f io.Reader, path string, limit int64) io.Reader {
	return &limitedInput{r: f, path: path, limit: limit, left: limit}
}

// limitedInput is LimitInput's reader.
type limitedInput struct {
	r     io.Reader
	path  string
	limit int64
	left  int64
}

func (l *limitedInput) Read(p []byte) (int, error) {
	if l.left <= 0 {
		var one [1]byte
		n, err := l.r.Read(one[:])
		switch {
		case n > 0:
			return 0, grewPast(l.path, l.limit)
		case err != nil:
			return 0, err
		}
		return 0, io.EOF
	}
	if int64(len(p)) > l.left {
		p = p[:l.left]
	}
	n, err := l.r.Read(p)
	l.left -= int64(n)
	return n, err
}

// describeMode names the kind of a file that is not a regular one.
func describeMode(m fs.FileMode) string {
	switch {
	case m.IsDir():
		return "a directory"
	case m&fs.ModeNamedPipe != 0:
		return "a named pipe"
	case m&fs.ModeCharDevice != 0:
		return "a character device"
	case m&fs.ModeDevice != 0:
		return "a block device"
	case m&fs.ModeSocket != 0:
		return "a socket"
	case m&fs.ModeSymlink != 0:
		return "a symbolic link"
	default:
		return "mode " + m.String()
	}
}

// formatBytes prints a size in the largest binary unit that keeps it ≥ 1.
func formatBytes(n int64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d bytes", n)
	}
	v, i := float64(n), 0
	for v >= unit && i < 4 {
		v /= unit
		i++
	}
	return fmt.Sprintf("%.4g %ciB", v, " KMGT"[i])
}

// bareError drops the path (or the two paths) that the os package puts in
// its errors, keeping the cause: callers name the file as the user gave
// it, and a temporary file's name never reaches a message.
func bareError(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	var le *os.LinkError
	if errors.As(err, &le) {
		return le.Err
	}
	return err
}
