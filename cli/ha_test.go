package cli_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net"
	"net/url"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/healthjob/healthjob/healthjobtest"
	"github.com/healthjob/healthjob/internal/lease"
	"github.com/healthjob/healthjob/internal/store"
	"github.com/healthjob/healthjob/internal/testdb"
	"github.com/redis/go-redis/v9"

	_ "github.com/jackc/pgx/v5/stdlib"
)

var (
	haPostgresURL = healthjobtest.Env("HEALTHJOB_POSTGRES_URL", "postgres://postgres@127.0.0.1:5432/test?sslmode=disable")
	haRedisURL    = healthjobtest.Env("HEALTHJOB_REDIS_URL", "redis://127.0.0.1:6379/0")
)

// haInterval is the monitors' HEALTH_CHECK_INTERVAL, and so the lease's TTL.
const haInterval = time.Second

// TestHAPostgres runs three monitors of one application whose lease is a
// row in PostgreSQL, the database they store their records in.
func TestHAPostgres(t *testing.T) {
	dbURL := testdb.Postgres(t, testdb.PostgresURL, "healthjob_ha", "HA on PostgreSQL")
	haScenario(t, dbURL, dbURL, randomID())
}

// TestHARedis runs three monitors of one application whose lease is a
// key in Redis, in a database of the tests' own and under a name of the
// test's own.
func TestHARedis(t *testing.T) {
	u, err := url.Parse(haRedisURL)
	if err != nil {
		t.Fatal(err)
	}
	healthjobtest.NeedService(t, u.Host, "HA on Redis")
	u.Path = "/11"
	name := randomID()
	t.Cleanup(func() {
		opts, err := redis.ParseURL(u.String())
		if err != nil {
			t.Fatal(err)
		}
		c := redis.NewClient(opts)
		defer c.Close()
		if err := c.Del(context.Background(), lease.KeyPrefix+name).Err(); err != nil {
			t.Errorf("delete the test's lease: %v", err)
		}
	})
	haScenario(t, testdb.Postgres(t, testdb.PostgresURL, "healthjob_ha", "HA on PostgreSQL"), u.String(), name)
}

