package results

// MaxGroupsPerRequest is how many distinct tag groups a run keeps for one
// request. A tag that takes a new value per iteration (seq, uuid, now) or
// from the target (a captured value) would otherwise make a series per
// value until memory ran out.
const MaxGroupsPerRequest = 1000

// OtherGroup is the group that counts the requests of a request's groups
// beyond MaxGroupsPerRequest. Tag groups are written key=value, so it
// never names a real group.
const OtherGroup = "other"
