package results

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// Lock is held by the one run writing an output; see LockOutput.
type Lock struct {
	f    *os.File
	path string
}

// LockedError says that another process holds the lock of an output.
type LockedError struct {
	// Path is the output as given.
	Path string
	// PID and Command are the holder's, as it recorded them (0 and "" when
	// it had not yet done so).
	PID     int
	Command string
	// Since is when the holder took the lock (zero when unknown).
	Since time.Time
}

// Error implements error.
func (e *LockedError) Error() string {
	who := "another process"
	if e.PID > 0 {
		who = "process " + strconv.Itoa(e.PID)
		if e.Command != "" {
			who += " (" + e.Command + ")"
		}
	}
	since := ""
	if !e.Since.IsZero() {
		since = " since " + e.Since.UTC().Format("15:04:05 UTC")
	}
	return fmt.Sprintf("%s is being written by %s%s: two runs must not share one output", e.Path, who, since)
}

// LockOutput takes the lock of an output to replace, so that two runs
// given one -o do not both measure and one silently overwrite the other:
// the second fails at once with a LockedError naming the first (its pid
// and command, which should say what runs without carrying secrets, e.g.
// "tailgate hit"). The lock is a file beside the target (".NAME.lock"),
// locked with flock(2): the kernel drops it when the holder exits, however
// it exits. A device, a pipe or "-" takes no lock (nil, nil); Unlock of a
// nil lock does nothing. Where flock is missing (not unix) no lock is
// taken.
func LockOutput(o *Output, command string) (*Lock, error) {
	if o.kind != outputReplace {
		return nil, nil
	}
	path := filepath.Join(filepath.Dir(o.target), "."+filepath.Base(o.target)+".lock")
	content := fmt.Sprintf("%d %d %s\n", os.Getpid(), time.Now().Unix(), strings.ReplaceAll(command, "\n", " "))
	return lockFile(o.Path, path, content)
}

// Unlock releases the lock and removes its file.
func (l *Lock) Unlock() error {
	if l == nil || l.f == nil {
		return nil
	}
	// Remove before closing: a process that opened the file meanwhile
	// finds, once it holds the lock, that the file is no longer at the
	// path, and starts again with a new one.
	rmErr := os.Remove(l.path)
	err := l.f.Close()
	l.f = nil
	if err != nil {
		return fmt.Errorf("unlock: %w", bareError(err))
	}
	if rmErr != nil && !os.IsNotExist(rmErr) {
		return fmt.Errorf("unlock: %w", bareError(rmErr))
	}
	return nil
}

// parseHolder reads what lockFile writes: "PID UNIXTIME COMMAND".
func parseHolder(e *LockedError, b []byte) {
	fields := strings.SplitN(strings.TrimSpace(string(b)), " ", 3)
	if len(fields) < 2 {
		return
	}
	pid, err1 := strconv.Atoi(fields[0])
	since, err2 := strconv.ParseInt(fields[1], 10, 64)
	if err1 != nil || err2 != nil || pid <= 0 {
		return
	}
	e.PID, e.Since = pid, time.Unix(since, 0)
	if len(fields) == 3 {
		e.Command = sanitizeLine(fields[2])
	}
}

// sanitizeLine drops control characters from text read from a file that
// anyone could have written, before it is printed.
func sanitizeLine(s string) string {
	return strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0) {
			return -1
		}
		return r
	}, s)
}
