package results

import (
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tailgate-dev/tailgate/internal/specialfile"
)

func writeString(s string) func(io.Writer) error {
	return func(w io.Writer) error { _, err := io.WriteString(w, s); return err }
}

// noTemp fails when dir holds a temporary or lock file left behind.
func noTemp(t *testing.T, dir string) {
	t.Helper()
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range ents {
		if strings.Contains(e.Name(), ".tmp-") || strings.Contains(e.Name(), "tailgate-check") {
			t.Errorf("%s left behind in %s", e.Name(), dir)
		}
	}
}

// TestOutputRule: a regular file and a missing path are replaced
// atomically; a symbolic link's target is replaced and the link kept; a
// character device and a named pipe are written straight through and stay
// what they are (issue: -o /dev/null as root replaced the device node).
func TestOutputRule(t *testing.T) {
	dir := t.TempDir()

	t.Run("missing and regular", func(t *testing.T) {
		p := filepath.Join(dir, "r.json")
		for _, content := range []string{"first", "second"} {
			o, err := CheckOutput(p)
			if err != nil {
				t.Fatal(err)
			}
			if !o.Replaceable() {
				t.Fatal("a regular file is not replaceable")
			}
			if err := o.Write(nil, writeString(content)); err != nil {
				t.Fatal(err)
			}
			if b, _ := os.ReadFile(p); string(b) != content {
				t.Fatalf("file holds %q, want %q", b, content)
			}
		}
		noTemp(t, dir)
	})

	t.Run("mode kept", func(t *testing.T) {
		p := filepath.Join(dir, "private.json")
		if err := os.WriteFile(p, nil, 0o600); err != nil {
			t.Fatal(err)
		}
		if err := WriteOutput(p, nil, writeString("x")); err != nil {
			t.Fatal(err)
		}
		if fi, _ := os.Stat(p); fi.Mode().Perm() != 0o600 {
			t.Fatalf("mode %v after replace, want 0600", fi.Mode().Perm())
		}
	})

	t.Run("symlink", func(t *testing.T) {
		sub := filepath.Join(dir, "elsewhere")
		if err := os.Mkdir(sub, 0o755); err != nil {
			t.Fatal(err)
		}
		target := filepath.Join(sub, "real.json")
		if err := os.WriteFile(target, []byte("old"), 0o644); err != nil {
			t.Fatal(err)
		}
		link := filepath.Join(dir, "link.json")
		if err := os.Symlink(filepath.Join("elsewhere", "real.json"), link); err != nil {
			t.Fatal(err)
		}
		o, err := CheckOutput(link)
		if err != nil {
			t.Fatal(err)
		}
		if err := o.Write(nil, writeString("new")); err != nil {
			t.Fatal(err)
		}
		if fi, err := os.Lstat(link); err != nil || fi.Mode()&os.ModeSymlink == 0 {
			t.Fatalf("the link was replaced: %v %v", fi.Mode(), err)
		}
		if b, _ := os.ReadFile(target); string(b) != "new" {
			t.Fatalf("target holds %q", b)
		}
		noTemp(t, dir)
		noTemp(t, sub)

		dangling := filepath.Join(dir, "dangling.json")
		if err := os.Symlink(filepath.Join(sub, "later.json"), dangling); err != nil {
			t.Fatal(err)
		}
		if err := WriteOutput(dangling, nil, writeString("made")); err != nil {
			t.Fatal(err)
		}
		if b, _ := os.ReadFile(filepath.Join(sub, "later.json")); string(b) != "made" {
			t.Fatalf("a dangling link's target holds %q", b)
		}
	})

	t.Run("character device", func(t *testing.T) {
		p := filepath.Join(dir, "null")
		specialfile.NullDevice(t, p)
		o, err := CheckOutput(p)
		if err != nil {
			t.Fatal(err)
		}
		if o.Replaceable() {
			t.Fatal("a device is replaceable")
		}
		if err := o.Write(nil, writeString("discarded")); err != nil {
			t.Fatal(err)
		}
		r := &Result{Version: ResultVersion, Total: NewStats("", "")}
		if err := r.WriteFile(p); err != nil {
			t.Fatal(err)
		}
		if fi, err := os.Lstat(p); err != nil || fi.Mode()&os.ModeCharDevice == 0 {
			t.Fatalf("the device node became %v (%v)", fi.Mode(), err)
		}
		if err := NewFileWriter(NewEncoder()).WriteFile(r, p); err == nil {
			t.Fatal("a checkpoint into a device was written")
		}
		noTemp(t, dir)
	})

	t.Run("named pipe", func(t *testing.T) {
		p := filepath.Join(dir, "pipe")
		specialfile.FIFO(t, p)
		o, err := CheckOutput(p)
		if err != nil {
			t.Fatal(err)
		}
		if o.Replaceable() {
			t.Fatal("a pipe is replaceable")
		}
		got := make(chan string, 1)
		go func() {
			f, err := os.Open(p) // waits for the writer
			if err != nil {
				got <- err.Error()
				return
			}
			defer f.Close()
			b, _ := io.ReadAll(f)
			got <- string(b)
		}()
		if err := o.Write(nil, writeString("through the pipe")); err != nil {
			t.Fatal(err)
		}
		if s := <-got; s != "through the pipe" {
			t.Fatalf("reader got %q", s)
		}
		if fi, err := os.Lstat(p); err != nil || fi.Mode()&os.ModeNamedPipe == 0 {
			t.Fatalf("the pipe became %v (%v)", fi.Mode(), err)
		}
	})

	t.Run("stdout", func(t *testing.T) {
		var out bytes.Buffer
		if err := WriteOutput("-", &out, writeString("to stdout")); err != nil {
			t.Fatal(err)
		}
		if out.String() != "to stdout" {
			t.Fatalf("stdout got %q", out.String())
		}
	})
}

