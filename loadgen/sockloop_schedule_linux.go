//go:build linux && (amd64 || arm64)

package loadgen

import "time"

// loopSchedule is the open model's schedule as the loop walks it.
type loopSchedule struct {
	pacer Pacer
	shard shardSchedule
	k     uint64        // the next arrival's index in the shard
	next  time.Duration // when the next arrival, not issued yet, is due
	// done says no arrival is left; blocked that next waits for room in
	// the pending ring (the queue policy at --max-in-flight); counted
	// that next is counted in flight already.
	done, blocked, counted bool
}

// init readies the schedule at r's first arrival.
func (s *loopSchedule) init(r *Runner) {
	s.pacer, s.shard = r.plan.Pacer, newShardSchedule(r.plan.Shard)
	s.advance()
}

// advance computes the next arrival.
func (s *loopSchedule) advance() {
	i := s.shard.global(s.k)
	s.k++
	at, ok := s.pacer.Arrival(i)
	s.next, s.done = at, !ok
}

// issue sends, queues or drops every arrival due by now.
func (s *loopSchedule) issue(l *sockLoop) {
	r := l.r
	now := l.now()
	for !s.done && s.next <= now {
		if !s.counted {
			r.inFlight.Add(1)
			s.counted = true
		}
		switch {
		case l.pendLen == 0 && len(l.free) > 0:
			c := &l.conns[l.free[len(l.free)-1]]
			l.free = l.free[:len(l.free)-1]
			r.taken.Store(int64(s.next))
			r.issued.Add(1)
			l.send(c, s.next)
		case l.pendLen < len(l.pending):
			l.pending[(l.pendHead+l.pendLen)%len(l.pending)] = s.next
			l.pendLen++
			r.loopQueued.Store(int64(l.pendLen))
			r.issued.Add(1)
		case r.plan.Overload == OverloadDrop:
			r.inFlight.Add(-1)
			r.dropped.Add(1)
			r.issued.Add(1)
		default:
			s.blocked = true
			r.blocked.Store(true)
			return
		}
		// As the goroutine engine's, the high-water mark counts the
		// arrivals handed on, not one the scheduler holds.
		r.noteInFlight(r.inFlight.Load())
		if s.blocked {
			s.blocked = false
			r.blocked.Store(false)
		}
		s.counted = false
		s.advance()
	}
}
