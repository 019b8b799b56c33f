// Package cache checks a cache server as django-health-check's cache plugin
// does. Each run of the check
//
//  1. opens a connection to the server through its Backend;
//  2. sets a key of its own, djangohealthcheck_test:<uuid>, to "itworks" with
//     a time to live of 30 seconds, so that a key left behind expires;
//  3. gets the key back and compares the value;
//  4. deletes the key and closes the connection.
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
// The backends live in their own packages, so that a program compiles only
// the client library of the cache it uses: checks/cache/rediscache (Redis,
// go-redis) and checks/cache/memcached (memcached, gomemcache).
package cache

import (
	"context"
	"errors"
	"net"
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
	// Open returns a connection for one run of the check. It may connect
	// lazily: errors may come from the first operation instead.
	Open(ctx context.Context) (Conn, error)
}

// Conn is a connection to a cache server. Every method must return by ctx's
// deadline.
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
	name    string
	backend Backend
}

var _ healthjob.Check = (*Check)(nil)

// New returns a Check, or an error when cfg has no Backend.
func New(cfg Config) (*Check, error) {
	cfg.defaults()
	if cfg.Backend == nil {
		return nil, errors.New("cache: no backend")
	}
	return &Check{name: cfg.Name, backend: cfg.Backend}, nil
}

// Name returns the check's name.
func (c *Check) Name() string { return c.name }

// Check writes, reads back and deletes a key of its own.
func (c *Check) Check(ctx context.Context) (err error) {
	if err := ctx.Err(); err != nil {
		return err
	}
	conn, err := c.backend.Open(ctx)
	if err != nil {
		return status(err)
	}
	defer func() {
		if cerr := conn.Close(); err == nil && cerr != nil {
			err = status(cerr)
		}
	}()
	key := KeyPrefix + ":" + healthjob.NewUUID()
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
