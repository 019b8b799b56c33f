package memcached_test

import (
	"fmt"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/healthjob/healthjob/checks/cache"
	"github.com/healthjob/healthjob/checks/cache/memcached"
	"github.com/healthjob/healthjob/healthjobtest"
)

const timeout = time.Second

func check(t *testing.T, url string) *cache.Check {
	t.Helper()
	b, err := memcached.New(url)
	if err != nil {
		t.Fatalf("New(%q): %v", url, err)
	}
	c, err := cache.New(cache.Config{Backend: b})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestCheck(t *testing.T) {
	addr := healthjobtest.Env("HEALTHJOB_MEMCACHED_ADDR", "127.0.0.1:11211")
	healthjobtest.NeedService(t, addr, "memcached (HEALTHJOB_MEMCACHED_ADDR; .ci/setup.d/memcached.sh starts it)")
	down := healthjobtest.ClosedPort(t)
	for _, tt := range []struct{ name, url, want string }{
		{"OK", "memcached://" + addr, "working"},
		{"TwoServers", "memcached://" + addr + "," + addr, "working"},
		{"ServerDown", "memcached://" + down, "unexpected result: Connection Error: connection refused"},
		{"Hangs", "memcached://" + healthjobtest.Blackhole(t), "unexpected result: Connection Error: timeout"},
		{"NotMemcached", "memcached://" + garbage(t), `unexpected result: Connection Error: memcache: unexpected response line from "set": "HTTP/1.1 400 Bad Request\r\n"`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			healthjobtest.AssertStatus(t, check(t, tt.url), timeout, tt.want)
			// A check that keeps its connection fails with the same texts.
			healthjobtest.AssertStatus(t, kept(t, tt.url, time.Minute), timeout, tt.want)
		})
	}
	healthjobtest.Conformance(t, check(t, "memcached://"+addr))
	healthjobtest.Conformance(t, kept(t, "memcached://"+addr, time.Minute))
}

// kept returns a check of url that keeps its connections for age; it is
// closed with the test.
func kept(t *testing.T, url string, age time.Duration) *cache.Check {
	t.Helper()
	b, err := memcached.New(url)
	if err != nil {
		t.Fatalf("New(%q): %v", url, err)
	}
	c, err := cache.New(cache.Config{Backend: b, ConnMaxAge: age})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// TestCheckUnknownHost shows that a name that does not resolve fails the
// check (with the resolver's reason, or a timeout when the resolver is
// slow), not the configuration.
func TestCheckUnknownHost(t *testing.T) {
	got, _ := healthjobtest.Result(check(t, "memcached://nonexistent.invalid"), timeout)
	if want := "unexpected result: Connection Error: "; !strings.HasPrefix(got, want) {
		t.Errorf("status = %q, want it to start with %q", got, want)
	}
}

func TestNew(t *testing.T) {
	want := "url: want memcached://host[:11211][,host2[:11211]…]"
	for _, tt := range []struct{ url, want string }{
		{"memcached://cache", ""},
		{"memcached://cache:11212,cache2", ""},
		{"memcached://[::1]", ""},
		{"redis://cache:11211", want},
		{"memcached:///11211", want},
		{"memcached://cache:11211/", ""},
		{"memcached://cache:11211/1", want},
		{"memcached://user:s3cret@cache:11211", want},
		{"memcached://cache:11211?timeout=1", want},
		{"memcached://", want},
		{"memcached://cache:port", `url: server "cache:port": want host or host:port`},
		{"memcached://cache,,cache2", `url: server "": want host or host:port`},
	} {
		_, err := memcached.New(tt.url)
		if got := fmt.Sprint(err); (tt.want == "" && err != nil) || (tt.want != "" && got != tt.want) {
			t.Errorf("New(%q) = %v, want %q", tt.url, err, tt.want)
		}
	}
}

// garbage returns the address of a server that answers every connection with
// something other than memcached's protocol.
func garbage(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			fmt.Fprint(c, "HTTP/1.1 400 Bad Request\r\n\r\n")
			c.Close()
		}
	}()
	t.Cleanup(func() { ln.Close(); <-done })
	return ln.Addr().String()
}
