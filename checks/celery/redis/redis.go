// Package redis is the Redis transport of the Celery checks (package
// checks/celery), on go-redis, and the redis:// result backend. It lays
// messages out as kombu's virtual transport does:
//
//   - Every message is a JSON envelope {"body" (base64), "content-type",
//     "content-encoding", "headers", "properties"}, and its properties carry a
//     "delivery_tag": a worker that gets a message without one exits.
//   - Broadcast adds this connection's reply queue to the set
//     _kombu.binding.reply.celery.pidbox (workers route their replies by
//     it) and PUBLISHes the request on the channel "/<db>.celery.pidbox",
//     which every worker subscribes to; PUBLISH tells how many workers it
//     reached.
//   - Send LPUSHes the task onto the list named by the queue, or
//     "<queue>\x06\x16<step>" for a priority step of 3, 6 or 9.
//   - Receive BRPOPs the reply queue's lists, with a decimal timeout
//     (Redis 6 or later).
//   - Close removes the binding and the reply lists, and takes back the task
//     messages it sent that are still queued.
//
// A key prefix (kombu's global_keyprefix transport option) goes before every
// key and channel name.
package redis

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/healthjob/healthjob/checks/celery"
	goredis "github.com/redis/go-redis/v9"
)

// sep separates the parts of kombu's binding entries and priority list names.
const sep = "\x06\x16"

// priorityLists are the suffixes of a queue's lists, for kombu's priority
// steps 0, 3, 6 and 9.
var priorityLists = []string{"", sep + "3", sep + "6", sep + "9"}

// Config configures a Broker.
type Config struct {
	// URL is the broker URL as Celery takes it:
	// redis://[user:password@]host:6379/db (rediss:// for TLS).
	URL string
	// KeyPrefix is kombu's global_keyprefix transport option, if the
	// workers set it.
	KeyPrefix string
}

// Broker connects to a Redis broker.
type Broker struct {
	opts   *goredis.Options
	prefix string
}

var _ celery.Broker = (*Broker)(nil)

// New returns a Broker, or an error when the URL is not a Redis URL. Errors
// never show the password.
func New(cfg Config) (*Broker, error) {
	opts, err := parseURL(cfg.URL, "broker")
	if err != nil {
		return nil, err
	}
	return &Broker{opts: opts, prefix: cfg.KeyPrefix}, nil
}

func parseURL(raw, what string) (*goredis.Options, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return nil, fmt.Errorf("%s URL is not a valid URL", what)
	}
	if u.Scheme != "redis" && u.Scheme != "rediss" {
		return nil, fmt.Errorf("%s URL %q: want redis:// or rediss://", what, redacted(u))
	}
	opts, err := goredis.ParseURL(raw)
	if err != nil {
		return nil, fmt.Errorf("%s URL %q: %v", what, redacted(u), err)
	}
	// Fail fast and honour the check's deadline: one dial, no retries, the
	// context's deadline on every read.
	opts.DialerRetries = 1
	opts.MaxRetries = -1
	opts.ContextTimeoutEnabled = true
	opts.PoolSize = 1
	opts.DisableIdentity = true
	return opts, nil
}

// Open implements celery.Broker.
func (b *Broker) Open(ctx context.Context) (celery.Conn, error) {
	rdb, err := dial(ctx, b.opts)
	if err != nil {
		return nil, err
	}
	return &conn{rdb: rdb, db: b.opts.DB, prefix: b.prefix, key: celery.NewID()}, nil
}

// dial connects at once (go-redis would connect lazily), so that a server
// that is down or refuses the login is reported here.
func dial(ctx context.Context, opts *goredis.Options) (*goredis.Client, error) {
	rdb := goredis.NewClient(opts)
	if err := rdb.Ping(ctx).Err(); err != nil {
		rdb.Close()
		return nil, err
	}
	return rdb, nil
}

type conn struct {
	rdb    *goredis.Client
	db     int
	prefix string
	key    string
	bound  bool
	sent   []sent
}

// sent is a task message this connection pushed, to take back at Close.
type sent struct {
	list     string
	envelope []byte
}

func (c *conn) ReplyKey() string { return c.key }

