package postgres_test

import (
	"crypto/rand"
	"database/sql"
	"fmt"
	"io"
	"net"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/healthjob/healthjob/checks/postgres"
	"github.com/healthjob/healthjob/checks/sqldb"
	"github.com/healthjob/healthjob/healthjobtest"
	"go.uber.org/goleak"
)

// password is put into every URL a failing check gets: trust authentication
// ignores it, and no status text may show it.
const password = "s3cr3t-pa55"

// server returns the test server's URL, skipping the test when nothing
// listens there.
func server(t *testing.T) *url.URL {
	t.Helper()
	u, err := url.Parse(healthjobtest.Env("HEALTHJOB_POSTGRES_URL", "postgres://postgres@127.0.0.1:5432/test?sslmode=disable"))
	if err != nil {
		t.Fatal(err)
	}
	healthjobtest.NeedService(t, u.Host, "PostgreSQL (HEALTHJOB_POSTGRES_URL)")
	return u
}

// variant returns a copy of u changed by edit.
func variant(u *url.URL, edit func(u *url.URL)) string {
	v := *u
	edit(&v)
	return v.String()
}

func exec(t *testing.T, rawURL string, stmts ...string) {
	t.Helper()
	db, err := sql.Open("pgx", rawURL)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for _, s := range stmts {
		if _, err := db.Exec(s); err != nil {
			t.Fatalf("%s: %v", s, err)
		}
	}
}

func mustNew(t *testing.T, cfg postgres.Config) *postgres.Check {
	t.Helper()
	c, err := postgres.New(cfg)
	if err != nil {
		t.Fatalf("New(%q): %v", cfg.URL, err)
	}
	return c
}

func TestStatus(t *testing.T) {
	srv := server(t)
	down := healthjobtest.ClosedPort(t)
	tests := []struct {
		name   string
		url    string
		reason string // after "Database error: " and "Database health check failed: "; "" for working
	}{
		{"healthy", srv.String(), ""},
		{"server down", variant(srv, func(u *url.URL) { u.Host = down }),
			"dial tcp " + down + ": connect: connection refused"},
		{"unknown database", variant(srv, func(u *url.URL) { u.Path = "/healthjob_missing" }),
			`database "healthjob_missing" does not exist`},
		{"unknown user", variant(srv, func(u *url.URL) { u.User = url.UserPassword("healthjob_nobody", password) }),
			`role "healthjob_nobody" does not exist`},
		{"server never answers", variant(srv, func(u *url.URL) { u.Host = healthjobtest.Blackhole(t) }),
			"timed out"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			u, err := url.Parse(tt.url)
			if err != nil {
				t.Fatal(err)
			}
			if tt.reason != "" && u.User != nil {
				u.User = url.UserPassword(u.User.Username(), password)
			}
			for kind, prefix := range map[sqldb.Kind]string{
				sqldb.Backend:   "unavailable: Database error: ",
				sqldb.HeartBeat: "unavailable: Database health check failed: ",
			} {
				want := "working"
				if tt.reason != "" {
					want = prefix + tt.reason
				}
				// The exact texts prove that the password is not shown.
				healthjobtest.AssertStatus(t, mustNew(t, postgres.Config{URL: u.String(), Kind: kind}), time.Second, want)
			}
		})
	}
}

// TestIntegrityError gives the scratch table, in a schema of its own, a
// constraint that the check's update breaks.
func TestIntegrityError(t *testing.T) {
	srv := server(t)
	exec(t, srv.String(),
		"DROP SCHEMA IF EXISTS healthjob_integrity CASCADE",
		"CREATE SCHEMA healthjob_integrity",
		"CREATE TABLE healthjob_integrity."+sqldb.ScratchTable+" (id VARCHAR(32) PRIMARY KEY, title VARCHAR(20) NOT NULL CHECK (title <> 'newtest'))",
	)
	t.Cleanup(func() { exec(t, srv.String(), "DROP SCHEMA healthjob_integrity CASCADE") })
	inSchema := variant(srv, func(u *url.URL) {
		q := u.Query()
		q.Set("search_path", "healthjob_integrity")
		u.RawQuery = q.Encode()
	})
	healthjobtest.AssertStatus(t, mustNew(t, postgres.Config{URL: inSchema}), 5*time.Second, "unexpected result: Integrity Error")
}

