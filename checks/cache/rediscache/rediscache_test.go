package rediscache_test

import (
	"context"
	"fmt"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/healthjob/healthjob/checks/cache"
	"github.com/healthjob/healthjob/checks/cache/rediscache"
	"github.com/healthjob/healthjob/healthjobtest"
	"github.com/redis/go-redis/v9"
)

const timeout = time.Second

func check(t *testing.T, rawURL string) *cache.Check {
	t.Helper()
	b, err := rediscache.New(rawURL)
	if err != nil {
		t.Fatalf("New(%q): %v", rawURL, err)
	}
	c, err := cache.New(cache.Config{Backend: b})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestCheck(t *testing.T) {
	raw := healthjobtest.Env("HEALTHJOB_REDIS_URL", "redis://127.0.0.1:6379/0")
	u, err := url.Parse(raw)
	if err != nil {
		t.Fatal(err)
	}
	healthjobtest.NeedService(t, u.Host, "Redis (HEALTHJOB_REDIS_URL)")

	// An ACL user that may use the check's keys only.
	opt, err := redis.ParseURL(raw)
	if err != nil {
		t.Fatal(err)
	}
	admin := redis.NewClient(opt)
	defer admin.Close()
	const user, password = "healthjob_cache_test", "s3cret-Pa55"
	if err := admin.Do(context.Background(), "ACL", "SETUSER", user, "on", ">"+password, "~djangohealthcheck_test:*", "+@connection", "+set", "+get", "+del").Err(); err != nil {
		t.Fatalf("ACL SETUSER: %v", err)
	}
	t.Cleanup(func() { admin.Do(context.Background(), "ACL", "DELUSER", user) })
	as := func(password, path string) string {
		v := *u
		v.User, v.Path = url.UserPassword(user, password), path
		return v.String()
	}

	for _, tt := range []struct{ name, url, want string }{
		{"OK", raw, "working"},
		{"ACLUser", as(password, "/0"), "working"},
		{"WrongPassword", as("wrong-"+password, "/0"), "unexpected result: Connection Error: WRONGPASS invalid username-password pair or user is disabled."},
		{"NoSuchDatabase", as(password, "/99"), "unexpected result: Connection Error: ERR DB index is out of range"},
		{"ServerDown", "redis://" + healthjobtest.ClosedPort(t), "unexpected result: Connection Error: connection refused"},
		{"Hangs", "redis://" + healthjobtest.Blackhole(t), "unexpected result: Connection Error: timeout"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			healthjobtest.AssertStatus(t, check(t, tt.url), timeout, tt.want)
			// A check that keeps its connection fails with the same texts.
			healthjobtest.AssertStatus(t, kept(t, tt.url, time.Minute), timeout, tt.want)
		})
	}
	healthjobtest.Conformance(t, check(t, raw))
	healthjobtest.Conformance(t, kept(t, raw, time.Minute))
}

// kept returns a check of rawURL that keeps its connection for age; it is
// closed with the test.
func kept(t *testing.T, rawURL string, age time.Duration) *cache.Check {
	t.Helper()
	b, err := rediscache.New(rawURL)
	if err != nil {
		t.Fatalf("New(%q): %v", rawURL, err)
	}
	c, err := cache.New(cache.Config{Backend: b, ConnMaxAge: age})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func TestNew(t *testing.T) {
	for _, tt := range []struct{ url, want string }{
		{"redis://cache:6379/1", ""},
		{"rediss://user:s3cret@cache:6380/0", ""},
		{"unix:///run/redis.sock?db=2", ""},
		{"memcached://cache:11211", "url: redis: invalid URL scheme: memcached"},
		{"redis://:s3cret@cache:6379/x", `url: redis: invalid database number: "x"`},
		{"redis://:s3cret@cache:port/0", `url: invalid port ":port" after host`},
	} {
		_, err := rediscache.New(tt.url)
		if got := fmt.Sprint(err); (tt.want == "" && err != nil) || (tt.want != "" && got != tt.want) {
			t.Errorf("New(%q) = %v, want %q", tt.url, err, tt.want)
		}
		if err != nil && strings.Contains(err.Error(), "s3cret") {
			t.Errorf("New(%q) = %v: shows the password", tt.url, err)
		}
	}
}
