package redis_test

import (
	"context"
	"fmt"
	"net"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/healthjob/healthjob/checks/redis"
	"github.com/healthjob/healthjob/healthjobtest"
	goredis "github.com/redis/go-redis/v9"
	"go.uber.org/goleak"
)

const timeout = time.Second

// server returns the URL of the test Redis, skipping when none runs.
func server(t *testing.T) string {
	t.Helper()
	raw := healthjobtest.Env("HEALTHJOB_REDIS_URL", "redis://127.0.0.1:6379/0")
	u, err := url.Parse(raw)
	if err != nil {
		t.Fatalf("HEALTHJOB_REDIS_URL: %v", err)
	}
	healthjobtest.NeedService(t, u.Host, "Redis (HEALTHJOB_REDIS_URL)")
	return raw
}

func mustNew(t *testing.T, cfg redis.Config) *redis.Check {
	t.Helper()
	c, err := redis.New(cfg)
	if err != nil {
		t.Fatalf("New(%+v): %v", cfg, err)
	}
	return c
}

func TestCheck(t *testing.T) {
	healthy := server(t)
	tests := []struct {
		name string
		url  string
		want string
	}{
		{"OK", healthy, "working"},
		{"ServerDown", "redis://" + healthjobtest.ClosedPort(t) + "/0", "unavailable: Unable to connect to Redis: Connection was refused."},
		{"Hangs", "redis://" + healthjobtest.Blackhole(t) + "/0", "unavailable: Unable to connect to Redis: Timeout."},
		{"NoSuchDatabase", withPath(t, healthy, "/99"), "unavailable: Unable to connect to Redis: Connection Error: ERR DB index is out of range"},
		{"NotRedis", "redis://" + garbage(t) + "/0", "unavailable: Unknown error"},
		{"NotTLS", "rediss://" + garbage(t) + "/0", "unavailable: Unable to connect to Redis: Connection Error: tls: first record does not look like a TLS handshake"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			healthjobtest.AssertStatus(t, mustNew(t, redis.Config{URL: tt.url}), timeout, tt.want)
		})
	}
	healthjobtest.Conformance(t, mustNew(t, redis.Config{URL: healthy}))
}

// TestCheckACL logs in as an ACL user made for the test, with the right and
// with a wrong password, and shows that no password reaches the status.
func TestCheckACL(t *testing.T) {
	healthy := server(t)
	admin := mustClient(t, healthy)
	const user, password = "healthjob_test", "s3cret-Pa55"
	ctx := context.Background()
	if err := admin.Do(ctx, "ACL", "SETUSER", user, "on", ">"+password, "+ping", "+hello", "+auth", "+select").Err(); err != nil {
		t.Fatalf("ACL SETUSER: %v", err)
	}
	t.Cleanup(func() { admin.Do(context.Background(), "ACL", "DELUSER", user) })

	for _, tt := range []struct {
		name, password, want string
	}{
		{"RightPassword", password, "working"},
		{"WrongPassword", "wrong-" + password, "unavailable: Unable to connect to Redis: Connection Error: WRONGPASS invalid username-password pair or user is disabled."},
	} {
		t.Run(tt.name, func(t *testing.T) {
			u := withUser(t, healthy, url.UserPassword(user, tt.password))
			healthjobtest.AssertStatus(t, mustNew(t, redis.Config{URL: u}), timeout, tt.want)
			if got, _ := healthjobtest.Result(mustNew(t, redis.Config{URL: u}), timeout); strings.Contains(got, tt.password) {
				t.Errorf("status %q shows the password", got)
			}
		})
	}
}

func TestCheckName(t *testing.T) {
	for _, tt := range []struct{ name, want string }{{"", "RedisHealthCheck"}, {"cache redis", "cache redis"}} {
		if got := mustNew(t, redis.Config{Name: tt.name}).Name(); got != tt.want {
			t.Errorf("Name() = %q, want %q", got, tt.want)
		}
	}
}

func TestNewBadURL(t *testing.T) {
	for _, tt := range []struct {
		cfg  redis.Config
		want string
	}{
		{redis.Config{URL: "http://localhost:6379"}, "url: redis: invalid URL scheme: http"},
		{redis.Config{URL: "redis://user:pa ss@local host:6379"}, `url: invalid character " " in host name`},
		{redis.Config{URL: "redis://:s3cret@localhost:6379/one"}, `url: redis: invalid database number: "one"`},
		{redis.Config{URL: "redis://:s3cret@localhost:6379/0?colour=red"}, "url: redis: unexpected option: colour"},
		{redis.Config{URL: "redis://:s3cret@localhost:26379/0?master_name=m&addr=nope"}, "url: redis: unable to parse addr param: nope"},
		{redis.Config{URL: "redis://:s3cret@localhost:7000?max_redirects=x", Cluster: true}, `url: redis: invalid max_redirects number: strconv.Atoi: parsing "x": invalid syntax`},
	} {
		_, err := redis.New(tt.cfg)
		if err == nil || err.Error() != tt.want {
			t.Errorf("New(%q) = %v, want %q", tt.cfg.URL, err, tt.want)
		}
	}
	// url.Parse repeats the whole URL in its errors; New must not.
	_, err := redis.New(redis.Config{URL: "redis://user:s3cret@local%zzhost/0"})
	if err == nil || strings.Contains(err.Error(), "s3cret") {
		t.Errorf("New(bad URL with a password) = %v, want an error without the password", err)
	}
}

