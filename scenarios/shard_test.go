package scenarios

import (
	"context"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"testing/synctest"

	"github.com/tailgate-dev/tailgate/loadgen"
	"github.com/tailgate-dev/tailgate/results"
)

// urlLog is a transport that answers 200 to everything and keeps the URL
// of each request by the arrival number it carries in its query.
type urlLog struct {
	mu   sync.Mutex
	urls map[string]string
	dups int
}

func (l *urlLog) NewClient() (loadgen.Client, error) { return l, nil }
func (l *urlLog) Close() error                       { return nil }

func (l *urlLog) Do(_ context.Context, req *loadgen.Request, res *loadgen.Response) error {
	u, err := url.Parse(req.URL)
	if err != nil {
		return err
	}
	l.mu.Lock()
	seq := u.Query().Get("seq")
	if _, dup := l.urls[seq]; dup {
		l.dups++
	}
	l.urls[seq] = u.RawQuery
	l.mu.Unlock()
	res.Status = 200
	return nil
}

// TestShardsReadTheRowsOfTheSingleRun checks that the data-feed rows and
// {{ seq }} of an arrival follow its global arrival number, so shard i of N
// sends exactly the requests the single run sends for its arrivals.
func TestShardsReadTheRowsOfTheSingleRun(t *testing.T) {
	dir := t.TempDir()
	csv := func(name string, rows int) {
		var b strings.Builder
		b.WriteString(name + "\n")
		for i := 0; i < rows; i++ {
			fmt.Fprintf(&b, "%s%d\n", name, i)
		}
		if err := os.WriteFile(filepath.Join(dir, name+".csv"), []byte(b.String()), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	csv("cycled", 5) // sequential: row k mod 5
	csv("once", 200) // unique: row k
	src := `name: rows
target: http://127.0.0.1:1
data:
  cycled: {file: cycled.csv}
  once: {file: once.csv, mode: unique}
requests:
  get:
    path: /r
    query:
      seq: "{{ seq }}"
      a: "{{ .cycled }}"
      b: "{{ .once }}"
load:
  rate: 97/s
  duration: 1s
`
	path := filepath.Join(dir, "s.yaml")
	if err := os.WriteFile(path, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	s, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	run := func(t *testing.T, sh results.Shard) map[string]string {
		plan, err := Compile(s, CompileOptions{})
		if err != nil {
			t.Fatal(err)
		}
		log := &urlLog{urls: map[string]string{}}
		plan.Transport, plan.Shard = log, sh
		res, err := loadgen.Run(context.Background(), plan, loadgen.WithClock(loadgen.FakeClock))
		if err != nil {
			t.Fatal(err)
		}
		if res.Total.Errors != 0 || log.dups != 0 {
			t.Fatalf("shard %v: %d errors, %d repeated arrivals", sh, res.Total.Errors, log.dups)
		}
		return log.urls
	}
	synctest.Test(t, func(t *testing.T) {
		whole := run(t, results.Shard{})
		if len(whole) != 97 || whole["7"] != "seq=7&a=cycled2&b=once7" {
			t.Fatalf("single run: %d requests, arrival 7 sent %q", len(whole), whole["7"])
		}
		for _, n := range []int{2, 3, 7} {
			union := map[string]string{}
			for i := 0; i < n; i++ {
				for seq, q := range run(t, results.Shard{Index: i, Count: n}) {
					if _, dup := union[seq]; dup {
						t.Fatalf("%d shards: arrival %s sent twice", n, seq)
					}
					union[seq] = q
				}
			}
			if len(union) != len(whole) {
				t.Fatalf("%d shards sent %d arrivals, the single run %d", n, len(union), len(whole))
			}
			for seq, q := range whole {
				if union[seq] != q {
					t.Fatalf("%d shards: arrival %s sent %q, the single run %q", n, seq, union[seq], q)
				}
			}
		}
	})
}
