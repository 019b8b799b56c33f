package cache_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sync"
	"syscall"
	"testing"
	"testing/synctest"
	"time"

	"github.com/healthjob/healthjob/checks/cache"
	"github.com/healthjob/healthjob/healthjobtest"
	"go.uber.org/goleak"
)

// server is a fake cache server that counts the connections opened to it
// and can close them, hang, or go down.
type server struct {
	mu       sync.Mutex
	opened   int  // connections opened
	open     int  // connections not closed yet
	cutUpTo  int  // connections numbered up to this were closed by the server
	down     bool // Open is refused
	hang     bool // every operation waits for its ctx to end
	keys     map[string]string
	lastUsed int // the number of the connection of the last operation

	meet    int           // Set waits until this many runs are in Set at once
	arrived int           // runs in Set so far
	met     chan struct{} // closed when they are all there
}

func (s *server) Open(context.Context) (cache.Conn, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.down {
		return nil, fmt.Errorf("dial tcp 127.0.0.1:6379: connect: %w", syscall.ECONNREFUSED)
	}
	s.opened++
	s.open++
	if s.keys == nil {
		s.keys = map[string]string{}
	}
	return &serverConn{s: s, n: s.opened}, nil
}

// cut closes the connections opened so far, as a restarting server does.
func (s *server) cut() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.cutUpTo = s.opened
}

func (s *server) set(f func(*server)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	f(s)
}

// counts fails the test unless s had opened connections, of which open are
// still open, and the last operation went to connection last.
func (s *server) counts(t *testing.T, opened, open, last int) {
	t.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.opened != opened || s.open != open || s.lastUsed != last {
		t.Errorf("%d connections opened, %d open, last used #%d; want %d opened, %d open, last used #%d",
			s.opened, s.open, s.lastUsed, opened, open, last)
	}
}

type serverConn struct {
	s      *server
	n      int
	closed bool
}

// do runs an operation, failing it as the server's state says.
func (c *serverConn) do(ctx context.Context, op func()) error {
	c.s.mu.Lock()
	hang := c.s.hang
	c.s.mu.Unlock()
	if hang {
		<-ctx.Done()
		return ctx.Err()
	}
	c.s.mu.Lock()
	defer c.s.mu.Unlock()
	if c.closed {
		return errors.New("use of a closed connection")
	}
	c.s.lastUsed = c.n
	if c.n <= c.s.cutUpTo {
		return io.EOF
	}
	op()
	return nil
}

func (c *serverConn) Set(ctx context.Context, key, value string, _ time.Duration) error {
	c.s.mu.Lock()
	if c.s.arrived++; c.s.arrived == c.s.meet {
		close(c.s.met)
	}
	met := c.s.met
	c.s.mu.Unlock()
	if met != nil {
		<-met
	}
	return c.do(ctx, func() { c.s.keys[key] = value })
}

func (c *serverConn) Get(ctx context.Context, key string) (v string, err error) {
	err = c.do(ctx, func() { v = c.s.keys[key] })
	return v, err
}

func (c *serverConn) Delete(ctx context.Context, key string) error {
	return c.do(ctx, func() { delete(c.s.keys, key) })
}

func (c *serverConn) Close() error {
	c.s.mu.Lock()
	defer c.s.mu.Unlock()
	if !c.closed {
		c.closed = true
		c.s.open--
	}
	return nil
}

// run runs c once and fails the test unless it passed.
func run(t *testing.T, c *cache.Check) {
	t.Helper()
	healthjobtest.AssertStatus(t, c, 10*time.Second, "working")
}

// TestConnectionPerRun: with ConnMaxAge 0, every run opens a connection and
// closes it before returning.
func TestConnectionPerRun(t *testing.T) {
	s := &server{}
	c := mustNew(t, cache.Config{Backend: s})
	for range 3 {
		run(t, c)
	}
	s.counts(t, 3, 0, 3)
}

