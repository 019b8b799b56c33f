package healthjob

import (
	"context"
	"fmt"
	"log/slog"
	"runtime/debug"
	"slices"
	"strings"
	"sync"
	"time"
)

// DefaultTimeout is the deadline of a check that sets none of its own.
const DefaultTimeout = 10 * time.Second

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
	Now     func() time.Time // the clock, for tests; nil means time.Now
	NewUUID func() string    // the run id source, for tests; nil means NewUUID
}

// NewRunner returns a Runner over reg with the defaults of django-health-check:
// warnings count as errors.
func NewRunner(reg *Registry) *Runner {
	return &Runner{Registry: reg, WarningsAsErrors: true}
}

// ErrTimeout is the cause of a check that did not finish within its deadline.
var ErrTimeout = fmt.Errorf("check timed out")

// Run runs the checks of the named subset ("" for all) and returns their
// results sorted by name. It returns when every check has finished or hit
// its deadline, even when a check ignores its context. It returns an error
// only for an unknown subset.
func (r *Runner) Run(ctx context.Context, subset string) (*Run, error) {
	entries, err := r.Registry.Subset(subset)
	if err != nil {
		return nil, err
	}
	now := time.Now
	if r.Now != nil {
		now = r.Now
	}
	newID := NewUUID
	if r.NewUUID != nil {
		newID = r.NewUUID
	}
	run := &Run{UUID: newID(), Timestamp: Timestamp{now().UTC()}, Checks: make([]Result, len(entries))}
	start := time.Now()

	var sem chan struct{}
	if r.Concurrency > 0 && r.Concurrency < len(entries) {
		sem = make(chan struct{}, r.Concurrency)
	}
	var wg sync.WaitGroup
	wg.Add(len(entries))
	for i, e := range entries {
		if sem != nil {
			sem <- struct{}{}
		}
		go func() {
			defer wg.Done()
			run.Checks[i] = r.runOne(ctx, e)
			if sem != nil {
				<-sem
			}
		}()
	}
	wg.Wait()
	slices.SortFunc(run.Checks, func(a, b Result) int { return strings.Compare(a.Name, b.Name) })
	run.Duration = time.Since(start)
	return run, nil
}

func (r *Runner) runOne(parent context.Context, e Entry) Result {
	timeout := e.Timeout
	if timeout == 0 {
		timeout = r.Timeout
	}
	if timeout == 0 {
		timeout = DefaultTimeout
	}
	ctx, cancel := context.WithTimeout(parent, timeout)
	defer cancel()

	start := time.Now()
	done := make(chan error, 1) // buffered: a check that outlives its deadline must not block forever
	go func() {
		defer func() {
			if p := recover(); p != nil {
				r.logger().Error("check panicked", "check", e.Check.Name(), "panic", fmt.Sprint(p), "stack", string(debug.Stack()))
				done <- errPanic
			}
		}()
		done <- e.Check.Check(ctx)
	}()

	var err error
	select {
	case err = <-done:
		// A check that gave up on its own deadline reports the timeout, whatever it returned.
		if err != nil && ctx.Err() == context.DeadlineExceeded && parent.Err() == nil {
			if !isKnown(err) {
				err = Unavailable("%s after %s", ErrTimeout, timeout)
			}
		}
	case <-ctx.Done():
		err = Unavailable("%s after %s", ErrTimeout, timeout)
		if parent.Err() != nil {
			err = Unavailable("check cancelled")
		}
	}
	return r.result(e, err, time.Since(start))
}

func (r *Runner) result(e Entry, err error, d time.Duration) Result {
	res := Result{
		Name:     e.Check.Name(),
		Status:   StatusSuccess,
		Message:  StatusText(err),
		Level:    LevelOf(err),
		Critical: e.Critical,
		Duration: d,
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

var errPanic = fmt.Errorf("check panicked")

func isKnown(err error) bool {
	_, ok := err.(*Error)
	return ok
}
