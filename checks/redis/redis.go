// Package redis checks a Redis server as django-health-check's redis plugin
// does. Each run of the check
//
//  1. connects to the server that Config.URL names: TLS for rediss://, AUTH
//     with the URL's user and password, SELECT of its database number —
//     or takes the connection it kept from an earlier run (below);
//  2. sends PING and reads the reply;
//  3. closes the connection, or keeps it for the next run.
//
// Its status texts:
//
//	working
//	unavailable: Unable to connect to Redis: Connection was refused.
//	unavailable: Unable to connect to Redis: Timeout.
//	unavailable: Unable to connect to Redis: Connection Error: <reason>
//	unavailable: Unknown error
//
// where <reason> is the server's error reply (a wrong password, a database
// number out of range) or the network's (a TLS handshake, a dropped
// connection), and "Unknown error" is a reply that is not Redis's protocol.
//
// The URL forms are go-redis's:
//
//	redis://[[user]:password@]host[:port][/db]   rediss://… for TLS   unix:///path/to/redis.sock?db=1
//	redis://[:sentinel-password@]sentinel:26379[/db]?master_name=mymaster[&addr=sentinel2:26379][&password=master-password]
//	redis://[[user]:password@]node:7000?addr=node2:7000   with Config.Cluster, for a Redis Cluster
//
// A URL with master_name reaches the master through Redis Sentinel; the
// URL's host and each addr are Sentinels. Other go-redis query parameters
// (dial_timeout, read_timeout, protocol, client_name, …) are accepted too.
//
// With Config.ConnMaxAge above 0 (the monitor's conn_max_age, 60s unless
// set) the check keeps its client between runs, with at most one connection
// to the server: a run then costs one round trip, where a new client costs
// its own set-up, a TCP connect, a TLS handshake for rediss://, and HELLO,
// AUTH and SELECT, over ten times the CPU (BenchmarkCheck). The connection is
// replaced once it is ConnMaxAge old or has been idle that long, so a new
// connect and login are still proven at least that often. Through Sentinel
// the client also keeps a connection to a Sentinel and the subscription
// go-redis uses to follow a failover; with a Cluster it keeps one connection
// per node client go-redis made (a seed that the slot map names otherwise,
// as ":7000" for "127.0.0.1:7000", counts as one more). A run that fails on
// the kept client (the server closed the connection: a restart, CLIENT
// KILL, the server's idle timeout) is tried again at once with a new
// client, so it reports what a new client gets: working when the server is
// up, and otherwise the very texts above. A client whose run failed is not
// kept. The trade-off: a login that starts to fail (a changed password, an
// ACL user switched off) goes unseen until the connection is replaced, and
// the check holds one of the server's connections (maxclients). Close the
// check to release it. With ConnMaxAge 0 each run connects afresh and
// closes its connection before returning.
package redis

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"sync"
	"syscall"
	"time"

	"github.com/healthjob/healthjob"
	"github.com/redis/go-redis/v9"
)

// Defaults of Config.
const (
	DefaultName = "RedisHealthCheck"
	DefaultURL  = "redis://localhost:6379/1" // django-health-check's REDIS_URL
)

// Config configures a Check.
type Config struct {
	Name    string // the check's name; default DefaultName
	URL     string // the server; default DefaultURL
	Cluster bool   // URL names seed nodes of a Redis Cluster
	// ConnMaxAge is how long the check may keep its connection between
	// runs: it is replaced once it is that old, or has been idle that long.
	// It overrides the URL's pool options (pool_size, pipeline_pool_size,
	// min_idle_conns, conn_max_lifetime, conn_max_idle_time). Close the
	// check to release the connection. 0 connects for each run and
	// disconnects before the run returns.
	ConnMaxAge time.Duration
}

func (c *Config) defaults() {
	if c.Name == "" {
		c.Name = DefaultName
	}
	if c.URL == "" {
		c.URL = DefaultURL
	}
}

// Check pings a Redis server: see the package documentation.
type Check struct {
	name       string
	master     string // the Sentinels' name of the master, "" without Sentinel
	client     func() redis.UniversalClient
	connMaxAge time.Duration

	mu   sync.Mutex
	kept redis.UniversalClient // the client a run passed with, for the next; nil when none
}

var (
	_ healthjob.Check = (*Check)(nil)
	_ io.Closer       = (*Check)(nil)
)