// TestKeptConnection runs a check that keeps its connection for a minute,
// on the fake clock of a synctest bubble: the runs within the minute share
// one connection; the first run after it opens a new one, and the old one
// is closed.
func TestKeptConnection(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := &server{}
		c := mustNew(t, cache.Config{Backend: s, ConnMaxAge: time.Minute})
		defer c.Close()
		start := time.Now()
		run(t, c)
		run(t, c)
		s.counts(t, 1, 1, 1)
		time.Sleep(59*time.Second - time.Since(start))
		run(t, c)
		s.counts(t, 1, 1, 1)
		time.Sleep(time.Minute - time.Since(start))
		run(t, c)
		s.counts(t, 2, 1, 2)
		run(t, c)
		s.counts(t, 2, 1, 2)
		if len(s.keys) != 0 {
			t.Errorf("keys left behind: %v", s.keys)
		}
	})
}

// TestKeptConnectionDropped: a run on a kept connection that the server
// closed tries again on a new one and passes; the closed one is closed.
func TestKeptConnectionDropped(t *testing.T) {
	s := &server{}
	c := mustNew(t, cache.Config{Backend: s, ConnMaxAge: time.Minute})
	defer c.Close()
	run(t, c)
	s.cut()
	run(t, c)
	s.counts(t, 2, 1, 2)
	run(t, c)
	s.counts(t, 2, 1, 2)
}

// TestKeptConnectionServerDown: when the server goes down or hangs, a check
// that kept a connection fails with the text of one that connects afresh,
// within its deadline, and keeps no connection.
func TestKeptConnectionServerDown(t *testing.T) {
	for _, tt := range []struct {
		name string
		fail func(*server)
		want string
	}{
		{"Down", func(s *server) { s.cutUpTo, s.down = s.opened, true }, "unexpected result: Connection Error: connection refused"},
		{"Hangs", func(s *server) { s.hang = true }, "unexpected result: Connection Error: timeout"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			s := &server{}
			c := mustNew(t, cache.Config{Backend: s, ConnMaxAge: time.Minute})
			defer c.Close()
			run(t, c)
			s.set(tt.fail)
			healthjobtest.AssertStatus(t, c, 200*time.Millisecond, tt.want)
			s.mu.Lock()
			open := s.open
			s.mu.Unlock()
			if open != 0 {
				t.Errorf("%d connections open after a failed run, want 0", open)
			}
			healthjobtest.AssertStatus(t, c, 200*time.Millisecond, tt.want)
		})
	}
}

// TestClose: Close closes the kept connection; a later run opens another.
func TestClose(t *testing.T) {
	before := goleak.IgnoreCurrent()
	s := &server{}
	c := mustNew(t, cache.Config{Backend: s, ConnMaxAge: time.Minute})
	if err := c.Close(); err != nil {
		t.Errorf("Close() before any run = %v", err)
	}
	run(t, c)
	if err := c.Close(); err != nil {
		t.Errorf("Close() = %v", err)
	}
	s.counts(t, 1, 0, 1)
	run(t, c)
	s.counts(t, 2, 1, 2)
	if err := c.Close(); err != nil {
		t.Errorf("Close() after another run = %v", err)
	}
	if err := c.Close(); err != nil {
		t.Errorf("Close() again = %v", err)
	}
	s.counts(t, 2, 0, 2)
	goleak.VerifyNone(t, before)
}

// TestConcurrentRuns: runs at the same time each have a connection of their
// own, and one of them is kept.
func TestConcurrentRuns(t *testing.T) {
	const runs = 8
	s := &server{meet: runs, met: make(chan struct{})}
	c := mustNew(t, cache.Config{Backend: s, ConnMaxAge: time.Minute})
	defer c.Close()
	var wg sync.WaitGroup
	for range runs {
		wg.Go(func() {
			if err := c.Check(context.Background()); err != nil {
				t.Errorf("Check() = %v", err)
			}
		})
	}
	wg.Wait()
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.opened != runs || s.open != 1 {
		t.Errorf("%d connections opened, %d open after the runs; want %d opened, 1 open, the kept one", s.opened, s.open, runs)
	}
}
