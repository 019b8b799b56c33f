package dns_test

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"testing"
	"time"

	"github.com/healthjob/healthjob/checks/dns"
	"github.com/healthjob/healthjob/healthjobtest"
)

const timeout = time.Second

func mustNew(t *testing.T, cfg dns.Config) *dns.Check {
	t.Helper()
	c, err := dns.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestServer(t *testing.T) {
	server := serveDNS(t, map[string][]netip.Addr{
		"db.test":  {netip.MustParseAddr("10.0.0.5")},
		"web.test": {netip.MustParseAddr("10.0.0.8"), netip.MustParseAddr("fd00::8")},
	})
	for _, tc := range []struct {
		name string
		cfg  dns.Config
		want string
	}{
		{"resolves", dns.Config{Host: "db.test"}, "working"},
		{"expected", dns.Config{Host: "db.test", Expect: []string{"10.0.0.4", "10.0.0.5"}}, "working"},
		{"expected IPv6", dns.Config{Host: "web.test", Expect: []string{"fd00:0::8"}}, "working"},
		{"moved", dns.Config{Host: "db.test", Expect: []string{"10.0.0.6", "10.0.0.7"}},
			"unexpected result: db.test resolved to [10.0.0.5], want one of [10.0.0.6 10.0.0.7]"},
		{"no such host", dns.Config{Host: "gone.test"}, "unavailable: DNS lookup of gone.test failed: no such host"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.cfg.Server = server
			healthjobtest.AssertStatus(t, mustNew(t, tc.cfg), timeout, tc.want)
		})
	}
	healthjobtest.Conformance(t, mustNew(t, dns.Config{Host: "web.test", Server: server}))
}

func TestServerDoesNotAnswer(t *testing.T) {
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer pc.Close()
	c := mustNew(t, dns.Config{Host: "db.test", Server: pc.LocalAddr().String()})
	healthjobtest.AssertStatus(t, c, timeout, "unavailable: check timed out after 1s")
}

func TestSystemResolver(t *testing.T) {
	// This machine may have no outside network: localhost comes from /etc/hosts.
	addrs, err := net.DefaultResolver.LookupNetIP(context.Background(), "ip", "localhost")
	if err != nil {
		t.Fatal(err)
	}
	for i := range addrs {
		addrs[i] = addrs[i].Unmap()
	}
	healthjobtest.AssertStatus(t, mustNew(t, dns.Config{Host: "localhost"}), timeout, "working")
	healthjobtest.AssertStatus(t, mustNew(t, dns.Config{Host: "localhost", Expect: []string{"127.0.0.1", "::1"}}), timeout, "working")
	healthjobtest.AssertStatus(t, mustNew(t, dns.Config{Host: "localhost", Expect: []string{"192.0.2.1"}}), timeout,
		fmt.Sprintf("unexpected result: localhost resolved to %v, want one of [192.0.2.1]", addrs))
	healthjobtest.Conformance(t, mustNew(t, dns.Config{Host: "localhost"}))
}

func TestNew(t *testing.T) {
	if got := mustNew(t, dns.Config{Host: "db.internal", Server: "10.0.0.53"}).Name(); got != "DNS db.internal" {
		t.Errorf("Name() = %q, want %q", got, "DNS db.internal")
	}
	for _, tc := range []struct {
		cfg  dns.Config
		want string
	}{
		{dns.Config{}, "host is missing; name the host to resolve, e.g. db.internal"},
		{dns.Config{Host: "db", Server: "10.0.0.53:"}, `server: "10.0.0.53:" is not host:port`},
		{dns.Config{Host: "db", Server: "ns:1:2"}, `server: "ns:1:2" is not host:port`},
		{dns.Config{Host: "db", Server: "[::1]"}, `server: "[::1]" is not host:port`},
		{dns.Config{Host: "db", Expect: []string{"10.0.0.5", "db.internal"}}, `expect: "db.internal" is not an IP address`},
	} {
		_, err := dns.New(tc.cfg)
		if err == nil || err.Error() != tc.want {
			t.Errorf("New(%+v) = %v, want %q", tc.cfg, err, tc.want)
		}
	}
	for _, server := range []string{"10.0.0.53", "10.0.0.53:5353", "::1", "[::1]:53", "ns.internal"} {
		if _, err := dns.New(dns.Config{Host: "db", Server: server}); err != nil {
			t.Errorf("New(server %q) = %v, want no error", server, err)
		}
	}
}
