package rediscache_test

import (
	"context"
	"crypto/rand"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/healthjob/healthjob/checks/cache/internal/cachetest"
	"github.com/healthjob/healthjob/healthjobtest"
	"github.com/redis/go-redis/v9"
	"go.uber.org/goleak"
)

// testServer returns the URL of the test Redis and a client of it, skipping
// when none runs.
func testServer(t *testing.T) (*url.URL, *redis.Client) {
	t.Helper()
	raw := healthjobtest.Env("HEALTHJOB_REDIS_URL", "redis://127.0.0.1:6379/0")
	u, err := url.Parse(raw)
	if err != nil {
		t.Fatal(err)
	}
	healthjobtest.NeedService(t, u.Host, "Redis (HEALTHJOB_REDIS_URL)")
	opt, err := redis.ParseURL(raw)
	if err != nil {
		t.Fatal(err)
	}
	admin := redis.NewClient(opt)
	t.Cleanup(func() { admin.Close() })
	return u, admin
}

// named returns u with a client_name of its own, which the check's
// connections then carry in CLIENT LIST, and that name.
func named(u *url.URL) (string, string) {
	name := "healthjob_cache_" + strings.ToLower(rand.Text()[:10])
	v := *u
	q := v.Query()
	q.Set("client_name", name)
	v.RawQuery = q.Encode()
	return v.String(), name
}

// clients returns the ids of the connections named name.
func clients(t *testing.T, admin *redis.Client, name string) []string {
	t.Helper()
	list, err := admin.ClientList(context.Background()).Result()
	if err != nil {
		t.Fatalf("CLIENT LIST: %v", err)
	}
	var ids []string
	for line := range strings.Lines(list) {
		var id string
		for field := range strings.FieldsSeq(line) {
			if v, ok := strings.CutPrefix(field, "id="); ok {
				id = v
			}
			if field == "name="+name {
				ids = append(ids, id)
			}
		}
	}
	return ids
}

// waitClients waits until there are exactly n connections named name (the
// server forgets a closed one a moment later) and returns their ids.
func waitClients(t *testing.T, admin *redis.Client, name string, n int) []string {
	t.Helper()
	var ids []string
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		if ids = clients(t, admin, name); len(ids) == n {
			return ids
		}
	}
	t.Fatalf("connections named %s: %v, want %d", name, ids, n)
	return nil
}

// TestKeptConnection: the runs within ConnMaxAge share one connection; one
// killed is replaced by the next run, which passes; Close ends the kept one
// and leaves no goroutine behind.
func TestKeptConnection(t *testing.T) {
	u, admin := testServer(t)
	before := goleak.IgnoreCurrent()
	raw, name := named(u)
	c := kept(t, raw, time.Minute)
	healthjobtest.AssertStatus(t, c, timeout, "working")
	first := waitClients(t, admin, name, 1)
	healthjobtest.AssertStatus(t, c, timeout, "working")
	if ids := clients(t, admin, name); !slices.Equal(ids, first) {
		t.Errorf("connections after a second run: %v, want %v, the first run's", ids, first)
	}
	if err := admin.Do(context.Background(), "CLIENT", "KILL", "ID", first[0]).Err(); err != nil {
		t.Fatalf("CLIENT KILL ID %s: %v", first[0], err)
	}
	healthjobtest.AssertStatus(t, c, timeout, "working")
	if ids := waitClients(t, admin, name, 1); slices.Equal(ids, first) {
		t.Errorf("run after CLIENT KILL on connection %v, the killed one", ids)
	}
	if err := c.Close(); err != nil {
		t.Errorf("Close() = %v", err)
	}
	waitClients(t, admin, name, 0)
	goleak.VerifyNone(t, before)
}

// TestConnectionPerRun: with ConnMaxAge 0 no connection outlives a run.
func TestConnectionPerRun(t *testing.T) {
	u, admin := testServer(t)
	raw, name := named(u)
	c := kept(t, raw, 0)
	healthjobtest.AssertStatus(t, c, timeout, "working")
	if ids := clients(t, admin, name); len(ids) != 0 {
		t.Errorf("connections after a run: %v, want none", ids)
	}
}

// TestKeptConnectionAged: the first run after the connection is ConnMaxAge
// old opens another, and the old one is closed.
func TestKeptConnectionAged(t *testing.T) {
	u, admin := testServer(t)
	raw, name := named(u)
	const age = 200 * time.Millisecond
	c := kept(t, raw, age)
	healthjobtest.AssertStatus(t, c, timeout, "working")
	first := waitClients(t, admin, name, 1)
	time.Sleep(age) // the connection ages
	healthjobtest.AssertStatus(t, c, timeout, "working")
	if ids := waitClients(t, admin, name, 1); slices.Equal(ids, first) {
		t.Errorf("run after ConnMaxAge on connection %v, the first run's; want a new one", ids)
	}
}

// TestKeptConnectionServerDown: when the server goes down, a check that
// kept a connection fails with the text of one that connects afresh, within
// its deadline.
func TestKeptConnectionServerDown(t *testing.T) {
	u, _ := testServer(t)
	p := cachetest.NewProxy(t, u.Host)
	v := *u
	v.Host = p.Addr
	c := kept(t, v.String(), time.Minute)
	healthjobtest.AssertStatus(t, c, timeout, "working")
	p.Down()
	healthjobtest.AssertStatus(t, c, timeout, "unexpected result: Connection Error: connection refused")
	healthjobtest.AssertStatus(t, c, timeout, "unexpected result: Connection Error: connection refused")
}
