package sqldb

import (
	"fmt"
	"net/url"
	"strings"
)

// Driver names of database/sql, as the drivers register themselves.
const (
	DriverSQLite   = "sqlite" // modernc.org/sqlite
	DriverPostgres = "pgx"    // github.com/jackc/pgx/v5/stdlib
	DriverMySQL    = "mysql"  // github.com/go-sql-driver/mysql
)

// ParseURL translates a database URL into a database/sql driver name and the
// driver's own DSN. The forms are sqlite:PATH (sqlite::memory: for memory),
// postgres://user:pass@host:5432/db?sslmode=… (or postgresql://) and
// mysql://user:pass@host:3306/db (MariaDB too). Errors never show a password.
func ParseURL(raw string) (driver, dsn string, err error) {
	scheme, rest, ok := strings.Cut(raw, ":")
	if !ok {
		return "", "", fmt.Errorf("database URL %q has no scheme; want sqlite:PATH, postgres://… or mysql://…", Redact(raw))
	}
	switch strings.ToLower(scheme) {
	case "sqlite", "sqlite3":
		path := strings.TrimPrefix(rest, "//")
		if path == "" {
			return "", "", fmt.Errorf("database URL %q names no file; want sqlite:PATH, e.g. sqlite:healthjob.db", raw)
		}
		return DriverSQLite, path, nil
	case "postgres", "postgresql":
		u, err := url.Parse(raw)
		if err != nil || u.Host == "" {
			return "", "", fmt.Errorf("database URL %q is not a postgres://user:pass@host:5432/db URL", Redact(raw))
		}
		return DriverPostgres, raw, nil
	case "mysql", "mariadb":
		u, err := url.Parse(raw)
		if err != nil || u.Host == "" {
			return "", "", fmt.Errorf("database URL %q is not a mysql://user:pass@host:3306/db URL", Redact(raw))
		}
		return DriverMySQL, mysqlDSN(u), nil
	}
	return "", "", fmt.Errorf("database URL %q: unknown scheme %q; want sqlite, postgres or mysql", Redact(raw), scheme)
}

// mysqlDSN renders u in go-sql-driver/mysql's form: user:pass@tcp(host:port)/db?params.
func mysqlDSN(u *url.URL) string {
	var b strings.Builder
	if u.User != nil {
		b.WriteString(u.User.Username())
		if p, ok := u.User.Password(); ok {
			b.WriteString(":" + p)
		}
		b.WriteString("@")
	}
	host := u.Host
	if u.Port() == "" {
		host += ":3306"
	}
	b.WriteString("tcp(" + host + ")/" + strings.TrimPrefix(u.Path, "/"))
	q := u.Query()
	if !q.Has("parseTime") {
		q.Set("parseTime", "true")
	}
	b.WriteString("?" + q.Encode())
	return b.String()
}

// Redact hides the password of a database URL.
func Redact(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || u.User == nil {
		return raw
	}
	if _, ok := u.User.Password(); !ok {
		return raw
	}
	u.User = url.UserPassword(u.User.Username(), "xxxxx")
	return strings.Replace(u.String(), "xxxxx", "*****", 1)
}
