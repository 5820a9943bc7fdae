package cli

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/pflag"
	"github.com/tailgate-dev/tailgate/internal/format"
	"github.com/tailgate-dev/tailgate/results"
)

// The variables --shard auto reads. Kubernetes sets the index in the pods
// of an Indexed Job; the count is the Job's completions, which no pod can
// see, so the manifest passes it.
const (
	envShardIndex = "JOB_COMPLETION_INDEX"
	envShardCount = "TAILGATE_SHARDS"
)

// defaultStartGrace is how late a process may get ready for its start
// instant and still start: late arrivals within it are sent at once
// (and show as send lag); beyond it the process refuses.
const defaultStartGrace = time.Second

// startFlags synchronise the processes of a distributed run: one start
// instant for all, and a run id they share.
type startFlags struct {
	at    string
	in    string
	grace string
	runID string
}

func addStartFlags(fs *pflag.FlagSet, f *startFlags) {
	fs.StringVar(&f.at, "start-at", "", "get ready, then start the schedule at `INSTANT` (RFC 3339, e.g. 2026-12-01T10:00:00Z); every shard of a run gets the same one")
	fs.StringVar(&f.in, "start-in", "", "like --start-at, `D` from now (e.g. 30s)")
	fs.StringVar(&f.grace, "start-grace", defaultStartGrace.String(), "refuse to start (exit 2, nothing sent) when ready more than `D` after the start instant")
	fs.StringVar(&f.runID, "run-id", "", "`ID` shared by the shards of one run (default: derived from the plan and the start instant)")
}

// resolve returns the start instant (zero: start at once) and the grace.
func (f *startFlags) resolve(now time.Time) (time.Time, time.Duration, error) {
	grace, err := format.ParseDuration(f.grace)
	if err != nil || grace < 0 {
		return time.Time{}, 0, usagef("--start-grace %q: want a duration like 1s", f.grace)
	}
	switch {
	case f.at != "" && f.in != "":
		return time.Time{}, 0, usagef("--start-at and --start-in exclude each other")
	case f.at != "":
		at, err := time.Parse(time.RFC3339Nano, f.at)
		if err != nil {
			return time.Time{}, 0, usagef("--start-at %q: want an RFC 3339 instant like 2026-12-01T10:00:00Z", f.at)
		}
		return at, grace, nil
	case f.in != "":
		d, err := format.ParseDuration(f.in)
		if err != nil || d < 0 {
			return time.Time{}, 0, usagef("--start-in %q: want a duration like 30s", f.in)
		}
		// A wall-clock instant, as --start-at gives: Round(0) drops the
		// monotonic reading, which only this process could use.
		return now.Add(d).Round(0), grace, nil
	}
	return time.Time{}, 0, nil
}

// shardFromEnv reads the shard of an Indexed Job's pod from the
// environment. Both variables are required: guessing a shard would run
// arrivals twice or not at all.
func shardFromEnv(getenv func(string) string) (results.Shard, error) {
	read := func(name string) (int, error) {
		raw := getenv(name)
		if raw == "" {
			return 0, fmt.Errorf("%s is not set", name)
		}
		n, err := strconv.Atoi(strings.TrimSpace(raw))
		if err != nil || n < 0 {
			return 0, fmt.Errorf("%s=%q: want a whole number", name, raw)
		}
		return n, nil
	}
	idx, err := read(envShardIndex)
	if err != nil {
		return results.Shard{}, err
	}
	cnt, err := read(envShardCount)
	if err != nil {
		return results.Shard{}, err
	}
	if cnt < 1 || idx >= cnt {
		return results.Shard{}, fmt.Errorf("%s=%d with %s=%d: want 0 ≤ index < count", envShardIndex, idx, envShardCount, cnt)
	}
	return results.Shard{Index: idx, Count: cnt}, nil
}
