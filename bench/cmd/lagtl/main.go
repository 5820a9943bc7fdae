// Command lagtl prints the send lag of tailgate results files: the run's
// percentiles, then one line per second of the timeline, each with the
// share of the tool's CPUs the hypervisor took in that second (steal, on
// Linux). A send lag that comes back at a fixed period points at periodic
// work in the process (the collector, checkpoints); one that rises with
// steal, at the hypervisor; one that does neither, at the machine. Used
// while working on the send-lag goal of the benchmarks.
//
// With -quiet S it instead pools the send lag of every second, over all
// the files, in which the hypervisor took less than the share S of the
// tool's CPUs, and prints that pool's percentiles: on a shared VM the
// tail of send lag follows steal, and comparing two builds or modes over
// their unstolen seconds compares what the process itself does.
//
//	go run ./bench/cmd/lagtl results.json...
//	go run ./bench/cmd/lagtl -quiet 0.001 off-*.json
package main

import (
	"flag"
	"fmt"
	"os"
	"time"

	"github.com/tailgate-dev/tailgate/results"
)

func main() {
	quiet := flag.Float64("quiet", -1, "pool the send lag of the seconds whose steal share is below `S` (e.g. 0.001) over all files and print its percentiles")
	flag.Usage = func() {
		fmt.Fprintln(os.Stderr, "usage: lagtl [-quiet S] results.json...")
		flag.PrintDefaults()
	}
	flag.Parse()
	if flag.NArg() < 1 {
		flag.Usage()
		os.Exit(2)
	}
	if *quiet >= 0 {
		if err := pool(flag.Args(), *quiet); err != nil {
			fmt.Fprintf(os.Stderr, "lagtl: %v\n", err)
			os.Exit(1)
		}
		return
	}
	for _, path := range flag.Args() {
		if err := show(path); err != nil {
			fmt.Fprintf(os.Stderr, "lagtl: %v\n", err)
			os.Exit(1)
		}
	}
}

// pool prints the percentiles of the send lag of the seconds of paths in
// which less than the share below of the tool's CPU time was stolen.
// Seconds of a run without steal figures (not Linux) count as unstolen.
func pool(paths []string, below float64) error {
	lag := results.NewHistogram()
	var kept, all int
	for _, path := range paths {
		r, err := results.ReadResultFile(path)
		if err != nil {
			return err
		}
		for _, iv := range r.Timeline {
			s := iv.Total.SendLag
			if iv.Warmup || s == nil || s.Count() == 0 {
				continue
			}
			all++
			if iv.Steal.Share() >= below {
				continue
			}
			if err := lag.Merge(s); err != nil {
				return fmt.Errorf("%s: second %v: %w", path, time.Duration(iv.Start), err)
			}
			kept++
		}
	}
	if kept == 0 {
		return fmt.Errorf("none of the %d seconds had less than %.2f%% stolen", all, 100*below)
	}
	fmt.Printf("%d of %d seconds, %d requests: send lag p50 %v p99 %v p99.9 %v max %v\n", kept, all, lag.Count(),
		lag.Percentile(50), lag.Percentile(99), lag.Percentile(99.9), lag.Max())
	return nil
}

func show(path string) error {
	r, err := results.ReadResultFile(path)
	if err != nil {
		return err
	}
	if r.Total == nil || r.Total.SendLag == nil {
		return fmt.Errorf("%s: no send lag recorded", path)
	}
	l := r.Total.SendLag
	steal := ""
	if st := r.Meta.Steal; st != nil {
		steal = fmt.Sprintf(", steal %.2f%% of %d CPUs (worst second %.1f%% at %v)", 100*st.Share(), st.CPUs, 100*st.Worst, st.WorstAt.D())
	}
	fmt.Printf("%s: %d requests, send lag p50 %v p99 %v p99.9 %v max %v%s\n", path, l.Count(),
		l.Percentile(50), l.Percentile(99), l.Percentile(99.9), l.Max(), steal)
	for _, iv := range r.Timeline {
		s := iv.Total.SendLag
		if s == nil || s.Count() == 0 {
			continue
		}
		steal := ""
		if iv.Steal.Time > 0 {
			steal = fmt.Sprintf("  steal %5.1f%%", 100*iv.Steal.Share())
		}
		fmt.Printf("  %6.1fs %6d sent  p99 %9v  max %9v%s\n", time.Duration(iv.Start).Seconds(), s.Count(), s.Percentile(99), s.Max(), steal)
	}
	return nil
}
