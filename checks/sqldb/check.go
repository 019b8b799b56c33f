package sqldb

import (
	"context"
	"crypto/rand"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"sync"
	"time"

	"github.com/healthjob/healthjob"
)

// Kind selects what a database check does.
type Kind int

// The kinds of database check, after django-health-check's health_check.db
// and its db_heartbeat check.
const (
	Backend   Kind = iota // write, update and delete a row of a scratch table
	HeartBeat             // run SELECT 1
)

// DefaultAlias names the database of a check that names none, as Django's
// DEFAULT_DB_ALIAS does.
const DefaultAlias = "default"

// ScratchTable is the table a Backend check writes to; it creates the table
// when it is missing.
const ScratchTable = "healthjob_scratch"

// Dialect is what the checks need to know of a database engine to read its
// errors. The engine packages (postgres, mysql, sqlite) export theirs.
type Dialect struct {
	// IsIntegrity tells whether err reports a violated constraint.
	IsIntegrity func(err error) bool
	// Message returns the server's own message in err, or "" when err
	// carries none (a network error, a timeout).
	Message func(err error) string
}

// Config configures a database check. Set exactly one of DB and Connector.
type Config struct {
	// Name overrides the default name: DatabaseBackend or
	// DatabaseHeartBeatCheck, followed by [Alias] unless Alias is "default".
	Name string
	// Alias names the database among several checked ones; default "default".
	Alias string
	Kind  Kind
	// Dialect reads the engine's errors.
	Dialect Dialect

	// DB is a pool the caller owns, e.g. the application's own; the check
	// borrows a connection per run and never closes the pool.
	DB *sql.DB
	// Connector opens connections to the database.
	Connector driver.Connector
	// ConnMaxAge is how long the check may keep a connection of its
	// Connector between runs: it is replaced once it is that old, or has
	// been idle that long, so a fresh connect and login is proven at least
	// that often. Close the check to release it. 0 opens a connection for
	// each run and closes it before the run returns.
	ConnMaxAge time.Duration
}

// StaleConnector is a Connector that can tell when its connections no
// longer reach the database it would open now, as an SQLite connection
// keeps reading a file that was deleted or replaced. Before each run, a
// check that keeps a connection asks Stale and, on true, opens another.
type StaleConnector interface {
	driver.Connector
	// Stale reports whether the database of the last connection made is no
	// longer the one a new connection would open.
	Stale() bool
}

func (cfg *Config) defaults() {
	if cfg.Alias == "" {
		cfg.Alias = DefaultAlias
	}
	if cfg.Name == "" {
		cfg.Name = DefaultName(cfg.Kind, cfg.Alias)
	}
}

// DefaultName is the name of a check of kind on the database alias:
// django-health-check's identifier, with the alias in brackets unless it is
// "default", so that checks of several databases keep distinct names.
func DefaultName(kind Kind, alias string) string {
	name := "DatabaseBackend"
	if kind == HeartBeat {
		name = "DatabaseHeartBeatCheck"
	}
	if alias != DefaultAlias {
		name += "[" + alias + "]"
	}
	return name
}

// Check is a database check: see the package documentation.
type Check struct {
	name       string
	kind       Kind
	dialect    Dialect
	db         *sql.DB
	connector  driver.Connector
	connMaxAge time.Duration

	mu   sync.Mutex
	kept *sql.DB // the pool that keeps a connection between runs; nil until a run opens it, and after Close
}

var (
	_ healthjob.Check = (*Check)(nil)
	_ io.Closer       = (*Check)(nil)
)

