// Command lagtl prints the send lag of tailgate results files: the run's
// percentiles, then one line per second of the timeline, each with the
// share of the tool's CPUs the hypervisor took in that second (steal, on
// Linux). A send lag that comes back at a fixed period points at periodic
// work in the process (the collector, checkpoints); one that rises with
// steal, at the hypervisor; one that does neither, at the machine. Used
// while working on the send-lag goal of the benchmarks.
//
//	go run ./bench/cmd/lagtl results.json...
package main

import (
	"fmt"
	"os"
	"time"

	"github.com/tailgate-dev/tailgate/results"
)

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: lagtl results.json...")
		os.Exit(2)
	}
	for _, path := range os.Args[1:] {
		if err := show(path); err != nil {
			fmt.Fprintf(os.Stderr, "lagtl: %v\n", err)
			os.Exit(1)
		}
	}
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
