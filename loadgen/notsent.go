package loadgen

import "errors"

// NotSentReason says why a step could not build its request, which was
// then never sent (docs/metrics.md: counted as not sent, with the reason,
// never as a request with a latency). Reasons are stable strings in
// results files: Stats.NotSentReasons.
type NotSentReason uint8

// The reasons.
const (
	// NotSentOther is a Prepare error that names no reason.
	NotSentOther NotSentReason = iota
	// NotSentFeedExhausted: a data feed read in unique mode ran out of
	// rows.
	NotSentFeedExhausted
	// NotSentCaptureMissing: a template read a value that an earlier step
	// did not capture.
	NotSentCaptureMissing
	// NotSentTemplate: a template (URL, query, header, body, tag or
	// variable) failed to render.
	NotSentTemplate
	numNotSentReasons
)

var notSentNames = [numNotSentReasons]string{
	NotSentOther:          "other",
	NotSentFeedExhausted:  "feed exhausted",
	NotSentCaptureMissing: "capture missing",
	NotSentTemplate:       "template failed",
}

// String returns the reason's name as results files keep it.
func (r NotSentReason) String() string {
	if r < numNotSentReasons {
		return notSentNames[r]
	}
	return notSentNames[NotSentOther]
}

// notSentReasonOf returns the reason a Prepare error gives, through any
// wrapping: a StepError's NotSent, or NotSentOther.
func notSentReasonOf(err error) NotSentReason {
	var se *StepError
	if errors.As(err, &se) {
		return se.NotSent
	}
	return NotSentOther
}
