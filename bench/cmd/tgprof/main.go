// Command tgprof is tailgate with profiling hooks for benchmark work: the
// same CLI, plus a CPU profile written to $TAILGATE_CPUPROFILE and a heap
// profile to $TAILGATE_MEMPROFILE when they are set, and runtime memory
// figures every $TAILGATE_MEMSTATS (a duration, e.g. 5s) on stderr. With
// $TAILGATE_MEMPROFILE_AT (a duration) the heap profile is taken that long
// after the start, during the run, instead of after it. It keeps
// these flags out of the user-facing binary. $TAILGATE_TRACE names a file
// for a runtime execution trace (go tool trace).
//
//	go build -o bench/bin/tgprof ./bench/cmd/tgprof
//	TAILGATE_CPUPROFILE=cpu.prof bench/bin/tgprof hit URL --vus 50 -c 50 -d 10s --quiet
//	go tool pprof -top bench/bin/tgprof cpu.prof
package main

import (
	"fmt"
	"io"
	"os"
	"runtime"
	"runtime/metrics"
	"runtime/pprof"
	"runtime/trace"
	"time"

	"github.com/tailgate-dev/tailgate/internal/cli"
)

func main() { os.Exit(run()) }

func run() int {
	for _, p := range []struct {
		env   string
		start func(io.Writer) error
		stop  func()
	}{
		{"TAILGATE_CPUPROFILE", pprof.StartCPUProfile, pprof.StopCPUProfile},
		{"TAILGATE_TRACE", trace.Start, trace.Stop},
	} {
		path := os.Getenv(p.env)
		if path == "" {
			continue
		}
		f, err := os.Create(path)
		if err == nil {
			err = p.start(f)
		}
		if err != nil {
			fmt.Fprintf(os.Stderr, "tgprof: %s: %v\n", p.env, err)
			return 3
		}
		defer f.Close()
		defer p.stop()
	}
	if os.Getenv("TAILGATE_MEMPROFILE") != "" {
		// Sample finely: the run's garbage is a few hundred KiB a second,
		// which the default rate (one sample per 512 KiB) barely sees.
		runtime.MemProfileRate = 4096
	}
	if every, err := time.ParseDuration(os.Getenv("TAILGATE_MEMSTATS")); err == nil && every > 0 {
		go logMemStats(every)
	}
	at, err := time.ParseDuration(os.Getenv("TAILGATE_MEMPROFILE_AT"))
	if path := os.Getenv("TAILGATE_MEMPROFILE"); path != "" && err == nil && at > 0 {
		time.AfterFunc(at, func() {
			runtime.GC()
			if err := writeHeap(path); err != nil {
				fmt.Fprintf(os.Stderr, "tgprof: %v\n", err)
			}
		})
	}
	code := cli.Main(os.Args[1:], cli.OSEnv())
	if path := os.Getenv("TAILGATE_MEMPROFILE"); path != "" && at <= 0 {
		runtime.GC()
		if err := writeHeap(path); err != nil {
			fmt.Fprintf(os.Stderr, "tgprof: %v\n", err)
		}
	}
	return code
}

// logMemStats prints where the process's memory is, to tell heap growth
// from fragmentation or stacks when peak RSS grows with run length.
func logMemStats(every time.Duration) {
	var m runtime.MemStats
	stackStart := []metrics.Sample{{Name: "/gc/stack/starting-size:bytes"}}
	start := time.Now()
	const mb = 1 << 20
	for range time.Tick(every) {
		runtime.ReadMemStats(&m)
		metrics.Read(stackStart)
		fmt.Fprintf(os.Stderr, "tgprof %5.0fs heap alloc %.1f inuse %.1f idle %.1f released %.1f sys %.1f; stacks %.1f (%d goroutines, new ones start at %d B); other sys %.1f; total sys %.1f MiB; gc %d\n",
			time.Since(start).Seconds(), float64(m.HeapAlloc)/mb, float64(m.HeapInuse)/mb, float64(m.HeapIdle)/mb, float64(m.HeapReleased)/mb,
			float64(m.HeapSys)/mb, float64(m.StackSys)/mb, runtime.NumGoroutine(), stackStart[0].Value.Uint64(),
			float64(m.OtherSys+m.MSpanSys+m.MCacheSys+m.BuckHashSys+m.GCSys)/mb, float64(m.Sys)/mb, m.NumGC)
	}
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
