package lease_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"net/url"
	"sync"
	"testing"
	"time"

	"github.com/healthjob/healthjob/healthjobtest"
	"github.com/healthjob/healthjob/internal/lease"
	"github.com/healthjob/healthjob/internal/testdb"
	"github.com/redis/go-redis/v9"

	_ "github.com/jackc/pgx/v5/stdlib"
)

var (
	redisURL = healthjobtest.Env("HEALTHJOB_REDIS_URL", "redis://127.0.0.1:6379/0")
)

func randomName() string {
	b := make([]byte, 6)
	rand.Read(b)
	return "healthjob_ha_" + hex.EncodeToString(b)
}

// redisDB is the Redis database the lease tests use, apart from others'.
const redisDB = "11"

// freshRedis returns the URL of the tests' Redis database; the test's
// lease name is its own, and its key is deleted after it.
func freshRedis(t testing.TB, name string) string {
	t.Helper()
	u, err := url.Parse(redisURL)
	if err != nil {
		t.Fatal(err)
	}
	healthjobtest.NeedService(t, u.Host, "the Redis lease")
	u.Path = "/" + redisDB
	opts, err := redis.ParseURL(u.String())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		c := redis.NewClient(opts)
		defer c.Close()
		if err := c.Del(context.Background(), lease.KeyPrefix+name).Err(); err != nil {
			t.Errorf("delete the test's lease: %v", err)
		}
	})
	return u.String()
}

// eachEngine runs f against a lease of each engine.
func eachEngine(t *testing.T, f func(t *testing.T, url, name string)) {
	t.Run("postgres", func(t *testing.T) {
		f(t, testdb.Postgres(t, testdb.PostgresURL, "healthjob_ha", "the PostgreSQL lease"), randomName())
	})
	t.Run("redis", func(t *testing.T) {
		name := randomName()
		f(t, freshRedis(t, name), name)
	})
}

func open(t *testing.T, rawURL, name, holder string) lease.Locker {
	t.Helper()
	l, err := lease.Open(context.Background(), rawURL, name, holder)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	return l
}

func hold(t *testing.T, l lease.Locker, ttl time.Duration) bool {
	t.Helper()
	ok, err := l.Hold(context.Background(), ttl)
	if err != nil {
		t.Fatal(err)
	}
	return ok
}

