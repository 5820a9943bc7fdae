package cli

import (
	"bytes"
	"context"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/tailgate-dev/tailgate/internal/specialfile"
	"github.com/tailgate-dev/tailgate/loadgen"
	"github.com/tailgate-dev/tailgate/results"
)

// hitArgs is a short run against url writing its results to out.
func hitArgs(url, out string) []string {
	return []string{"hit", url + "/", "--rate", "20/s", "--duration", "200ms", "-o", out, "--quiet"}
}

// TestOutputFilesAreCheckedBeforeLoad: a directory given as the file, a
// missing parent, a parent that is a file, a block of other kinds: each
// is exit 2 with one line naming the file (and no temporary file) before
// a single request is sent, for every command that writes a file.
func TestOutputFilesAreCheckedBeforeLoad(t *testing.T) {
	srv, n := countingServer(t)
	dir := t.TempDir()
	file := filepath.Join(dir, "file")
	if err := os.WriteFile(file, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	good := filepath.Join(dir, "good.json")
	if code, _, stderr := runCLI(t, hitArgs(srv.URL, good)...); code != ExitOK {
		t.Fatalf("a run to write a results file: exit %d: %s", code, stderr)
	}
	n.Store(0)
	bad := []struct{ name, path, want string }{
		{"directory", dir, "is a directory"},
		{"missing parent", filepath.Join(dir, "missing", "r.json"), "no such file or directory"},
		{"parent is a file", filepath.Join(file, "r.json"), "is not a directory"},
	}
	for _, b := range bad {
		cmds := []struct {
			name, names string
			args        []string
		}{
			{"hit", b.path, hitArgs(srv.URL, b.path)},
			{"report -o", b.path, []string{"report", good, "-o", b.path}},
			{"merge -o", b.path, []string{"merge", "-o", b.path, good}},
			{"compare --md", b.path, []string{"compare", good, good, "--md", b.path}},
		}
		if b.name != "directory" { // --count numbers the files: dir-1, dir-2
			cmds = append(cmds, struct {
				name, names string
				args        []string
			}{"hit --count", filepath.Dir(b.path), append(hitArgs(srv.URL, b.path), "--count", "2")})
		}
		for _, cmd := range cmds {
			t.Run(b.name+"/"+cmd.name, func(t *testing.T) {
				n.Store(0)
				code, stdout, stderr := runCLI(t, cmd.args...)
				line := strings.TrimSpace(stderr)
				if code != ExitUsage || strings.Contains(line, "\n") || !strings.Contains(line, cmd.names) || !strings.Contains(line, b.want) {
					t.Fatalf("exit %d, stderr %q (stdout %q): want exit 2 and one line naming %s and saying %q", code, stderr, stdout, cmd.names, b.want)
				}
				if strings.Contains(line, ".tmp-") || strings.Contains(line, "tailgate-check") {
					t.Fatalf("message names a temporary file: %q", line)
				}
				if got := n.Load(); got != 0 {
					t.Fatalf("%d requests were sent", got)
				}
			})
		}
	}
	t.Run("second of two runs", func(t *testing.T) {
		// The second run's file is checked before the first run starts.
		if err := os.Mkdir(filepath.Join(dir, "r-2.json"), 0o755); err != nil {
			t.Fatal(err)
		}
		n.Store(0)
		code, _, stderr := runCLI(t, append(hitArgs(srv.URL, filepath.Join(dir, "r.json")), "--count", "2")...)
		if code != ExitUsage || !strings.Contains(stderr, "r-2.json: is a directory") || n.Load() != 0 {
			t.Fatalf("exit %d, %d requests: %s", code, n.Load(), stderr)
		}
		if _, err := os.Stat(filepath.Join(dir, "r-1.json")); !os.IsNotExist(err) {
			t.Fatalf("the first run ran: %v", err)
		}
	})
	t.Run("png-dir is a file", func(t *testing.T) {
		code, _, stderr := runCLI(t, "report", good, "--png-dir", file)
		if code != ExitUsage || !strings.Contains(stderr, "is a regular file, not a directory") {
			t.Fatalf("exit %d: %s", code, stderr)
		}
	})
	ents, _ := os.ReadDir(dir)
	for _, e := range ents {
		if strings.Contains(e.Name(), ".tmp-") || strings.Contains(e.Name(), "tailgate-check") || strings.HasSuffix(e.Name(), ".lock") {
			t.Errorf("%s left behind", e.Name())
		}
	}
}

// TestOutputToDeviceSymlinkAndPipe: -o of a character device writes
// through it and leaves the node a device (as root, "-o /dev/null" used
// to replace the machine's null device with a file); a symbolic link's
// target is replaced and the link kept; a named pipe receives exactly one
// results document, no checkpoints, and stays a pipe.
func TestOutputToDeviceSymlinkAndPipe(t *testing.T) {
	srv, _ := countingServer(t)
	dir := t.TempDir()

	t.Run("character device", func(t *testing.T) {
		null := filepath.Join(dir, "null")
		specialfile.NullDevice(t, null)
		for _, args := range [][]string{hitArgs(srv.URL, null), {"report", "-o", null, writeGood(t, srv.URL, dir)}} {
			if code, _, stderr := runCLI(t, args...); code != ExitOK {
				t.Fatalf("%v: exit %d: %s", args, code, stderr)
			}
			if fi, err := os.Lstat(null); err != nil || fi.Mode()&os.ModeCharDevice == 0 {
				t.Fatalf("%v: the device node became %v (%v)", args, fi.Mode(), err)
			}
		}
	})

	t.Run("symlink", func(t *testing.T) {
		real := filepath.Join(dir, "real.json")
		link := filepath.Join(dir, "link.json")
		if err := os.Symlink("real.json", link); err != nil {
			t.Fatal(err)
		}
		if code, _, stderr := runCLI(t, hitArgs(srv.URL, link)...); code != ExitOK {
			t.Fatalf("exit %d: %s", code, stderr)
		}
		if fi, err := os.Lstat(link); err != nil || fi.Mode()&os.ModeSymlink == 0 {
			t.Fatalf("the link was replaced: %v %v", fi.Mode(), err)
		}
		if res, err := results.ReadResultFile(real); err != nil || res.Total.Requests != 4 {
			t.Fatalf("the link's target: %v", err)
		}
	})

	t.Run("named pipe", func(t *testing.T) {
		pipe := filepath.Join(dir, "pipe")
		specialfile.FIFO(t, pipe)
		got := make(chan []byte, 1)
		go func() {
			f, err := os.Open(pipe)
			if err != nil {
				got <- []byte(err.Error())
				return
			}
			defer f.Close()
			b, _ := io.ReadAll(f)
			got <- b
		}()
		// Checkpoints every 20ms over a run of 300ms: none may reach the pipe.
		plan := loadgen.Plan{Name: "hit", Target: srv.URL, Load: loadgen.Load{Pacer: loadgen.ConstantPacer{PerSecond: 50, Length: 300 * time.Millisecond}},
			Flows:   []loadgen.Flow{{Name: "get", Weight: 1, Steps: []loadgen.Step{&loadgen.StaticStep{Request: loadgen.Request{Name: "get", Method: "GET", URL: srv.URL}}}}},
			Command: []string{"tailgate", "hit"}}
		var stdout, stderr bytes.Buffer
		env := &Env{Stdout: &stdout, Stderr: &stderr, Getenv: func(string) string { return "" }}
		if _, err := execute(context.Background(), env, plan, outputOptions{out: pipe, quiet: true, checkpointEvery: 20 * time.Millisecond}); err != nil {
			t.Fatal(err)
		}
		var b []byte
		select {
		case b = <-got:
		case <-time.After(10 * time.Second):
			t.Fatal("the reader got nothing")
		}
		res, err := results.DecodeResult(bytes.NewReader(b)) // trailing data (a second document) fails
		if err != nil || res.Total.Requests != 15 {
			t.Fatalf("the pipe carried %d bytes: %v", len(b), err)
		}
		if fi, err := os.Lstat(pipe); err != nil || fi.Mode()&os.ModeNamedPipe == 0 {
			t.Fatalf("the pipe became %v (%v)", fi.Mode(), err)
		}
	})
}

// writeGood writes a small results file into dir and returns its path.
func writeGood(t *testing.T, url, dir string) string {
	t.Helper()
	p := filepath.Join(dir, "good-"+strconv.Itoa(int(time.Now().UnixNano()))+".json")
	if code, _, stderr := runCLI(t, hitArgs(url, p)...); code != ExitOK {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	return p
}

// TestTwoRunsOneOutput: a second run given the -o of a run in progress
// exits 2 before sending anything, saying which process holds the file.
func TestTwoRunsOneOutput(t *testing.T) {
	srv, n := countingServer(t)
	p := filepath.Join(t.TempDir(), "r.json")
	o, err := results.CheckOutput(p)
	if err != nil {
		t.Fatal(err)
	}
	// The first run's lock, as its process holds it (flock locks belong
	// to an open file, so one process can stand for two).
	first, err := results.LockOutput(o, "tailgate run")
	if err != nil {
		t.Fatal(err)
	}
	code, _, stderr := runCLI(t, hitArgs(srv.URL, p)...)
	want := "is being written by process " + strconv.Itoa(os.Getpid()) + " (tailgate run)"
	if code != ExitUsage || !strings.Contains(stderr, want) || strings.Count(strings.TrimSpace(stderr), "\n") > 0 {
		t.Fatalf("exit %d, stderr %q: want exit 2 and %q", code, stderr, want)
	}
	if n.Load() != 0 {
		t.Fatalf("%d requests sent", n.Load())
	}
	if _, err := os.Stat(p); !os.IsNotExist(err) {
		t.Fatalf("the second run wrote the file: %v", err)
	}
	if err := first.Unlock(); err != nil {
		t.Fatal(err)
	}
	if code, _, stderr := runCLI(t, hitArgs(srv.URL, p)...); code != ExitOK {
		t.Fatalf("after the first run ended: exit %d: %s", code, stderr)
	}
}

// TestResultsToStdout: "-o -" writes the results, and nothing else, to
// stdout; the summary goes to stderr.
func TestResultsToStdout(t *testing.T) {
	srv, _ := countingServer(t)
	dir := t.TempDir()
	for _, args := range [][]string{
		{"hit", srv.URL + "/", "--rate", "20/s", "--duration", "200ms", "-o", "-", "--no-tui"},
		{"merge", "-o", "-", writeGood(t, srv.URL, dir)},
	} {
		code, stdout, stderr := runCLI(t, args...)
		if code != ExitOK {
			t.Fatalf("%v: exit %d: %s", args, code, stderr)
		}
		res, err := results.DecodeResult(strings.NewReader(stdout))
		if err != nil || res.Total.Requests != 4 {
			t.Fatalf("%v: stdout is not the results alone: %v\n%.300s", args, err, stdout)
		}
		if !strings.Contains(stderr, "Latency") {
			t.Fatalf("%v: no summary on stderr: %s", args, stderr)
		}
		if _, err := os.Stat("-"); err == nil {
			t.Fatalf("%v: a file named - was made", args)
		}
	}
}
