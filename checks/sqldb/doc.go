// Package sqldb holds what the database checks and healthjob's own store
// share: reading database URLs (sqlite:PATH, postgres://…, mysql://…) into a
// database/sql driver name and DSN, and the two checks of a database that
// django-health-check offers, written once over database/sql for the engine
// packages postgres, mysql and sqlite.
//
// A Backend check (default name DatabaseBackend, as health_check.db names it):
//
//  1. creates the scratch table healthjob_scratch unless it exists;
//  2. in one transaction, inserts a row, updates it and deletes it, as
//     django-health-check does with its TestModel; a failure rolls the row
//     back.
//
// Its status texts: `working`; `unexpected result: Integrity Error` when a
// constraint is violated; `unavailable: Database error: <reason>` for any
// other failure.
//
// A HeartBeat check (default name DatabaseHeartBeatCheck, as db_heartbeat
// names it) runs SELECT 1. Its status texts: `working`; `unavailable: Health
// Check query did not return the expected result.` when the answer is not 1;
// `unavailable: Database health check failed: <reason>` for any failure.
//
// The reason is the server's own message when it sent one (e.g. `password
// authentication failed for user "app"`), the network error when the server
// could not be reached (`dial tcp 10.0.0.5:5432: connect: connection
// refused`), and `timed out` when the run's deadline passed first. It never
// shows a password: the drivers leave it out of their errors.
//
// Checks of several databases are told apart by their alias: the default
// names carry it in brackets unless it is "default", e.g.
// DatabaseBackend[replica].
//
// A check made from a Connector, as the engine packages make them, keeps
// its connection between runs for at most Config.ConnMaxAge (named after
// Django's CONN_MAX_AGE; the monitor's conn_max_age option, 60s unless set).
// The original monitor keeps its Django connection across cycles too, and a
// connect costs more than the check it serves: a new SQLite connection
// parses the whole schema again, a PostgreSQL one costs a TCP connect, a
// login and a server process. The connection is replaced once it is
// ConnMaxAge old or has been idle that long, so a new client's connect and
// login are still proven at least that often. A kept connection that the
// server closed (a restart, a killed session) is replaced at the next run,
// which reports what a new connection gets: a server that is down fails
// with the same text as before. An SQLite connection whose file was deleted
// or replaced is dropped before the run (StaleConnector), so the run sees
// the file a new client would. The trade-off: a login that starts to fail
// (a changed password, a revoked grant) goes unseen until the kept
// connection is replaced, and the check holds one of the server's
// connections. Close releases it. With ConnMaxAge 0 a check opens a
// connection for each run and closes it before returning, so every run
// proves a fresh connect and nothing outlives a run. A program that has a
// pool of its own can check it instead (Config.DB).
//
// Every check gives up a little before its deadline (WithMargin), so that it
// reports why in time instead of being cut off by the runner.
package sqldb
