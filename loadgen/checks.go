package loadgen

import (
	"errors"
	"sync"
)

// Response checks (a scenario's expect): a step that finds a response
// wrong fails it with KindCheck and names the check (StepError.Check). The
// run counts failures per series and check (results.Stats.Checks); a
// sample carries the check as a small id, so counting a failure costs the
// worker a map lookup, not a string.

// StatusExpecter is implemented by steps that name the statuses they
// expect. A status the step expects succeeds even at 400 or above (the
// step's Inspect then checks the response), replacing the rule that such a
// status is an error; any other status keeps its kind.
type StatusExpecter interface {
	ExpectsStatus(status int) bool
}

// statusKind is the error kind of a response's status for step.
func statusKind(step Step, status int) ErrorKind {
	k := KindOfStatus(status)
	if k == KindNone || k == KindProtocol {
		return k
	}
	if se, ok := step.(StatusExpecter); ok && se.ExpectsStatus(status) {
		return KindNone
	}
	return k
}

// maxChecks bounds the distinct check names a run counts; any further
// name is counted as otherCheck.
const maxChecks = 1000

// otherCheck names the checks beyond maxChecks, and a KindCheck error
// that names none.
const otherCheck = "other"

// checkRegistry numbers check names run-wide, from 1.
type checkRegistry struct {
	mu    sync.Mutex
	ids   map[string]uint16
	names []string // names[id-1]
}

func (reg *checkRegistry) id(name string) uint16 {
	reg.mu.Lock()
	defer reg.mu.Unlock()
	if id, ok := reg.ids[name]; ok {
		return id
	}
	if reg.ids == nil {
		reg.ids = make(map[string]uint16)
	}
	if len(reg.names) >= maxChecks && name != otherCheck {
		name = otherCheck
		if id, ok := reg.ids[name]; ok {
			return id
		}
	}
	reg.names = append(reg.names, name)
	id := uint16(len(reg.names))
	reg.ids[name] = id
	return id
}

// checkID returns the id of the check that failed a request of kind kind
// with err (0 unless kind is KindCheck).
func (w *worker) checkID(kind ErrorKind, err error) uint16 {
	if kind != KindCheck {
		return 0
	}
	name := otherCheck
	if se, ok := errors.AsType[*StepError](err); ok && se.Check != "" {
		name = se.Check
	}
	if id, ok := w.checks[name]; ok {
		return id
	}
	id := w.r.rec.checks.id(name)
	if w.checks == nil {
		w.checks = make(map[string]uint16)
	}
	if len(w.checks) < maxChecks {
		w.checks[name] = id
	}
	return id
}

// checkName returns the name of check id ("" for 0). Only the collector
// calls it.
func (rec *recorder) checkName(id uint16) string {
	if id == 0 {
		return ""
	}
	if int(id) > len(rec.checkNames) {
		rec.checks.mu.Lock()
		rec.checkNames = append(rec.checkNames[:0], rec.checks.names...)
		rec.checks.mu.Unlock()
	}
	return rec.checkNames[id-1]
}
