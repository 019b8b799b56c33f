package healthjob_test

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/healthjob/healthjob"
)

func TestStatusText(t *testing.T) {
	cause := errors.New("dial tcp 127.0.0.1:5432: connect: connection refused")
	tests := []struct {
		name  string
		err   error
		text  string
		level healthjob.Level
	}{
		{"Nil", nil, "working", healthjob.LevelOK},
		{"Unavailable", healthjob.Unavailable("Database error"), "unavailable: Database error", healthjob.LevelFailure},
		{"UnavailableFormatted", healthjob.Unavailable("Database error: %v", cause), "unavailable: Database error: dial tcp 127.0.0.1:5432: connect: connection refused", healthjob.LevelFailure},
		{"UnexpectedResult", healthjob.UnexpectedResult("Integrity Error"), "unexpected result: Integrity Error", healthjob.LevelFailure},
		{"Warning", healthjob.Warning("host 93.4%% disk usage exceeds 90%%"), "warning: host 93.4% disk usage exceeds 90%", healthjob.LevelWarning},
		{"Plain", errors.New("boom"), "unknown error: boom", healthjob.LevelFailure},
		{"Wrapped", fmt.Errorf("ping: %w", healthjob.Unavailable("Timeout.")), "unavailable: Timeout.", healthjob.LevelFailure},
		{"JoinedWarnings", errors.Join(healthjob.Warning("a"), healthjob.Warning("b")), "warning: a\nwarning: b", healthjob.LevelWarning},
		{"JoinedMixed", errors.Join(healthjob.Warning("a"), healthjob.Unavailable("b")), "warning: a\nunavailable: b", healthjob.LevelFailure},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := healthjob.StatusText(tt.err); got != tt.text {
				t.Errorf("StatusText = %q, want %q", got, tt.text)
			}
			if got := healthjob.LevelOf(tt.err); got != tt.level {
				t.Errorf("LevelOf = %q, want %q", got, tt.level)
			}
		})
	}
}

func TestErrorKinds(t *testing.T) {
	cause := context.DeadlineExceeded
	err := healthjob.Unavailable("Unable to connect to Redis: Timeout. (%v)", cause)
	if !errors.Is(err, healthjob.ErrUnavailable) {
		t.Error("errors.Is(err, ErrUnavailable) = false, want true")
	}
	if errors.Is(err, healthjob.ErrWarning) {
		t.Error("errors.Is(err, ErrWarning) = true, want false")
	}
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Error("the error argument is not kept as the cause")
	}
}

func TestRegistry(t *testing.T) {
	ok := func(context.Context) error { return nil }
	var reg healthjob.Registry
	if err := reg.Register(healthjob.CheckFunc("MyService", ok)); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, check, want string
	}{
		{"Duplicate", "MyService", `register check "MyService": a check of that name is already registered`},
		{"Empty", "", "register check: empty name"},
		{"TooLong", "abcdefghijklmnopqrstuvwxyzabcdefghijklmnopqrstuvwxy", `register check "abcdefghijklmnopqrstuvwxyzabcdefghijklmnopqrstuvwxy": name is 51 characters, at most 50 fit`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := reg.Register(healthjob.CheckFunc(tt.check, ok))
			if err == nil || err.Error() != tt.want {
				t.Errorf("Register = %v, want %q", err, tt.want)
			}
		})
	}
	if err := reg.Register(healthjob.CheckFunc("ÄÖÜabcdefghijklmnopqrstuvwxyzabcdefghijklmnopqrstu", ok)); err != nil {
		t.Errorf("a 50-character name with non-ASCII letters: %v", err)
	}
	if got := len(reg.Entries()); got != 2 {
		t.Errorf("len(Entries) = %d, want 2", got)
	}
}
