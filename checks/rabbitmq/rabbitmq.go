// Package rabbitmq checks a RabbitMQ broker as django-health-check's rabbitmq
// plugin does. Each run of the check
//
//  1. connects to the broker that Config.URL names: TLS for amqps://, the
//     URL's user and password, its virtual host;
//  2. opens a channel and closes it;
//  3. closes the connection.
//
// Its status texts:
//
//	working
//	unavailable: Unable to connect to RabbitMQ: Connection was refused.
//	unavailable: Unable to connect to RabbitMQ: Authentication error.
//	unavailable: IOError: <reason>
//	unavailable: Unknown error
//
// where <reason> is the broker's reply (an unknown virtual host, a user
// without access to it), "timeout" for a broker that does not answer in
// time, or the network's message; "Unknown error" is a reply that is not
// AMQP. RabbitMQ answers a wrong password only after 3 seconds: with a
// shorter timeout, that reads "IOError: timeout".
//
// The URL is amqp://user:password@host:5672/vhost (amqps:// for TLS; an
// empty path or "//" is the virtual host "/", "/%2F" too). Celery's
// pyamqp:// and librabbitmq:// are read as amqp://.
package rabbitmq

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"strings"
	"syscall"

	"github.com/healthjob/healthjob"
	amqp "github.com/rabbitmq/amqp091-go"
)

// Defaults of Config.
const (
	DefaultName = "RabbitMQHealthCheck"
	DefaultURL  = "amqp://guest:guest@localhost:5672/" // kombu's default broker
)

// Config configures a Check.
type Config struct {
	Name string // the check's name; default DefaultName
	URL  string // the broker; default DefaultURL
}

func (c *Config) defaults() {
	if c.Name == "" {
		c.Name = DefaultName
	}
	if c.URL == "" {
		c.URL = DefaultURL
	}
}

// Check connects to a RabbitMQ broker and opens a channel.
type Check struct {
	name string
	url  string
}

var _ healthjob.Check = (*Check)(nil)

// New returns a Check, or an error when the URL does not parse. The error
// never shows the URL's password.
func New(cfg Config) (*Check, error) {
	cfg.defaults()
	raw := cfg.URL
	for _, alias := range []string{"pyamqp://", "librabbitmq://"} {
		if rest, ok := strings.CutPrefix(raw, alias); ok {
			raw = "amqp://" + rest
		}
	}
	if _, err := url.Parse(raw); err != nil {
		return nil, fmt.Errorf("url: %w", urlError(err))
	}
	if _, err := amqp.ParseURI(raw); err != nil {
		return nil, fmt.Errorf("url: %w", err)
	}
	return &Check{name: cfg.Name, url: raw}, nil
}

// Name returns the check's name.
func (c *Check) Name() string { return c.name }

// Check connects, opens a channel and closes both.
func (c *Check) Check(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	ctx, cancel := context.WithCancel(ctx) // its end closes the socket; see Dial
	defer cancel()
	cfg := amqp.Config{
		Dial: func(network, addr string) (net.Conn, error) {
			conn, err := new(net.Dialer).DialContext(ctx, network, addr)
			if err != nil {
				return nil, err
			}
			// amqp091 has no context: the socket closes at the deadline, which
			// ends whatever waits on it, and when Check returns, which ends
			// amqp091's goroutines after a failed handshake.
			context.AfterFunc(ctx, func() { conn.Close() })
			return conn, nil
		},
	}
	conn, err := amqp.DialConfig(c.url, cfg)
	if err != nil {
		return status(ctx, err)
	}
	ch, err := conn.Channel()
	if err == nil {
		err = ch.Close()
	}
	if cerr := conn.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return status(ctx, err)
	}
	return nil
}

// status renders err as django-health-check's rabbitmq plugin does.
func status(ctx context.Context, err error) error {
	var (
		reply *amqp.Error
		nerr  net.Error
	)
	switch {
	case errors.Is(ctx.Err(), context.Canceled):
		return ctx.Err()
	case errors.Is(err, syscall.ECONNREFUSED):
		return unavailable("Unable to connect to RabbitMQ: Connection was refused.", err)
	// The deadline closes the socket, and amqp091 may then blame anything.
	case ctx.Err() != nil, errors.As(err, &nerr) && nerr.Timeout():
		return unavailable("IOError: timeout", err)
	case errors.As(err, &reply) && (reply == amqp.ErrCredentials || reply == amqp.ErrSASL || reply.Server && reply.Code == amqp.AccessRefused):
		return unavailable("Unable to connect to RabbitMQ: Authentication error.", err)
	case errors.As(err, &reply) && (reply.Server || reply == amqp.ErrVhost || reply == amqp.ErrClosed):
		return unavailable("IOError: "+reply.Reason, err)
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return unavailable("IOError: connection closed by the broker", err)
	case errors.As(err, &nerr), isTLS(err):
		return unavailable("IOError: "+err.Error(), err)
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

// urlError drops the URL from a url.Parse error: it may hold a password.
func urlError(err error) error {
	var uerr *url.Error
	if errors.As(err, &uerr) {
		return uerr.Err
	}
	return err
}

func unavailable(msg string, cause error) error {
	return &healthjob.Error{Kind: healthjob.ErrUnavailable, Message: msg, Err: cause}
}
