package celery

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/healthjob/healthjob"
)

// PingConfig configures a PingCheck.
type PingConfig struct {
	Name    string        // default "CeleryPingHealthCheck"
	Broker  Broker        // required
	Timeout time.Duration // how long to wait for replies; default 1s (HEALTHCHECK_CELERY_PING_TIMEOUT)
	Workers []string      // the workers to ping, e.g. "w1@host"; none: all
	Queues  []string      // queues that some worker that answered must consume; none: not checked
}

func (c *PingConfig) defaults() {
	if c.Name == "" {
		c.Name = "CeleryPingHealthCheck"
	}
	if c.Timeout == 0 {
		c.Timeout = time.Second
	}
}

// PingCheck pings the workers through the broker; see the package doc.
type PingCheck struct {
	cfg PingConfig
}

var _ healthjob.Check = (*PingCheck)(nil)

// NewPing returns a PingCheck.
func NewPing(cfg PingConfig) (*PingCheck, error) {
	cfg.defaults()
	switch {
	case cfg.Broker == nil:
		return nil, errors.New("celery ping: no broker")
	case cfg.Timeout < 0:
		return nil, fmt.Errorf("celery ping: timeout must be more than 0, got %s", cfg.Timeout)
	case slices.Contains(cfg.Workers, ""):
		return nil, errors.New("celery ping: empty worker name")
	case slices.Contains(cfg.Queues, ""):
		return nil, errors.New("celery ping: empty queue name")
	}
	return &PingCheck{cfg: cfg}, nil
}

// Name implements healthjob.Check.
func (c *PingCheck) Name() string { return c.cfg.Name }

// Check implements healthjob.Check.
func (c *PingCheck) Check(ctx context.Context) (err error) {
	if err := ctx.Err(); err != nil {
		return err
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

	pongs, err := call(ctx, conn, "ping", c.cfg.Workers, c.cfg.Timeout)
	if err != nil {
		return ioError(ctx, "broker", err)
	}
	if len(pongs) == 0 {
		return healthjob.Unavailable("Celery workers unavailable")
	}
	var errs []error
	var active []string
	for _, r := range pongs {
		if !isPong(r.Value) {
			errs = append(errs, healthjob.Unavailable("Celery worker %s response was incorrect", r.Worker))
			continue
		}
		active = append(active, r.Worker)
	}
	for _, w := range c.cfg.Workers {
		if !slices.ContainsFunc(pongs, func(r reply) bool { return r.Worker == w }) {
			errs = append(errs, healthjob.Unavailable("Celery worker %s did not answer", w))
		}
	}
	if len(errs) > 0 || len(c.cfg.Queues) == 0 {
		return errors.Join(errs...)
	}

	answers, err := call(ctx, conn, "active_queues", active, c.cfg.Timeout)
	if err != nil {
		return ioError(ctx, "broker", err)
	}
	consumed := map[string]bool{}
	for _, r := range answers {
		for _, q := range queueNames(r.Value) {
			consumed[q] = true
		}
	}
	for _, q := range c.cfg.Queues {
		if !consumed[q] {
			errs = append(errs, healthjob.Unavailable("No worker for Celery task queue %s", q))
		}
	}
	return errors.Join(errs...)
}

// call broadcasts the remote-control method to the named workers (all when
// none) and collects the replies until window has passed, or until every
// worker addressed or reached has answered.
func call(ctx context.Context, conn Conn, method string, workers []string, window time.Duration) ([]reply, error) {
	deadline := time.Now().Add(window)
	ticket := NewID()
	reached, err := conn.Broadcast(ctx, controlMessage(method, workers, ticket, conn.ReplyKey(), deadline))
	if err != nil {
		return nil, err
	}
	// Only the workers named, or reached, can answer; 0: unknown.
	limit := len(workers)
	if reached == 0 {
		return nil, nil
	}
	if reached > 0 && (limit == 0 || reached < limit) {
		limit = reached
	}
	wctx, cancel := context.WithDeadline(ctx, deadline)
	defer cancel()
	var replies []reply
	for limit == 0 || len(replies) < limit {
		m, err := conn.Receive(wctx)
		if err != nil {
			if ctx.Err() == nil && wctx.Err() != nil {
				break // the window is over
			}
			return nil, err
		}
		if m.Headers["ticket"] != ticket {
			continue // a late reply to an earlier request
		}
		if r, ok := parseReply(m.Body); ok {
			replies = append(replies, r)
		}
	}
	return replies, nil
}

// ioError reports a failure to talk to the broker or the result backend as
// django-health-check does ("IOError"), with the reason. When ctx's deadline
// has passed, the failure is its consequence: ctx's error tells the runner so.
func ioError(ctx context.Context, what string, err error) error {
	if deadline, ok := ctx.Deadline(); ctx.Err() != nil || ok && !time.Now().Before(deadline) {
		<-ctx.Done()
		return ctx.Err()
	}
	return healthjob.Unavailable("IOError: %s: %v", what, err)
}
