package memcached_test

import (
	"testing"
	"time"

	"github.com/healthjob/healthjob/checks/cache/internal/cachetest"
	"github.com/healthjob/healthjob/healthjobtest"
	"go.uber.org/goleak"
)

// proxied returns a proxy to the test memcached, skipping when none runs.
func proxied(t *testing.T) *cachetest.Proxy {
	t.Helper()
	addr := healthjobtest.Env("HEALTHJOB_MEMCACHED_ADDR", "127.0.0.1:11211")
	healthjobtest.NeedService(t, addr, "memcached (HEALTHJOB_MEMCACHED_ADDR; .ci/setup.d/memcached.sh starts it)")
	return cachetest.NewProxy(t, addr)
}

// accepted fails the test unless p has accepted n connections.
func accepted(t *testing.T, p *cachetest.Proxy, n int) {
	t.Helper()
	if got := p.Accepted(); got != n {
		t.Errorf("%d connections made, want %d", got, n)
	}
}

// TestKeptConnection: the runs within ConnMaxAge share one connection; one
// the server closed is replaced by the next run, which passes; Close ends
// the kept one and leaves no goroutine behind.
func TestKeptConnection(t *testing.T) {
	p := proxied(t)
	before := goleak.IgnoreCurrent()
	c := kept(t, "memcached://"+p.Addr, time.Minute)
	for range 3 {
		healthjobtest.AssertStatus(t, c, timeout, "working")
	}
	accepted(t, p, 1)
	p.WaitOpen(t, 1)
	p.Cut() // the server restarts
	healthjobtest.AssertStatus(t, c, timeout, "working")
	accepted(t, p, 2)
	p.WaitOpen(t, 1)
	if err := c.Close(); err != nil {
		t.Errorf("Close() = %v", err)
	}
	p.WaitOpen(t, 0)
	goleak.VerifyNone(t, before)
}

// TestConnectionPerRun: with ConnMaxAge 0 every run connects, and no
// connection outlives it.
func TestConnectionPerRun(t *testing.T) {
	p := proxied(t)
	c := kept(t, "memcached://"+p.Addr, 0)
	for range 2 {
		healthjobtest.AssertStatus(t, c, timeout, "working")
	}
	accepted(t, p, 2)
	p.WaitOpen(t, 0)
}

// TestKeptConnectionAged: the first run after the connection is ConnMaxAge
// old makes another, and the old one is closed.
func TestKeptConnectionAged(t *testing.T) {
	p := proxied(t)
	const age = 200 * time.Millisecond
	c := kept(t, "memcached://"+p.Addr, age)
	healthjobtest.AssertStatus(t, c, timeout, "working")
	time.Sleep(age) // the connection ages
	healthjobtest.AssertStatus(t, c, timeout, "working")
	accepted(t, p, 2)
	p.WaitOpen(t, 1)
}

// TestKeptConnectionServerDown: when the server goes down, a check that
// kept a connection fails with the text of one that connects afresh, within
// its deadline.
func TestKeptConnectionServerDown(t *testing.T) {
	p := proxied(t)
	c := kept(t, "memcached://"+p.Addr, time.Minute)
	healthjobtest.AssertStatus(t, c, timeout, "working")
	p.Down()
	healthjobtest.AssertStatus(t, c, timeout, "unexpected result: Connection Error: connection refused")
	healthjobtest.AssertStatus(t, c, timeout, "unexpected result: Connection Error: connection refused")
}

// TestKeptConnectionTwoServers: a kept client connects to the second
// server when a later run's key first goes there, within that run's
// context, and keeps one connection to each.
func TestKeptConnectionTwoServers(t *testing.T) {
	p1, p2 := proxied(t), proxied(t)
	c := kept(t, "memcached://"+p1.Addr+","+p2.Addr, time.Minute)
	for range 20 { // the keys go to both servers, but for a chance of 2^-19
		healthjobtest.AssertStatus(t, c, timeout, "working")
	}
	if n1, n2 := p1.Accepted(), p2.Accepted(); n1 > 1 || n2 > 1 {
		t.Errorf("%d and %d connections made to the two servers, want at most one each", n1, n2)
	}
}