// TestCheckOutputRefuses: what cannot be written is found before anything
// is written, in one line that names the path and no temporary file.
func TestCheckOutputRefuses(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "file")
	if err := os.WriteFile(file, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	loop := filepath.Join(dir, "loop")
	if err := os.Symlink(loop, loop); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, path, want string
	}{
		{"directory", dir, "is a directory"},
		{"missing parent", filepath.Join(dir, "no", "r.json"), "no such file or directory"},
		{"parent is a file", filepath.Join(file, "r.json"), "is not a directory"},
		{"symlink loop", loop, "too many levels of symbolic links"},
		{"empty", "", "empty output path"},
	}
	if os.Geteuid() != 0 {
		ro := filepath.Join(dir, "ro")
		if err := os.Mkdir(ro, 0o555); err != nil {
			t.Fatal(err)
		}
		tests = append(tests, struct{ name, path, want string }{"unwritable directory", filepath.Join(ro, "r.json"), "permission denied"})
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := CheckOutput(tt.path)
			if err == nil {
				t.Fatal("no error")
			}
			msg := err.Error()
			if !strings.HasPrefix(msg, tt.path) || !strings.Contains(msg, tt.want) || strings.Contains(msg, "\n") || strings.Contains(msg, ".tmp-") || strings.Contains(msg, "tailgate-check") {
				t.Fatalf("error %q: want one line starting with the path, saying %q, naming no temporary file", msg, tt.want)
			}
			if err := WriteOutput(tt.path, nil, writeString("x")); err == nil {
				t.Fatal("WriteOutput wrote it")
			}
		})
	}
	noTemp(t, dir)
}

// TestWriteFailureNamesNoTempFile: a failed write removes the temporary
// file and says what failed without its name.
func TestWriteFailureNamesNoTempFile(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "r.json")
	boom := errors.New("encoder broke")
	err := WriteOutput(p, nil, func(io.Writer) error { return boom })
	if !errors.Is(err, boom) || strings.Contains(err.Error(), ".tmp-") {
		t.Fatalf("error %v", err)
	}
	if _, err := os.Stat(p); !os.IsNotExist(err) {
		t.Fatalf("a failed write left %s: %v", p, err)
	}
	noTemp(t, dir)
}

// TestLockOutput: a second writer of one output is refused with the pid
// and command of the first, until the first unlocks.
func TestLockOutput(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "r.json")
	o, err := CheckOutput(p)
	if err != nil {
		t.Fatal(err)
	}
	first, err := LockOutput(o, "tailgate hit")
	if err != nil || first == nil {
		t.Fatalf("first lock: %v %v", first, err)
	}
	// Through a symbolic link, the same target is the same lock.
	link := filepath.Join(dir, "link.json")
	if err := os.Symlink(p, link); err != nil {
		t.Fatal(err)
	}
	ol, err := CheckOutput(link)
	if err != nil {
		t.Fatal(err)
	}
	_, err = LockOutput(ol, "tailgate run")
	var le *LockedError
	if !errors.As(err, &le) {
		t.Fatalf("second lock: %v, want a LockedError", err)
	}
	if le.PID != os.Getpid() || le.Command != "tailgate hit" {
		t.Fatalf("holder %d %q, want %d \"tailgate hit\"", le.PID, le.Command, os.Getpid())
	}
	if msg := err.Error(); !strings.Contains(msg, link) || !strings.Contains(msg, "tailgate hit") {
		t.Fatalf("message %q", msg)
	}
	if err := first.Unlock(); err != nil {
		t.Fatal(err)
	}
	again, err := LockOutput(ol, "tailgate run")
	if err != nil {
		t.Fatalf("lock after unlock: %v", err)
	}
	if err := again.Unlock(); err != nil {
		t.Fatal(err)
	}
	ents, _ := os.ReadDir(dir)
	for _, e := range ents {
		if strings.HasSuffix(e.Name(), ".lock") {
			t.Errorf("lock file %s left behind", e.Name())
		}
	}
	var none *Lock
	if err := none.Unlock(); err != nil {
		t.Fatal(err)
	}
}
