// Package mysql checks a MySQL or MariaDB database through
// go-sql-driver/mysql,
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
// With Config.ConnMaxAge 0 each run opens one connection under the run's
// deadline (the driver honours it while dialling, in the handshake and in
// every query) and closes it before returning. Otherwise the check keeps its
// connection between runs for at most ConnMaxAge, sparing each run a connect
// and a login. A kept connection that the server closed (KILL, wait_timeout,
// a restart) is noticed when a run takes it and replaced by a new one, so
// only a server that really fails makes the run fail; a login that starts to
// fail shows when the kept connection is replaced, at most ConnMaxAge later.
// Close the check to release the connection.
//
// The reason is the server's message (`Unknown database 'app'`, `Access
// denied for user 'app'@'10.0.0.7' (using password: YES)`), the network
// error (`dial tcp 10.0.0.5:3306: connect: connection refused`) or `timed
// out` for a server that does not answer.
package mysql

import (
	"errors"
	"fmt"
	"io"
	"log"
	"time"

	"github.com/go-sql-driver/mysql"
	"github.com/healthjob/healthjob"
	"github.com/healthjob/healthjob/checks/sqldb"
)

// Config configures a MySQL check.
type Config struct {
	// URL is the database's URL: mysql://user:pass@host:3306/db
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

// Check is a MySQL check.
type Check = sqldb.Check

var _ healthjob.Check = (*Check)(nil)

// errCheckConstraint is MySQL's ER_CHECK_CONSTRAINT_VIOLATED, the one
// integrity error whose SQLSTATE is not of class 23.
const errCheckConstraint = 3819

// Dialect reads MySQL's and MariaDB's errors, for sqldb.New over a pool of
// your own.
var Dialect = sqldb.Dialect{
	IsIntegrity: func(err error) bool {
		var me *mysql.MySQLError
		return errors.As(err, &me) && (string(me.SQLState[:2]) == "23" || me.Number == errCheckConstraint)
	},
	Message: func(err error) string {
		var me *mysql.MySQLError
		if errors.As(err, &me) {
			return me.Message
		}
		return ""
	},
}

// New returns a check of the MySQL database at cfg.URL. It connects to
// nothing until the check runs.
func New(cfg Config) (*Check, error) {
	driver, dsn, err := sqldb.ParseURL(cfg.URL)
	if err != nil {
		return nil, err
	}
	if driver != sqldb.DriverMySQL {
		return nil, fmt.Errorf("database URL %q is not a mysql:// URL", sqldb.Redact(cfg.URL))
	}
	conf, err := mysql.ParseDSN(dsn)
	if err != nil {
		return nil, fmt.Errorf("database URL %q: %w", sqldb.Redact(cfg.URL), err)
	}
	// The driver logs each broken connection; the check's status says it.
	conf.Logger = log.New(io.Discard, "", 0)
	connector, err := mysql.NewConnector(conf)
	if err != nil {
		return nil, fmt.Errorf("database URL %q: %w", sqldb.Redact(cfg.URL), err)
	}
	return sqldb.New(sqldb.Config{Name: cfg.Name, Alias: cfg.Alias, Kind: cfg.Kind, Dialect: Dialect, Connector: connector, ConnMaxAge: cfg.ConnMaxAge})
}
