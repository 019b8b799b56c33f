// Package outbox delivers what a monitor must not lose. A payload is first
// committed to a durable Queue (a table beside the records, or a SQLite file
// of its own); a Relay then hands the queue's items, oldest first and one at
// a time, to a Sender, and removes each once it was delivered. A failure
// that may pass (no connection, a timeout, 429, 5xx) is retried after an
// exponential backoff with jitter and a cap, honouring Retry-After; one
// that retrying cannot fix (the receiver refused the payload itself) drops
// the item, logged and counted. Delivery is at least once: a receiver keeps
// each payload once by its uuid.
package outbox

import (
	"context"
	"errors"
	"log/slog"
	"math/rand/v2"
	"sync"
	"time"
)

// Item is one queued payload.
type Item struct {
	ID       int64     // the queue's order: a later item has a larger ID
	UUID     string    // the run's uuid, the receiver's idempotency key
	Payload  []byte    // what the Sender delivers
	Enqueued time.Time // when it was queued
}

// Queue is a durable FIFO of items.
type Queue interface {
	// Next returns the oldest item after the one of ID after (0: the
	// head), false when there is none. A queue that drops items for room
	// must not drop one it handed out until it is removed: it is being
	// delivered, or was.
	Next(ctx context.Context, after int64) (Item, bool, error)
	// Remove deletes items that were delivered or dropped.
	Remove(ctx context.Context, items []Item) error
}

// Sender delivers one item. An error it wraps with Permanent drops the
// item; any other error is retried, no sooner than RetryAfter says.
type Sender interface {
	Send(ctx context.Context, item Item) error
}

// SenderFunc adapts a function to Sender.
type SenderFunc func(ctx context.Context, item Item) error

// Send calls f.
func (f SenderFunc) Send(ctx context.Context, item Item) error { return f(ctx, item) }

// permanent marks an error that retrying cannot fix.
type permanent struct{ err error }

func (e *permanent) Error() string { return e.err.Error() }
func (e *permanent) Unwrap() error { return e.err }

// Permanent marks err as one that retrying cannot fix: the relay drops the
// item instead of trying it again.
func Permanent(err error) error { return &permanent{err} }

// IsPermanent tells whether err was marked with Permanent.
func IsPermanent(err error) bool {
	var p *permanent
	return errors.As(err, &p)
}

// retryAfter carries the receiver's Retry-After.
type retryAfter struct {
	err   error
	after time.Duration
}

func (e *retryAfter) Error() string { return e.err.Error() }
func (e *retryAfter) Unwrap() error { return e.err }

// RetryAfter marks err as retryable no sooner than after d.
func RetryAfter(err error, d time.Duration) error { return &retryAfter{err, d} }

// maxRetryAfter bounds a Retry-After, against a receiver that asks for days.
const maxRetryAfter = time.Hour

// Defaults of a Relay.
const (
	DefaultMinBackoff = time.Second
	DefaultMaxBackoff = time.Minute
	DefaultPoll       = 5 * time.Second
	removeEvery       = 100 // delivered items removed in one statement
)

// Relay drains a Queue into a Sender in order. Its zero settings are the
// defaults; set the fields before Start.
type Relay struct {
	Queue  Queue
	Sender Sender
	Name   string // names the relay in log lines: "sync", "persist"

	// MinBackoff is the wait after the first failure; each further
	// failure in a row doubles it, up to MaxBackoff. The wait is jittered
	// within its upper half, so that a fleet does not retry in step.
	MinBackoff, MaxBackoff time.Duration
	// Poll is how often an idle relay looks for items that another
	// process queued; items queued in this one Wake it at once.
	Poll time.Duration

	Logger *slog.Logger
	// OnAttempt, when set, is told of every delivery attempt: nil when it
	// succeeded.
	OnAttempt func(item Item, err error)
	// OnDrop, when set, is told of every item dropped as refused.
	OnDrop func(item Item, err error)

	wake     chan struct{}
	stopping chan struct{}
	done     chan struct{}
	cancel   context.CancelFunc
	stopOnce sync.Once
}

// Start delivers in a goroutine until Stop.
func (r *Relay) Start() {
	if r.MinBackoff <= 0 {
		r.MinBackoff = DefaultMinBackoff
	}
	if r.MaxBackoff < r.MinBackoff {
		r.MaxBackoff = max(DefaultMaxBackoff, r.MinBackoff)
	}
	if r.Poll <= 0 {
		r.Poll = DefaultPoll
	}
	if r.Logger == nil {
		r.Logger = slog.Default()
	}
	r.wake = make(chan struct{}, 1)
	r.stopping = make(chan struct{})
	r.done = make(chan struct{})
	ctx, cancel := context.WithCancel(context.Background())
	r.cancel = cancel
	go func() {
		defer close(r.done)
		r.run(ctx)
	}()
}

