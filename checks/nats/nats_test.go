package nats_test

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/url"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/healthjob/healthjob/checks/nats"
	"github.com/healthjob/healthjob/healthjobtest"
)

const timeout = time.Second

func mustNew(t *testing.T, cfg nats.Config) *nats.Check {
	t.Helper()
	c, err := nats.New(cfg)
	if err != nil {
		t.Fatalf("New(%+v): %v", cfg, err)
	}
	return c
}

func TestCheck(t *testing.T) {
	raw := healthjobtest.Env("HEALTHJOB_NATS_URL", "nats://127.0.0.1:4222")
	u, err := url.Parse(raw)
	if err != nil {
		t.Fatal(err)
	}
	healthjobtest.NeedService(t, u.Host, "NATS (HEALTHJOB_NATS_URL)")
	down := healthjobtest.ClosedPort(t)

	for _, tt := range []struct{ name, url, want string }{
		{"OK", raw, "working"},
		{"OneOfTwoDown", "nats://" + down + "," + raw, "working"},
		{"ServerDown", "nats://" + down, "unavailable: Unable to connect to NATS: connection refused"},
		{"Hangs", "nats://" + healthjobtest.Blackhole(t), "unavailable: Unable to connect to NATS: timeout"},
		{"NoPong", "nats://" + silentAfterConnect(t), "unavailable: NATS round trip failed: timeout"},
		{"NotNATS", "nats://" + garbage(t), "unavailable: Unable to connect to NATS: nats: protocol exception, INFO not received"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			healthjobtest.AssertStatus(t, mustNew(t, nats.Config{URL: tt.url}), timeout, tt.want)
		})
	}
	healthjobtest.Conformance(t, mustNew(t, nats.Config{URL: raw}))
}

// TestCheckAuth runs a nats-server that wants a user and a password. The
// exact texts show that no password reaches a status.
func TestCheckAuth(t *testing.T) {
	bin, err := exec.LookPath("nats-server")
	if err != nil {
		healthjobtest.Missing(t, "nats-server is not installed (Debian package nats-server)")
	}
	addr := healthjobtest.ClosedPort(t)
	host, port, _ := net.SplitHostPort(addr)
	cmd := exec.Command(bin, "-a", host, "-p", port, "--user", "healthjob", "--pass", "s3cret-Pa55")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	waitListening(t, addr)

	for _, tt := range []struct{ name, user, want string }{
		{"RightPassword", "healthjob:s3cret-Pa55", "working"},
		{"WrongPassword", "healthjob:wrong-s3cret-Pa55", "unavailable: Unable to connect to NATS: nats: Authorization Violation"},
		{"NoPassword", "", "unavailable: Unable to connect to NATS: nats: Authorization Violation"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			u := "nats://" + addr
			if tt.user != "" {
				u = "nats://" + tt.user + "@" + addr
			}
			healthjobtest.AssertStatus(t, mustNew(t, nats.Config{URL: u}), timeout, tt.want)
		})
	}
}

func TestNew(t *testing.T) {
	if got := mustNew(t, nats.Config{}).Name(); got != "NATSHealthCheck" {
		t.Errorf("Name() = %q, want NATSHealthCheck", got)
	}
	for _, tt := range []struct{ url, want string }{
		{"nats://a:4222, tls://b:4222,c:4222", ""},
		{"http://a:4222", `url: unknown scheme "http"; want nats://, tls://, ws:// or wss://`},
		{"nats://user:s3cret@a:port", `url: invalid port ":port" after host`},
		{"nats://", "url: want nats://host:4222"},
	} {
		_, err := nats.New(nats.Config{URL: tt.url})
		if got := fmt.Sprint(err); (tt.want == "" && err != nil) || (tt.want != "" && got != tt.want) {
			t.Errorf("New(%q) = %v, want %q", tt.url, err, tt.want)
		}
	}
}

// waitListening waits until something accepts connections on addr.
func waitListening(t *testing.T, addr string) {
	t.Helper()
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	deadline := time.After(10 * time.Second)
	for {
		if c, err := net.Dial("tcp", addr); err == nil {
			c.Close()
			return
		}
		select {
		case <-tick.C:
		case <-deadline:
			t.Fatalf("nothing listens on %s after 10s", addr)
		}
	}
}

// serve runs handle for every connection to a new loopback listener and
// returns its address.
func serve(t *testing.T, handle func(net.Conn)) string {
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
			handle(c)
			c.Close()
		}
	}()
	t.Cleanup(func() { ln.Close(); <-done })
	return ln.Addr().String()
}

// garbage answers with something other than NATS's protocol.
func garbage(t *testing.T) string {
	return serve(t, func(c net.Conn) { fmt.Fprint(c, "HTTP/1.1 400 Bad Request\r\n\r\n") })
}

// silentAfterConnect completes NATS's handshake and then answers nothing.
func silentAfterConnect(t *testing.T) string {
	return serve(t, func(c net.Conn) {
		fmt.Fprint(c, "INFO {\"server_id\":\"fake\",\"max_payload\":1048576}\r\n")
		r := bufio.NewReader(c)
		for {
			line, err := r.ReadString('\n')
			if err != nil {
				return
			}
			if strings.HasPrefix(line, "PING") {
				fmt.Fprint(c, "PONG\r\n")
				io.Copy(io.Discard, r) // until the client hangs up
				return
			}
		}
	})
}