// New returns a Check, or an error when the URL does not parse or
// ConnMaxAge is negative. The error never shows the URL's password.
func New(cfg Config) (*Check, error) {
	cfg.defaults()
	if cfg.ConnMaxAge < 0 {
		return nil, fmt.Errorf("redis: ConnMaxAge must be 0 or more, got %s", cfg.ConnMaxAge)
	}
	c := &Check{name: cfg.Name, connMaxAge: cfg.ConnMaxAge}
	age := cfg.ConnMaxAge
	u, err := url.Parse(cfg.URL)
	if err != nil {
		return nil, fmt.Errorf("url: %w", urlError(err))
	}
	// A health check reports what it finds: no retries that hide a refused
	// connection, and the run's context bounds every socket operation. A
	// client kept between runs (age > 0) holds one connection (per node)
	// for pipelines too, dials none ahead, and replaces one age old.
	switch {
	case cfg.Cluster:
		opt, err := redis.ParseClusterURL(cfg.URL)
		if err != nil {
			return nil, fmt.Errorf("url: %w", urlError(err))
		}
		c.client = func() redis.UniversalClient {
			o := *opt
			o.ContextTimeoutEnabled = true
			o.DialerRetries = max(o.DialerRetries, 1)
			if age > 0 {
				o.PoolSize, o.PipelinePoolSize, o.MinIdleConns, o.ConnMaxLifetime, o.ConnMaxIdleTime = 1, -1, 0, age, age
			}
			return redis.NewClusterClient(&o)
		}
	case u.Query().Has("master_name"):
		opt, err := redis.ParseFailoverURL(cfg.URL)
		if err != nil {
			return nil, fmt.Errorf("url: %w", urlError(err))
		}
		c.master = opt.MasterName
		c.client = func() redis.UniversalClient {
			o := *opt
			o.ContextTimeoutEnabled = true
			if o.MaxRetries == 0 {
				o.MaxRetries = -1
			}
			o.DialerRetries = max(o.DialerRetries, 1)
			if age > 0 {
				o.PoolSize, o.PipelinePoolSize, o.MinIdleConns, o.ConnMaxLifetime, o.ConnMaxIdleTime = 1, -1, 0, age, age
			}
			return redis.NewFailoverClient(&o)
		}
	default:
		opt, err := redis.ParseURL(cfg.URL)
		if err != nil {
			return nil, fmt.Errorf("url: %w", urlError(err))
		}
		c.client = func() redis.UniversalClient {
			o := *opt
			o.ContextTimeoutEnabled = true
			if o.MaxRetries == 0 {
				o.MaxRetries = -1
			}
			o.DialerRetries = 1
			o.PoolSize = 1
			if age > 0 {
				o.PipelinePoolSize, o.MinIdleConns, o.ConnMaxLifetime, o.ConnMaxIdleTime = -1, 0, age, age
			}
			return redis.NewClient(&o)
		}
	}
	return c, nil
}

// Name returns the check's name.
func (c *Check) Name() string { return c.name }

// Check pings the server, on the kept client when there is one.
func (c *Check) Check(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if c.connMaxAge == 0 {
		client := c.client()
		err := client.Ping(ctx).Err()
		if cerr := client.Close(); err == nil && cerr != nil {
			err = cerr
		}
		if err == nil {
			return nil
		}
		return c.status(err)
	}
	client, kept := c.take()
	err := client.Ping(ctx).Err()
	if err != nil && kept && ctx.Err() == nil {
		// The server may have closed the kept connection without go-redis
		// noticing before the PING (a TLS connection, a reset that comes
		// only in answer to a write): a new client tells what it finds.
		client.Close()
		client = c.client()
		err = client.Ping(ctx).Err()
	}
	if err != nil {
		// Not kept: after a failed dial go-redis answers from the error it
		// remembers until a dial of its own succeeds.
		client.Close()
		return c.status(err)
	}
	c.keep(client)
	return nil
}

// Close releases the client the check keeps between runs (ConnMaxAge), its
// connection and goroutines; a later run would make another. Call it once
// no run is in progress.
func (c *Check) Close() error {
	c.mu.Lock()
	client := c.kept
	c.kept = nil
	c.mu.Unlock()
	if client == nil {
		return nil
	}
	return client.Close()
}

// take returns the kept client, which the run then owns, or a new one.
func (c *Check) take() (client redis.UniversalClient, kept bool) {
	c.mu.Lock()
	client = c.kept
	c.kept = nil
	c.mu.Unlock()
	if client != nil {
		return client, true
	}
	return c.client(), false
}

// keep keeps the client of a run that passed, unless a run at the same time
// kept its own.
func (c *Check) keep(client redis.UniversalClient) {
	c.mu.Lock()
	if c.kept == nil {
		c.kept, client = client, nil
	}
	c.mu.Unlock()
	if client != nil {
		client.Close()
	}
}

// status renders err as django-health-check's redis plugin does.
func (c *Check) status(err error) error {
	var (
		reply redis.Error
		nerr  net.Error
	)
	switch {
	case errors.Is(err, context.Canceled):
		return err
	case errors.Is(err, syscall.ECONNREFUSED):
		return unavailable("Unable to connect to Redis: Connection was refused.", err)
	case errors.Is(err, context.DeadlineExceeded), errors.As(err, &nerr) && nerr.Timeout():
		return unavailable("Unable to connect to Redis: Timeout.", err)
	case c.master != "" && errors.Is(err, redis.Nil):
		return unavailable(fmt.Sprintf("Unable to connect to Redis: Connection Error: no Sentinel knows a master named %q", c.master), err)
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return unavailable("Unable to connect to Redis: Connection Error: connection closed by the server", err)
	case errors.As(err, &reply), errors.As(err, &nerr), isTLS(err):
		return unavailable("Unable to connect to Redis: Connection Error: "+err.Error(), err)
	}
	return unavailable("Unknown error", err)
}

// isTLS tells whether err comes from a TLS handshake.
func isTLS(err error) bool {
	var (
		header tls.RecordHeaderError
		alert  tls.AlertError
		verify *tls.CertificateVerificationError
	)
	return errors.As(err, &header) || errors.As(err, &alert) || errors.As(err, &verify)
}

func unavailable(msg string, cause error) error {
	return &healthjob.Error{Kind: healthjob.ErrUnavailable, Message: msg, Err: cause}
}

// urlError drops the URL from a url.Parse error: it may hold a password.
func urlError(err error) error {
	var uerr *url.Error
	if errors.As(err, &uerr) {
		return uerr.Err
	}
	return err
}
