// Package redis checks a Redis server as django-health-check's redis plugin
// does. Each run of the check
//
//  1. connects to the server that Config.URL names: TLS for rediss://, AUTH
//     with the URL's user and password, SELECT of its database number;
//  2. sends PING and reads the reply;
//  3. closes the connection.
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
// (dial_timeout, read_timeout, protocol, …) are accepted too.
package redis

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"syscall"

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
}

func (c *Config) defaults() {
	if c.Name == "" {
		c.Name = DefaultName
	}
	if c.URL == "" {
		c.URL = DefaultURL
	}
}

// Check pings a Redis server. It opens a client for each run and closes it
// before returning, so nothing stays connected between runs.
type Check struct {
	name   string
	master string // the Sentinels' name of the master, "" without Sentinel
	client func() redis.UniversalClient
}

var _ healthjob.Check = (*Check)(nil)

// New returns a Check, or an error when the URL does not parse. The error
// never shows the URL's password.
func New(cfg Config) (*Check, error) {
	cfg.defaults()
	c := &Check{name: cfg.Name}
	u, err := url.Parse(cfg.URL)
	if err != nil {
		return nil, fmt.Errorf("url: %w", urlError(err))
	}
	// A health check reports what it finds: no retries that hide a refused
	// connection, and the run's context bounds every socket operation.
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
			return redis.NewClient(&o)
		}
	}
	return c, nil
}

// Name returns the check's name.
func (c *Check) Name() string { return c.name }

// Check connects, pings and disconnects.
func (c *Check) Check(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
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
