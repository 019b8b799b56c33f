// Package postgres checks a PostgreSQL database through pgx (its
// database/sql driver),
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
// deadline and closes it before returning. Otherwise the check keeps its
// connection between runs for at most ConnMaxAge, sparing each run a TCP
// connect, a login and a server process. Each run pings the kept connection
// first and replaces it when the server closed it (pg_terminate_backend,
// idle_session_timeout, a restart), so only a server that really fails makes
// the run fail; a login that starts to fail shows when the kept connection
// is replaced, at most ConnMaxAge later. Close the check to release the
// connection.
//
// The reason is the server's message (`database "app" does not exist`), the
// network error (`dial tcp 10.0.0.5:5432: connect: connection refused`) or
// `timed out` for a server that does not answer.
package postgres

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/healthjob/healthjob"
	"github.com/healthjob/healthjob/checks/sqldb"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/stdlib"
)

// Config configures a PostgreSQL check.
type Config struct {
	// URL is the database's URL: postgres://user:pass@host:5432/db?sslmode=…
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

// Check is a PostgreSQL check.
type Check = sqldb.Check

var _ healthjob.Check = (*Check)(nil)

// Dialect reads PostgreSQL's errors, for sqldb.New over a pool of your own.
var Dialect = sqldb.Dialect{
	IsIntegrity: func(err error) bool {
		var pe *pgconn.PgError
		return errors.As(err, &pe) && strings.HasPrefix(pe.Code, "23") // class 23: integrity constraint violation
	},
	Message: func(err error) string {
		var pe *pgconn.PgError
		if errors.As(err, &pe) {
			return pe.Message
		}
		return ""
	},
}

// New returns a check of the PostgreSQL database at cfg.URL. It connects to
// nothing until the check runs.
func New(cfg Config) (*Check, error) {
	driver, dsn, err := sqldb.ParseURL(cfg.URL)
	if err != nil {
		return nil, err
	}
	if driver != sqldb.DriverPostgres {
		return nil, fmt.Errorf("database URL %q is not a postgres:// URL", sqldb.Redact(cfg.URL))
	}
	conf, err := pgx.ParseConfig(dsn) // its errors hide the password
	if err != nil {
		return nil, err
	}
	// A kept connection is pinged when a run takes it (once a run), so that
	// one the server closed is replaced instead of failing the run; pgx
	// pings only one that was idle for more than a second.
	ping := stdlib.OptionShouldPing(func(context.Context, stdlib.ShouldPingParams) bool { return true })
	return sqldb.New(sqldb.Config{Name: cfg.Name, Alias: cfg.Alias, Kind: cfg.Kind, Dialect: Dialect,
		Connector: stdlib.GetConnector(*conf, ping), ConnMaxAge: cfg.ConnMaxAge})
}
