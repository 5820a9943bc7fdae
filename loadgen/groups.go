package loadgen

// MaxGroupsPerRequest is how many distinct tag groups one request keeps by
// default (Plan.MaxGroups). A tag that takes a new value per iteration (seq,
// uuid, now) or from the target (a captured value) would otherwise make a
// histogram per value until memory ran out.
const MaxGroupsPerRequest = 1000

// OtherGroup is the group that the requests of groups beyond the limit are
// counted in. Tag groups are written key=value, so it never collides.
const OtherGroup = "other"
