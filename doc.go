// Package healthjob is the domain of the healthjob health-check monitor: the
// Check contract, the error kinds that decide a check's status text, the
// Registry of checks with their options, the Runner that executes them, and
// the Run it produces — the payload that is printed, stored and synced.
//
// The package imports the standard library only, so a service that embeds
// healthjob compiles just this package and the check packages it chooses.
//
// A check reports its outcome as an error: nil means "working"; an error
// made with Unavailable, UnexpectedResult or Warning renders with that kind's
// prefix, as django-health-check writes it; any other error counts as an
// "unknown error".
package healthjob
