package results

import "strings"

// MaxGroupsPerRequest is how many distinct tag groups a run keeps for one
// request. A tag that takes a new value per iteration (seq, uuid, now) or
// from the target (a captured value) would otherwise make a series per
// value until memory ran out.
const MaxGroupsPerRequest = 1000

// OtherGroup is the group that counts the requests of a request's groups
// beyond MaxGroupsPerRequest. Tag groups are written key=value, so it
// never names a real group.
const OtherGroup = "other"

// GroupByFold records that a request grouped by response (a scenario's
// group_by) saw more distinct values of Label than its Limit: the
// responses with the other values are counted in the groups whose Label
// part is Label=other.
type GroupByFold struct {
	// Name is the request name.
	Name string `json:"name"`
	// Label is the group part, e.g. "x-cache" or "status".
	Label string `json:"label"`
	// Limit is how many distinct values were kept.
	Limit int `json:"limit"`
}

// mergeFolds adds the folds of src missing from dst.
func mergeFolds(dst, src []GroupByFold) []GroupByFold {
	for _, f := range src {
		found := false
		for i, g := range dst {
			if g.Name == f.Name && g.Label == f.Label {
				dst[i].Limit = max(g.Limit, f.Limit)
				found = true
			}
		}
		if !found {
			dst = append(dst, f)
		}
	}
	return dst
}

// FoldedRequests counts the requests of f's request whose group has the
// part f.Label=other.
func (r *Result) FoldedRequests(f GroupByFold) uint64 {
	part := f.Label + "=" + OtherGroup
	var n uint64
	for _, g := range r.Groups {
		if g.Name != f.Name {
			continue
		}
		for p := range strings.SplitSeq(g.Group, ",") {
			if p == part {
				n += g.Requests
				break
			}
		}
	}
	return n
}
