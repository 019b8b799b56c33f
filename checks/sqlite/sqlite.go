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
// With Config.ConnMaxAge 0 each run opens the file and closes it before
// returning; like SQLite, it creates a missing file. Otherwise the check
// keeps its connection between runs for at most ConnMaxAge, sparing each run
// the parse of the whole schema that opening a file costs. Before each run it
// compares the file at the path with the one the kept connection opened, and
// when the file was deleted or replaced it opens the path again, so the run
// reports what a new client would see. Close the check to release the
// connection. A write lock held by another connection is waited for until
// the run's deadline. The reason is SQLite's message (`unable to
// open database file (14)`, `file is not a database (26)`) or `timed out`.
package sqlite

import (
	"context"
	"database/sql/driver"
	"errors"
	"fmt"
	"net/url"
	"os"
	"strings"
	"sync"
	"time"

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
	// ConnMaxAge is how long the check keeps its connection between runs
	// (see sqldb.Config.ConnMaxAge); 0, the zero value, opens one per run.
	// Close the check to release it.
	ConnMaxAge time.Duration
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
	if path := fileOf(dsn); path != "" && cfg.ConnMaxAge > 0 {
		connector = &fileConnector{Connector: connector, path: path}
	}
	return sqldb.New(sqldb.Config{Name: cfg.Name, Alias: cfg.Alias, Kind: cfg.Kind, Dialect: Dialect, Connector: connector, ConnMaxAge: cfg.ConnMaxAge})
}

// fileConnector remembers the file its last connection opened, so that a
// check keeping that connection can tell when the path names another file
// or none: an open SQLite connection keeps reading a file that was deleted
// or replaced, which a new client would not see.
type fileConnector struct {
	driver.Connector
	path string

	mu     sync.Mutex
	opened os.FileInfo // of the file the last connection opened; nil: unknown
}

var _ sqldb.StaleConnector = (*fileConnector)(nil)

func (c *fileConnector) Connect(ctx context.Context) (driver.Conn, error) {
	// The file is looked at before it is opened: if it is replaced in
	// between, the connection is taken for stale and opened again, never
	// the other way round.
	opened, _ := os.Stat(c.path)
	conn, err := c.Connector.Connect(ctx)
	if err != nil {
		return nil, err
	}
	if opened == nil {
		opened, _ = os.Stat(c.path) // SQLite created it
	}
	c.mu.Lock()
	c.opened = opened
	c.mu.Unlock()
	return conn, nil
}

// Stale reports whether the path no longer names the file the last
// connection opened.
func (c *fileConnector) Stale() bool {
	c.mu.Lock()
	opened := c.opened
	c.mu.Unlock()
	if opened == nil {
		return false
	}
	now, err := os.Stat(c.path)
	return err != nil || !os.SameFile(opened, now)
}

// fileOf returns the path of the file that the DSN dsn opens, as
// modernc.org/sqlite reads it (a path, or a file: URI), or "" for a
// database in memory.
func fileOf(dsn string) string {
	path, query, _ := strings.Cut(dsn, "?")
	if rest, ok := strings.CutPrefix(path, "file:"); ok {
		if values, err := url.ParseQuery(query); err != nil || values.Get("mode") == "memory" {
			return ""
		}
		if authority, ok := strings.CutPrefix(rest, "//"); ok {
			_, rest, _ = strings.Cut(authority, "/") // file://localhost/abs or file:///abs
			rest = "/" + rest
		}
		var err error
		if path, err = url.PathUnescape(rest); err != nil {
			return ""
		}
	}
	if path == "" || path == ":memory:" {
		return ""
	}
	return path
}
