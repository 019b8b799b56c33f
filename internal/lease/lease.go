// Package lease makes one process at a time the active monitor of an
// application. The lease lives in a lock engine the user runs already: a
// row with an expiry in PostgreSQL (expired by the database's clock), or a
// key with a token and an expiry in Redis (SET NX PX, extended and deleted
// only by its holder, through Lua). There is no consensus of our own: the
// engine decides who holds the lease.
//
// The holder renews the lease four times per TTL. It counts the lease as
// its own until TTL after it sent the last renewal that succeeded, which
// the engine can only have received later, so it stops counting on it
// before the engine lets another process take it, even when it cannot
// reach the engine, is paused, or the engine's clock runs ahead. A holder
// killed with -9 leaves the lease to expire: a standby, which tries every
// quarter TTL, takes it over within 1¼ TTL.
package lease

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Locker is a lease in a lock engine, held by one holder at a time.
type Locker interface {
	// Hold takes the lease for ttl when it is free or has expired, or
	// extends it when this holder has it; it returns false when another
	// holder has it.
	Hold(ctx context.Context, ttl time.Duration) (bool, error)
	// Release gives the lease up if this holder has it.
	Release(ctx context.Context) error
	// Holder tells who holds the lease, as the engine sees it.
	Holder(ctx context.Context) (Info, error)
	Close() error
}

// Info is the holder of a lease; Holder is "" when nobody holds it.
type Info struct {
	Holder  string    // hostname:pid
	Since   time.Time // when it took the lease
	Expires time.Time // when the lease expires unless renewed
}

// Open opens the lease name in the engine at rawURL (postgres://… or
// redis://…), for holder.
func Open(ctx context.Context, rawURL, name, holder string) (Locker, error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		return nil, fmt.Errorf("lock URL %q: not a URL", redact(rawURL))
	}
	switch u.Scheme {
	case "postgres", "postgresql":
		return openPostgres(ctx, rawURL, name, holder)
	case "redis", "rediss", "unix":
		return openRedis(ctx, rawURL, name, holder)
	}
	return nil, fmt.Errorf("lock URL %q: want postgres://… or redis://…", redact(rawURL))
}

// HolderID names this process: hostname:pid.
func HolderID() string {
	host, err := os.Hostname()
	if err != nil {
		host = "unknown"
	}
	return host + ":" + strconv.Itoa(os.Getpid())
}

// newToken is a random token that tells this holder's lease from others'.
func newToken() string {
	b := make([]byte, 16)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// Lease keeps a Locker held while its Run runs. Set the fields before Run.
type Lease struct {
	Locker Locker
	TTL    time.Duration
	Name   string // for the log
	Logger *slog.Logger

	mu      sync.Mutex
	until   time.Time     // the lease is ours until then
	held    bool          // as last told
	changed chan struct{} // closed when held changes
}

// Run renews the lease, or tries to take it, every quarter TTL until ctx
// ends; then it releases the lease if held, so that a standby takes over
// at once.
func (l *Lease) Run(ctx context.Context) {
	log := l.Logger
	if log == nil {
		log = slog.Default()
	}
	every := l.TTL / 4
	t := time.NewTicker(every)
	defer t.Stop()
	unreachable := false
	for {
		sent := time.Now()
		attempt, cancel := context.WithTimeout(ctx, every)
		ok, err := l.Locker.Hold(attempt, l.TTL)
		cancel()
		switch {
		case ctx.Err() != nil:
		case err != nil:
			if !unreachable {
				log.Warn("lease: cannot reach the lock engine", "lease", l.Name, "error", err)
			}
			unreachable = true
		default:
			if unreachable {
				log.Info("lease: the lock engine answers again", "lease", l.Name)
			}
			unreachable = false
			l.set(ok, sent.Add(l.TTL), log)
		}
		l.expire(log)
		select {
		case <-ctx.Done():
			l.release(ctx, log)
			return
		case <-t.C:
		}
	}
}

// release gives the lease up at the end of Run.
func (l *Lease) release(ctx context.Context, log *slog.Logger) {
	l.mu.Lock()
	held := l.held
	l.held, l.until = false, time.Time{}
	if held {
		l.announce()
	}
	l.mu.Unlock()
	if !held {
		return
	}
	log.Info("lease: released", "lease", l.Name)
	release, cancel := context.WithTimeout(context.WithoutCancel(ctx), l.TTL/4)
	defer cancel()
	if err := l.Locker.Release(release); err != nil {
		log.Warn("lease: cannot release; it expires by itself", "lease", l.Name, "error", err)
	}
}

// set records the outcome of a Hold, and logs and announces a change.
func (l *Lease) set(held bool, until time.Time, log *slog.Logger) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if !held {
		until = time.Time{}
	}
	l.until = until
	if held == l.held {
		return
	}
	l.held = held
	if held {
		log.Info("lease: acquired; this monitor is the active one", "lease", l.Name)
	} else {
		log.Info("lease: held by another monitor; standing by", "lease", l.Name)
	}
	l.announce()
}

// expire drops a lease whose time ran out without a renewal.
func (l *Lease) expire(log *slog.Logger) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.held && !time.Now().Before(l.until) {
		l.held = false
		log.Warn("lease: lost, not renewed in time; standing by", "lease", l.Name)
		l.announce()
	}
}

func (l *Lease) announce() {
	if l.changed != nil {
		close(l.changed)
		l.changed = nil
	}
}

// Held tells whether this process holds the lease.
func (l *Lease) Held() bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.held && time.Now().Before(l.until)
}

// Valid tells whether this process holds the lease for at least d more.
func (l *Lease) Valid(d time.Duration) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.held && time.Now().Add(d).Before(l.until)
}

// Changed returns a channel closed when Held changes next.
func (l *Lease) Changed() <-chan struct{} {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.changed == nil {
		l.changed = make(chan struct{})
	}
	return l.changed
}

// redact hides a URL's password.
func redact(s string) string {
	u, err := url.Parse(s)
	if err != nil || u.User == nil {
		return s
	}
	if _, has := u.User.Password(); has {
		u.User = url.UserPassword(u.User.Username(), "xxxxx")
		return strings.Replace(u.String(), "xxxxx", "*****", 1)
	}
	return s
}