func (c *conn) binding() (set, member string) {
	queue := celery.ReplyQueue(c.key)
	return c.prefix + "_kombu.binding." + celery.ReplyExchange, c.key + sep + sep + queue
}

func (c *conn) Broadcast(ctx context.Context, m *celery.Message) (int, error) {
	if !c.bound {
		set, member := c.binding()
		if err := c.rdb.SAdd(ctx, set, member).Err(); err != nil {
			return 0, err
		}
		c.bound = true
	}
	env, err := envelope(m, celery.PidboxExchange, "")
	if err != nil {
		return 0, err
	}
	// Pub/sub ignores SELECT, so kombu puts the database in the channel name.
	channel := c.prefix + "/" + strconv.Itoa(c.db) + "." + celery.PidboxExchange
	n, err := c.rdb.Publish(ctx, channel, env).Result()
	return int(n), err
}

func (c *conn) Send(ctx context.Context, queue string, m *celery.Message) error {
	env, err := envelope(m, "", queue)
	if err != nil {
		return err
	}
	list := c.prefix + queue + priorityLists[min(m.Priority, 9)/3]
	if err := c.rdb.LPush(ctx, list, env).Err(); err != nil {
		return err
	}
	c.sent = append(c.sent, sent{list: list, envelope: env})
	return nil
}

// maxBlock bounds one BRPOP, well under go-redis's read timeout.
const maxBlock = time.Second

func (c *conn) Receive(ctx context.Context) (*celery.Message, error) {
	args := []any{"BRPOP"}
	for _, suffix := range priorityLists {
		args = append(args, c.prefix+celery.ReplyQueue(c.key)+suffix)
	}
	for {
		block := maxBlock
		if deadline, ok := ctx.Deadline(); ok {
			block = min(block, time.Until(deadline))
		}
		if block < time.Millisecond {
			<-ctx.Done()
			return nil, ctx.Err()
		}
		// Seconds as a decimal: go-redis's BRPop rounds up to whole
		// seconds, and 0 would block forever. The server ends a block on
		// its 100 ms tick, so ctx's deadline (go-redis's read deadline)
		// usually ends the last one, on time.
		v, err := c.rdb.Do(ctx, append(args, strconv.FormatFloat(block.Seconds(), 'f', 3, 64))...).StringSlice()
		switch {
		case errors.Is(err, goredis.Nil):
			continue
		case err != nil && ctx.Err() == nil && !pastDeadline(ctx):
			return nil, err
		case err != nil:
			<-ctx.Done()
			return nil, ctx.Err()
		case len(v) != 2:
			return nil, fmt.Errorf("BRPOP returned %d values, want 2", len(v))
		}
		return parseEnvelope([]byte(v[1]))
	}
}

func pastDeadline(ctx context.Context) bool {
	deadline, ok := ctx.Deadline()
	return ok && !time.Now().Before(deadline)
}

// Close removes the binding, the reply lists and the task messages no
// worker has taken, and closes the connection.
func (c *conn) Close() error {
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	pipe := c.rdb.TxPipeline()
	if c.bound {
		set, member := c.binding()
		pipe.SRem(ctx, set, member)
	}
	var lists []string
	for _, suffix := range priorityLists {
		lists = append(lists, c.prefix+celery.ReplyQueue(c.key)+suffix)
	}
	pipe.Del(ctx, lists...)
	for _, s := range c.sent {
		pipe.LRem(ctx, s.list, 1, s.envelope)
	}
	_, err := pipe.Exec(ctx)
	return errors.Join(err, c.rdb.Close())
}

// wire is kombu's envelope of a message in Redis.
type wire struct {
	Body            string         `json:"body"`
	ContentEncoding string         `json:"content-encoding"`
	ContentType     string         `json:"content-type"`
	Headers         map[string]any `json:"headers"`
	Properties      properties     `json:"properties"`
}

type properties struct {
	CorrelationID string       `json:"correlation_id,omitempty"`
	ReplyTo       string       `json:"reply_to,omitempty"`
	DeliveryMode  int          `json:"delivery_mode"`
	DeliveryInfo  deliveryInfo `json:"delivery_info"`
	Priority      uint8        `json:"priority"`
	BodyEncoding  string       `json:"body_encoding"`
	DeliveryTag   string       `json:"delivery_tag"`
}

