package cache_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/healthjob/healthjob/checks/cache"
	"github.com/healthjob/healthjob/healthjobtest"
)

// fake is an in-memory cache whose operations can be made to fail or lie.
type fake struct {
	openErr, setErr error
	value           string // what Get returns, "" for what was set
	hang            bool   // every operation waits for ctx to end
	keys            map[string]string
	closed          bool
}

func (f *fake) Open(context.Context) (cache.Conn, error) {
	if f.openErr != nil {
		return nil, f.openErr
	}
	f.keys = map[string]string{}
	return f, nil
}

func (f *fake) Set(ctx context.Context, key, value string, ttl time.Duration) error {
	if f.hang {
		<-ctx.Done()
		return ctx.Err()
	}
	if ttl != cache.TTL || !strings.HasPrefix(key, cache.KeyPrefix+":") {
		return fmt.Errorf("Set(%q, %q, %s): unexpected key or ttl", key, value, ttl)
	}
	f.keys[key] = value
	return f.setErr
}

func (f *fake) Get(_ context.Context, key string) (string, error) {
	if f.value != "" {
		return f.value, nil
	}
	return f.keys[key], nil
}

func (f *fake) Delete(_ context.Context, key string) error { delete(f.keys, key); return nil }
func (f *fake) Close() error                               { f.closed = true; return nil }

func mustNew(t *testing.T, cfg cache.Config) *cache.Check {
	t.Helper()
	c, err := cache.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestCheck(t *testing.T) {
	for _, tt := range []struct {
		name    string
		backend *fake
		want    string
	}{
		{"OK", &fake{}, "working"},
		{"Down", &fake{openErr: errors.New("dial tcp 10.0.0.1:11211: connect: no route to host")}, "unexpected result: Connection Error: dial tcp 10.0.0.1:11211: connect: no route to host"},
		{"ValueRefused", &fake{setErr: fmt.Errorf("value too large: %w", cache.ErrValue)}, "unexpected result: ValueError"},
		{"Hangs", &fake{hang: true}, "unexpected result: Connection Error: timeout"},
	} {
		for _, age := range []time.Duration{0, time.Minute} {
			t.Run(fmt.Sprintf("%s, ConnMaxAge %s", tt.name, age), func(t *testing.T) {
				backend := *tt.backend
				c := mustNew(t, cache.Config{Backend: &backend, ConnMaxAge: age})
				healthjobtest.AssertStatus(t, c, 500*time.Millisecond, tt.want)
				if age == 0 && backend.openErr == nil && !backend.closed {
					t.Error("connection left open")
				}
				if err := c.Close(); err != nil {
					t.Errorf("Close() = %v", err)
				}
				if backend.openErr == nil && !backend.closed {
					t.Error("connection left open after Close")
				}
				if len(backend.keys) > 0 && backend.setErr == nil && !backend.hang {
					t.Errorf("keys left behind: %v", backend.keys)
				}
			})
		}
	}
}

func TestCheckMismatch(t *testing.T) {
	for _, age := range []time.Duration{0, time.Minute} {
		c := mustNew(t, cache.Config{Backend: &fake{value: "itdoesnot"}, ConnMaxAge: age})
		got, _ := healthjobtest.Result(c, time.Second)
		key, ok := strings.CutPrefix(got, "unavailable: Cache key ")
		key, ok2 := strings.CutSuffix(key, " does not match")
		if !ok || !ok2 || !strings.HasPrefix(key, "djangohealthcheck_test:") || len(key) != len("djangohealthcheck_test:")+36 {
			t.Errorf("ConnMaxAge %s: status = %q, want unavailable: Cache key djangohealthcheck_test:<uuid> does not match", age, got)
		}
		c.Close()
	}
}

func TestCheckCancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := mustNew(t, cache.Config{Backend: &fake{}}).Check(ctx); !errors.Is(err, context.Canceled) {
		t.Errorf("Check(cancelled) = %v, want context.Canceled", err)
	}
}

func TestNew(t *testing.T) {
	for _, tt := range []struct {
		cfg  cache.Config
		want string
	}{
		{cache.Config{Backend: &fake{}}, "Cache backend: default"},
		{cache.Config{Backend: &fake{}, Alias: "sessions"}, "Cache backend: sessions"},
		{cache.Config{Backend: &fake{}, Alias: "sessions", Name: "Sessions"}, "Sessions"},
	} {
		if got := mustNew(t, tt.cfg).Name(); got != tt.want {
			t.Errorf("Name() = %q, want %q", got, tt.want)
		}
	}
	if _, err := cache.New(cache.Config{}); err == nil || err.Error() != "cache: no backend" {
		t.Errorf("New(no backend) = %v, want cache: no backend", err)
	}
	if _, err := cache.New(cache.Config{Backend: &fake{}, ConnMaxAge: -time.Second}); err == nil || err.Error() != "cache: ConnMaxAge must be 0 or more, got -1s" {
		t.Errorf("New(ConnMaxAge -1s) = %v, want cache: ConnMaxAge must be 0 or more, got -1s", err)
	}
}
