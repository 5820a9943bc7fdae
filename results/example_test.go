package results_test

import (
	"bytes"
	"fmt"
	"time"

	"github.com/tailgate-dev/tailgate/results"
)

// Two shards of one run merge into one result whose histograms are the
// union of the shards' samples, and the merged result round-trips through
// the file format unchanged.
func ExampleMerge() {
	shard := func(index int, latencies ...time.Duration) *results.Result {
		total := results.NewStats("", "")
		for _, d := range latencies {
			total.Requests++
			total.Latency.Record(d)
			total.Service.Record(d)
			total.SendLag.Record(0)
		}
		start := time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)
		return &results.Result{
			Version: results.ResultVersion,
			Meta: results.Meta{
				Tool: "tailgate", Name: "example", Model: results.OpenModel, Profile: "constant 2/s for 2s",
				Start: start, End: start.Add(2 * time.Second), PlannedDuration: results.Duration(2 * time.Second),
				Shard: results.Shard{Index: index, Count: 2}, PlanHash: "0123",
			},
			Total: total,
		}
	}
	merged, err := results.Merge(shard(0, 10*time.Millisecond, 30*time.Millisecond), shard(1, 20*time.Millisecond, 40*time.Millisecond))
	if err != nil {
		fmt.Println(err)
		return
	}
	var buf bytes.Buffer
	if err := merged.Encode(&buf); err != nil {
		fmt.Println(err)
		return
	}
	back, err := results.DecodeResult(&buf)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("requests:", back.Total.Requests)
	fmt.Println("p50:", back.Total.Latency.Percentile(50).Round(time.Millisecond))
	fmt.Println("max:", back.Total.Latency.Max().Round(time.Millisecond))
	// Output:
	// requests: 4
	// p50: 20ms
	// max: 40ms
}
