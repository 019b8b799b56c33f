// Package kafka checks a Kafka cluster. Each run of the check
//
//  1. connects to a broker of Config.URL or Config.Brokers (SASL/PLAIN with
//     the URL's user and password);
//  2. asks for the cluster's metadata, and, when Config.Topic is set, the
//     topic's, which must exist;
//  3. closes its connections.
//
// Its status texts:
//
//	working
//	unavailable: Unable to connect to Kafka: <reason>
//	unavailable: Kafka topic <topic> does not exist
//
// where <reason> is "connection refused", "timeout", "connection closed by
// the broker" or the broker's or the network's message (a failed SASL
// authentication, an unknown host, …).
//
// The URL is kafka://[user:password@]host:9092[,host2:9092…].
package kafka

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"strconv"
	"strings"
	"syscall"

	"github.com/healthjob/healthjob"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/sasl/plain"
)

// Defaults of Config.
const (
	DefaultName = "KafkaHealthCheck"
	DefaultURL  = "kafka://localhost:9092"
)

// Config configures a Check. URL and Brokers name the same thing; set one.
type Config struct {
	Name    string   // the check's name; default DefaultName
	URL     string   // the brokers; default DefaultURL unless Brokers are set
	Brokers []string // the brokers as host:port
	Topic   string   // a topic that must exist; "" checks the cluster only
}

func (c *Config) defaults() {
	if c.Name == "" {
		c.Name = DefaultName
	}
	if c.URL == "" && len(c.Brokers) == 0 {
		c.URL = DefaultURL
	}
}

// Check asks a Kafka cluster for its metadata.
type Check struct {
	name  string
	topic string
	opts  []kgo.Opt
}

var _ healthjob.Check = (*Check)(nil)

// New returns a Check, or an error when the URL or a broker does not parse.
// The error never shows the URL's password.
func New(cfg Config) (*Check, error) {
	cfg.defaults()
	c := &Check{name: cfg.Name, topic: cfg.Topic}
	brokers := cfg.Brokers
	if cfg.URL != "" {
		if len(cfg.Brokers) > 0 {
			return nil, errors.New("url and brokers both name the brokers; set one")
		}
		u, err := url.Parse(cfg.URL)
		if err != nil {
			return nil, fmt.Errorf("url: %w", urlError(err))
		}
		if u.Scheme != "kafka" || u.Host == "" || (u.Path != "" && u.Path != "/") || u.RawQuery != "" {
			return nil, errors.New("url: want kafka://[user:password@]host:9092[,host2:9092…]")
		}
		if u.User != nil {
			password, _ := u.User.Password()
			c.opts = append(c.opts, kgo.SASL(plain.Auth{User: u.User.Username(), Pass: password}.AsMechanism()))
		}
		brokers = strings.Split(u.Host, ",")
	}
	for _, b := range brokers {
		host, port, err := net.SplitHostPort(b)
		if _, perr := strconv.ParseUint(port, 10, 16); err != nil || perr != nil || host == "" {
			return nil, fmt.Errorf("broker %q: want host:port", b)
		}
	}
	c.opts = append(c.opts, kgo.SeedBrokers(brokers...))
	return c, nil
}

// Name returns the check's name.
func (c *Check) Name() string { return c.name }

// Check asks for the metadata and closes the client.
func (c *Check) Check(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	client, err := kgo.NewClient(c.opts...)
	if err != nil {
		return unavailable("Unable to connect to Kafka: "+err.Error(), err)
	}
	defer client.Close()
	admin := kadm.NewClient(client)
	if c.topic == "" {
		if _, err := admin.BrokerMetadata(ctx); err != nil {
			return status(ctx, err)
		}
		return nil
	}
	md, err := admin.Metadata(ctx, c.topic)
	if err != nil {
		return status(ctx, err)
	}
	if err := md.Topics[c.topic].Err; errors.Is(err, kerr.UnknownTopicOrPartition) {
		return unavailable("Kafka topic "+c.topic+" does not exist", err)
	} else if err != nil {
		return status(ctx, err)
	}
	return nil
}

func status(ctx context.Context, err error) error {
	var nerr net.Error
	reason := err.Error()
	switch {
	case errors.Is(ctx.Err(), context.Canceled):
		return ctx.Err()
	case errors.Is(err, syscall.ECONNREFUSED):
		reason = "connection refused"
	case errors.Is(err, context.DeadlineExceeded), errors.As(err, &nerr) && nerr.Timeout():
		reason = "timeout"
	case errors.Is(err, io.EOF) && !errors.As(err, new(*kgo.ErrFirstReadEOF)): // that one says why
		reason = "connection closed by the broker"
	}
	return unavailable("Unable to connect to Kafka: "+reason, err)
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
