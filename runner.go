package healthjob

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"runtime/debug"
	"time"
)

// DefaultTimeout is the deadline of a check that sets none of its own.
const DefaultTimeout = 10 * time.Second

// Grace is how long the runner waits, after a check's deadline, for the
// check to return its own error before it reports the timeout itself.
const Grace = 100 * time.Millisecond

// ErrTimeout is the cause of a check that did not finish within its deadline.
var ErrTimeout = errors.New("check timed out")

var errPanic = errors.New("check panicked")

// Runner runs the checks of a Registry concurrently, each under its own
// deadline, and collects a Run. Set its fields before the first Run; a
// Runner is safe for concurrent use afterwards.
type Runner struct {
	Registry *Registry

	// Timeout is the deadline of a check without its own; 0 means DefaultTimeout.
	Timeout time.Duration
	// Concurrency bounds how many checks run at once; 0 means no bound.
	Concurrency int
	// WarningsAsErrors makes a warning fail its check (status 0), as
	// django-health-check's WARNINGS_AS_ERRORS does. NewRunner sets it.
	WarningsAsErrors bool

	Logger  *slog.Logger     // where panics are logged; nil means slog.Default()
	Now     func() time.Time // the clock of the run's timestamp; nil means time.Now
	NewUUID func() string    // the run id source, for tests; nil means NewUUID
}

// NewRunner returns a Runner over reg with the defaults of django-health-check:
// warnings count as errors.
func NewRunner(reg *Registry) *Runner {
	return &Runner{Registry: reg, WarningsAsErrors: true}
}

// outcome is what a check's goroutine reports.
type outcome struct {
	i   int
	err error
	end time.Time
}

// slot is the runner's view of one check of a run.
type slot struct {
	entry    Entry
	timeout  time.Duration
	start    time.Time
	deadline time.Time
	cancel   context.CancelFunc
	running  bool
	done     bool
}

// Run runs the checks of the named subset ("" for all) and returns their
// results sorted by name. It returns when every check has finished or hit
// its deadline (plus Grace), even when a check ignores its context. It
// returns an error only for an unknown subset.
func (r *Runner) Run(ctx context.Context, subset string) (*Run, error) {
	entries, err := r.Registry.Subset(subset)
	if err != nil {
		return nil, err
	}
	now, newID := time.Now, NewUUID
	if r.Now != nil {
		now = r.Now
	}
	if r.NewUUID != nil {
		newID = r.NewUUID
	}
	run := &Run{UUID: newID(), Timestamp: Timestamp{now().UTC()}, Checks: make([]Result, len(entries))}
	start := time.Now()

	slots := make([]slot, len(entries))
	for i, e := range entries {
		slots[i] = slot{entry: e, timeout: r.timeout(e)}
	}
	// Checks that start together with the same timeout share one context:
	// a timer per check is most of the runner's cost for cheap checks.
	shared := map[time.Duration]context.Context{}
	var sharedCancels []context.CancelFunc
	defer func() {
		for _, cancel := range sharedCancels {
			cancel()
		}
	}()
	outcomes := make(chan outcome, len(entries))
	launch := func(i int) {
		s := &slots[i]
		s.start, s.running = time.Now(), true
		s.deadline = s.start.Add(s.timeout)
		checkCtx, ok := shared[s.timeout]
		switch {
		case r.Concurrency > 0:
			checkCtx, s.cancel = context.WithDeadline(ctx, s.deadline)
		case !ok:
			var cancel context.CancelFunc
			checkCtx, cancel = context.WithDeadline(ctx, s.deadline)
			shared[s.timeout] = checkCtx
			sharedCancels = append(sharedCancels, cancel) // when the run ends: other checks still use it
		}
		go r.execute(checkCtx, i, s.entry.Check, outcomes)
	}
	running, next, pending := 0, 0, len(entries)
	fill := func() {
		for next < len(slots) && (r.Concurrency <= 0 || running < r.Concurrency) {
			launch(next)
			next++
			running++
		}
	}
	finish := func(i int, err error, end time.Time) {
		s := &slots[i]
		s.running, s.done = false, true
		if s.cancel != nil {
			s.cancel()
		}
		run.Checks[i] = r.result(s, err, end, ctx.Err() != nil)
		running--
		pending--
	}
	fill()
	timer := time.NewTimer(time.Until(earliest(slots).Add(Grace)))
	defer timer.Stop()
	cancelled := ctx.Done()
	for pending > 0 {
		select {
		case o := <-outcomes:
			if !slots[o.i].done {
				finish(o.i, o.err, o.end)
				fill()
			}
		case <-cancelled:
			cancelled = nil
			for i := range slots {
				if slots[i].running {
					slots[i].deadline = time.Now()
				}
			}
			timer.Reset(Grace)
		case t := <-timer.C:
			// Checks past deadline and grace are left behind: they ignore their context.
			for i := range slots {
				if slots[i].running && !t.Before(slots[i].deadline.Add(Grace)) {
					finish(i, errLeftBehind, t)
				}
			}
			fill()
			if pending > 0 {
				timer.Reset(time.Until(earliest(slots).Add(Grace)))
			}
		}
	}
	run.Duration = time.Since(start)
	return run, nil
}

var errLeftBehind = errors.New("left behind")

// earliest returns the nearest deadline of a running check.
func earliest(slots []slot) time.Time {
	var t time.Time
	for i := range slots {
		if slots[i].running && (t.IsZero() || slots[i].deadline.Before(t)) {
			t = slots[i].deadline
		}
	}
	return t
}

func (r *Runner) timeout(e Entry) time.Duration {
	switch {
	case e.Timeout > 0:
		return e.Timeout
	case r.Timeout > 0:
		return r.Timeout
	}
	return DefaultTimeout
}

// execute runs one check and reports its outcome; a panic becomes errPanic.
func (r *Runner) execute(ctx context.Context, i int, c Check, out chan<- outcome) {
	defer func() {
		if p := recover(); p != nil {
			r.logger().Error("check panicked", "check", c.Name(), "panic", fmt.Sprint(p), "stack", string(debug.Stack()))
			out <- outcome{i: i, err: errPanic, end: time.Now()}
		}
	}()
	err := c.Check(ctx)
	out <- outcome{i: i, err: err, end: time.Now()}
}

// result turns a check's outcome into its Result. An error that is not of a
// known kind, returned after the deadline, reports the timeout instead.
func (r *Runner) result(s *slot, err error, end time.Time, cancelled bool) Result {
	plain := err != nil && !isKnown(err) // such as ctx.Err() or a client's timeout error
	late := !end.Before(s.deadline)
	switch {
	case cancelled && (plain || err == errLeftBehind):
		err = Unavailable("check cancelled")
	case err == errLeftBehind || (late && plain):
		err = Unavailable("%s after %s", ErrTimeout, s.timeout)
	}
	res := Result{
		Name:     s.entry.Check.Name(),
		Status:   StatusSuccess,
		Message:  StatusText(err),
		Level:    LevelOf(err),
		Critical: s.entry.Critical,
		Duration: end.Sub(s.start),
		Err:      err,
	}
	if err == errPanic {
		res.Message = "unknown error"
	}
	if res.Level == LevelFailure || (res.Level == LevelWarning && r.WarningsAsErrors) {
		res.Status = StatusFailure
	}
	return res
}

func (r *Runner) logger() *slog.Logger {
	if r.Logger != nil {
		return r.Logger
	}
	return slog.Default()
}

// isKnown tells whether err is of one of the kinds a check reports on purpose.
func isKnown(err error) bool {
	var known *Error
	return errors.As(err, &known)
}
