package mysql_test

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

	"github.com/healthjob/healthjob/checks/mysql"
	"github.com/healthjob/healthjob/checks/sqldb"
	"github.com/healthjob/healthjob/healthjobtest"
	"go.uber.org/goleak"
)

// The user healthjob has the password rightPassword. The URLs of failing
// checks carry password where they carry one, and no status text may show it.
const (
	rightPassword = "r1ght/p@ss:w?rd%&"
	password      = "s3cr3t-pa55"
)

// server returns the test server's URL, skipping the test when nothing
// listens there.
func server(t *testing.T) *url.URL {
	t.Helper()
	u, err := url.Parse(healthjobtest.Env("HEALTHJOB_MYSQL_URL", "mysql://root@127.0.0.1:3306/test"))
	if err != nil {
		t.Fatal(err)
	}
	healthjobtest.NeedService(t, u.Host, "MySQL or MariaDB (HEALTHJOB_MYSQL_URL)")
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
	driver, dsn, err := sqldb.ParseURL(rawURL)
	if err != nil {
		t.Fatal(err)
	}
	db, err := sql.Open(driver, dsn)
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

func mustNew(t *testing.T, cfg mysql.Config) *mysql.Check {
	t.Helper()
	c, err := mysql.New(cfg)
	if err != nil {
		t.Fatalf("New(%q): %v", cfg.URL, err)
	}
	return c
}

func TestStatus(t *testing.T) {
	srv := server(t)
	exec(t, srv.String(),
		"CREATE USER IF NOT EXISTS 'healthjob'@'%'",
		"ALTER USER 'healthjob'@'%' IDENTIFIED BY '"+rightPassword+"'",
		"GRANT ALL ON "+strings.TrimPrefix(srv.Path, "/")+".* TO 'healthjob'@'%'",
	)
	down := healthjobtest.ClosedPort(t)
	tests := []struct {
		name   string
		url    string
		reason string // after "Database error: " and "Database health check failed: "; "" for working
	}{
		{"healthy", srv.String(), ""},
		{"healthy, a password with URL characters", variant(srv, func(u *url.URL) { u.User = url.UserPassword("healthjob", rightPassword) }), ""},
		{"server down", variant(srv, func(u *url.URL) { u.Host = down; u.User = url.UserPassword("root", password) }),
			"dial tcp " + down + ": connect: connection refused"},
		{"unknown database", variant(srv, func(u *url.URL) { u.Path = "/healthjob_missing" }),
			"Unknown database 'healthjob_missing'"},
		{"wrong password", variant(srv, func(u *url.URL) { u.User = url.UserPassword("healthjob", password) }),
			"Access denied for user 'healthjob'@'127.0.0.1' (using password: YES)"},
		{"unknown user", variant(srv, func(u *url.URL) { u.User = url.UserPassword("healthjob_nobody", password) }),
			"Access denied for user 'healthjob_nobody'@'127.0.0.1' (using password: YES)"},
		{"server never answers", variant(srv, func(u *url.URL) {
			u.Host = healthjobtest.Blackhole(t)
			u.User = url.UserPassword("root", password)
		}),
			"timed out"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for kind, prefix := range map[sqldb.Kind]string{
				sqldb.Backend:   "unavailable: Database error: ",
				sqldb.HeartBeat: "unavailable: Database health check failed: ",
			} {
				want := "working"
				if tt.reason != "" {
					want = prefix + tt.reason
				}
				// The exact texts prove that the password is not shown.
				healthjobtest.AssertStatus(t, mustNew(t, mysql.Config{URL: tt.url, Kind: kind}), time.Second, want)
			}
		})
	}
}

// TestIntegrityError gives the scratch table, in a database of its own, a
// constraint that the check's update breaks.
func TestIntegrityError(t *testing.T) {
	srv := server(t)
	exec(t, srv.String(),
		"DROP DATABASE IF EXISTS healthjob_integrity",
		"CREATE DATABASE healthjob_integrity",
		"CREATE TABLE healthjob_integrity."+sqldb.ScratchTable+" (id VARCHAR(32) PRIMARY KEY, title VARCHAR(20) NOT NULL CHECK (title <> 'newtest'))",
	)
	t.Cleanup(func() { exec(t, srv.String(), "DROP DATABASE healthjob_integrity") })
	healthjobtest.AssertStatus(t, mustNew(t, mysql.Config{URL: variant(srv, func(u *url.URL) { u.Path = "/healthjob_integrity" })}), 5*time.Second, "unexpected result: Integrity Error")
}

func TestNewErrors(t *testing.T) {
	tests := []struct {
		url, want string
	}{
		{"postgres://root:secret@db/app", `database URL "postgres://root:*****@db/app" is not a mysql:// URL`},
		{"mysql:///app", `database URL "mysql:///app" is not a mysql://user:pass@host:3306/db URL`},
		{"mysql://u:secret@db/app?parseTime=maybe", `database URL "mysql://u:*****@db/app?parseTime=maybe": invalid bool value: maybe`},
	}
	for _, tt := range tests {
		_, err := mysql.New(mysql.Config{URL: tt.url})
		if err == nil || err.Error() != tt.want {
			t.Errorf("New(%q) = %v, want %q", tt.url, err, tt.want)
		}
	}
}