// New returns a check of the database that cfg describes.
func New(cfg Config) (*Check, error) {
	cfg.defaults()
	switch {
	case (cfg.DB == nil) == (cfg.Connector == nil):
		return nil, errors.New("sqldb: set exactly one of DB and Connector")
	case cfg.Kind != Backend && cfg.Kind != HeartBeat:
		return nil, fmt.Errorf("sqldb: unknown kind %d", cfg.Kind)
	case cfg.ConnMaxAge < 0:
		return nil, fmt.Errorf("sqldb: ConnMaxAge must be 0 or more, got %s", cfg.ConnMaxAge)
	case cfg.ConnMaxAge > 0 && cfg.DB != nil:
		return nil, errors.New("sqldb: ConnMaxAge is for a Connector; a DB of your own keeps its connections as you set it to (DB.SetConnMaxLifetime)")
	case len([]rune(cfg.Name)) > healthjob.MaxNameLength:
		return nil, fmt.Errorf("name %q is longer than %d characters; choose a shorter alias or set a name", cfg.Name, healthjob.MaxNameLength)
	}
	return &Check{name: cfg.Name, kind: cfg.Kind, dialect: cfg.Dialect, db: cfg.DB, connector: cfg.Connector, connMaxAge: cfg.ConnMaxAge}, nil
}

// Name returns the check's name.
func (c *Check) Name() string { return c.name }

// Check runs the check once; see the package documentation for its texts.
func (c *Check) Check(ctx context.Context) error {
	ctx, cancel := WithMargin(ctx)
	defer cancel()
	db := c.db
	switch {
	case db != nil:
	case c.connMaxAge > 0:
		db = c.pool()
	default:
		db = c.open()
		defer db.Close() // a failed close says nothing of the database's health
	}
	if c.kind == HeartBeat {
		return c.heartbeat(ctx, db)
	}
	return c.backend(ctx, db)
}

// Close releases the connection the check keeps between runs (ConnMaxAge)
// and the goroutines of its pool; a later run would open another. Call it
// once no run is in progress. It does nothing to a DB of the caller's, or
// with ConnMaxAge 0, when nothing outlives a run.
func (c *Check) Close() error {
	c.mu.Lock()
	db := c.kept
	c.kept = nil
	c.mu.Unlock()
	if db == nil {
		return nil
	}
	return db.Close()
}

// open returns a pool of at most one connection of the connector.
func (c *Check) open() *sql.DB {
	// The anonymous struct hides a Close method of the connector, which
	// db.Close would call: the connector serves every pool.
	db := sql.OpenDB(struct{ driver.Connector }{c.connector})
	db.SetMaxOpenConns(1)
	return db
}

// pool returns the pool that keeps one connection for at most connMaxAge,
// opened by the first run. A connection of a StaleConnector that went
// stale is dropped first, so that the run opens what a new client would.
func (c *Check) pool() *sql.DB {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.kept == nil {
		c.kept = c.open()
		c.kept.SetMaxIdleConns(1)
		c.kept.SetConnMaxLifetime(c.connMaxAge)
		c.kept.SetConnMaxIdleTime(c.connMaxAge)
		return c.kept
	}
	if s, ok := c.connector.(StaleConnector); ok && s.Stale() {
		// Keeping no idle connection closes the one kept; a run using it
		// right now returns it to the pool, and the next run drops it.
		c.kept.SetMaxIdleConns(0)
		c.kept.SetMaxIdleConns(1)
	}
	return c.kept
}

// withConn takes one connection of db for the whole run, so that database/sql
// checks a kept connection once (the driver's ResetSession) and replaces
// one that the server closed by a new one, rather than failing the run.
func withConn(ctx context.Context, db *sql.DB, do func(*sql.Conn) error) error {
	conn, err := db.Conn(ctx)
	if err != nil {
		return err
	}
	defer conn.Close() // back to the pool
	return do(conn)
}

// backend writes, updates and deletes a row, as django-health-check does with
// its TestModel, in one transaction so that a failure leaves no row behind.
func (c *Check) backend(ctx context.Context, db *sql.DB) error {
	err := withConn(ctx, db, func(conn *sql.Conn) error { return roundTrip(ctx, conn) })
	switch {
	case err == nil:
		return nil
	case ctx.Err() == nil && c.dialect.IsIntegrity != nil && c.dialect.IsIntegrity(err):
		return &healthjob.Error{Kind: healthjob.ErrUnexpectedResult, Message: "Integrity Error", Err: err}
	}
	return &healthjob.Error{Kind: healthjob.ErrUnavailable, Message: "Database error: " + c.reason(ctx, err), Err: err}
}

