// Command tgprof is tailgate with profiling hooks for benchmark work: the
// same CLI, plus a CPU profile written to $TAILGATE_CPUPROFILE and a heap
// profile to $TAILGATE_MEMPROFILE when they are set. It keeps the flag out of
// the user-facing binary.
//
//	go build -o bench/bin/tgprof ./bench/cmd/tgprof
//	TAILGATE_CPUPROFILE=cpu.prof bench/bin/tgprof hit URL --vus 50 -c 50 -d 10s --quiet
//	go tool pprof -top bench/bin/tgprof cpu.prof
package main

import (
	"fmt"
	"os"
	"runtime"
	"runtime/pprof"

	"github.com/tailgate-dev/tailgate/internal/cli"
)

func main() { os.Exit(run()) }

func run() int {
	if path := os.Getenv("TAILGATE_CPUPROFILE"); path != "" {
		f, err := os.Create(path)
		if err != nil {
			fmt.Fprintf(os.Stderr, "tgprof: %v\n", err)
			return 3
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			fmt.Fprintf(os.Stderr, "tgprof: %v\n", err)
			return 3
		}
		defer pprof.StopCPUProfile()
	}
	code := cli.Main(os.Args[1:], cli.OSEnv())
	if path := os.Getenv("TAILGATE_MEMPROFILE"); path != "" {
		runtime.GC()
		if err := writeHeap(path); err != nil {
			fmt.Fprintf(os.Stderr, "tgprof: %v\n", err)
		}
	}
	return code
}

func writeHeap(path string) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if err := pprof.WriteHeapProfile(f); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
