// Package cache checks a cache server as django-health-check's cache plugin
// does. Each run of the check
//
//  1. opens a connection to the server through its Backend, or takes the
//     one it kept from an earlier run (below);
//  2. sets a key of its own, djangohealthcheck_test:<uuid>, to "itworks" with
//     a time to live of 30 seconds, so that a key left behind expires;
//  3. gets the key back and compares the value;
//  4. deletes the key and closes the connection, or keeps it for the next
//     run.
//
// Its status texts:
//
//	working
//	unavailable: Cache key <key> does not match
//	unexpected result: Connection Error: <reason>
//	unexpected result: ValueError
//
// where <reason> is "connection refused", "timeout" or the server's or the
// network's own message, and ValueError is a Backend error that wraps
// ErrValue: the server refused the key or the value.
//
// With Config.ConnMaxAge above 0 (the monitor's conn_max_age, 60s unless
// set) the check keeps the connection its Backend opened between runs, for
// at most ConnMaxAge after it opened it: a run then costs its three round
// trips, where a new connection adds a client's set-up, a TCP connect and,
// for Redis, HELLO, AUTH and SELECT (and a TLS handshake for rediss://), for
// memcached a lookup of the servers' names. Once the connection is
// ConnMaxAge old the next run opens another, so a new connect (and login)
// is still proven at least that often. A run that fails on a kept
// connection (the server closed it: a restart, a killed client, the
// server's idle timeout) is tried again at once on a new one, so it reports
// what a new connection gets: working when the server is up, and otherwise
// the very texts above. A connection whose run failed is not kept. The
// trade-off: a login that starts to fail, or a name that moves to another
// address, goes unseen until the connection is replaced, and the check holds
// one of the server's connections (one per memcached server the keys went
// to). Close the check to release it. With ConnMaxAge 0 each run opens a
// connection and closes it before returning.
//
// The backends live in their own packages, so that a program compiles only
// the client library of the cache it uses: checks/cache/rediscache (Redis,
// go-redis) and checks/cache/memcached (memcached, gomemcache).
package cache

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"sync"
	"syscall"
	"time"

	"github.com/healthjob/healthjob"
)

// DefaultAlias is the alias of Config, as Django names its default cache.
const DefaultAlias = "default"

// The key prefix, value and time to live the check writes.
const (
	KeyPrefix = "djangohealthcheck_test"
	Value     = "itworks"
	TTL       = 30 * time.Second
)

// ErrValue is what a Backend wraps when the server refuses a key or a value,
// as Django's cache raises ValueError.
var ErrValue = errors.New("ValueError")

// Backend opens connections to a cache server.
type Backend interface {
	// Open returns a connection for one run of the check, or, with
	// Config.ConnMaxAge, for the runs of up to ConnMaxAge. It may connect
	// lazily: errors may come from the first operation instead.
	Open(ctx context.Context) (Conn, error)
}

// Conn is a connection to a cache server. Every method must return by ctx's
// deadline. A Conn kept between runs serves one run at a time, each with
// the run's own ctx.
type Conn interface {
	Set(ctx context.Context, key, value string, ttl time.Duration) error
	// Get returns "" and no error for a key that is not there.
	Get(ctx context.Context, key string) (string, error)
	// Delete removes a key; a key that is not there is no error.
	Delete(ctx context.Context, key string) error
	Close() error
}

// Config configures a Check.
type Config struct {
	Name    string  // the check's name; default "Cache backend: " + Alias
	Alias   string  // the cache's name in the check's name; default DefaultAlias
	Backend Backend // the cache server; required
	// ConnMaxAge is how long the check may keep a connection of its Backend
	// between runs: the first run after it is that old opens another. Close
	// the check to release it. 0 opens a connection for each run and closes
	// it before the run returns.
	ConnMaxAge time.Duration
}

func (c *Config) defaults() {
	if c.Alias == "" {
		c.Alias = DefaultAlias
	}
	if c.Name == "" {
		c.Name = "Cache backend: " + c.Alias
	}
}

// Check sets, gets and deletes a key in a cache.
type Check struct {
	name       string
	backend    Backend
	connMaxAge time.Duration

	mu   sync.Mutex
	kept *keptConn // the connection a run passed with, for the next; nil when none
}

// keptConn is a connection and when it was opened.
type keptConn struct {
	Conn
	opened time.Time
}

