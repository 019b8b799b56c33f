package redis_test

import (
	"context"
	"crypto/rand"
	"net"
	"net/url"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/healthjob/healthjob/checks/redis"
	"github.com/healthjob/healthjob/healthjobtest"
	goredis "github.com/redis/go-redis/v9"
	"go.uber.org/goleak"
)

// named returns raw with a client_name of its own, which the check's
// connections then carry in CLIENT LIST, and that name.
func named(t *testing.T, raw string) (string, string) {
	t.Helper()
	u, err := url.Parse(raw)
	if err != nil {
		t.Fatal(err)
	}
	name := "healthjob_" + strings.ToLower(rand.Text()[:10])
	q := u.Query()
	q.Set("client_name", name)
	u.RawQuery = q.Encode()
	return u.String(), name
}

// kept returns a check of raw that keeps its connection for age, under a
// client name of its own, which is returned too. The check is closed with
// the test.
func kept(t *testing.T, raw string, age time.Duration) (*redis.Check, string) {
	t.Helper()
	return keptCfg(t, redis.Config{URL: raw, ConnMaxAge: age})
}

// keptCfg is kept for any Config.
func keptCfg(t *testing.T, cfg redis.Config) (*redis.Check, string) {
	t.Helper()
	var name string
	cfg.URL, name = named(t, cfg.URL)
	c := mustNew(t, cfg)
	t.Cleanup(func() { c.Close() })
	return c, name
}

// clients returns the ids of the connections named name that admin's
// server has.
func clients(t *testing.T, admin *goredis.Client, name string) []string {
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

// waitClients waits until the server has exactly n connections named name
// (it forgets a closed one a moment later) and returns their ids.
func waitClients(t *testing.T, admin *goredis.Client, name string, n int) []string {
	t.Helper()
	var ids []string
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		if ids = clients(t, admin, name); len(ids) == n {
			return ids
		}
	}
	list, _ := admin.ClientList(context.Background()).Result()
	t.Fatalf("connections named %s: %v, want %d; CLIENT LIST:\n%s", name, ids, n, list)
	return nil
}

// TestKeptConnection: the runs within ConnMaxAge share one connection;
// Close ends it and leaves no goroutine behind.
func TestKeptConnection(t *testing.T) {
	healthy := server(t)
	admin := mustClient(t, healthy)
	before := goleak.IgnoreCurrent()
	c, name := kept(t, healthy, time.Minute)
	healthjobtest.AssertStatus(t, c, timeout, "working")
	first := waitClients(t, admin, name, 1)
	for range 2 {
		healthjobtest.AssertStatus(t, c, timeout, "working")
		if ids := clients(t, admin, name); !slices.Equal(ids, first) {
			t.Errorf("connections after another run: %v, want %v, the first run's", ids, first)
		}
	}
	if err := c.Close(); err != nil {
		t.Errorf("Close() = %v", err)
	}
	waitClients(t, admin, name, 0)
	goleak.VerifyNone(t, before)
	if err := c.Close(); err != nil {
		t.Errorf("Close() again = %v", err)
	}
	// A run after Close keeps another connection, which Close releases too.
	healthjobtest.AssertStatus(t, c, timeout, "working")
	if ids := waitClients(t, admin, name, 1); slices.Equal(ids, first) {
		t.Errorf("run after Close on connection %v, the closed one", ids)
	}
	if err := c.Close(); err != nil {
		t.Errorf("Close() after another run = %v", err)
	}
	waitClients(t, admin, name, 0)
	goleak.VerifyNone(t, before)
}

// TestConnectionPerRun: with ConnMaxAge 0 no connection outlives a run, and
// Close has nothing to do.
func TestConnectionPerRun(t *testing.T) {
	healthy := server(t)
	admin := mustClient(t, healthy)
	c, name := kept(t, healthy, 0)
	for range 2 {
		healthjobtest.AssertStatus(t, c, timeout, "working")
		if ids := clients(t, admin, name); len(ids) != 0 {
			t.Errorf("connections after a run: %v, want none", ids)
		}
	}
	if err := c.Close(); err != nil {
		t.Errorf("Close() = %v", err)
	}
}

// TestKeptConnectionAged: runs within ConnMaxAge of the connection's start
// share it; the first run after is on a new one, and the old one is closed.
func TestKeptConnectionAged(t *testing.T) {
	healthy := server(t)
	admin := mustClient(t, healthy)
	const age = 500 * time.Millisecond
	c, name := kept(t, healthy, age)
	start := time.Now() // the connection is made after
	healthjobtest.AssertStatus(t, c, timeout, "working")
	made := time.Now() // the connection was made before
	first := waitClients(t, admin, name, 1)
	time.Sleep(age * 6 / 10)
	healthjobtest.AssertStatus(t, c, timeout, "working")
	if ids := clients(t, admin, name); !slices.Equal(ids, first) && time.Since(start) < age {
		t.Errorf("run within ConnMaxAge on connection %v, want %v, the first run's", ids, first)
	}
	time.Sleep(time.Until(made.Add(age + time.Millisecond))) // the connection is ConnMaxAge old, though never idle that long
	healthjobtest.AssertStatus(t, c, timeout, "working")
	if ids := waitClients(t, admin, name, 1); slices.Equal(ids, first) {
		t.Errorf("run after ConnMaxAge on connection %v, the first run's; want a new one", ids)
	}
}

