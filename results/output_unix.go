//go:build unix

package results

import (
	"errors"
	"fmt"
	"io"
	"os"
	"syscall"
)

// writable reports whether the process may write to path (access(2),
// which also refuses a read-only file system to root).
func writable(path string) error {
	if err := syscall.Access(path, 2 /* W_OK */); err != nil {
		return fmt.Errorf("not writable: %w", err)
	}
	return nil
}

// lockFile takes an exclusive flock on the file at path (made if needed)
// and writes content into it; name is the output named in errors.
func lockFile(name, path, content string) (*Lock, error) {
	for range 10 {
		f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o644)
		if err != nil {
			return nil, fmt.Errorf("%s: lock: %w", name, bareError(err))
		}
		if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
			defer f.Close()
			if errors.Is(err, syscall.EWOULDBLOCK) {
				e := &LockedError{Path: name}
				b, _ := io.ReadAll(io.LimitReader(f, 4096))
				parseHolder(e, b)
				return nil, e
			}
			return nil, fmt.Errorf("%s: lock: %w", name, err)
		}
		// The holder before us may have removed the file between our open
		// and our flock: then we hold a lock on a file no one else sees.
		held, err1 := f.Stat()
		now, err2 := os.Stat(path)
		if err1 != nil || err2 != nil || !os.SameFile(held, now) {
			_ = f.Close()
			continue
		}
		l := &Lock{f: f, path: path}
		err = f.Truncate(0)
		if err == nil {
			_, err = f.WriteAt([]byte(content), 0)
		}
		if err != nil {
			_ = l.Unlock()
			return nil, fmt.Errorf("%s: lock: %w", name, bareError(err))
		}
		return l, nil
	}
	return nil, fmt.Errorf("%s: lock: the lock file keeps changing", name)
}