type deliveryInfo struct {
	Exchange   string `json:"exchange"`
	RoutingKey string `json:"routing_key"`
}

func envelope(m *celery.Message, exchange, key string) ([]byte, error) {
	headers := m.Headers
	if headers == nil {
		headers = map[string]any{}
	}
	return json.Marshal(wire{
		Body:            base64.StdEncoding.EncodeToString(m.Body),
		ContentEncoding: "utf-8",
		ContentType:     "application/json",
		Headers:         headers,
		Properties: properties{
			CorrelationID: m.CorrelationID,
			ReplyTo:       m.ReplyTo,
			DeliveryMode:  2,
			DeliveryInfo:  deliveryInfo{Exchange: exchange, RoutingKey: key},
			Priority:      m.Priority,
			BodyEncoding:  "base64",
			DeliveryTag:   celery.NewID(),
		},
	})
}

func parseEnvelope(data []byte) (*celery.Message, error) {
	var w wire
	if err := json.Unmarshal(data, &w); err != nil {
		return nil, fmt.Errorf("read message: %w", err)
	}
	body := []byte(w.Body)
	if w.Properties.BodyEncoding == "base64" {
		var err error
		if body, err = base64.StdEncoding.DecodeString(w.Body); err != nil {
			return nil, fmt.Errorf("read message body: %w", err)
		}
	}
	return &celery.Message{
		Headers:       w.Headers,
		Body:          body,
		CorrelationID: w.Properties.CorrelationID,
		ReplyTo:       w.Properties.ReplyTo,
		Priority:      w.Properties.Priority,
	}, nil
}

// Backend is the redis:// result backend: workers SETEX each state of a task
// at celery-task-meta-<id> and PUBLISH it on the channel of that name.
type Backend struct {
	opts *goredis.Options
}

var _ celery.Backend = (*Backend)(nil)

// NewBackend returns the result backend at url,
// redis://[user:password@]host:6379/db (rediss:// for TLS). Errors never show
// the password.
func NewBackend(url string) (*Backend, error) {
	opts, err := parseURL(url, "result backend")
	if err != nil {
		return nil, err
	}
	return &Backend{opts: opts}, nil
}

// Watch subscribes to the task's channel, as Celery's client does before it
// reads the key, so that a state stored in between is not missed.
func (b *Backend) Watch(ctx context.Context, _ celery.Conn, id string) (celery.Watcher, error) {
	rdb, err := dial(ctx, b.opts)
	if err != nil {
		return nil, err
	}
	key := "celery-task-meta-" + id
	ps := rdb.Subscribe(ctx, key)
	if _, err := ps.Receive(ctx); err != nil { // the confirmation
		return nil, errors.Join(err, ps.Close(), rdb.Close())
	}
	return &watcher{rdb: rdb, ps: ps, key: key}, nil
}

type watcher struct {
	rdb    *goredis.Client
	ps     *goredis.PubSub
	key    string
	polled bool
}

// Next returns the stored state first, then each one published.
func (w *watcher) Next(ctx context.Context) ([]byte, error) {
	if !w.polled {
		w.polled = true
		data, err := w.rdb.Get(ctx, w.key).Bytes()
		if !errors.Is(err, goredis.Nil) {
			return data, err
		}
	}
	msg, err := w.ps.ReceiveMessage(ctx)
	if err != nil {
		if ctx.Err() != nil || pastDeadline(ctx) {
			<-ctx.Done()
			return nil, ctx.Err()
		}
		return nil, err
	}
	return []byte(msg.Payload), nil
}

// Close deletes the task's result, which nobody else reads, and closes the
// connections.
func (w *watcher) Close() error {
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	return errors.Join(w.rdb.Del(ctx, w.key).Err(), w.ps.Close(), w.rdb.Close())
}

// redacted renders u with its password masked, as healthjob masks them.
func redacted(u *url.URL) string { return strings.Replace(u.Redacted(), ":xxxxx@", ":*****@", 1) }
