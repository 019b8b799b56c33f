// Package sqlite checks an SQLite database file through modernc.org/sqlite,
// with the two checks of package sqldb:
//
//   - kind sqldb.Backend (default name DatabaseBackend, after
//     django-health-check's health_check.db) creates the scratch table
//     healthjob_scratch unless it exists, then inserts, updates and deletes
//     a row in one transaction. Texts: `working`, `unexpected result:
//     Integrity Error`, `unavailable: Database error: <reason>`.
//   - kind sqldb.HeartBeat (default name DatabaseHeartBeatCheck, after
//     db_heartbeat) runs SELECT 1. Texts: `working`, `unavailable: Health
//     Check query did not return the expected result.`, `unavailable:
//     Database health check failed: <reason>`.
//
// Each run opens the file and closes it before returning; like SQLite, it
// creates a missing file. A write lock held by another connection is waited
// for until the run's deadline. The reason is SQLite's message (`unable to
// open database file (14)`, `file is not a database (26)`) or `timed out`.
package sqlite

import (
	"errors"
	"fmt"

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
	// Kind is sqldb.Backend (the zero value) or sqldb.HeartBeat.
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
		return nil, err
	}
	if driver != sqldb.DriverSQLite {
		return nil, fmt.Errorf("database URL %q is not a sqlite:PATH URL", sqldb.Redact(cfg.URL))
	}
	connector, err := sqlite.NewConnector(sqldb.WithBusyTimeout(dsn))
	if err != nil {
		return nil, fmt.Errorf("database URL %q: %w", cfg.URL, err)
	}
	return sqldb.New(sqldb.Config{Name: cfg.Name, Alias: cfg.Alias, Kind: cfg.Kind, Dialect: Dialect, Connector: connector})
}
