// Package sqlite checks an SQLite database file through modernc.org/sqlite,
// as django-health-check's health_check.db (kind sqldb.Backend, default name
// DatabaseBackend) and db_heartbeat (kind sqldb.HeartBeat, default name
// DatabaseHeartBeatCheck) do. Each run opens the file, under the run's
// deadline, and closes it before returning; see package sqldb for the steps
// and the status texts. A Backend check waits for a writer that holds the
// database locked until the deadline, then reports
// `unavailable: Database error: timed out`.
package sqlite

import (
	"errors"
	"fmt"
	"strings"

	"github.com/healthjob/healthjob"
	"github.com/healthjob/healthjob/checks/sqldb"
	"modernc.org/sqlite"
)

// Config configures an SQLite check.
type Config struct {
	// URL is the database's URL: sqlite:PATH.
	URL string
	// Alias names the database among several checked ones; default "default".
	Alias string
	// Name overrides the default name (see sqldb.DefaultName).
	Name string
	Kind sqldb.Kind
}

// Check is an SQLite check.
type Check = sqldb.Check

var _ healthjob.Check = (*Check)(nil)

// constraint is SQLITE_CONSTRAINT, the primary result code of every
// constraint violation; the extended codes keep it in their low byte.
const constraint = 19

// Dialect reads SQLite's errors, for sqldb.New over a pool of your own.
var Dialect = sqldb.Dialect{
	IsIntegrity: func(err error) bool {
		var se *sqlite.Error
		return errors.As(err, &se) && se.Code()&0xff == constraint
	},
}

// New returns a check of the SQLite database at cfg.URL. It opens nothing
// until the check runs; like SQLite, it creates a missing database file.
func New(cfg Config) (*Check, error) {
	driver, dsn, err := sqldb.ParseURL(cfg.URL)
	if err != nil {
		return nil, fmt.Errorf("sqlite: %w", err)
	}
	if driver != sqldb.DriverSQLite {
		return nil, fmt.Errorf("sqlite: database URL %q is not a sqlite:PATH URL", sqldb.Redact(cfg.URL))
	}
	connector, err := sqlite.NewConnector(withBusyTimeout(dsn))
	if err != nil {
		return nil, fmt.Errorf("sqlite: database URL %q: %w", cfg.URL, err)
	}
	return sqldb.New(sqldb.Config{Name: cfg.Name, Alias: cfg.Alias, Kind: cfg.Kind, Dialect: Dialect, Connector: connector})
}

// withBusyTimeout makes a connection wait for a lock held by another writer
// (healthjob's own store, say) instead of failing at once with "database is
// locked"; the driver ends the wait when the run's deadline passes, so the
// timeout only needs to be longer than any deadline. A DSN that sets its own
// busy timeout keeps it.
func withBusyTimeout(dsn string) string {
	if strings.Contains(dsn, "busy_timeout") || strings.Contains(dsn, "_timeout=") {
		return dsn
	}
	sep := "?"
	if strings.Contains(dsn, "?") {
		sep = "&"
	}
	return dsn + sep + "_busy_timeout=3600000"
}
