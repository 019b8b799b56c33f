package celery

import (
	"context"
	"errors"
	"time"
	"uuid"
)

// The names kombu gives the remote-control ("pidbox") objects of Celery's
// default control exchange namespace, "celery".
const (
	// PidboxExchange is the fanout exchange every worker's pidbox queue is
	// bound to: a request published there reaches all workers.
	PidboxExchange = "celery.pidbox"
	// ReplyExchange is the direct exchange workers publish their replies
	// to, with the routing key the request names.
	ReplyExchange = "reply.celery.pidbox"
)

// ReplyQueue names a client's reply queue from its routing key on
// ReplyExchange, as kombu names it.
func ReplyQueue(key string) string { return key + "." + ReplyExchange }

// NewID returns a random UUID, the form of Celery's task ids, tickets and
// Redis delivery tags.
func NewID() string { return uuid.NewV4().String() }

// ErrNoQueue is returned by Conn.Send when the broker knows that the queue
// does not exist.
var ErrNoQueue = errors.New("no such queue")

// Broker opens connections to a Celery broker. The packages
// checks/celery/amqp and checks/celery/redis implement it.
type Broker interface {
	// Open connects to the broker. ctx bounds the whole connection: when
	// it ends, any operation still waiting on the broker returns.
	Open(ctx context.Context) (Conn, error)
}

// Conn is one open connection to a broker. It owns a reply queue, named
// ReplyQueue(ReplyKey()), where both remote-control replies and rpc://
// task results arrive. A Conn is used by one goroutine at a time.
type Conn interface {
	// ReplyKey is the routing key of the connection's reply queue on
	// ReplyExchange.
	ReplyKey() string
	// Broadcast publishes a remote-control request to every worker's
	// pidbox (PidboxExchange) and routes the replies to the reply queue.
	// It returns how many workers the request reached, or -1 when the
	// broker cannot tell; 0 is always certain.
	Broadcast(ctx context.Context, m *Message) (reached int, err error)
	// Send publishes a task message to the named queue through the
	// anonymous exchange. It returns ErrNoQueue when the broker knows the
	// queue does not exist.
	Send(ctx context.Context, queue string, m *Message) error
	// Receive returns the next message on the reply queue, or ctx's error
	// when ctx ends first.
	Receive(ctx context.Context) (*Message, error)
	// Close closes the connection and removes what it created on the
	// broker: its reply queue and binding, and the task messages it sent
	// that no worker has taken.
	Close() error
}

// Message is a kombu message as both transports carry it. The content type
// is always application/json in UTF-8, and messages are persistent.
type Message struct {
	Headers       map[string]any // values: nil, bool, int64, float64, string or []any of those
	Body          []byte         // the JSON document the worker reads
	CorrelationID string
	ReplyTo       string
	Priority      uint8
	// TTL, when set, lets the broker drop the message once it has waited
	// that long undelivered (RabbitMQ's per-message expiration).
	TTL time.Duration
}

// Backend is the result backend the workers store task results in.
type Backend interface {
	// Watch starts watching the states of task id. It is called before
	// the task is sent, so that no state is missed. conn is the broker
	// connection the task is sent through.
	Watch(ctx context.Context, conn Conn, id string) (Watcher, error)
}

// Watcher receives the states a task goes through.
type Watcher interface {
	// Next returns the task's next state as the worker stored it: the
	// JSON document with "status" and "result". It returns ctx's error
	// when ctx ends first.
	Next(ctx context.Context) ([]byte, error)
	// Close stops watching and removes what watching created.
	Close() error
}

// RPC is the rpc:// result backend: workers send results back as messages to
// the reply queue the task names, on the connection that sent it.
type RPC struct{}

// Watch implements Backend.
func (RPC) Watch(_ context.Context, conn Conn, id string) (Watcher, error) {
	return rpcWatcher{conn: conn, id: id}, nil
}

type rpcWatcher struct {
	conn Conn
	id   string
}

func (w rpcWatcher) Next(ctx context.Context) ([]byte, error) {
	for {
		m, err := w.conn.Receive(ctx)
		if err != nil {
			return nil, err
		}
		if m.CorrelationID == w.id {
			return m.Body, nil
		}
	}
}

// Close does nothing: the reply queue goes with the connection.
func (rpcWatcher) Close() error { return nil }
