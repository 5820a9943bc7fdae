package results

import (
	"bytes"
	"strings"
	"testing"
	"time"
)

// TestMergeSteal: the shards' CPUs and times add up, so the merged share
// is that of all their CPUs; the worst second is the worst shard's; a shard
// that measured nothing adds nothing, and the inputs are left as they were.
func TestMergeSteal(t *testing.T) {
	sec := func(s float64) Duration { return Duration(s * float64(time.Second)) }
	a := &Steal{CPUs: 1, Stolen: sec(0.5), Time: sec(10), Worst: 0.2, WorstAt: sec(3)}
	b := &Steal{CPUs: 2, Stolen: sec(0.1), Time: sec(20), Worst: 0.4, WorstAt: sec(7)}
	tests := []struct {
		name   string
		shards []*Steal
		want   *Steal
	}{
		{"none measured", []*Steal{nil, nil}, nil},
		{"one of two measured", []*Steal{nil, a}, a},
		{"both", []*Steal{a, b}, &Steal{CPUs: 3, Stolen: sec(0.6), Time: sec(30), Worst: 0.4, WorstAt: sec(7)}},
		{"worst of the first", []*Steal{b, a}, &Steal{CPUs: 3, Stolen: sec(0.6), Time: sec(30), Worst: 0.4, WorstAt: sec(7)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var m Merger
			for i, st := range tt.shards {
				r := shardFile(t, i, len(tt.shards))
				r.Meta.Steal = st
				if err := m.Add("", r); err != nil {
					t.Fatal(err)
				}
			}
			out, err := m.Result()
			if err != nil {
				t.Fatal(err)
			}
			got := out.Meta.Steal
			if (got == nil) != (tt.want == nil) || (got != nil && *got != *tt.want) {
				t.Errorf("merged steal %+v, want %+v", got, tt.want)
			}
			if *a != (Steal{CPUs: 1, Stolen: sec(0.5), Time: sec(10), Worst: 0.2, WorstAt: sec(3)}) {
				t.Errorf("the merge changed a shard's steal: %+v", a)
			}
		})
	}
	if got := (&Steal{CPUs: 3, Stolen: sec(0.6), Time: sec(30)}).Share(); got != 0.02 {
		t.Errorf("share %v, want 0.02", got)
	}
	if got := (*Steal)(nil).Share(); got != 0 {
		t.Errorf("share of nothing measured %v, want 0", got)
	}
}

// TestStealInFiles: a file of an older build has no steal and still
// decodes; one with steal keeps it; impossible figures are refused.
func TestStealInFiles(t *testing.T) {
	r := shardFile(t, 0, 1)
	if r.Meta.Steal != nil {
		t.Fatalf("a file without steal decoded with %+v", r.Meta.Steal)
	}
	encode := func(st *Steal) string {
		r.Meta.Steal = st
		var buf bytes.Buffer
		if err := r.Encode(&buf); err != nil {
			t.Fatal(err)
		}
		return buf.String()
	}
	want := Steal{CPUs: 2, Stolen: Duration(300 * time.Millisecond), Time: Duration(20 * time.Second), Worst: 0.25, WorstAt: Duration(4 * time.Second)}
	text := encode(&want)
	if !strings.Contains(text, `"steal": {`) || !strings.Contains(text, `"worst_second": 0.25`) {
		t.Errorf("encoded steal not as documented:\n%s", text)
	}
	back, err := DecodeResult(strings.NewReader(text))
	if err != nil {
		t.Fatal(err)
	}
	if back.Meta.Steal == nil || *back.Meta.Steal != want {
		t.Errorf("decoded steal %+v, want %+v", back.Meta.Steal, want)
	}
	for _, bad := range []struct {
		steal Steal
		err   string
	}{
		{Steal{CPUs: 1, Stolen: Duration(2 * time.Second), Time: Duration(time.Second)}, "stolen 2s is more than the CPUs' time 1s"},
		{Steal{CPUs: -1}, "meta.steal: a negative figure"},
		{Steal{CPUs: 1, Time: Duration(time.Second), Worst: 1.5}, "meta.steal.worst_second is 1.5"},
	} {
		_, err := DecodeResult(strings.NewReader(encode(&bad.steal)))
		if err == nil || !strings.Contains(err.Error(), bad.err) {
			t.Errorf("steal %+v: error %v, want %q", bad.steal, err, bad.err)
		}
	}
	r.Timeline[1].Steal = IntervalSteal{Stolen: Duration(20 * time.Millisecond), Time: Duration(time.Second)}
	text = encode(&want)
	if !strings.Contains(text, `"steal": {
        "stolen": "20ms",
        "time": "1s"
      }`) || strings.Count(text, `"stolen"`) != 2 {
		t.Errorf("an interval's steal is not as documented, or intervals without steal show one:\n%s", text)
	}
	if back, err := DecodeResult(strings.NewReader(text)); err != nil || back.Timeline[1].Steal.Share() != 0.02 {
		t.Errorf("interval steal did not read back as 2%% (error %v)", err)
	}
	r.Timeline[1].Steal.Stolen = Duration(2 * time.Second)
	if _, err := DecodeResult(strings.NewReader(encode(&want))); err == nil || !strings.Contains(err.Error(), "timeline[1].steal: stolen 2s of 1s") {
		t.Errorf("interval stealing more than its time: error %v", err)
	}
}