// assertKeeps runs c, which keeps n connections named name to the server
// of admin, twice on the same connections; kills them and runs c again on
// new ones; closes c and finds no connection and no goroutine left.
func assertKeeps(t *testing.T, c *redis.Check, admin *goredis.Client, name string, n int, before goleak.Option) {
	t.Helper()
	healthjobtest.AssertStatus(t, c, timeout, "working")
	first := waitClients(t, admin, name, n)
	healthjobtest.AssertStatus(t, c, timeout, "working")
	if ids := clients(t, admin, name); !slices.Equal(ids, first) {
		t.Errorf("connections after a second run: %v, want %v, the first run's", ids, first)
	}
	for _, id := range first {
		if err := admin.Do(context.Background(), "CLIENT", "KILL", "ID", id).Err(); err != nil {
			t.Fatalf("CLIENT KILL ID %s: %v", id, err)
		}
	}
	healthjobtest.AssertStatus(t, c, timeout, "working")
	if ids := clients(t, admin, name); len(ids) == 0 || slices.ContainsFunc(ids, func(id string) bool { return slices.Contains(first, id) }) {
		t.Errorf("connections after CLIENT KILL of %v and a run: %v, want new ones", first, ids)
	}
	if err := c.Close(); err != nil {
		t.Errorf("Close() = %v", err)
	}
	waitClients(t, admin, name, 0)
	noLeak(t, before)
}

// TestKeptConnectionKilled kills the kept connection, as an administrator
// or a restart does: the next run connects again and passes.
func TestKeptConnectionKilled(t *testing.T) {
	healthy := server(t)
	admin := mustClient(t, healthy)
	before := goleak.IgnoreCurrent()
	c, name := kept(t, healthy, time.Minute)
	assertKeeps(t, c, admin, name, 1, before)
}

// TestKeptConnectionSevered: a kept connection that looks open but is dead
// (its server end went away without a word, so go-redis cannot tell before
// it writes) fails the PING; the run tries a new client and passes.
func TestKeptConnectionSevered(t *testing.T) {
	healthy := server(t)
	u, err := url.Parse(healthy)
	if err != nil {
		t.Fatal(err)
	}
	p := newProxy(t, u.Host)
	u.Host = p.addr
	c, _ := kept(t, u.String(), time.Minute)
	healthjobtest.AssertStatus(t, c, timeout, "working")
	p.sever()
	healthjobtest.AssertStatus(t, c, timeout, "working")
	if n := p.accepted.Load(); n != 2 {
		t.Errorf("%d connections to the proxy, want 2: the severed one and the new client's", n)
	}
	healthjobtest.AssertStatus(t, c, timeout, "working")
	if n := p.accepted.Load(); n != 2 {
		t.Errorf("%d connections to the proxy after a third run, want 2: the new client is kept", n)
	}
}

// TestKeptConnectionServerDown: when the server goes down, a check that
// kept a connection fails with the very text of one that connects afresh,
// within its deadline, whether the server closed the connection or it went
// silent; and when the server hangs, with Timeout.
func TestKeptConnectionServerDown(t *testing.T) {
	healthy := server(t)
	u, err := url.Parse(healthy)
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		name string
		fail func(*proxy)
		want string
	}{
		{"Closed", (*proxy).down, "unavailable: Unable to connect to Redis: Connection was refused."},
		{"Severed", func(p *proxy) { p.sever(); p.ln.Close() }, "unavailable: Unable to connect to Redis: Connection was refused."},
		{"Hangs", (*proxy).freeze, "unavailable: Unable to connect to Redis: Timeout."},
	} {
		t.Run(tt.name, func(t *testing.T) {
			p := newProxy(t, u.Host)
			v := *u
			v.Host = p.addr
			c, _ := kept(t, v.String(), time.Minute)
			healthjobtest.AssertStatus(t, c, timeout, "working")
			tt.fail(p)
			healthjobtest.AssertStatus(t, c, timeout, tt.want)
			healthjobtest.AssertStatus(t, c, timeout, tt.want) // on a new client: none was kept
		})
	}
}

