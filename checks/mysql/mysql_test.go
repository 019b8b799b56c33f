package mysql_test

import (
	"database/sql"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/healthjob/healthjob/checks/mysql"
	"github.com/healthjob/healthjob/checks/sqldb"
	"github.com/healthjob/healthjob/healthjobtest"
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