// TestCheckSentinel runs a Redis Sentinel that watches the test Redis and
// reaches it through the Sentinel.
func TestCheckSentinel(t *testing.T) {
	healthy := server(t)
	master, err := goredis.ParseURL(healthy)
	if err != nil {
		t.Fatal(err)
	}
	host, port, _ := net.SplitHostPort(master.Addr)
	sentinel := startRedis(t, true, "sentinel monitor healthjob "+host+" "+port+" 1")

	for _, tt := range []struct{ name, url, want string }{
		{"OK", "redis://" + sentinel + "/0?master_name=healthjob", "working"},
		{"UnknownMaster", "redis://" + sentinel + "/0?master_name=nope", `unavailable: Unable to connect to Redis: Connection Error: no Sentinel knows a master named "nope"`},
		{"SentinelDown", "redis://" + healthjobtest.ClosedPort(t) + "/0?master_name=healthjob", "unavailable: Unable to connect to Redis: Connection was refused."},
	} {
		t.Run(tt.name, func(t *testing.T) {
			healthjobtest.AssertStatus(t, mustNew(t, redis.Config{URL: tt.url}), timeout, tt.want)
		})
	}
	t.Run("ConnMaxAge", func(t *testing.T) {
		before := goleak.IgnoreCurrent()
		c, name := kept(t, "redis://"+sentinel+"/0?master_name=healthjob", time.Minute)
		assertKeeps(t, c, mustClient(t, healthy), name, 1, before) // to the master
	})
}

// TestCheckCluster runs a one-node Redis Cluster that owns every slot.
func TestCheckCluster(t *testing.T) {
	server(t)
	node := startRedis(t, false, "cluster-enabled yes")
	admin := mustClient(t, "redis://"+node)
	ctx := context.Background()
	if err := admin.Do(ctx, "CLUSTER", "ADDSLOTSRANGE", 0, 16383).Err(); err != nil {
		t.Fatalf("CLUSTER ADDSLOTSRANGE: %v", err)
	}
	eventually(t, "the cluster reaches state ok", func() bool {
		info, _ := admin.ClusterInfo(ctx).Result()
		return strings.Contains(info, "cluster_state:ok")
	})
	healthjobtest.AssertStatus(t, mustNew(t, redis.Config{URL: "redis://" + node, Cluster: true}), timeout, "working")
	healthjobtest.AssertStatus(t, mustNew(t, redis.Config{URL: "redis://" + healthjobtest.ClosedPort(t), Cluster: true}), timeout,
		"unavailable: Unable to connect to Redis: Connection was refused.")
	t.Run("ConnMaxAge", func(t *testing.T) {
		before := goleak.IgnoreCurrent()
		c, name := keptCfg(t, redis.Config{URL: "redis://" + node, Cluster: true, ConnMaxAge: time.Minute})
		// Two: the node's own CLUSTER SLOTS names it ":port", which go-redis
		// takes for another node than the seed it asked, 127.0.0.1:port.
		assertKeeps(t, c, admin, name, 2, before)
	})
}

// startRedis starts a redis-server (a Sentinel when sentinel is set) on a
// free port with the given lines of configuration, and returns its address
// once it answers PING.
func startRedis(t *testing.T, sentinel bool, lines ...string) string {
	t.Helper()
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		healthjobtest.Missing(t, "redis-server is not installed (Debian package redis-server)")
	}
	addr := healthjobtest.ClosedPort(t)
	_, port, _ := net.SplitHostPort(addr)
	dir := t.TempDir()
	conf := append([]string{"port " + port, "bind 127.0.0.1", "dir " + dir, `save ""`}, lines...)
	file := filepath.Join(dir, "redis.conf")
	if err := os.WriteFile(file, []byte(strings.Join(conf, "\n")+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	args := []string{file}
	if sentinel {
		args = append(args, "--sentinel")
	}
	cmd := exec.Command(bin, args...)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })

	client := mustClient(t, "redis://"+addr)
	eventually(t, "redis-server answers on "+addr, func() bool { return client.Ping(context.Background()).Err() == nil })
	return addr
}

// eventually polls cond, for a process that cannot tell when it is ready,
// and fails the test when cond is still false after 10 seconds.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	deadline := time.After(10 * time.Second)
	for !cond() {
		select {
		case <-tick.C:
		case <-deadline:
			t.Fatalf("timed out waiting until %s", what)
		}
	}
}

func mustClient(t *testing.T, raw string) *goredis.Client {
	t.Helper()
	opt, err := goredis.ParseURL(raw)
	if err != nil {
		t.Fatal(err)
	}
	c := goredis.NewClient(opt)
	t.Cleanup(func() { c.Close() })
	return c
}

// garbage returns the address of a server that answers every connection with
// something other than Redis's protocol.
func garbage(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			fmt.Fprint(c, "HTTP/1.1 400 Bad Request\r\n\r\n")
			c.Close()
		}
	}()
	t.Cleanup(func() { ln.Close(); <-done })
	return ln.Addr().String()
}

func withPath(t *testing.T, raw, path string) string {
	t.Helper()
	u, err := url.Parse(raw)
	if err != nil {
		t.Fatal(err)
	}
	u.Path = path
	return u.String()
}

func withUser(t *testing.T, raw string, user *url.Userinfo) string {
	t.Helper()
	u, err := url.Parse(raw)
	if err != nil {
		t.Fatal(err)
	}
	u.User = user
	return u.String()
}