func TestNewErrors(t *testing.T) {
	tests := []struct {
		url, want string
	}{
		{"mysql://root:secret@db/app", `database URL "mysql://root:*****@db/app" is not a postgres:// URL`},
		{"postgres://", `database URL "postgres://" is not a postgres://user:pass@host:5432/db URL`},
		{"postgres://u:secret@db/app?sslmode=sometimes", "cannot parse `postgres://u:xxxxx@db/app?sslmode=sometimes`: failed to configure TLS (sslmode is invalid)"},
	}
	for _, tt := range tests {
		_, err := postgres.New(postgres.Config{URL: tt.url})
		if err == nil || err.Error() != tt.want {
			t.Errorf("New(%q) = %v, want %q", tt.url, err, tt.want)
		}
	}
}

func TestConformance(t *testing.T) {
	srv := server(t)
	healthjobtest.Conformance(t, mustNew(t, postgres.Config{URL: srv.String()}))
	healthjobtest.Conformance(t, mustNew(t, postgres.Config{URL: srv.String(), Kind: sqldb.HeartBeat, Alias: "replica"}))
}

// kept returns a check of srv that keeps its connection for age, under an
// application_name of its own, which is returned to find its connection in
// pg_stat_activity. The check is closed with the test.
func kept(t *testing.T, srv *url.URL, kind sqldb.Kind, age time.Duration) (*postgres.Check, string) {
	t.Helper()
	app := "healthjob_" + strings.ToLower(rand.Text()[:10])
	c := mustNew(t, postgres.Config{URL: variant(srv, func(u *url.URL) {
		q := u.Query()
		q.Set("application_name", app)
		u.RawQuery = q.Encode()
	}), Kind: kind, ConnMaxAge: age})
	t.Cleanup(func() { c.Close() })
	return c, app
}

// backends returns the pids of the server processes serving the clients
// named app.
func backends(t *testing.T, srv *url.URL, app string) []int {
	t.Helper()
	db, err := sql.Open("pgx", srv.String())
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	rows, err := db.Query("SELECT pid FROM pg_stat_activity WHERE application_name = $1 ORDER BY pid", app)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var pids []int
	for rows.Next() {
		var pid int
		if err := rows.Scan(&pid); err != nil {
			t.Fatal(err)
		}
		pids = append(pids, pid)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return pids
}

// backend returns the pid of the one server process serving app, waiting
// for the others, which a client has closed, to end.
func backend(t *testing.T, srv *url.URL, app string) int {
	t.Helper()
	var pids []int
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		if pids = backends(t, srv, app); len(pids) == 1 {
			return pids[0]
		}
	}
	t.Fatalf("clients named %s: server processes %v, want one", app, pids)
	return 0
}

// noBackend waits until no server process serves app.
func noBackend(t *testing.T, srv *url.URL, app string) {
	t.Helper()
	var pids []int
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		if pids = backends(t, srv, app); len(pids) == 0 {
			return
		}
	}
	t.Fatalf("clients named %s: server processes %v, want none", app, pids)
}

// TestKeptConnection: the runs share one connection (one server process);
// Close ends it and leaves no goroutine behind.
func TestKeptConnection(t *testing.T) {
	srv := server(t)
	for _, kind := range []sqldb.Kind{sqldb.Backend, sqldb.HeartBeat} {
		before := goleak.IgnoreCurrent()
		c, app := kept(t, srv, kind, time.Minute)
		healthjobtest.AssertStatus(t, c, 5*time.Second, "working")
		first := backend(t, srv, app)
		healthjobtest.AssertStatus(t, c, 5*time.Second, "working")
		if pid := backend(t, srv, app); pid != first {
			t.Errorf("%s: second run served by process %d, want %d, the first run's", c.Name(), pid, first)
		}
		if err := c.Close(); err != nil {
			t.Errorf("%s: Close() = %v", c.Name(), err)
		}
		noBackend(t, srv, app)
		goleak.VerifyNone(t, before)
	}
}

