package notify

import (
	"time"

	"github.com/healthjob/healthjob"
)

// State is a check's alert state: what the notifications are about.
type State string

// The states.
const (
	OK      State = "ok"
	Warning State = "warning" // warned for FailureThreshold results in a row
	Failing State = "failing" // failed (or warned, then failed) for FailureThreshold results in a row
)

// StateNames are the states, in order, as the metrics name them.
var StateNames = []string{string(OK), string(Warning), string(Failing)}

// EachState calls yield with the alert state of every check this notifier
// has seen a result of: healthjob_alert_state.
func (n *Notifier) EachState(yield func(app, check, state string)) {
	n.mu.Lock()
	defer n.mu.Unlock()
	for key, st := range n.states {
		yield(key[0], key[1], string(st))
	}
}

// Thresholds debounce a check's state.
type Thresholds struct {
	Failure int // results in a row that are not ok before the check counts as failing (or warning)
	Success int // results in a row that are ok before it is resolved
}

// The thresholds unless a check or the settings say otherwise.
const (
	DefaultFailureThreshold = 3
	DefaultSuccessThreshold = 2
)

// Status is a check's state and the counts that move it.
type Status struct {
	State  State
	Fails  int       // results in a row that were not ok
	Passes int       // results in a row that were ok
	Since  time.Time // when State began
}

// Step returns the status after one more result of level, at t. A check
// that is ok turns bad after th.Failure results in a row that are not ok,
// and a bad one turns ok after th.Success results in a row that are; a
// check that flaps in between stays as it was. Once bad, it follows the
// latest result's level between warning and failing at once.
func (s Status) Step(level healthjob.Level, th Thresholds, t time.Time) Status {
	if s.State == "" {
		s = Status{State: OK, Since: t}
	}
	if level == healthjob.LevelOK {
		s.Fails, s.Passes = 0, s.Passes+1
		if s.State != OK && s.Passes >= max(th.Success, 1) {
			s.State, s.Since = OK, t
		}
		return s
	}
	s.Fails, s.Passes = s.Fails+1, 0
	bad := Failing
	if level == healthjob.LevelWarning {
		bad = Warning
	}
	if (s.State == OK && s.Fails >= max(th.Failure, 1)) || (s.State != OK && s.State != bad) {
		s.State, s.Since = bad, t
	}
	return s
}