// Wake tells the relay that an item was queued, so that it does not wait
// for its next poll. It never blocks.
func (r *Relay) Wake() {
	select {
	case r.wake <- struct{}{}:
	default:
	}
}

// Stop ends the relay. It first lets it deliver what is queued, retrying
// as usual, until the queue is empty or ctx is done; then it cancels the
// attempt in flight and returns once the goroutine has ended. What is left
// stays queued for the next start. Call it after Start, with a deadline.
func (r *Relay) Stop(ctx context.Context) {
	r.stopOnce.Do(func() { close(r.stopping) })
	select {
	case <-r.done:
	case <-ctx.Done():
	}
	r.cancel()
	<-r.done
}

// run is the relay's loop; it returns when Stop was called and the queue
// is empty, or when Stop cancelled ctx. It delivers the queue's items one
// at a time, in order, and removes the ones delivered in batches: before
// it waits, and every removeEvery items.
func (r *Relay) run(ctx context.Context) {
	var done []Item // delivered, or refused, and still queued
	remove := func() {
		if len(done) == 0 {
			return
		}
		// A context of its own: what was delivered must not be delivered
		// again for want of a delete.
		if err := r.Queue.Remove(context.WithoutCancel(ctx), done); err != nil {
			r.Logger.Error("outbox: cannot remove delivered items; they will be delivered again", "outbox", r.Name, "error", err)
		}
		done = done[:0]
	}
	defer remove()
	failures := 0
	for {
		var after int64
		if len(done) > 0 {
			after = done[len(done)-1].ID
		}
		item, ok, err := r.Queue.Next(ctx, after)
		switch {
		case ctx.Err() != nil:
			return
		case err != nil:
			failures++
			r.Logger.Error("outbox: cannot read the queue", "outbox", r.Name, "error", err)
			remove()
			if !r.pause(ctx, r.backoff(failures, nil)) {
				return
			}
			continue
		case !ok:
			remove()
			if !r.idle(ctx) {
				return
			}
			continue
		}
		err = r.Sender.Send(ctx, item)
		if ctx.Err() != nil {
			return // cancelled by Stop: the item stays queued
		}
		if r.OnAttempt != nil {
			r.OnAttempt(item, err)
		}
		if err != nil && !IsPermanent(err) {
			failures++
			r.Logger.Warn("outbox: delivery failed, will retry", "outbox", r.Name, "run", item.UUID, "attempt", failures, "error", err)
			remove()
			if !r.pause(ctx, r.backoff(failures, err)) {
				return
			}
			continue
		}
		if err != nil {
			r.Logger.Error("outbox: payload refused, dropped", "outbox", r.Name, "run", item.UUID, "error", err)
			if r.OnDrop != nil {
				r.OnDrop(item, err)
			}
		} else if failures > 0 {
			r.Logger.Info("outbox: delivering again", "outbox", r.Name, "run", item.UUID, "after_failures", failures)
		}
		failures = 0
		if done = append(done, item); len(done) >= removeEvery {
			remove()
		}
	}
}

// idle waits for a Wake, the next poll or Stop; false means stop: Stop was
// called before and the queue is still empty.
func (r *Relay) idle(ctx context.Context) bool {
	select {
	case <-r.stopping:
		return false
	default:
	}
	t := time.NewTimer(r.Poll)
	defer t.Stop()
	select {
	case <-r.wake:
	case <-t.C:
	case <-r.stopping: // look once more: what was queued before Stop goes first
	case <-ctx.Done():
		return false
	}
	return true
}

// pause waits d before a retry; false means stop.
func (r *Relay) pause(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}

// backoff is the wait after the nth failure in a row: MinBackoff doubled
// n-1 times, capped at MaxBackoff, jittered within its upper half, and no
// shorter than the receiver's Retry-After.
func (r *Relay) backoff(n int, err error) time.Duration {
	d := r.MaxBackoff
	if n < 63 && r.MinBackoff<<(n-1) > 0 && r.MinBackoff<<(n-1) < r.MaxBackoff {
		d = r.MinBackoff << (n - 1)
	}
	d = d/2 + rand.N(d/2+1)
	var ra *retryAfter
	if errors.As(err, &ra) {
		d = max(d, min(ra.after, maxRetryAfter))
	}
	return d
}