// TestConnectionPerRun: with ConnMaxAge 0 no connection outlives a run.
func TestConnectionPerRun(t *testing.T) {
	srv := server(t)
	c, app := kept(t, srv, sqldb.HeartBeat, 0)
	healthjobtest.AssertStatus(t, c, 5*time.Second, "working")
	noBackend(t, srv, app)
}

// TestKeptConnectionAged: a connection older than ConnMaxAge is replaced.
func TestKeptConnectionAged(t *testing.T) {
	srv := server(t)
	const age = 200 * time.Millisecond
	c, app := kept(t, srv, sqldb.HeartBeat, age)
	healthjobtest.AssertStatus(t, c, 5*time.Second, "working")
	first := backend(t, srv, app)
	time.Sleep(age) // the connection ages
	healthjobtest.AssertStatus(t, c, 5*time.Second, "working")
	if pid := backend(t, srv, app); pid == first {
		t.Errorf("run after ConnMaxAge served by process %d, the first run's; want a new connection", pid)
	}
}

// TestKeptConnectionTerminated ends the kept connection's server process,
// as an administrator or idle_session_timeout does: the next run connects
// again and passes.
func TestKeptConnectionTerminated(t *testing.T) {
	srv := server(t)
	for _, kind := range []sqldb.Kind{sqldb.Backend, sqldb.HeartBeat} {
		c, app := kept(t, srv, kind, time.Minute)
		healthjobtest.AssertStatus(t, c, 5*time.Second, "working")
		first := backend(t, srv, app)
		exec(t, srv.String(), fmt.Sprintf("SELECT pg_terminate_backend(%d, 5000)", first)) // waits for it to end
		healthjobtest.AssertStatus(t, c, 5*time.Second, "working")
		if pid := backend(t, srv, app); pid == first {
			t.Errorf("%s: run after pg_terminate_backend served by process %d, the ended one", c.Name(), pid)
		}
	}
}

// TestKeptConnectionServerDown: when the server goes down, a check that
// kept a connection fails with the text of a check that connects afresh.
func TestKeptConnectionServerDown(t *testing.T) {
	srv := server(t)
	for kind, prefix := range map[sqldb.Kind]string{
		sqldb.Backend:   "unavailable: Database error: ",
		sqldb.HeartBeat: "unavailable: Database health check failed: ",
	} {
		addr, down := proxy(t, srv.Host)
		c, _ := kept(t, &url.URL{Scheme: srv.Scheme, User: srv.User, Host: addr, Path: srv.Path, RawQuery: srv.RawQuery}, kind, time.Minute)
		healthjobtest.AssertStatus(t, c, 5*time.Second, "working")
		down()
		healthjobtest.AssertStatus(t, c, 5*time.Second, prefix+"dial tcp "+addr+": connect: connection refused")
	}
}

// proxy forwards the connections it accepts to target until down is
// called, which closes them and the listener: the server then looks down.
func proxy(t *testing.T, target string) (addr string, down func()) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var (
		mu     sync.Mutex
		conns  []net.Conn
		closed bool
		wg     sync.WaitGroup
	)
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
			mu.Lock()
			if closed {
				client.Close()
				server.Close()
			}
			conns = append(conns, client, server)
			mu.Unlock()
			wg.Go(func() { io.Copy(server, client); server.Close() })
			wg.Go(func() { io.Copy(client, server); client.Close() })
		}
	})
	var once sync.Once
	down = func() {
		once.Do(func() {
			ln.Close()
			mu.Lock()
			closed = true
			for _, c := range conns {
				c.Close()
			}
			mu.Unlock()
			wg.Wait()
		})
	}
	t.Cleanup(down)
	return ln.Addr().String(), down
}
