//go:build unix

package cli

import (
	"errors"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"syscall"
	"testing"
)

// TestCrashIsNotAUsageError: once the process is set up as OSEnv sets it
// up, a panic and an out-of-memory fatal error end it by SIGABRT (134 in
// a shell), not with exit status 2, which means bad input. The crashes
// happen in a child: this test binary run again with TAILGATE_CRASH set.
func TestCrashIsNotAUsageError(t *testing.T) {
	if kind := os.Getenv("TAILGATE_CRASH"); kind != "" {
		crashBySignal()
		switch kind {
		case "panic":
			panic("deliberate crash: an unrecovered panic")
		case "oom":
			// Cap the address space near what is mapped now, then ask
			// for more: the runtime's fatal "out of memory".
			var ms runtime.MemStats
			runtime.ReadMemStats(&ms)
			limit := ms.Sys + 512<<20
			if err := syscall.Setrlimit(syscall.RLIMIT_AS, &syscall.Rlimit{Cur: limit, Max: limit}); err != nil {
				os.Exit(97)
			}
			var keep [][]byte
			for range 64 {
				keep = append(keep, make([]byte, 64<<20))
			}
			_ = keep
		}
		os.Exit(98) // not reached
	}
	if runtime.GOOS != "linux" {
		t.Skip("signals and address-space limits checked on Linux")
	}
	for _, kind := range []string{"panic", "oom"} {
		t.Run(kind, func(t *testing.T) {
			cmd := exec.Command(os.Args[0], "-test.run=^TestCrashIsNotAUsageError$")
			cmd.Env = append(os.Environ(), "TAILGATE_CRASH="+kind, "GOTRACEBACK=")
			out, err := cmd.CombinedOutput()
			var ee *exec.ExitError
			if !errors.As(err, &ee) {
				t.Fatalf("child: %v\n%s", err, out)
			}
			ws := ee.Sys().(syscall.WaitStatus)
			if !ws.Signaled() || ws.Signal() != syscall.SIGABRT {
				t.Fatalf("child ended with status %d (signaled %v), want SIGABRT\n%.2000s", ws.ExitStatus(), ws.Signaled(), out)
			}
			// Under -race the address-space cap is met by the race
			// runtime's own mappings first: another fatal error.
			want := map[string][]string{"panic": {"deliberate crash: an unrecovered panic"}, "oom": {"out of memory", "address space"}}[kind]
			if !strings.Contains(string(out), want[0]) && (len(want) == 1 || !strings.Contains(string(out), want[1])) {
				t.Fatalf("child output lacks %q:\n%.2000s", want, out)
			}
		})
	}
}
