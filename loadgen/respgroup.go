package loadgen

import (
	"sort"
	"strconv"
	"strings"
	"sync"

	"github.com/tailgate-dev/tailgate/results"
)

// Grouping by response (a scenario's group_by): a request's group gains a
// part that only its response knows, such as x-cache=HIT or status=429. The
// series of such a request is chosen after the response. A worker keeps the
// few series it has seen per request and value, so a steady run looks them
// up without allocating; the run-wide registry bounds how many distinct
// values one request may make.

// GroupBy names the part of a response that joins a request's group.
type GroupBy struct {
	// Label is the key of the part, e.g. "x-cache" or "status".
	Label string
	// Header is the name of the response header (any case) whose value
	// is the part's value; empty groups by status code.
	Header string
	// Limit is how many distinct values one request name keeps
	// (0: DefaultGroupByLimit); the responses with other values are
	// counted under the value results.OtherGroup, and the result says so
	// (results.GroupByFold).
	Limit int
}

// DefaultGroupByLimit is how many distinct values a GroupBy keeps when its
// Limit is zero: enough for cache states and statuses, small enough that a
// header carrying IDs costs a few series.
const DefaultGroupByLimit = 20

// MaxGroupByLimit is the largest Limit: every value is a group, and a
// request keeps at most results.MaxGroupsPerRequest of them.
const MaxGroupByLimit = results.MaxGroupsPerRequest

// missingValue is the value of a response without the header (or of a
// request without a response, for status).
const missingValue = "-"

// maxGroupValue bounds the bytes of a value kept in a group name.
const maxGroupValue = 64

func (g *GroupBy) limit() int {
	if g.Limit <= 0 {
		return DefaultGroupByLimit
	}
	return min(g.Limit, MaxGroupByLimit)
}

// appendGroupValue appends the value a response gives g, made safe for a
// group name: at most maxGroupValue bytes, with control characters and
// the group syntax's , = { } replaced by _.
func appendGroupValue(dst []byte, g *GroupBy, res *Response, status int16) []byte {
	var v []byte
	if g.Header == "" {
		if status <= 0 {
			return append(dst, missingValue...)
		}
		return strconv.AppendInt(dst, int64(status), 10)
	}
	v = res.GroupValue
	if len(v) == 0 {
		return append(dst, missingValue...)
	}
	for i, c := range v {
		if i == maxGroupValue {
			break
		}
		if c < 0x20 || c == 0x7f || c == ',' || c == '=' || c == '{' || c == '}' {
			c = '_'
		}
		dst = append(dst, c)
	}
	return dst
}

// isHeader reports whether a header line's name is name, in any case.
func isHeader(b []byte, name string) bool {
	if len(b) != len(name) {
		return false
	}
	for i := 0; i < len(b); i++ {
		x, y := b[i], name[i]
		if 'A' <= x && x <= 'Z' {
			x += 'a' - 'A'
		}
		if 'A' <= y && y <= 'Z' {
			y += 'a' - 'A'
		}
		if x != y {
			return false
		}
	}
	return true
}

// joinGroup inserts label=value into a tag group ("k=v,k2=v2"), keeping
// the parts sorted by key.
func joinGroup(group, label, value string) string {
	part := label + "=" + value
	if group == "" {
		return part
	}
	parts := strings.Split(group, ",")
	i := sort.Search(len(parts), func(i int) bool {
		k, _, _ := strings.Cut(parts[i], "=")
		return k > label
	})
	parts = append(parts[:i], append([]string{part}, parts[i:]...)...)
	return strings.Join(parts, ",")
}

// respContext is what a response's value is grouped within: one GroupBy
// of one request name and tag group.
type respContext struct {
	by          *GroupBy
	name, group string
}

// respSeries is a worker's cache of one context's series by value.
type respSeries struct {
	ids map[string]int32
	// final is set once the request's values reached their limit: the
	// registry's values, which no longer change; any other value is
	// counted under other.
	final map[string]bool
	other int32 // the series of other, once final is set
}