// haScenario starts three monitors, each reaching the lock engine through
// a proxy of its own, then kills the active one with -9, then cuts the
// next active one off the lock engine, then stops them all, and checks
// the cycles they stored: one holder at a time, never two cycles at once,
// each hand-over within two intervals, every cycle a monitor ran stored
// once.
func haScenario(t *testing.T, dbURL, lockURL, name string) {
	config := `HEALTH_CHECK_INTERVAL: 1s
PERSIST_HEALTH_CHECK_DATA: true
HA_LOCK_NAME: ` + name + `
checks:
  - {type: disk, path: /}
`
	dir := t.TempDir()
	writeConfig(t, dir, config)
	env := []string{"DATABASE_URL=" + dbURL}
	if r := healthjob(t, dir, env, "migrate"); r.code != 0 {
		t.Fatalf("migrate: %d %s", r.code, r.stderr)
	}
	lock, err := url.Parse(lockURL)
	if err != nil {
		t.Fatal(err)
	}
	db, err := store.Open(context.Background(), dbURL)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()

	host, err := os.Hostname()
	if err != nil {
		t.Fatal(err)
	}
	monitors := map[string]*haMonitor{}
	for range 3 {
		p := newLockProxy(t, lock.Host)
		via := *lock
		via.Host = p.addr
		own := t.TempDir() // each on a machine of its own
		writeConfig(t, own, config+"HEALTH_CHECK_HTTP: 127.0.0.1:0\n")
		cmd, stdout, stderr := startMonitor(t, own, append([]string{"HA_LOCK_URL=" + via.String()}, env...))
		stderr.waitFor(t, `msg="serving HTTP"`, 1)
		addr := regexp.MustCompile(`msg="serving HTTP" addr=(\S+)`).FindStringSubmatch(stderr.text())[1]
		m := &haMonitor{cmd: cmd, proxy: p, stdout: stdout, stderr: stderr, metrics: "http://" + addr + "/metrics"}
		monitors[host+":"+strconv.Itoa(cmd.Process.Pid)] = m
	}
	cycles := func() []store.Cycle {
		t.Helper()
		c, err := db.Cycles(context.Background(), name, time.Time{})
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	// waitActive waits until a holder other than those of not has run
	// cycles, and returns it.
	waitActive := func(not ...string) string {
		t.Helper()
		deadline := time.Now().Add(20 * time.Second)
		tick := time.NewTicker(20 * time.Millisecond)
		defer tick.Stop()
		for range tick.C {
			for _, c := range cycles() {
				if !slices.Contains(not, c.Holder) {
					if monitors[c.Holder] == nil {
						t.Fatalf("a cycle of an unknown holder %q", c.Holder)
					}
					return c.Holder
				}
			}
			if time.Now().After(deadline) {
				var logs []string
				for holder, m := range monitors {
					logs = append(logs, holder+":\n"+m.stderr.text())
				}
				t.Fatalf("no new holder ran a cycle within 20s; cycles: %v\n%s", cycles(), strings.Join(logs, "\n"))
			}
		}
		return ""
	}
	first := waitActive()
	monitors[first].stdout.waitFor(t, "DiskUsage", 3)

	// kill -9: the lease expires, and a standby takes it over.
	killed := time.Now()
	if err := monitors[first].cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	monitors[first].cmd.Wait()
	second := waitActive(first)
	monitors[second].stdout.waitFor(t, "DiskUsage", 3)

	// Cut off from the lock engine, the active monitor stops its cycles
	// before the lease can expire, and the last standby takes it over.
	cut := time.Now()
	monitors[second].proxy.cut(true)
	third := waitActive(first, second)
	monitors[second].stderr.waitFor(t, "HA: the lease is lost: standing by", 1)
	monitors[second].proxy.cut(false)
	monitors[third].stdout.waitFor(t, "DiskUsage", 3)

	for holder, want := range map[string]float64{second: 0, third: 1} {
		if got := scrapeMetrics(t, monitors[holder].metrics, "")["healthjob_ha_active{}"]; got != want {
			t.Errorf("%s: healthjob_ha_active %v, want %v", holder, got, want)
		}
	}

	status := healthjob(t, dir, append([]string{"HA_LOCK_URL=" + lockURL}, env...), "status")
	if want := "holder:      " + third + " since "; status.code != 0 || !strings.Contains(status.stdout, want) {
		t.Errorf("status: %d\n%s%s\nwant a line with %q", status.code, status.stdout, status.stderr, want)
	}

	for _, holder := range []string{second, third} {
		m := monitors[holder]
		if err := m.cmd.Process.Signal(syscall.SIGTERM); err != nil {
			t.Fatal(err)
		}
		if err := m.cmd.Wait(); err != nil {
			t.Errorf("%s exited with %v\n%s", holder, err, m.stderr.text())
		}
	}

	all := cycles()
	var order []string
	for i, c := range all {
		if i == 0 || c.Holder != all[i-1].Holder {
			order = append(order, c.Holder)
		}
		if i > 0 && c.Started.Before(all[i-1].Finished) {
			t.Errorf("cycle %s of %s started at %s, before cycle %s of %s ended at %s",
				c.RunUUID, c.Holder, c.Started.Format(time.StampMicro), all[i-1].RunUUID, all[i-1].Holder, all[i-1].Finished.Format(time.StampMicro))
		}
	}
	if want := []string{first, second, third}; !slices.Equal(order, want) {
		t.Errorf("the cycles were run by %v in turn, want %v", order, want)
	}
	firstOf := func(holder string) time.Time {
		i := slices.IndexFunc(all, func(c store.Cycle) bool { return c.Holder == holder })
		return all[i].Started
	}
	for _, h := range []struct {
		what     string
		from, to time.Time
	}{{"kill -9", killed, firstOf(second)}, {"cut off", cut, firstOf(third)}} {
		took := h.to.Sub(h.from)
		t.Logf("after %s, the next monitor's first cycle came %v later", h.what, took.Round(time.Millisecond))
		if took > 2*haInterval {
			t.Errorf("after %s the next monitor's first cycle came %v later, want within 2 intervals (%v)", h.what, took, 2*haInterval)
		}
	}
	// Every cycle a monitor ran is stored once: what it printed, but for
	// the one in flight when it was killed.
	var records int
	if err := db.SQL().QueryRow(`SELECT count(*) FROM ` + store.Table).Scan(&records); err != nil {
		t.Fatal(err)
	}
	if records < len(all) || records > len(all)+1 {
		t.Errorf("%d records for %d cycles of one check", records, len(all))
	}
	for holder, m := range monitors {
		printed := strings.Count(m.stdout.text(), "DiskUsage")
		stored := 0
		for _, c := range all {
			if c.Holder == holder {
				stored++
			}
		}
		if printed != stored && !(holder == first && printed == stored+1) {
			t.Errorf("%s printed %d cycles and stored %d", holder, printed, stored)
		}
	}
}

type haMonitor struct {
	cmd            *proc
	proxy          *lockProxy
	stdout, stderr *lineWatcher
	metrics        string // the URL of its /metrics
}

// lockProxy forwards TCP connections to a lock engine. Cut, it stops
// forwarding in both directions but keeps the connections open, as a
// network partition does; new connections hang the same way.
type lockProxy struct {
	addr  string
	mu    sync.Mutex
	isCut bool
}

func newLockProxy(t *testing.T, target string) *lockProxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &lockProxy{addr: ln.Addr().String()}
	var wg sync.WaitGroup
	var conns sync.Map
	t.Cleanup(func() {
		ln.Close()
		conns.Range(func(c, _ any) bool { c.(net.Conn).Close(); return true })
		wg.Wait()
	})
	wg.Go(func() {
		for {
			client, err := ln.Accept()
			if err != nil {
				return
			}
			server, err := net.Dial("tcp", target)
			if err != nil {
				client.Close()
				continue
			}
			conns.Store(client, true)
			conns.Store(server, true)
			wg.Go(func() { p.pipe(server, client) })
			wg.Go(func() { p.pipe(client, server) })
		}
	})
	return p
}

func (p *lockProxy) cut(on bool) {
	p.mu.Lock()
	p.isCut = on
	p.mu.Unlock()
}

// pipe copies from src to dst, dropping what comes while cut.
func (p *lockProxy) pipe(dst, src net.Conn) {
	defer dst.Close()
	buf := make([]byte, 32<<10)
	for {
		n, err := src.Read(buf)
		p.mu.Lock()
		drop := p.isCut
		p.mu.Unlock()
		if n > 0 && !drop {
			if _, werr := dst.Write(buf[:n]); werr != nil {
				return
			}
		}
		if err != nil {
			return
		}
	}
}

func randomID() string {
	b := make([]byte, 6)
	rand.Read(b)
	return hex.EncodeToString(b)
}
