// Package amqp is the RabbitMQ transport of the Celery checks (package
// checks/celery), on amqp091-go. It speaks to the workers as kombu's
// py-amqp transport does:
//
//   - A connection declares one exclusive reply queue, named by
//     celery.ReplyQueue, which RabbitMQ deletes with the connection.
//   - Broadcast checks that the fanout exchange celery.pidbox exists (it
//     does once a worker ran), declares reply.celery.pidbox with kombu's
//     flags unless it exists, binds the reply queue to it and publishes the
//     request as mandatory: a request RabbitMQ returns reached no worker.
//   - Send publishes to the anonymous exchange as mandatory, so a queue
//     that does not exist is reported instead of the message being
//     dropped; it declares nothing. The message expires after its TTL.
//   - Every publish waits for the broker's confirm.
package amqp

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/healthjob/healthjob/checks/celery"
	amqp091 "github.com/rabbitmq/amqp091-go"
)

// Config configures a Broker.
type Config struct {
	// URL is the broker URL as Celery takes it:
	// amqp://user:password@host:5672/vhost (amqps:// for TLS; pyamqp:// is
	// read as amqp://). As in Celery, the host defaults to localhost, the
	// login to guest:guest and the vhost to "/" (amqp://host// or amqp://host).
	URL string
}

// Broker connects to RabbitMQ.
type Broker struct {
	url string
}

var _ celery.Broker = (*Broker)(nil)

// New returns a Broker, or an error when the URL is not an AMQP URL. Errors
// never show the password.
func New(cfg Config) (*Broker, error) {
	u, err := url.Parse(cfg.URL)
	if err != nil {
		return nil, errors.New("broker URL is not a valid URL")
	}
	switch u.Scheme {
	case "amqp", "amqps":
	case "pyamqp":
		u.Scheme = "amqp"
	default:
		return nil, fmt.Errorf("broker URL %q: want amqp:// or amqps://", redacted(u))
	}
	if _, err := amqp091.ParseURI(u.String()); err != nil {
		return nil, fmt.Errorf("broker URL %q: %v", redacted(u), err)
	}
	return &Broker{url: u.String()}, nil
}

// Open implements celery.Broker.
func (b *Broker) Open(ctx context.Context) (celery.Conn, error) {
	c := &conn{key: celery.NewID()}
	var nc net.Conn
	cfg := amqp091.Config{
		Properties: amqp091.Table{"connection_name": "healthjob celery check"},
		Dial: func(network, addr string) (net.Conn, error) {
			var err error
			if nc, err = (&net.Dialer{}).DialContext(ctx, network, addr); err != nil {
				return nil, err
			}
			// amqp091 has no context: cutting the socket when ctx ends
			// unblocks any call waiting on the broker, and the deadline
			// bounds the handshake (amqp091 clears it after).
			c.stop = context.AfterFunc(ctx, func() { nc.Close() })
			if deadline, ok := ctx.Deadline(); ok {
				if err := nc.SetDeadline(deadline); err != nil {
					return nil, err
				}
			}
			return nc, nil
		},
	}
	var err error
	if c.conn, err = amqp091.DialConfig(b.url, cfg); err != nil {
		if nc != nil {
			c.stop()
			nc.Close()
		}
		return nil, reason(err)
	}
	if err := c.open(); err != nil {
		c.Close()
		return nil, reason(err)
	}
	return c, nil
}

type conn struct {
	conn       *amqp091.Connection
	ch         *amqp091.Channel
	returns    chan amqp091.Return
	deliveries <-chan amqp091.Delivery
	key        string
	bound      bool
	stop       func() bool // stops cutting the socket when ctx ends
}

func (c *conn) open() (err error) {
	if c.ch, err = c.conn.Channel(); err != nil {
		return err
	}
	if err := c.ch.Confirm(false); err != nil {
		return err
	}
	// Buffered: the channel's reader blocks until a return is taken,
	// and each publish takes its own before the next.
	c.returns = c.ch.NotifyReturn(make(chan amqp091.Return, 1))
	queue := celery.ReplyQueue(c.key)
	if _, err := c.ch.QueueDeclare(queue, false, true, true, false, nil); err != nil {
		return err
	}
	c.deliveries, err = c.ch.Consume(queue, "", true, true, false, false, nil)
	return err
}

func (c *conn) ReplyKey() string { return c.key }

