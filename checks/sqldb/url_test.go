package sqldb_test

import (
	"testing"

	"github.com/healthjob/healthjob/checks/sqldb"
)

func TestParseURL(t *testing.T) {
	tests := []struct {
		url, driver, dsn string
	}{
		{"sqlite:healthjob.db", sqldb.DriverSQLite, "healthjob.db"},
		{"sqlite:///var/lib/healthjob/records.db", sqldb.DriverSQLite, "/var/lib/healthjob/records.db"},
		{"sqlite::memory:", sqldb.DriverSQLite, ":memory:"},
		{"SQLite3:app.db?mode=ro", sqldb.DriverSQLite, "app.db?mode=ro"},
		{"postgres://app:pw@db:5432/app?sslmode=disable", sqldb.DriverPostgres, "postgres://app:pw@db:5432/app?sslmode=disable"},
		{"postgresql://db/app", sqldb.DriverPostgres, "postgresql://db/app"},
		{"mysql://app:pw@db/app", sqldb.DriverMySQL, "app:pw@tcp(db:3306)/app?parseTime=true"},
		{"mariadb://db:3307/app?parseTime=false&tls=true", sqldb.DriverMySQL, "tcp(db:3307)/app?parseTime=false&tls=true"},
		{"mysql://app:p%40ss%2Fw%3Ard@db/app", sqldb.DriverMySQL, "app:p@ss/w:rd@tcp(db:3306)/app?parseTime=true"},
	}
	for _, tt := range tests {
		driver, dsn, err := sqldb.ParseURL(tt.url)
		if err != nil || driver != tt.driver || dsn != tt.dsn {
			t.Errorf("ParseURL(%q) = %q, %q, %v; want %q, %q", tt.url, driver, dsn, err, tt.driver, tt.dsn)
		}
	}
}

func TestParseURLErrors(t *testing.T) {
	tests := []struct {
		url, want string
	}{
		{"healthjob.db", `database URL "healthjob.db" has no scheme; want sqlite:PATH, postgres://… or mysql://…`},
		{"sqlite:", `database URL "sqlite:" names no file; want sqlite:PATH, e.g. sqlite:healthjob.db`},
		{"postgres:app", `database URL "postgres:app" is not a postgres://user:pass@host:5432/db URL`},
		{"mysql://app:secret@/app", `database URL "mysql://app:*****@/app" is not a mysql://user:pass@host:3306/db URL`},
		{"oracle://app:secret@db/app", `database URL "oracle://app:*****@db/app": unknown scheme "oracle"; want sqlite, postgres or mysql`},
	}
	for _, tt := range tests {
		_, _, err := sqldb.ParseURL(tt.url)
		if err == nil || err.Error() != tt.want {
			t.Errorf("ParseURL(%q) = %v, want %q", tt.url, err, tt.want)
		}
	}
}

func TestRedact(t *testing.T) {
	for raw, want := range map[string]string{
		"postgres://app:secret@db/app": "postgres://app:*****@db/app",
		"postgres://app@db/app":        "postgres://app@db/app",
		"sqlite:app.db":                "sqlite:app.db",
		"mysql://app:p%40ss@db/app":    "mysql://app:*****@db/app",
	} {
		if got := sqldb.Redact(raw); got != want {
			t.Errorf("Redact(%q) = %q, want %q", raw, got, want)
		}
	}
}
