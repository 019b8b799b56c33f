// Package dns checks that a host name resolves. Step by step, it:
//
//  1. looks up the A and AAAA records of Host, through the system's
//     resolver or, with Server, by asking that DNS server directly:
//     "unavailable: DNS lookup of <host> failed: no such host";
//  2. with Expect, requires one of the expected addresses among the answers:
//     "unexpected result: <host> resolved to [10.0.0.7], want one of [10.0.0.5 10.0.0.6]".
//
// No answer before the deadline is the runner's "unavailable: check timed
// out after 10s".
package dns

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"slices"
	"strings"

	"github.com/healthjob/healthjob"
)

// Config configures a Check.
type Config struct {
	// Name overrides the default, "DNS <host>".
	Name string
	// Host is the name to resolve.
	Host string
	// Server is the DNS server to ask, as host:port or host (port 53),
	// instead of those of /etc/resolv.conf. Either way /etc/hosts is read
	// first, as nsswitch.conf says.
	Server string
	// Expect lists IP addresses of which at least one must be among the answers.
	Expect []string
}

// Check resolves a host name.
type Check struct {
	name     string
	host     string
	resolver *net.Resolver
	expect   []netip.Addr
}

var _ healthjob.Check = (*Check)(nil)

// New returns a Check. It is an error when Host is empty, Server is not a
// host or host:port, or Expect holds something other than IP addresses.
func New(cfg Config) (*Check, error) {
	if cfg.Host == "" {
		return nil, fmt.Errorf("host is missing; name the host to resolve, e.g. db.internal")
	}
	c := &Check{name: cfg.Name, host: cfg.Host, resolver: net.DefaultResolver}
	if c.name == "" {
		c.name = shorten("DNS " + cfg.Host)
	}
	if cfg.Server != "" {
		server, err := serverAddr(cfg.Server)
		if err != nil {
			return nil, err
		}
		c.resolver = &net.Resolver{
			PreferGo: true, // only Go's own resolver dials through Dial
			Dial: func(ctx context.Context, network, _ string) (net.Conn, error) {
				var d net.Dialer
				return d.DialContext(ctx, network, server)
			},
		}
	}
	for _, s := range cfg.Expect {
		a, err := netip.ParseAddr(s)
		if err != nil {
			return nil, fmt.Errorf("expect: %q is not an IP address", s)
		}
		c.expect = append(c.expect, a.Unmap())
	}
	return c, nil
}

// serverAddr reads host:port, [v6]:port, host or a bare IPv6 address, adding port 53.
func serverAddr(s string) (string, error) {
	if host, port, err := net.SplitHostPort(s); err == nil {
		if host == "" || port == "" {
			return "", fmt.Errorf("server: %q is not host:port", s)
		}
		return s, nil
	}
	_, err := netip.ParseAddr(s) // a bare IPv6 address has colons but no port
	if strings.ContainsAny(s, "[]") || (strings.Contains(s, ":") && err != nil) {
		return "", fmt.Errorf("server: %q is not host:port", s)
	}
	return net.JoinHostPort(s, "53"), nil
}

// Name returns the check's name.
func (c *Check) Name() string { return c.name }

// Check resolves the host and compares the answers with the expected ones.
func (c *Check) Check(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err // the runner reports it as a timeout or a cancellation
	}
	addrs, err := c.resolver.LookupNetIP(ctx, "ip", c.host)
	if err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		reason := err.Error()
		var de *net.DNSError
		if errors.As(err, &de) {
			reason = de.Err // de's text repeats the name and the server
		}
		return healthjob.Unavailable("DNS lookup of %s failed: %s", c.host, reason)
	}
	for i := range addrs {
		addrs[i] = addrs[i].Unmap()
	}
	if len(c.expect) > 0 && !slices.ContainsFunc(addrs, func(a netip.Addr) bool { return slices.Contains(c.expect, a) }) {
		return healthjob.UnexpectedResult("%s resolved to %v, want one of %v", c.host, addrs, c.expect)
	}
	return nil
}

// shorten cuts a name to healthjob.MaxNameLength characters.
func shorten(name string) string {
	if r := []rune(name); len(r) > healthjob.MaxNameLength {
		return string(r[:healthjob.MaxNameLength-1]) + "…"
	}
	return name
}
