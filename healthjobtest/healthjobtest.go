// Package healthjobtest helps test checks: a conformance test every check
// package runs, a listener that accepts connections and never answers, a
// benchmark of a check's CPU per run, and the rule that decides whether a
// missing service skips or fails a test.
package healthjobtest

import (
	"context"
	"errors"
	"net"
	"os"
	"testing"
	"time"

	"github.com/healthjob/healthjob"
	"go.uber.org/goleak"
)

// RequireServices tells whether a missing service must fail the tests
// instead of skipping them: HEALTHJOB_REQUIRE_SERVICES=1, as CI sets it.
func RequireServices() bool { return os.Getenv("HEALTHJOB_REQUIRE_SERVICES") == "1" }

// NeedService skips the test (or fails it under HEALTHJOB_REQUIRE_SERVICES=1)
// when nothing listens on the TCP address addr. why names the service and
// how the test script starts it.
func NeedService(tb testing.TB, addr, why string) {
	tb.Helper()
	conn, err := net.DialTimeout("tcp", addr, 2*time.Second)
	if err == nil {
		conn.Close()
		return
	}
	Missing(tb, why+": nothing listens on "+addr+": "+err.Error())
}

// Missing skips the test, or fails it under HEALTHJOB_REQUIRE_SERVICES=1.
func Missing(tb testing.TB, reason string) {
	tb.Helper()
	if RequireServices() {
		tb.Fatalf("required service missing (HEALTHJOB_REQUIRE_SERVICES=1): %s", reason)
	}
	tb.Skip("service missing: " + reason)
}

// Env returns the environment variable name, or def when it is unset.
func Env(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}

// Blackhole returns the address of a TCP listener that accepts connections
// and never writes a byte: a server that hangs. It closes with the test.
func Blackhole(tb testing.TB) string {
	tb.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	done := make(chan struct{})
	go func() {
		var conns []net.Conn
		defer func() {
			for _, c := range conns {
				c.Close()
			}
			close(done)
		}()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			conns = append(conns, c)
		}
	}()
	tb.Cleanup(func() { ln.Close(); <-done })
	return ln.Addr().String()
}

// ClosedPort returns a loopback address where nothing listens: a server that is down.
func ClosedPort(tb testing.TB) string {
	tb.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}

// Result runs c once under a deadline of timeout and returns its status text
// (as the runner would print it) and how long it took.
func Result(c healthjob.Check, timeout time.Duration) (text string, elapsed time.Duration) {
	reg := &healthjob.Registry{}
	if err := reg.Register(c, healthjob.Timeout(timeout)); err != nil {
		return err.Error(), 0
	}
	run, _ := healthjob.NewRunner(reg).Run(context.Background(), "")
	return run.Checks[0].Message, run.Checks[0].Duration
}

// AssertStatus runs c under a deadline of timeout and fails the test unless
// its status text is want and it returned within the deadline (plus a little
// scheduling slack).
func AssertStatus(tb testing.TB, c healthjob.Check, timeout time.Duration, want string) {
	tb.Helper()
	got, elapsed := Result(c, timeout)
	if got != want {
		tb.Errorf("%s: status = %q, want %q", c.Name(), got, want)
	}
	if elapsed > timeout+250*time.Millisecond {
		tb.Errorf("%s: took %s, past its deadline of %s", c.Name(), elapsed, timeout)
	}
}

// Conformance checks the contract every check keeps: a non-empty name of at
// most healthjob.MaxNameLength characters; an error, within a second, when
// its context is already cancelled; and no goroutine left behind once it
// returns. Call it from each check package's tests with a check that would
// pass against its real service.
func Conformance(t *testing.T, c healthjob.Check) {
	t.Helper()
	t.Run("Conformance", func(t *testing.T) {
		if n := len([]rune(c.Name())); n == 0 || n > healthjob.MaxNameLength {
			t.Errorf("Name() = %q: want 1 to %d characters", c.Name(), healthjob.MaxNameLength)
		}
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		start := time.Now()
		err := c.Check(ctx)
		if err == nil {
			t.Errorf("Check(cancelled ctx) = nil, want an error")
		}
		if d := time.Since(start); d > time.Second {
			t.Errorf("Check(cancelled ctx) took %s, want under 1s", d)
		}
		var known *healthjob.Error
		if err != nil && !errors.As(err, &known) && !errors.Is(err, context.Canceled) {
			t.Errorf("Check(cancelled ctx) = %v: want a healthjob error kind or context.Canceled", err)
		}
		before := goleak.IgnoreCurrent()
		ctx, cancel = context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		_ = c.Check(ctx) // the outcome is the package's own tests' business; leaks are ours
		goleak.VerifyNone(t, before)
	})
}
