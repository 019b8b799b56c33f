// Package nats checks a NATS server. Each run of the check
//
//  1. connects to a server of Config.URL (TLS for tls://, the URL's user and
//     password or token), without reconnecting;
//  2. flushes a PING to the server and waits for its PONG;
//  3. closes the connection.
//
// Its status texts:
//
//	working
//	unavailable: Unable to connect to NATS: <reason>
//	unavailable: NATS round trip failed: <reason>
//
// where <reason> is "connection refused", "timeout" or the server's or the
// network's message (nats: Authorization Violation, …).
//
// The URL is nats://[user:password@]host:4222 (tls:// for TLS, ws:// and
// wss:// for websocket); a comma-separated list names several servers of a
// cluster, tried in random order.
package nats

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"strings"
	"syscall"
	"time"

	"github.com/healthjob/healthjob"
	"github.com/nats-io/nats.go"
)

// Defaults of Config.
const (
	DefaultName = "NATSHealthCheck"
	DefaultURL  = nats.DefaultURL // nats://127.0.0.1:4222
)

// Config configures a Check.
type Config struct {
	Name string // the check's name; default DefaultName
	URL  string // the servers; default DefaultURL
}

func (c *Config) defaults() {
	if c.Name == "" {
		c.Name = DefaultName
	}
	if c.URL == "" {
		c.URL = DefaultURL
	}
}

// Check connects to a NATS server and waits for a round trip.
type Check struct {
	name string
	url  string
}

var _ healthjob.Check = (*Check)(nil)

// New returns a Check, or an error when the URL does not parse. The error
// never shows the URL's password.
func New(cfg Config) (*Check, error) {
	cfg.defaults()
	for _, s := range strings.Split(cfg.URL, ",") {
		s = strings.TrimSpace(s)
		if !strings.Contains(s, "://") {
			s = "nats://" + s // as nats.go reads a bare host:port
		}
		u, err := url.Parse(s)
		if err != nil {
			return nil, fmt.Errorf("url: %w", urlError(err))
		}
		switch {
		case u.Scheme != "nats" && u.Scheme != "tls" && u.Scheme != "ws" && u.Scheme != "wss":
			return nil, fmt.Errorf("url: unknown scheme %q; want nats://, tls://, ws:// or wss://", u.Scheme)
		case u.Host == "":
			return nil, errors.New("url: want nats://host:4222")
		}
	}
	return &Check{name: cfg.Name, url: cfg.URL}, nil
}

// Name returns the check's name.
func (c *Check) Name() string { return c.name }

// Check connects, flushes and disconnects.
func (c *Check) Check(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	ctx, cancel := withDeadline(ctx)
	defer cancel()
	deadline, _ := ctx.Deadline()
	d := &dialer{ctx: ctx}
	nc, err := nats.Connect(c.url,
		nats.Name("healthjob "+c.name),
		nats.NoReconnect(),
		nats.Timeout(time.Until(deadline)),
		nats.SetCustomDialer(d),
		nats.SkipHostLookup(), // the dialer resolves names, within ctx
		nats.NoCallbacksAfterClientClose(),
	)
	if err != nil {
		if errors.Is(err, nats.ErrNoServers) && d.err != nil {
			err = d.err // nats.go hides a refused connection behind ErrNoServers
		}
		return status(ctx, "Unable to connect to NATS: ", err)
	}
	defer nc.Close()
	if err := nc.FlushWithContext(ctx); err != nil {
		return status(ctx, "NATS round trip failed: ", err)
	}
	return nil
}

// dialer dials within ctx, closes the connection when ctx ends (nats.go's
// handshake has no context), and keeps the last error.
type dialer struct {
	ctx context.Context
	err error
}

func (d *dialer) Dial(network, addr string) (net.Conn, error) {
	conn, err := new(net.Dialer).DialContext(d.ctx, network, addr)
	if err != nil {
		d.err = err
		return nil, err
	}
	context.AfterFunc(d.ctx, func() { conn.Close() })
	return conn, nil
}

func status(ctx context.Context, prefix string, err error) error {
	var nerr net.Error
	reason := err.Error()
	switch {
	case errors.Is(ctx.Err(), context.Canceled):
		return ctx.Err()
	case errors.Is(err, syscall.ECONNREFUSED):
		reason = "connection refused"
	// The deadline closes the socket, and nats.go may then blame anything.
	case ctx.Err() != nil, errors.Is(err, nats.ErrTimeout), errors.As(err, &nerr) && nerr.Timeout():
		reason = "timeout"
	}
	return &healthjob.Error{Kind: healthjob.ErrUnavailable, Message: prefix + reason, Err: err}
}

// urlError drops the URL from a url.Parse error: it may hold a password.
func urlError(err error) error {
	var uerr *url.Error
	if errors.As(err, &uerr) {
		return uerr.Err
	}
	return err
}

// withDeadline gives a ctx without a deadline healthjob.DefaultTimeout:
// nats.go needs one. Its cancel ends the socket's AfterFunc.
func withDeadline(ctx context.Context) (context.Context, context.CancelFunc) {
	if _, ok := ctx.Deadline(); ok {
		return context.WithCancel(ctx)
	}
	return context.WithTimeout(ctx, healthjob.DefaultTimeout)
}
