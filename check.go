package healthjob

import (
	"context"
	"errors"
	"fmt"
	"strings"
)

// MaxNameLength is the longest check name the records table can hold.
const MaxNameLength = 50

// Check is one health check: a name and a function that returns nil when the
// checked system works. Check must honour ctx: the runner gives every check a
// deadline and reports the check as timed out when it passes.
type Check interface {
	Name() string
	Check(ctx context.Context) error
}

// CheckFunc adapts a plain function to a Check with the given name.
func CheckFunc(name string, fn func(ctx context.Context) error) Check {
	return funcCheck{name: name, fn: fn}
}

type funcCheck struct {
	name string
	fn   func(ctx context.Context) error
}

func (c funcCheck) Name() string                    { return c.name }
func (c funcCheck) Check(ctx context.Context) error { return c.fn(ctx) }

// The kinds of failure a check reports, as django-health-check names them.
// Use errors.Is to test an error's kind.
var (
	ErrUnavailable      = errors.New("unavailable")
	ErrUnexpectedResult = errors.New("unexpected result")
	ErrWarning          = errors.New("warning")
)

// Error is a check failure of a known kind. Its Error method returns the
// status text, e.g. "unavailable: Database error".
type Error struct {
	Kind    error  // ErrUnavailable, ErrUnexpectedResult or ErrWarning
	Message string // what an operator reads after the kind
	Err     error  // the underlying cause, if any; not part of the text
}

func (e *Error) Error() string        { return e.Kind.Error() + ": " + e.Message }
func (e *Error) Is(target error) bool { return target == e.Kind }
func (e *Error) Unwrap() error        { return e.Err }
func newError(kind error, format string, args []any) error {
	var cause error
	for _, a := range args {
		if err, ok := a.(error); ok {
			cause = err
		}
	}
	return &Error{Kind: kind, Message: fmt.Sprintf(format, args...), Err: cause}
}

// Unavailable reports that the checked service cannot be used. The message
// is fmt.Sprintf(format, args...); an error among args is also kept as the
// Error's cause, for errors.Is and errors.As.
func Unavailable(format string, args ...any) error {
	return newError(ErrUnavailable, format, args)
}

// UnexpectedResult reports that the service answered, but wrongly.
func UnexpectedResult(format string, args ...any) error {
	return newError(ErrUnexpectedResult, format, args)
}

// Warning reports a degraded service. A warning fails the run only while
// warnings count as errors (Runner.WarningsAsErrors, on by default).
func Warning(format string, args ...any) error {
	return newError(ErrWarning, format, args)
}

// Level is the outcome of a check, finer than the stored 0/1 status.
type Level string

// The levels, as stored in the records' level column.
const (
	LevelOK      Level = "ok"
	LevelWarning Level = "warning"
	LevelFailure Level = "failure"
)

// StatusText renders a check's error as django-health-check's pretty_status
// does: "working" for nil, "<kind>: <message>" for an error of a known kind,
// "unknown error: <message>" for any other, one line per joined error.
func StatusText(err error) string {
	if err == nil {
		return "working"
	}
	if joined, ok := err.(interface{ Unwrap() []error }); ok {
		var lines []string
		for _, e := range joined.Unwrap() {
			if e != nil {
				lines = append(lines, StatusText(e))
			}
		}
		return strings.Join(lines, "\n")
	}
	var known *Error
	if errors.As(err, &known) {
		return known.Error()
	}
	return "unknown error: " + err.Error()
}

// LevelOf tells the level of a check's error: ok for nil, warning when every
// joined error is a warning, failure otherwise.
func LevelOf(err error) Level {
	if err == nil {
		return LevelOK
	}
	if joined, ok := err.(interface{ Unwrap() []error }); ok {
		level := LevelOK
		for _, e := range joined.Unwrap() {
			switch LevelOf(e) {
			case LevelFailure:
				return LevelFailure
			case LevelWarning:
				level = LevelWarning
			}
		}
		return level
	}
	var known *Error
	if errors.As(err, &known) && known.Kind == ErrWarning {
		return LevelWarning
	}
	return LevelFailure
}
