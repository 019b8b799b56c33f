// Package rediscache is the Redis backend of checks/cache, over go-redis:
// the check opens a client of one connection to the server of a
// redis://[[user]:password@]host[:port][/db] URL (rediss:// for TLS,
// unix:///path?db=N for a socket) for each run and closes it afterwards,
// or keeps it between runs (cache.Config.ConnMaxAge).
package rediscache

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"time"

	"github.com/healthjob/healthjob/checks/cache"
	"github.com/redis/go-redis/v9"
)

// Backend is a Redis server used as a cache.
type Backend struct {
	opt *redis.Options
}

var _ cache.Backend = (*Backend)(nil)

// New returns the Backend of a Redis URL, or an error when it does not
// parse. The error never shows the URL's password.
func New(rawURL string) (*Backend, error) {
	opt, err := redis.ParseURL(rawURL)
	if err != nil {
		var uerr *url.Error
		if errors.As(err, &uerr) {
			err = uerr.Err // it repeats the URL, password and all
		}
		return nil, fmt.Errorf("url: %w", err)
	}
	return &Backend{opt: opt}, nil
}

// Open returns a client of one connection, without retries, whose socket
// operations end at the deadline of each operation's context.
func (b *Backend) Open(context.Context) (cache.Conn, error) {
	o := *b.opt
	o.ContextTimeoutEnabled = true
	if o.MaxRetries == 0 {
		o.MaxRetries = -1
	}
	o.DialerRetries = 1
	o.PoolSize = 1
	return conn{redis.NewClient(&o)}, nil
}

type conn struct{ c *redis.Client }

func (c conn) Set(ctx context.Context, key, value string, ttl time.Duration) error {
	return c.c.Set(ctx, key, value, ttl).Err()
}

func (c conn) Get(ctx context.Context, key string) (string, error) {
	v, err := c.c.Get(ctx, key).Result()
	if errors.Is(err, redis.Nil) {
		return "", nil
	}
	return v, err
}

func (c conn) Delete(ctx context.Context, key string) error { return c.c.Del(ctx, key).Err() }
func (c conn) Close() error                                 { return c.c.Close() }
