package postgres_test

import (
	"database/sql"
	"net/url"
	"testing"
	"time"

	"github.com/healthjob/healthjob/checks/postgres"
	"github.com/healthjob/healthjob/checks/sqldb"
	"github.com/healthjob/healthjob/healthjobtest"
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
