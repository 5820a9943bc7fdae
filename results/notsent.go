package results

import (
	"cmp"
	"slices"
)

// NotSentCount is one reason requests were not sent, for reports.
type NotSentCount struct {
	Reason  string
	Count   uint64
	Message string
}

// NotSentByReason returns the reasons requests of s were not sent, the
// most frequent first (ties by name). A results file from before reasons
// were kept gives one reason, "other", with its one message.
func (s *Stats) NotSentByReason() []NotSentCount {
	if s == nil || s.NotSent == 0 {
		return nil
	}
	if len(s.NotSentReasons) == 0 {
		return []NotSentCount{{Reason: "other", Count: s.NotSent, Message: s.NotSentReason}}
	}
	out := make([]NotSentCount, 0, len(s.NotSentReasons))
	for r, n := range s.NotSentReasons {
		out = append(out, NotSentCount{Reason: r, Count: n, Message: s.NotSentSamples[r]})
	}
	slices.SortFunc(out, func(a, b NotSentCount) int {
		if c := cmp.Compare(b.Count, a.Count); c != 0 {
			return c
		}
		return cmp.Compare(a.Reason, b.Reason)
	})
	return out
}

// MainNotSentSample returns the message of the most frequent reason
// requests were not sent ("" when all were sent).
func (s *Stats) MainNotSentSample() string {
	if r := s.NotSentByReason(); len(r) > 0 {
		return r[0].Message
	}
	return ""
}

// mergeNotSent adds o's not-sent counts into s, keeping the first message
// of each reason.
func (s *Stats) mergeNotSent(o *Stats) {
	if o.NotSent == 0 {
		return
	}
	// Counts without reasons (a file from before they were kept) are
	// "other", so that the reasons always add up to NotSent.
	mine := s.NotSentByReason()
	s.NotSentReasons, s.NotSentSamples = map[string]uint64{}, map[string]string{}
	for _, c := range append(mine, o.NotSentByReason()...) {
		s.NotSentReasons[c.Reason] += c.Count
		if _, ok := s.NotSentSamples[c.Reason]; !ok && c.Message != "" {
			s.NotSentSamples[c.Reason] = c.Message
		}
	}
	s.NotSent += o.NotSent
	s.NotSentReason = s.MainNotSentSample()
}