// maxRespContexts bounds a worker's cache of contexts: a tag taking a new
// value per iteration makes a context per iteration, and the cache is
// emptied rather than grown.
const maxRespContexts = 256

// respCache is a worker's series of response-grouped requests.
type respCache struct {
	ctxs    map[respContext]*respSeries
	lastCtx respContext
	last    *respSeries
	value   []byte
}

// respSeriesID returns the series of the request just finished, whose
// response is w.res and status status, grouped by g.
func (w *worker) respSeriesID(g *GroupBy, status int16) int32 {
	c := &w.resp
	ctx := respContext{by: g, name: w.req.Name, group: w.req.Group}
	rs := c.last
	if rs == nil || ctx != c.lastCtx {
		rs = c.ctxs[ctx]
		if rs == nil {
			if c.ctxs == nil || len(c.ctxs) >= maxRespContexts {
				c.ctxs = make(map[respContext]*respSeries)
			}
			rs = &respSeries{ids: make(map[string]int32)}
			c.ctxs[ctx] = rs
		}
		c.last, c.lastCtx = rs, ctx
	}
	c.value = appendGroupValue(c.value[:0], g, &w.res, status)
	if id, ok := rs.ids[string(c.value)]; ok {
		return id
	}
	if rs.final != nil && !rs.final[string(c.value)] {
		return rs.other
	}
	id, final, folded := w.r.rec.resp.series(w.r.rec, ctx, string(c.value))
	if folded {
		rs.final, rs.other = final, id
		return id
	}
	rs.ids[string(c.value)] = id
	return id
}

// respRegistry keeps, run-wide, the distinct values of each request name
// and GroupBy label, up to the limit, and the groupings that went past it.
type respRegistry struct {
	mu     sync.Mutex
	values map[[2]string]*respValues // by request name and label
	folds  []results.GroupByFold
}

// respValues are the values one request name and label kept. Once full,
// vals is never written again, so workers may read it without the lock.
type respValues struct {
	vals  map[string]bool
	limit int // the limit of the first GroupBy seen
	full  bool
}

// series returns the series of value in ctx. Past the limit it returns the
// series of other with folded set and the values that were kept (final,
// never written again). Any worker may call it.
func (reg *respRegistry) series(rec *recorder, ctx respContext, value string) (id int32, final map[string]bool, folded bool) {
	k := [2]string{ctx.name, ctx.by.Label}
	reg.mu.Lock()
	if reg.values == nil {
		reg.values = make(map[[2]string]*respValues)
	}
	rv := reg.values[k]
	if rv == nil {
		rv = &respValues{vals: make(map[string]bool), limit: ctx.by.limit()}
		reg.values[k] = rv
	}
	if !rv.vals[value] {
		if rv.full || len(rv.vals) >= rv.limit {
			if !rv.full {
				rv.full = true
				reg.folds = append(reg.folds, results.GroupByFold{Name: ctx.name, Label: ctx.by.Label, Limit: rv.limit})
			}
			value, final, folded = results.OtherGroup, rv.vals, true
		} else {
			rv.vals[value] = true
		}
	}
	reg.mu.Unlock()
	id, _ = rec.registerSeries(seriesKey{ctx.name, joinGroup(ctx.group, ctx.by.Label, value)})
	return id, final, folded
}

// foldList returns the groupings that went past their limit so far.
func (reg *respRegistry) foldList() []results.GroupByFold {
	reg.mu.Lock()
	defer reg.mu.Unlock()
	if len(reg.folds) == 0 {
		return nil
	}
	out := append([]results.GroupByFold(nil), reg.folds...)
	sort.Slice(out, func(i, j int) bool {
		if out[i].Name != out[j].Name {
			return out[i].Name < out[j].Name
		}
		return out[i].Label < out[j].Label
	})
	return out
}