func (c *conn) Broadcast(ctx context.Context, m *celery.Message) (int, error) {
	if ok, err := c.exists(celery.PidboxExchange, "fanout"); err != nil || !ok {
		return 0, err // no such exchange: no worker ever ran here
	}
	if !c.bound {
		ok, err := c.exists(celery.ReplyExchange, "direct")
		if err != nil {
			return 0, err
		}
		// Declare it only when missing, with kombu's flags: other flags
		// would fail with 406.
		if !ok {
			if err := c.ch.ExchangeDeclare(celery.ReplyExchange, "direct", false, false, false, false, nil); err != nil {
				return 0, reason(err)
			}
		}
		if err := c.ch.QueueBind(celery.ReplyQueue(c.key), c.key, celery.ReplyExchange, false, nil); err != nil {
			return 0, reason(err)
		}
		c.bound = true
	}
	routed, err := c.publish(ctx, celery.PidboxExchange, "", m)
	if err != nil || !routed {
		return 0, err
	}
	return -1, nil // RabbitMQ does not say how many queues it routed to
}

// exists tells whether an exchange exists, on a channel of its own, as the
// answer "no" closes the channel.
func (c *conn) exists(exchange, kind string) (bool, error) {
	ch, err := c.conn.Channel()
	if err != nil {
		return false, reason(err)
	}
	err = ch.ExchangeDeclarePassive(exchange, kind, false, false, false, false, nil)
	var amqpErr *amqp091.Error
	if errors.As(err, &amqpErr) && amqpErr.Code == amqp091.NotFound {
		return false, nil
	}
	if err != nil {
		return false, reason(err)
	}
	return true, reason(ch.Close())
}

func (c *conn) Send(ctx context.Context, queue string, m *celery.Message) error {
	routed, err := c.publish(ctx, "", queue, m)
	if err == nil && !routed {
		return celery.ErrNoQueue
	}
	return err
}

// publish publishes m as mandatory and waits for the broker's confirm. It
// reports whether the message reached a queue.
func (c *conn) publish(ctx context.Context, exchange, key string, m *celery.Message) (routed bool, err error) {
	msg := amqp091.Publishing{
		Headers:         amqp091.Table(m.Headers),
		ContentType:     "application/json",
		ContentEncoding: "utf-8",
		DeliveryMode:    amqp091.Persistent,
		Priority:        m.Priority,
		CorrelationId:   m.CorrelationID,
		ReplyTo:         m.ReplyTo,
		Body:            m.Body,
	}
	if m.TTL > 0 {
		msg.Expiration = strconv.FormatInt(max(m.TTL.Milliseconds(), 1), 10)
	}
	confirm, err := c.ch.PublishWithDeferredConfirmWithContext(ctx, exchange, key, true, false, msg)
	if err != nil {
		return false, reason(err)
	}
	acked, err := confirm.WaitContext(ctx)
	if err != nil {
		return false, err
	}
	if !acked {
		return false, errors.New("broker refused the message")
	}
	// A return comes before the confirm.
	select {
	case _, ok := <-c.returns:
		if !ok {
			return false, errors.New("broker closed the channel")
		}
		return false, nil
	default:
		return true, nil
	}
}

func (c *conn) Receive(ctx context.Context) (*celery.Message, error) {
	select {
	case <-ctx.Done():
		return nil, ctx.Err()
	case d, ok := <-c.deliveries:
		if !ok {
			return nil, errors.New("broker closed the connection")
		}
		return &celery.Message{
			Headers:       d.Headers,
			Body:          d.Body,
			CorrelationID: d.CorrelationId,
			ReplyTo:       d.ReplyTo,
			Priority:      d.Priority,
		}, nil
	}
}

// Close closes the connection; RabbitMQ deletes the exclusive reply queue
// and its binding with it.
func (c *conn) Close() error {
	c.stop()
	return reason(c.conn.CloseDeadline(time.Now().Add(time.Second)))
}

// reason makes amqp091's errors read as an operator's message:
// "username or password not allowed (AMQP 403)".
func reason(err error) error {
	var amqpErr *amqp091.Error
	if errors.As(err, &amqpErr) {
		return fmt.Errorf("%s (AMQP %d)", strings.TrimSpace(amqpErr.Reason), amqpErr.Code)
	}
	return err
}

// redacted renders u with its password masked, as healthjob masks them.
func redacted(u *url.URL) string { return strings.Replace(u.Redacted(), ":xxxxx@", ":*****@", 1) }
