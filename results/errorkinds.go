package results

import "slices"

// ErrorKindNames are the error kinds a results file counts in
// Stats.ErrorKinds, as loadgen names them (a loadgen test keeps the two
// lists equal). Thresholds check a kind against it, so "error_rate.rate_limitd"
// is an error rather than a bound that always holds.
var ErrorKindNames = []string{
	"refused", "reset", "eof", "timeout", "tls", "dns", "redirect", "protocol",
	"http_4xx", "http_5xx", "rate_limited", "capture", "canceled", "client", "other", "check",
}

// KnownErrorKind reports whether name is one of ErrorKindNames.
func KnownErrorKind(name string) bool { return slices.Contains(ErrorKindNames, name) }

// RateLimited is the kind of a 429 Too Many Requests response, which the
// JSON summary reports on every series.
const RateLimited = "rate_limited"
