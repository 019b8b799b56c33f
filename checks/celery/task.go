package celery

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/healthjob/healthjob"
)

// DefaultTask is the task django-health-check's celery check sends.
const DefaultTask = "health_check.contrib.celery.tasks.add"

// Config configures a Check.
type Config struct {
	Name    string  // default "CeleryHealthCheck" + the queue in Python's title case, e.g. CeleryHealthCheckCelery
	Broker  Broker  // required
	Backend Backend // RPC{} or a redis.Backend; nil: no result backend, which the check reports
	Queue   string  // default "celery"
	Task    string  // default DefaultTask; it must add its two arguments

	ResultTimeout time.Duration // how long to wait for the result; default 3s (HEALTHCHECK_CELERY_RESULT_TIMEOUT)
	QueueTimeout  time.Duration // the task expires when no worker took it by then; default 3s (HEALTHCHECK_CELERY_QUEUE_TIMEOUT)
	Priority      uint8         // the message priority (HEALTHCHECK_CELERY_PRIORITY)
}

func (c *Config) defaults() {
	if c.Queue == "" {
		c.Queue = "celery"
	}
	if c.Name == "" {
		c.Name = "CeleryHealthCheck" + pyTitle(c.Queue)
	}
	if c.Task == "" {
		c.Task = DefaultTask
	}
	if c.ResultTimeout == 0 {
		c.ResultTimeout = 3 * time.Second
	}
	if c.QueueTimeout == 0 {
		c.QueueTimeout = 3 * time.Second
	}
}

// Check sends a task to the workers and reads its result; see the package doc.
type Check struct {
	cfg Config
}

var _ healthjob.Check = (*Check)(nil)

// New returns a Check.
func New(cfg Config) (*Check, error) {
	cfg.defaults()
	switch {
	case cfg.Broker == nil:
		return nil, errors.New("celery: no broker")
	case cfg.ResultTimeout < 0:
		return nil, fmt.Errorf("celery: result timeout must be more than 0, got %s", cfg.ResultTimeout)
	case cfg.QueueTimeout < 0:
		return nil, fmt.Errorf("celery: queue timeout must be more than 0, got %s", cfg.QueueTimeout)
	}
	return &Check{cfg: cfg}, nil
}

// Name implements healthjob.Check.
func (c *Check) Name() string { return c.cfg.Name }

// Check implements healthjob.Check.
func (c *Check) Check(ctx context.Context) (err error) {
	if err := ctx.Err(); err != nil {
		return err
	}
	if c.cfg.Backend == nil {
		return healthjob.Unavailable("NotImplementedError: Make sure CELERY_RESULT_BACKEND is set")
	}
	conn, err := c.cfg.Broker.Open(ctx)
	if err != nil {
		return ioError(ctx, "broker", err)
	}
	defer func() {
		if cerr := conn.Close(); cerr != nil && err == nil {
			err = ioError(ctx, "broker", cerr)
		}
	}()
	id := NewID()
	watcher, err := c.cfg.Backend.Watch(ctx, conn, id)
	if err != nil {
		return ioError(ctx, "result backend", err)
	}
	defer func() {
		if cerr := watcher.Close(); cerr != nil && err == nil {
			err = ioError(ctx, "result backend", cerr)
		}
	}()

	start := time.Now()
	m := taskMessage(c.cfg.Task, id, start.Add(c.cfg.QueueTimeout), c.cfg.Priority)
	m.ReplyTo = ReplyQueue(conn.ReplyKey())
	m.TTL = max(c.cfg.QueueTimeout, c.cfg.ResultTimeout) // then neither a worker nor this check can use it
	if err := conn.Send(ctx, c.cfg.Queue, m); err != nil {
		if errors.Is(err, ErrNoQueue) {
			return healthjob.Unavailable("Celery task queue %s does not exist", c.cfg.Queue)
		}
		return ioError(ctx, "broker", err)
	}

	wctx, cancel := context.WithDeadline(ctx, start.Add(c.cfg.ResultTimeout))
	defer cancel()
	for {
		data, err := watcher.Next(wctx)
		switch {
		case err == nil:
		case ctx.Err() == nil && wctx.Err() != nil:
			return healthjob.Unavailable("TimeoutError: The task took too long to return a result")
		default:
			return ioError(ctx, "result backend", err)
		}
		var state taskState
		if json.Unmarshal(data, &state) != nil || !state.final() {
			continue
		}
		switch state.Status {
		case "REVOKED":
			return healthjob.Unavailable("TaskRevokedError: The task was revoked, likely because it spent too long in the queue")
		case "FAILURE":
			return healthjob.Unavailable("Unknown error: %s", state.exception())
		}
		var result float64
		if json.Unmarshal(state.Result, &result) != nil || result != 8 {
			return healthjob.UnexpectedResult("Celery returned wrong result")
		}
		return nil
	}
}
