package healthjob_test

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"strings"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/healthjob/healthjob"
)

func pass(context.Context) error { return nil }

func mustRegister(tb testing.TB, reg *healthjob.Registry, c healthjob.Check, opts ...healthjob.Option) {
	tb.Helper()
	if err := reg.Register(c, opts...); err != nil {
		tb.Fatal(err)
	}
}

func mustRun(tb testing.TB, r *healthjob.Runner, subset string) *healthjob.Run {
	tb.Helper()
	run, err := r.Run(context.Background(), subset)
	if err != nil {
		tb.Fatal(err)
	}
	return run
}

func TestRunnerDeadlines(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		release := make(chan struct{})
		defer close(release)
		reg := &healthjob.Registry{}
		// Ignores its context: the runner must not wait for it.
		mustRegister(t, reg, healthjob.CheckFunc("Stubborn", func(context.Context) error { <-release; return nil }), healthjob.Timeout(2*time.Second))
		// Honours its context and returns the context's error.
		mustRegister(t, reg, healthjob.CheckFunc("Polite", func(ctx context.Context) error { <-ctx.Done(); return ctx.Err() }))
		// Gives up with its own message when the deadline passes.
		mustRegister(t, reg, healthjob.CheckFunc("Explains", func(ctx context.Context) error {
			<-ctx.Done()
			return healthjob.Unavailable("Unable to connect to Redis: Timeout.")
		}), healthjob.Timeout(time.Second))
		r := healthjob.NewRunner(reg)
		r.Timeout = 3 * time.Second

		start := time.Now()
		run := mustRun(t, r, "")
		if elapsed := time.Since(start); elapsed != 3*time.Second {
			t.Errorf("run took %s, want 3s (the longest deadline)", elapsed)
		}
		want := []struct {
			name, message string
			duration      time.Duration
		}{
			{"Explains", "unavailable: Unable to connect to Redis: Timeout.", time.Second},
			{"Polite", "unavailable: check timed out after 3s", 3 * time.Second},
			{"Stubborn", "unavailable: check timed out after 2s", 2*time.Second + healthjob.Grace},
		}
		for i, w := range want {
			got := run.Checks[i]
			if got.Name != w.name || got.Message != w.message || got.Status != 0 || got.Duration != w.duration {
				t.Errorf("check %d = %s %q status %d in %s, want %s %q status 0 in %s", i, got.Name, got.Message, got.Status, got.Duration, w.name, w.message, w.duration)
			}
		}
	})
}

func TestRunnerDefaultTimeout(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		reg := &healthjob.Registry{}
		mustRegister(t, reg, healthjob.CheckFunc("Slow", func(ctx context.Context) error { <-ctx.Done(); return ctx.Err() }))
		run := mustRun(t, healthjob.NewRunner(reg), "")
		if got := run.Checks[0].Message; got != "unavailable: check timed out after 10s" {
			t.Errorf("message = %q, want the 10 s default deadline", got)
		}
	})
}

func TestRunnerCancelled(t *testing.T) {
	reg := &healthjob.Registry{}
	mustRegister(t, reg, healthjob.CheckFunc("Waits", func(ctx context.Context) error { <-ctx.Done(); return ctx.Err() }))
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	run, err := healthjob.NewRunner(reg).Run(ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	if got := run.Checks[0].Message; got != "unavailable: check cancelled" {
		t.Errorf("message = %q, want %q", got, "unavailable: check cancelled")
	}
}

func TestRunnerPanic(t *testing.T) {
	var logs bytes.Buffer
	reg := &healthjob.Registry{}
	mustRegister(t, reg, healthjob.CheckFunc("Panics", func(context.Context) error { panic("nil map") }))
	mustRegister(t, reg, healthjob.CheckFunc("Fine", pass))
	r := healthjob.NewRunner(reg)
	r.Logger = slog.New(slog.NewTextHandler(&logs, nil))
	run := mustRun(t, r, "")
	if got := run.Checks[1]; got.Name != "Panics" || got.Message != "unknown error" || got.Status != 0 {
		t.Errorf("panicking check = %+v, want Panics, \"unknown error\", status 0", got)
	}
	if got := run.Checks[0]; got.Message != "working" || got.Status != 1 {
		t.Errorf("the other check = %+v, want working", got)
	}
	if !strings.Contains(logs.String(), "check panicked") || !strings.Contains(logs.String(), "runner_test.go") {
		t.Errorf("log = %q, want the panic with its stack", logs.String())
	}
}

func TestRunnerOutcome(t *testing.T) {
	warn := func(context.Context) error { return healthjob.Warning("low disk") }
	fail := func(context.Context) error { return healthjob.Unavailable("down") }
	tests := []struct {
		name             string
		check            func(context.Context) error
		opts             []healthjob.Option
		warningsAsErrors bool
		status           int
		level            healthjob.Level
		ok               bool
	}{
		{"Pass", pass, nil, true, 1, healthjob.LevelOK, true},
		{"Fail", fail, nil, true, 0, healthjob.LevelFailure, false},
		{"FailNonCritical", fail, []healthjob.Option{healthjob.NonCritical()}, true, 0, healthjob.LevelFailure, true},
		{"Warning", warn, nil, true, 0, healthjob.LevelWarning, false},
		{"WarningNotError", warn, nil, false, 1, healthjob.LevelWarning, true},
		{"WarningNonCritical", warn, []healthjob.Option{healthjob.Critical(false)}, true, 0, healthjob.LevelWarning, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			reg := &healthjob.Registry{}
			mustRegister(t, reg, healthjob.CheckFunc("C", tt.check), tt.opts...)
			r := healthjob.NewRunner(reg)
			r.WarningsAsErrors = tt.warningsAsErrors
			run := mustRun(t, r, "")
			c := run.Checks[0]
			if c.Status != tt.status || c.Level != tt.level || run.OK() != tt.ok {
				t.Errorf("status %d level %s run.OK %v, want %d %s %v", c.Status, c.Level, run.OK(), tt.status, tt.level, tt.ok)
			}
		})
	}
}