func holder(t *testing.T, l lease.Locker) lease.Info {
	t.Helper()
	info, err := l.Holder(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return info
}

func TestLocker(t *testing.T) {
	eachEngine(t, func(t *testing.T, url, name string) {
		a, b := open(t, url, name, "host-a:1"), open(t, url, name, "host-b:2")
		if info := holder(t, a); info.Holder != "" {
			t.Fatalf("a new lease is held by %q", info.Holder)
		}
		start := time.Now()
		if !hold(t, a, time.Minute) {
			t.Fatal("a could not take a free lease")
		}
		if hold(t, b, time.Minute) {
			t.Fatal("b took the lease a holds")
		}
		first := holder(t, b)
		if first.Holder != "host-a:1" || first.Since.Before(start.Add(-time.Second)) || first.Expires.Before(start.Add(59*time.Second)) {
			t.Errorf("holder = %+v, want host-a:1 since about %v for a minute", first, start)
		}
		if !hold(t, a, time.Minute) {
			t.Fatal("a could not renew its lease")
		}
		if again := holder(t, b); !again.Since.Equal(first.Since) {
			t.Errorf("a renewal moved since from %v to %v", first.Since, again.Since)
		}
		if err := b.Release(context.Background()); err != nil {
			t.Fatal(err)
		}
		if info := holder(t, a); info.Holder != "host-a:1" {
			t.Errorf("b's release of a's lease let it go: held by %q", info.Holder)
		}
		if err := a.Release(context.Background()); err != nil {
			t.Fatal(err)
		}
		if !hold(t, b, time.Minute) {
			t.Fatal("b could not take the lease a released")
		}
		if info := holder(t, a); info.Holder != "host-b:2" {
			t.Errorf("held by %q, want host-b:2", info.Holder)
		}
	})
}

// TestLockerExpires: a lease that is not renewed expires after its TTL,
// by the engine's clock, and not before.
func TestLockerExpires(t *testing.T) {
	eachEngine(t, func(t *testing.T, url, name string) {
		a, b := open(t, url, name, "host-a:1"), open(t, url, name, "host-b:2")
		const ttl = 300 * time.Millisecond
		held := time.Now()
		if !hold(t, a, ttl) {
			t.Fatal("a could not take a free lease")
		}
		for !hold(t, b, ttl) {
			if time.Since(held) > 5*time.Second {
				t.Fatal("a's lease did not expire")
			}
		}
		if took := time.Since(held); took < ttl {
			t.Errorf("b took the lease %v after a did, before its TTL of %v", took, ttl)
		}
		if hold(t, a, ttl) {
			t.Error("a renewed a lease that had expired and b took")
		}
	})
}

// TestLeaseRun: two processes' leases on one lock: one holds it, and when
// it stops, it releases it and the other takes over at its next try, long
// before the lease would have expired.
func TestLeaseRun(t *testing.T) {
	eachEngine(t, func(t *testing.T, url, name string) {
		const ttl = time.Second
		leases := []*lease.Lease{
			{Locker: open(t, url, name, "host-a:1"), TTL: ttl, Name: name},
			{Locker: open(t, url, name, "host-b:2"), TTL: ttl, Name: name},
		}
		stops := make([]context.CancelFunc, 2)
		var wg sync.WaitGroup
		defer wg.Wait()
		for i, l := range leases {
			ctx, cancel := context.WithCancel(context.Background())
			stops[i] = cancel
			defer cancel()
			changed := l.Changed()
			wg.Go(func() { l.Run(ctx) })
			if i == 0 {
				waitFor(t, changed, "the first lease to be held")
			}
		}
		if !leases[0].Held() || leases[1].Held() {
			t.Fatalf("held: %v and %v, want the first only", leases[0].Held(), leases[1].Held())
		}
		if !leases[0].Valid(ttl / 2) {
			t.Error("the lease just taken is not valid for half a TTL")
		}
		changed := leases[1].Changed()
		stopped := time.Now()
		stops[0]()
		waitFor(t, changed, "the second lease to be held")
		if took := time.Since(stopped); took > ttl/2 {
			t.Errorf("the standby took over %v after the holder stopped, want at its next try, a quarter TTL", took)
		}
		if leases[0].Held() || !leases[1].Held() {
			t.Errorf("held: %v and %v, want the second only", leases[0].Held(), leases[1].Held())
		}
	})
}

func waitFor(t *testing.T, ch <-chan struct{}, what string) {
	t.Helper()
	select {
	case <-ch:
	case <-time.After(5 * time.Second):
		t.Fatalf("timed out waiting for %s", what)
	}
}

// unreachable is a lock engine that answers until cut is closed, then
// never again.
type unreachable struct {
	cut  chan struct{}
	once sync.Once
}

func (u *unreachable) Hold(ctx context.Context, _ time.Duration) (bool, error) {
	select {
	case <-u.cut:
		<-ctx.Done()
		return false, ctx.Err()
	default:
		return true, nil
	}
}
func (u *unreachable) Release(context.Context) error { return errors.New("unreachable") }
func (u *unreachable) Holder(context.Context) (lease.Info, error) {
	return lease.Info{}, errors.New("unreachable")
}
func (u *unreachable) Close() error { return nil }

// TestLeaseCutOff: a holder that cannot reach the engine stops counting
// on its lease TTL after its last renewal, when the engine lets another
// take it: not later.
func TestLeaseCutOff(t *testing.T) {
	const ttl = time.Second
	engine := &unreachable{cut: make(chan struct{})}
	l := &lease.Lease{Locker: engine, TTL: ttl, Name: "cut"}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	changed := l.Changed()
	go func() { defer close(done); l.Run(ctx) }()
	defer func() { cancel(); <-done }()
	waitFor(t, changed, "the lease to be held")
	changed = l.Changed()
	cut := time.Now()
	close(engine.cut)
	waitFor(t, changed, "the lease to be lost")
	if lost := time.Since(cut); lost > ttl+ttl/4+200*time.Millisecond {
		t.Errorf("the lease was counted on %v after the engine was cut off, want at most its TTL %v (and a renewal's timeout)", lost, ttl)
	}
	if l.Held() || l.Valid(0) {
		t.Error("the lease is still held")
	}
}

func TestOpenErrors(t *testing.T) {
	tests := []struct{ url, want string }{
		{"mysql://root@127.0.0.1:3306/test", `lock URL "mysql://root@127.0.0.1:3306/test": want postgres://… or redis://…`},
		{"redis://:s3cret@127.0.0.1:6379/x", `lock URL "redis://:*****@127.0.0.1:6379/x": redis: invalid database number: "x"`},
	}
	for _, tt := range tests {
		if _, err := lease.Open(context.Background(), tt.url, "n", "h"); err == nil || err.Error() != tt.want {
			t.Errorf("Open(%q) = %v, want %s", tt.url, err, tt.want)
		}
	}
}
