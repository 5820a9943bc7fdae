package metrics

import (
	"fmt"
	"sync"
	"time"
)

// pushTimeout bounds one push, retries included: a slow receiver must not
// hold pushes back for longer than a few intervals.
const pushTimeout = 5 * time.Second

// sender delivers an exporter's cumulative state after every snapshot and
// once more at the end: the loop the remote-write pusher and the OTLP
// exporter share. Every delivery carries the whole state, so a failed one
// loses no counts: the next that succeeds has them. Failures never stop the
// run; err says what went wrong.
type sender struct {
	e    *Exporter
	what string                // what deliveries are called in errors: "metrics pushes"
	send func(time.Time) error // delivers the state of the snapshot at that time
	wake chan struct{}
	stop chan struct{}
	done chan struct{}

	mu       sync.Mutex
	sentAt   time.Time // snapshot time of the last successful delivery
	lastErr  error
	failures int
	attempts int
}

// newSender starts delivering e's state with send after every snapshot.
func newSender(e *Exporter, what string, send func(time.Time) error) *sender {
	s := &sender{e: e, what: what, send: send,
		wake: make(chan struct{}, 1), stop: make(chan struct{}), done: make(chan struct{})}
	e.Notify(s.wake)
	go s.loop()
	return s
}

func (s *sender) loop() {
	defer close(s.done)
	for {
		select {
		case <-s.wake:
			s.deliver()
		case <-s.stop:
			return
		}
	}
}

// deliver sends the current state unless there is none yet or it was sent
// already.
func (s *sender) deliver() {
	s.e.mu.Lock()
	at := s.e.last
	s.e.mu.Unlock()
	s.mu.Lock()
	sent := at.IsZero() || at.Equal(s.sentAt)
	s.mu.Unlock()
	if sent {
		return
	}
	err := s.send(at)
	s.mu.Lock()
	defer s.mu.Unlock()
	s.attempts++
	if err != nil {
		s.failures++
		s.lastErr = err
		return
	}
	s.sentAt, s.lastErr = at, nil
}

// Err returns why the last delivery failed, "" when it succeeded or none
// was made.
func (s *sender) Err() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.lastErr == nil {
		return ""
	}
	return s.lastErr.Error()
}

// close makes the final delivery (once more if the last one failed) and
// stops the loop. It returns an error saying how many deliveries failed,
// if any did, and the last error when the final one failed too.
func (s *sender) close() error {
	close(s.stop)
	<-s.done
	s.deliver()
	s.mu.Lock()
	defer s.mu.Unlock()
	switch {
	case s.lastErr != nil:
		return fmt.Errorf("%d of %d %s failed, the final one too: %w", s.failures, s.attempts, s.what, s.lastErr)
	case s.failures > 0:
		return fmt.Errorf("%d of %d %s failed; the final one succeeded, so the receiver has the final values", s.failures, s.attempts, s.what)
	}
	return nil
}