func TestRunnerSubsetsAndOrder(t *testing.T) {
	reg := &healthjob.Registry{}
	mustRegister(t, reg, healthjob.CheckFunc("b", pass), healthjob.Subsets("startup"))
	mustRegister(t, reg, healthjob.CheckFunc("c", pass))
	mustRegister(t, reg, healthjob.CheckFunc("a", pass), healthjob.Subsets("startup", "liveness"))
	r := healthjob.NewRunner(reg)
	names := func(run *healthjob.Run) (out []string) {
		for _, c := range run.Checks {
			out = append(out, c.Name)
		}
		return out
	}
	if got := strings.Join(names(mustRun(t, r, "")), ","); got != "a,b,c" {
		t.Errorf("all = %s, want a,b,c (sorted by name)", got)
	}
	if got := strings.Join(names(mustRun(t, r, "startup")), ","); got != "a,b" {
		t.Errorf("startup = %s, want a,b", got)
	}
	if _, err := r.Run(context.Background(), "nope"); err == nil || err.Error() != `unknown subset "nope"` {
		t.Errorf("unknown subset: err = %v", err)
	}
	if got := strings.Join(reg.SubsetNames(), ","); got != "liveness,startup" {
		t.Errorf("SubsetNames = %s", got)
	}
}

func TestRunnerConcurrencyBound(t *testing.T) {
	var running, most atomic.Int32
	reg := &healthjob.Registry{}
	for i := range 20 {
		mustRegister(t, reg, healthjob.CheckFunc(string(rune('a'+i)), func(context.Context) error {
			n := running.Add(1)
			defer running.Add(-1)
			for m := most.Load(); n > m && !most.CompareAndSwap(m, n); m = most.Load() {
			}
			time.Sleep(time.Millisecond) // hold the slot so others overlap if the bound fails
			return nil
		}))
	}
	r := healthjob.NewRunner(reg)
	r.Concurrency = 3
	run := mustRun(t, r, "")
	if len(run.Checks) != 20 || most.Load() > 3 || most.Load() < 2 {
		t.Errorf("%d checks, at most %d at once; want 20 checks, at most 3 at once", len(run.Checks), most.Load())
	}
}

func TestRunIDsAndClock(t *testing.T) {
	reg := &healthjob.Registry{}
	mustRegister(t, reg, healthjob.CheckFunc("a", func(context.Context) error { return errors.New("x") }))
	r := healthjob.NewRunner(reg)
	r.Now = func() time.Time { return time.Date(2023, 11, 20, 12, 0, 0, 0, time.UTC) }
	r.NewUUID = func() string { return "fixed" }
	run := mustRun(t, r, "")
	if run.UUID != "fixed" || !run.Timestamp.Equal(r.Now()) {
		t.Errorf("run %s at %v, want the injected id and clock", run.UUID, run.Timestamp)
	}
	if got := run.Failed(); len(got) != 1 || got[0] != "a" {
		t.Errorf("Failed = %v, want [a]", got)
	}
}

// TestRunnerSharedDeadline: checks with the same deadline share a context;
// one finishing must not cancel the others.
func TestRunnerSharedDeadline(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		reg := &healthjob.Registry{}
		mustRegister(t, reg, healthjob.CheckFunc("Fast", pass))
		mustRegister(t, reg, healthjob.CheckFunc("Slow", func(ctx context.Context) error {
			select {
			case <-ctx.Done():
				return ctx.Err()
			case <-time.After(time.Second):
				return nil
			}
		}))
		run := mustRun(t, healthjob.NewRunner(reg), "")
		for _, c := range run.Checks {
			if c.Message != "working" {
				t.Errorf("%s: %q, want working", c.Name, c.Message)
			}
		}
	})
}