var (
	_ healthjob.Check = (*Check)(nil)
	_ io.Closer       = (*Check)(nil)
)

// New returns a Check, or an error when cfg has no Backend or a negative
// ConnMaxAge.
func New(cfg Config) (*Check, error) {
	cfg.defaults()
	switch {
	case cfg.Backend == nil:
		return nil, errors.New("cache: no backend")
	case cfg.ConnMaxAge < 0:
		return nil, fmt.Errorf("cache: ConnMaxAge must be 0 or more, got %s", cfg.ConnMaxAge)
	}
	return &Check{name: cfg.Name, backend: cfg.Backend, connMaxAge: cfg.ConnMaxAge}, nil
}

// Name returns the check's name.
func (c *Check) Name() string { return c.name }

// Check writes, reads back and deletes a key of its own.
func (c *Check) Check(ctx context.Context) (err error) {
	if err := ctx.Err(); err != nil {
		return err
	}
	key := KeyPrefix + ":" + healthjob.NewUUID()
	if c.connMaxAge == 0 {
		conn, err := c.backend.Open(ctx)
		if err != nil {
			return status(err)
		}
		defer func() {
			if cerr := conn.Close(); err == nil && cerr != nil {
				err = status(cerr)
			}
		}()
		return roundTrip(ctx, conn, key)
	}
	conn := c.take()
	kept := conn != nil
	if !kept {
		if conn, err = c.open(ctx); err != nil {
			return status(err)
		}
	}
	err = roundTrip(ctx, conn, key)
	if err != nil && kept && ctx.Err() == nil {
		// The server may have closed the kept connection (a restart, an
		// idle timeout): a new connection tells what it finds.
		conn.Close()
		if conn, err = c.open(ctx); err != nil {
			return status(err)
		}
		err = roundTrip(ctx, conn, key)
	}
	if err != nil {
		conn.Close() // a failed close says nothing more
		return err
	}
	c.keep(conn)
	return nil
}

// roundTrip sets key, gets it back, compares and deletes it.
func roundTrip(ctx context.Context, conn Conn, key string) error {
	if err := conn.Set(ctx, key, Value, TTL); err != nil {
		return status(err)
	}
	got, err := conn.Get(ctx, key)
	if err != nil {
		return status(err)
	}
	if got != Value {
		return healthjob.Unavailable("Cache key %s does not match", key)
	}
	if err := conn.Delete(ctx, key); err != nil {
		return status(err)
	}
	return nil
}

// Close closes the connection the check keeps between runs (ConnMaxAge); a
// later run would open another. Call it once no run is in progress.
func (c *Check) Close() error {
	c.mu.Lock()
	conn := c.kept
	c.kept = nil
	c.mu.Unlock()
	if conn == nil {
		return nil
	}
	return conn.Close()
}

// open opens a connection to keep.
func (c *Check) open(ctx context.Context) (*keptConn, error) {
	conn, err := c.backend.Open(ctx)
	if err != nil {
		return nil, err
	}
	return &keptConn{Conn: conn, opened: time.Now()}, nil
}

// take returns the kept connection, which the run then owns, or nil when
// there is none or it is ConnMaxAge old (then it is closed).
func (c *Check) take() *keptConn {
	c.mu.Lock()
	conn := c.kept
	c.kept = nil
	c.mu.Unlock()
	if conn != nil && time.Since(conn.opened) >= c.connMaxAge {
		conn.Close()
		return nil
	}
	return conn
}

// keep keeps the connection of a run that passed, unless a run at the same
// time kept its own.
func (c *Check) keep(conn *keptConn) {
	c.mu.Lock()
	if c.kept == nil {
		c.kept, conn = conn, nil
	}
	c.mu.Unlock()
	if conn != nil {
		conn.Close()
	}
}

// status renders a Backend's error as django-health-check's cache plugin does.
func status(err error) error {
	var nerr net.Error
	msg := "Connection Error: " + err.Error()
	switch {
	case errors.Is(err, context.Canceled):
		return err
	case errors.Is(err, ErrValue):
		msg = "ValueError"
	case errors.Is(err, syscall.ECONNREFUSED):
		msg = "Connection Error: connection refused"
	case errors.Is(err, context.DeadlineExceeded), errors.As(err, &nerr) && nerr.Timeout():
		msg = "Connection Error: timeout"
	}
	return &healthjob.Error{Kind: healthjob.ErrUnexpectedResult, Message: msg, Err: err}
}
