package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// proc is one finished tool process.
type proc struct {
	Stdout, Stderr string        `json:"-"`
	Wall           time.Duration `json:"wall"`
	CPU            time.Duration `json:"cpu"` // user + system
	User           time.Duration `json:"user"`
	MaxRSS         int64         `json:"maxrss"` // bytes
}

// step is one process of a pipeline: argv, and a file for stdout ("" to
// capture it).
type step struct {
	argv   []string
	stdout string
	stdin  string
}

// runPinned runs a pipeline of processes, each pinned to the tool CPU,
// and returns what each used. CPU time is the rusage from wait4. Peak RSS
// comes from /usr/bin/time wrapped around each step: wait4's ru_maxrss
// of a child of this Go program is at least this program's own RSS, since
// Go starts children with a clone that shares the parent's memory until
// exec, and Linux counts the memory before exec in the child's maximum.
// GNU time forks its child with a copy of its own small memory instead.
func (b *bench) runPinned(ctx context.Context, limit time.Duration, steps ...step) ([]proc, error) {
	cmds := make([]*exec.Cmd, len(steps))
	outs := make([]*bytes.Buffer, len(steps))
	errs := make([]*bytes.Buffer, len(steps))
	var closers []io.Closer
	defer func() {
		for _, c := range closers {
			_ = c.Close()
		}
	}()
	rctx, cancel := context.WithTimeout(ctx, limit)
	defer cancel()
	rssFiles := make([]string, len(steps))
	for i, s := range steps {
		rssFiles[i] = filepath.Join(b.c.work, fmt.Sprintf("maxrss-%d-%d", time.Now().UnixNano(), i))
		argv := append([]string{"-f", "%M", "-o", rssFiles[i], "nice"}, b.pinned(b.c.toolCPU, s.argv...)...)
		cmd := exec.CommandContext(rctx, "/usr/bin/time", argv...)
		// time runs the tool as its child: on a timeout, end both.
		cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
		cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
		cmd.Env = os.Environ()
		outs[i], errs[i] = &bytes.Buffer{}, &bytes.Buffer{}
		cmd.Stderr = errs[i]
		if s.stdin != "" {
			f, err := os.Open(s.stdin)
			if err != nil {
				return nil, err
			}
			closers = append(closers, f)
			cmd.Stdin = f
		}
		if s.stdout != "" {
			f, err := os.Create(s.stdout)
			if err != nil {
				return nil, err
			}
			closers = append(closers, f)
			cmd.Stdout = f
		} else if i < len(steps)-1 {
			// Piped into the next step below.
		} else {
			cmd.Stdout = outs[i]
		}
		cmds[i] = cmd
	}
	for i := 0; i < len(cmds)-1; i++ {
		if cmds[i].Stdout != nil {
			continue
		}
		r, w, err := os.Pipe()
		if err != nil {
			return nil, err
		}
		cmds[i].Stdout = w
		cmds[i+1].Stdin = r
		closers = append(closers, r, w)
	}
	start := time.Now()
	for i, cmd := range cmds {
		if err := cmd.Start(); err != nil {
			return nil, fmt.Errorf("%s: %w", steps[i].argv[0], err)
		}
	}
	// The parent's copies of the pipe ends must go, or readers never see EOF.
	for _, c := range closers {
		_ = c.Close()
	}
	closers = nil
	out := make([]proc, len(cmds))
	var firstErr error
	for i, cmd := range cmds {
		err := cmd.Wait()
		p := proc{Wall: time.Since(start), Stdout: outs[i].String(), Stderr: errs[i].String()}
		if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
			// time's own CPU is included and negligible.
			p.CPU = time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
			p.User = time.Duration(ru.Utime.Nano())
		}
		if kib, rerr := readMaxRSS(rssFiles[i]); rerr == nil {
			p.MaxRSS = kib * 1024
		} else if err == nil {
			err = rerr
		}
		out[i] = p
		if err != nil && firstErr == nil && !okExit(steps[i].argv[0], err) {
			firstErr = fmt.Errorf("%s: %w\n%s", strings.Join(steps[i].argv, " "), err, tail(p.Stderr, 800))
		}
	}
	if rctx.Err() == context.DeadlineExceeded && ctx.Err() == nil {
		return out, fmt.Errorf("%w after %s", errTimedOut, limit)
	}
	if firstErr != nil {
		return out, firstErr
	}
	return out, rctx.Err()
}

// errTimedOut marks a tool killed for running far past its planned length.
// The run is kept, with a note, rather than ending the whole benchmark: a
// peer that falls hopelessly behind its schedule is itself a result.
var errTimedOut = errors.New("killed")

// fatal reports whether err must end the benchmark.
func fatal(err error) bool { return err != nil && !errors.Is(err, errTimedOut) }

// note is the text a run keeps for a non-fatal error.
func note(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

// okExit accepts tailgate's "thresholds failed" exit (1) as a finished run.
func okExit(name string, err error) bool {
	var ee *exec.ExitError
	return errors.As(err, &ee) && ee.ExitCode() == 1 && strings.HasSuffix(name, "tailgate")
}

func tail(s string, n int) string {
	if len(s) > n {
		return "…" + s[len(s)-n:]
	}
	return s
}

// counted runs a pipeline and returns it with the number of requests the
// server saw meanwhile.
func (b *bench) counted(ctx context.Context, server string, limit time.Duration, steps ...step) ([]proc, uint64, error) {
	read := b.nginxCount
	adjust := uint64(1) // the status request after the run counts itself
	if server == "target" {
		read, adjust = b.targetCount, 0
	}
	before, err := read()
	if err != nil {
		return nil, 0, err
	}
	ps, runErr := b.runPinned(ctx, limit, steps...)
	if fatal(runErr) {
		return ps, 0, runErr
	}
	// Let the server finish requests still in its queue.
	time.Sleep(200 * time.Millisecond)
	after, err := read()
	if err != nil {
		return ps, 0, err
	}
	return ps, after - before - adjust, runErr
}

func secs(d time.Duration) string { return strconv.Itoa(int(d / time.Second)) }

// readMaxRSS reads the peak RSS in KiB that /usr/bin/time -f %M wrote to
// path: the last line (time writes a line about a non-zero exit before it).
func readMaxRSS(path string) (int64, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return 0, fmt.Errorf("peak RSS: %w", err)
	}
	_ = os.Remove(path)
	lines := strings.Fields(strings.TrimSpace(string(raw)))
	if len(lines) == 0 {
		return 0, fmt.Errorf("peak RSS: %s is empty", path)
	}
	kib, err := strconv.ParseInt(lines[len(lines)-1], 10, 64)
	if err != nil {
		return 0, fmt.Errorf("peak RSS: %s: %q", path, raw)
	}
	return kib, nil
}
