// Package testdb gives tests a database of their own on the machine's
// shared PostgreSQL and MySQL/MariaDB servers: created empty, dropped when
// the test ends, so that tests of several packages never see each other's
// rows.
package testdb

import (
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"net/url"
	"strings"
	"testing"

	"github.com/healthjob/healthjob/checks/sqldb"
	"github.com/healthjob/healthjob/healthjobtest"

	_ "github.com/go-sql-driver/mysql" // the MySQL driver
	_ "github.com/jackc/pgx/v5/stdlib" // the PostgreSQL driver
)

// PostgresURL is the server the tests use: HEALTHJOB_POSTGRES_URL, or the
// machine's own.
var PostgresURL = healthjobtest.Env("HEALTHJOB_POSTGRES_URL", "postgres://postgres@127.0.0.1:5432/test?sslmode=disable")

// MySQLURL is the MySQL or MariaDB server the tests use:
// HEALTHJOB_MYSQL_URL, or the machine's own.
var MySQLURL = healthjobtest.Env("HEALTHJOB_MYSQL_URL", "mysql://root@127.0.0.1:3306/test")

// Postgres creates the database <prefix>_<random> for the test on the
// PostgreSQL server of serverURL (PostgresURL, usually), drops it (with any
// connection left) when the test ends, and returns its URL. why names what
// needs it, for the skip (or failure) when the server is missing.
func Postgres(tb testing.TB, serverURL, prefix, why string) string {
	tb.Helper()
	return create(tb, serverURL, prefix, why, " WITH (FORCE)")
}

// MySQL does as Postgres on the MySQL or MariaDB server of serverURL
// (MySQLURL, usually).
func MySQL(tb testing.TB, serverURL, prefix, why string) string {
	tb.Helper()
	return create(tb, serverURL, prefix, why, "")
}

// create makes the database and drops it, with dropOptions, at the end.
func create(tb testing.TB, serverURL, prefix, why, dropOptions string) string {
	tb.Helper()
	u, err := url.Parse(serverURL)
	if err != nil {
		tb.Fatal(err)
	}
	healthjobtest.NeedService(tb, u.Host, why)
	driver, dsn, err := sqldb.ParseURL(serverURL)
	if err != nil {
		tb.Fatal(err)
	}
	admin, err := sql.Open(driver, dsn)
	if err != nil {
		tb.Fatal(err)
	}
	b := make([]byte, 6)
	rand.Read(b)
	name := strings.TrimSuffix(prefix, "_") + "_" + hex.EncodeToString(b)
	if _, err := admin.Exec("CREATE DATABASE " + name); err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() {
		if _, err := admin.Exec("DROP DATABASE " + name + dropOptions); err != nil {
			tb.Errorf("drop the test database: %v", err)
		}
		admin.Close()
	})
	u.Path = "/" + name
	return u.String()
}
