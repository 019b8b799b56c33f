// Package tcp checks that a server accepts connections. Step by step, it:
//
//  1. connects to Address (host:port, or tcp://host:port): a refused
//     connection is "unavailable: Connection refused", any other failure
//     (a name that does not resolve, a network that cannot be reached) is
//     "unavailable: <address>: <reason>";
//  2. with TLS, completes a TLS handshake, verifying the server's
//     certificate for the host unless InsecureSkipVerify is set:
//     "unavailable: <address>: tls: failed to verify certificate: …";
//  3. closes the connection.
//
// No answer before the deadline is the runner's "unavailable: check timed
// out after 10s".
package tcp

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/url"
	"strings"
	"syscall"

	"github.com/healthjob/healthjob"
)

// Config configures a Check.
type Config struct {
	// Name overrides the default, "TCP <host:port>".
	Name string
	// Address is host:port or a tcp://host:port URL.
	Address string
	// TLS completes a TLS handshake after connecting.
	TLS bool
	// InsecureSkipVerify accepts any server certificate in the handshake.
	InsecureSkipVerify bool
}

// Check connects to an address.
type Check struct {
	name string
	addr string
	tls  *tls.Config // nil: no handshake
}

var _ healthjob.Check = (*Check)(nil)

// New returns a Check. It is an error when Address is not host:port or
// tcp://host:port.
func New(cfg Config) (*Check, error) {
	addr := cfg.Address
	if strings.Contains(addr, "://") {
		u, err := url.Parse(addr)
		if err != nil || u.Scheme != "tcp" || u.Port() == "" || (u.Path != "" && u.Path != "/") {
			return nil, fmt.Errorf("address: %q is not host:port or tcp://host:port", cfg.Address)
		}
		addr = u.Host
	}
	host, port, err := net.SplitHostPort(addr)
	if err != nil || host == "" || port == "" {
		return nil, fmt.Errorf("address: %q is not host:port or tcp://host:port", cfg.Address)
	}
	c := &Check{name: cfg.Name, addr: addr}
	if c.name == "" {
		c.name = shorten("TCP " + addr)
	}
	if cfg.TLS {
		c.tls = &tls.Config{ServerName: host, InsecureSkipVerify: cfg.InsecureSkipVerify}
	}
	return c, nil
}

// Name returns the check's name.
func (c *Check) Name() string { return c.name }

// Check connects, shakes hands when TLS is on, and closes.
func (c *Check) Check(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err // the runner reports it as a timeout or a cancellation
	}
	var d net.Dialer
	conn, err := d.DialContext(ctx, "tcp", c.addr)
	if err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if errors.Is(err, syscall.ECONNREFUSED) {
			// django-health-check's wording for a server that is down.
			return &healthjob.Error{Kind: healthjob.ErrUnavailable, Message: "Connection refused", Err: err}
		}
		var oe *net.OpError
		if errors.As(err, &oe) {
			err = oe.Err // oe's text repeats the address
		}
		return healthjob.Unavailable("%s: %v", c.addr, err)
	}
	defer conn.Close()
	if c.tls != nil {
		if err := tls.Client(conn, c.tls).HandshakeContext(ctx); err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			return healthjob.Unavailable("%s: %v", c.addr, err)
		}
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