// TestKeptStatus: a check that keeps its connection fails with the texts of
// one that does not, and keeps nothing of a run that failed.
func TestKeptStatus(t *testing.T) {
	healthy := server(t)
	for _, tt := range []struct{ name, url, want string }{
		{"ServerDown", "redis://" + healthjobtest.ClosedPort(t) + "/0", "unavailable: Unable to connect to Redis: Connection was refused."},
		{"Hangs", "redis://" + healthjobtest.Blackhole(t) + "/0", "unavailable: Unable to connect to Redis: Timeout."},
		{"NoSuchDatabase", withPath(t, healthy, "/99"), "unavailable: Unable to connect to Redis: Connection Error: ERR DB index is out of range"},
		{"NotRedis", "redis://" + garbage(t) + "/0", "unavailable: Unknown error"},
		{"NotTLS", "rediss://" + garbage(t) + "/0", "unavailable: Unable to connect to Redis: Connection Error: tls: first record does not look like a TLS handshake"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			before := goleak.IgnoreCurrent()
			c := mustNew(t, redis.Config{URL: tt.url, ConnMaxAge: time.Minute})
			healthjobtest.AssertStatus(t, c, timeout, tt.want)
			healthjobtest.AssertStatus(t, c, timeout, tt.want)
			noLeak(t, before) // a failed run keeps no client
		})
	}
	c := mustNew(t, redis.Config{URL: healthy, ConnMaxAge: time.Minute})
	defer c.Close()
	healthjobtest.Conformance(t, c)
}

func TestNewConnMaxAge(t *testing.T) {
	_, err := redis.New(redis.Config{ConnMaxAge: -time.Second})
	if want := "redis: ConnMaxAge must be 0 or more, got -1s"; err == nil || err.Error() != want {
		t.Errorf("New(ConnMaxAge -1s) = %v, want %q", err, want)
	}
}

// noLeak fails the test unless, within 5 seconds, no goroutines run but
// those of before. goleak alone waits half a second: the probe go-redis
// starts after a failed dial sleeps a second before it sees its client
// closed.
func noLeak(t *testing.T, before goleak.Option) {
	t.Helper()
	err := goleak.Find(before)
	for deadline := time.Now().Add(5 * time.Second); err != nil && time.Now().Before(deadline); err = goleak.Find(before) {
		time.Sleep(50 * time.Millisecond)
	}
	if err != nil {
		t.Error(err)
	}
}

// proxy forwards the connections it accepts to a server, and can make that
// server look down, dead or hung.
type proxy struct {
	addr     string
	target   string
	ln       net.Listener
	accepted atomic.Int64

	mu     sync.Mutex
	pairs  []*pair
	frozen bool
	closed bool
	held   []net.Conn // connections accepted while frozen
	wg     sync.WaitGroup
	once   sync.Once
}

// pair is a client's connection to the proxy and the proxy's to the server.
type pair struct {
	client, server net.Conn
	severed        atomic.Bool // the server end is gone; the client's stays open until it writes
}

func newProxy(t *testing.T, target string) *proxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &proxy{addr: ln.Addr().String(), target: target, ln: ln}
	p.wg.Go(p.serve)
	t.Cleanup(p.down)
	return p
}

func (p *proxy) serve() {
	for {
		client, err := p.ln.Accept()
		if err != nil {
			return
		}
		p.accepted.Add(1)
		p.mu.Lock()
		closed, frozen := p.closed, p.frozen
		if frozen && !closed {
			p.held = append(p.held, client)
		}
		p.mu.Unlock()
		if closed {
			client.Close()
		}
		if closed || frozen {
			continue
		}
		server, err := net.Dial("tcp", p.target)
		if err != nil {
			client.Close()
			continue
		}
		pr := &pair{client: client, server: server}
		p.mu.Lock()
		if p.closed {
			p.mu.Unlock()
			client.Close()
			server.Close()
			continue
		}
		p.pairs = append(p.pairs, pr)
		p.mu.Unlock()
		p.wg.Go(func() { pr.toServer(p) })
		p.wg.Go(func() {
			buf := make([]byte, 4096)
			for {
				n, err := server.Read(buf)
				if err != nil {
					if !pr.severed.Load() {
						client.Close()
					}
					return
				}
				if _, err := client.Write(buf[:n]); err != nil {
					return
				}
			}
		})
	}
}

// toServer forwards what the client writes, unless the pair was severed or
// the proxy frozen: then the client's connection is closed (severed) or its
// bytes dropped (frozen) once it writes.
func (pr *pair) toServer(p *proxy) {
	buf := make([]byte, 4096)
	for {
		n, err := pr.client.Read(buf)
		if err != nil {
			pr.server.Close()
			return
		}
		if pr.severed.Load() {
			pr.client.Close()
			return
		}
		p.mu.Lock()
		frozen := p.frozen
		p.mu.Unlock()
		if frozen {
			continue
		}
		if _, err := pr.server.Write(buf[:n]); err != nil {
			return
		}
	}
}

// sever closes the connections to the server but leaves the clients' open,
// as a server that vanished without a FIN (a host gone, a NAT entry
// dropped): a client learns of it only when it writes.
func (p *proxy) sever() {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, pr := range p.pairs {
		pr.severed.Store(true)
		pr.server.Close()
	}
}

// freeze drops what the clients write and holds new connections without a
// server: the server hangs.
func (p *proxy) freeze() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.frozen = true
}

// down closes the listener and every connection: the server is down.
func (p *proxy) down() {
	p.once.Do(func() {
		p.ln.Close()
		p.mu.Lock()
		p.closed = true
		for _, pr := range p.pairs {
			pr.client.Close()
			pr.server.Close()
		}
		for _, c := range p.held {
			c.Close()
		}
		p.mu.Unlock()
		p.wg.Wait()
	})
}