func roundTrip(ctx context.Context, conn *sql.Conn) (err error) {
	if _, err := conn.ExecContext(ctx, "CREATE TABLE IF NOT EXISTS "+ScratchTable+
		" (id VARCHAR(32) PRIMARY KEY, title VARCHAR(20) NOT NULL)"); err != nil {
		return err
	}
	// The id is random base32 text of our own making, safe to write into the
	// statements; that spares one placeholder syntax per engine.
	id := rand.Text()
	where := " WHERE id = '" + id + "'"
	tx, err := conn.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			tx.Rollback() // the error that made us roll back is the one to report
		}
	}()
	for _, stmt := range []string{
		"INSERT INTO " + ScratchTable + " (id, title) VALUES ('" + id + "', 'test')",
		"UPDATE " + ScratchTable + " SET title = 'newtest'" + where,
		"DELETE FROM " + ScratchTable + where,
	} {
		if _, err := tx.ExecContext(ctx, stmt); err != nil {
			return err
		}
	}
	return tx.Commit()
}

// heartbeat runs SELECT 1, as django-health-check's db_heartbeat does.
func (c *Check) heartbeat(ctx context.Context, db *sql.DB) error {
	var got sql.NullInt64
	err := withConn(ctx, db, func(conn *sql.Conn) error { return conn.QueryRowContext(ctx, "SELECT 1").Scan(&got) })
	switch {
	case errors.Is(err, sql.ErrNoRows), err == nil && (!got.Valid || got.Int64 != 1):
		return healthjob.Unavailable("Health Check query did not return the expected result.")
	case err != nil:
		return &healthjob.Error{Kind: healthjob.ErrUnavailable, Message: "Database health check failed: " + c.reason(ctx, err), Err: err}
	}
	return nil
}

func (c *Check) reason(ctx context.Context, err error) string {
	if c.dialect.Message != nil && ctx.Err() == nil {
		if msg := c.dialect.Message(err); msg != "" {
			return msg
		}
	}
	return Reason(ctx, err)
}

// Reason renders err, an error of a database operation under ctx, for an
// operator: "timed out" or "cancelled" when ctx ended (whatever the driver
// made of that), the network error when the server could not be reached, and
// otherwise the error's own text.
func Reason(ctx context.Context, err error) string {
	switch {
	case errors.Is(ctx.Err(), context.DeadlineExceeded):
		return "timed out"
	case ctx.Err() != nil:
		return "cancelled"
	}
	// A server's error (pgx's, say) under a driver's wrapping says it best.
	var server interface {
		error
		SQLState() string
	}
	if errors.As(err, &server) {
		return server.Error()
	}
	var op *net.OpError
	if errors.As(err, &op) {
		return op.Error()
	}
	return err.Error()
}

// WithBusyTimeout adds a busy timeout to an SQLite DSN (the path ParseURL
// returns), so that a connection waits for a lock another writer holds
// (healthjob's own store, say) instead of failing at once with "database is
// locked". The driver, modernc.org/sqlite, ends the wait when the context of
// the statement ends, so the timeout only needs to be longer than any
// deadline. A DSN that sets its own busy timeout keeps it.
func WithBusyTimeout(dsn string) string {
	if strings.Contains(dsn, "busy_timeout") || strings.Contains(dsn, "_timeout=") {
		return dsn
	}
	sep := "?"
	if strings.Contains(dsn, "?") {
		sep = "&"
	}
	return dsn + sep + "_busy_timeout=3600000"
}

// WithMargin returns a context that ends a little before ctx's deadline, so
// that a check that hits it still has time to report why before the runner
// gives up on it: a tenth of the time left, at most 250ms.
func WithMargin(ctx context.Context) (context.Context, context.CancelFunc) {
	deadline, ok := ctx.Deadline()
	if !ok {
		return context.WithCancel(ctx)
	}
	margin := min(time.Until(deadline)/10, 250*time.Millisecond)
	return context.WithDeadline(ctx, deadline.Add(-margin))
}