func TestConformance(t *testing.T) {
	srv := server(t)
	healthjobtest.Conformance(t, mustNew(t, mysql.Config{URL: srv.String()}))
	healthjobtest.Conformance(t, mustNew(t, mysql.Config{URL: srv.String(), Kind: sqldb.HeartBeat, Alias: "replica"}))
}

// kept returns a check of a database of its own on srv, which keeps its
// connection for age, and that database's name, to find the check's
// connection in the process list. The check is closed with the test.
func kept(t *testing.T, srv *url.URL, kind sqldb.Kind, age time.Duration) (*mysql.Check, string) {
	t.Helper()
	db := "healthjob_kept_" + strings.ToLower(rand.Text()[:10])
	exec(t, srv.String(), "CREATE DATABASE "+db)
	t.Cleanup(func() { exec(t, srv.String(), "DROP DATABASE "+db) })
	c := mustNew(t, mysql.Config{URL: variant(srv, func(u *url.URL) { u.Path = "/" + db }), Kind: kind, ConnMaxAge: age})
	t.Cleanup(func() { c.Close() })
	return c, db
}

// connections returns the ids of the connections using the database db.
func connections(t *testing.T, srv *url.URL, db string) []int {
	t.Helper()
	driver, dsn, err := sqldb.ParseURL(srv.String())
	if err != nil {
		t.Fatal(err)
	}
	pool, err := sql.Open(driver, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	rows, err := pool.Query("SELECT id FROM information_schema.processlist WHERE db = ? ORDER BY id", db)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var ids []int
	for rows.Next() {
		var id int
		if err := rows.Scan(&id); err != nil {
			t.Fatal(err)
		}
		ids = append(ids, id)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return ids
}

// connection returns the id of the one connection using db, waiting for
// the others, which a client has closed, to end.
func connection(t *testing.T, srv *url.URL, db string) int {
	t.Helper()
	var ids []int
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		if ids = connections(t, srv, db); len(ids) == 1 {
			return ids[0]
		}
	}
	t.Fatalf("connections using %s: %v, want one", db, ids)
	return 0
}

// noConnection waits until no connection uses db.
func noConnection(t *testing.T, srv *url.URL, db string) {
	t.Helper()
	var ids []int
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		if ids = connections(t, srv, db); len(ids) == 0 {
			return
		}
	}
	t.Fatalf("connections using %s: %v, want none", db, ids)
}

// TestKeptConnection: the runs share one connection; Close ends it and
// leaves no goroutine behind.
func TestKeptConnection(t *testing.T) {
	srv := server(t)
	for _, kind := range []sqldb.Kind{sqldb.Backend, sqldb.HeartBeat} {
		before := goleak.IgnoreCurrent()
		c, db := kept(t, srv, kind, time.Minute)
		healthjobtest.AssertStatus(t, c, 5*time.Second, "working")
		first := connection(t, srv, db)
		healthjobtest.AssertStatus(t, c, 5*time.Second, "working")
		if id := connection(t, srv, db); id != first {
			t.Errorf("%s: second run on connection %d, want %d, the first run's", c.Name(), id, first)
		}
		if err := c.Close(); err != nil {
			t.Errorf("%s: Close() = %v", c.Name(), err)
		}
		noConnection(t, srv, db)
		goleak.VerifyNone(t, before)
	}
}

// TestConnectionPerRun: with ConnMaxAge 0 no connection outlives a run.
func TestConnectionPerRun(t *testing.T) {
	srv := server(t)
	c, db := kept(t, srv, sqldb.HeartBeat, 0)
	healthjobtest.AssertStatus(t, c, 5*time.Second, "working")
	noConnection(t, srv, db)
}

// TestKeptConnectionAged: a connection older than ConnMaxAge is replaced.
func TestKeptConnectionAged(t *testing.T) {
	srv := server(t)
	const age = 200 * time.Millisecond
	c, db := kept(t, srv, sqldb.HeartBeat, age)
	healthjobtest.AssertStatus(t, c, 5*time.Second, "working")
	first := connection(t, srv, db)
	time.Sleep(age) // the connection ages
	healthjobtest.AssertStatus(t, c, 5*time.Second, "working")
	if id := connection(t, srv, db); id == first {
		t.Errorf("run after ConnMaxAge on connection %d, the first run's; want a new connection", id)
	}
}

// TestKeptConnectionKilled kills the kept connection, as an administrator
// or wait_timeout does: the next run connects again and passes.
func TestKeptConnectionKilled(t *testing.T) {
	srv := server(t)
	for _, kind := range []sqldb.Kind{sqldb.Backend, sqldb.HeartBeat} {
		c, db := kept(t, srv, kind, time.Minute)
		healthjobtest.AssertStatus(t, c, 5*time.Second, "working")
		first := connection(t, srv, db)
		exec(t, srv.String(), fmt.Sprintf("KILL %d", first))
		noConnection(t, srv, db)
		healthjobtest.AssertStatus(t, c, 5*time.Second, "working")
		if id := connection(t, srv, db); id == first {
			t.Errorf("%s: run after KILL on connection %d, the killed one", c.Name(), id)
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
		c := mustNew(t, mysql.Config{URL: variant(srv, func(u *url.URL) { u.Host = addr }), Kind: kind, ConnMaxAge: time.Minute})
		t.Cleanup(func() { c.Close() })
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
