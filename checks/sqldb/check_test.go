package sqldb_test

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/healthjob/healthjob/checks/sqldb"
	"github.com/healthjob/healthjob/healthjobtest"
	"go.uber.org/goleak"
)

// fake is a database that answers SELECT 1 with row (nil: no row) and fails
// the statements that start with failOn with err. The engines' tests run the
// checks against real servers; this one reaches the answers no server gives.
type fake struct {
	row    []driver.Value
	failOn string
	err    error
	closed bool // Close was called on the connector

	connects atomic.Int64 // connections made
	open     atomic.Int64 // connections not closed yet
	dropped  atomic.Bool  // the server closed the open connections
}

func (f *fake) Connect(context.Context) (driver.Conn, error) {
	f.connects.Add(1)
	f.open.Add(1)
	f.dropped.Store(false)
	return conn{f}, nil
}
func (f *fake) Driver() driver.Driver { return nil }
func (f *fake) Close() error          { f.closed = true; return nil }

type conn struct{ f *fake }

func (c conn) Prepare(string) (driver.Stmt, error) {
	return nil, errors.New("fake: no prepared statements")
}
func (c conn) Close() error              { c.f.open.Add(-1); return nil }
func (c conn) Begin() (driver.Tx, error) { return c, nil }
func (c conn) Commit() error             { return nil }
func (c conn) Rollback() error           { return nil }

// ResetSession tells database/sql, when it takes a kept connection, that
// the server closed it, as the drivers do.
func (c conn) ResetSession(context.Context) error {
	if c.f.dropped.Load() {
		return driver.ErrBadConn
	}
	return nil
}

func (c conn) ExecContext(_ context.Context, query string, _ []driver.NamedValue) (driver.Result, error) {
	if c.f.failOn != "" && strings.HasPrefix(query, c.f.failOn) {
		return nil, c.f.err
	}
	return driver.RowsAffected(1), nil
}

func (c conn) QueryContext(_ context.Context, query string, _ []driver.NamedValue) (driver.Rows, error) {
	if c.f.failOn != "" && strings.HasPrefix(query, c.f.failOn) {
		return nil, c.f.err
	}
	return &rows{row: c.f.row}, nil
}

type rows struct{ row []driver.Value }

func (r *rows) Columns() []string { return []string{"1"} }
func (r *rows) Close() error      { return nil }
func (r *rows) Next(dest []driver.Value) error {
	if r.row == nil {
		return io.EOF
	}
	copy(dest, r.row)
	r.row = nil
	return nil
}

var errConstraint = errors.New("constraint violated")

// dialect knows errConstraint as an integrity error and has a server
// message for none.
var dialect = sqldb.Dialect{
	IsIntegrity: func(err error) bool { return errors.Is(err, errConstraint) },
	Message:     func(error) string { return "" },
}

func TestFakeStatus(t *testing.T) {
	tests := []struct {
		name string
		kind sqldb.Kind
		f    *fake
		want string
	}{
		{"heartbeat", sqldb.HeartBeat, &fake{row: []driver.Value{int64(1)}}, "working"},
		{"heartbeat, wrong result", sqldb.HeartBeat, &fake{row: []driver.Value{int64(2)}},
			"unavailable: Health Check query did not return the expected result."},
		{"heartbeat, NULL", sqldb.HeartBeat, &fake{row: []driver.Value{nil}},
			"unavailable: Health Check query did not return the expected result."},
		{"heartbeat, no row", sqldb.HeartBeat, &fake{},
			"unavailable: Health Check query did not return the expected result."},
		{"heartbeat, error", sqldb.HeartBeat, &fake{failOn: "SELECT", err: errors.New("server closed the connection")},
			"unavailable: Database health check failed: server closed the connection"},
		{"backend", sqldb.Backend, &fake{}, "working"},
		{"backend, integrity error", sqldb.Backend, &fake{failOn: "UPDATE", err: errConstraint},
			"unexpected result: Integrity Error"},
		{"backend, other error", sqldb.Backend, &fake{failOn: "CREATE", err: errors.New("permission denied for schema public")},
			"unavailable: Database error: permission denied for schema public"},
		{"backend, network error", sqldb.Backend, &fake{failOn: "INSERT", err: errors.Join(errors.New("write failed"),
			&net.OpError{Op: "write", Net: "tcp", Err: errors.New("broken pipe")})},
			"unavailable: Database error: write tcp: broken pipe"},
	}
	for _, tt := range tests {
		for _, age := range []time.Duration{0, time.Minute} {
			t.Run(fmt.Sprintf("%s, ConnMaxAge %s", tt.name, age), func(t *testing.T) {
				c, err := sqldb.New(sqldb.Config{Kind: tt.kind, Dialect: dialect, Connector: tt.f, ConnMaxAge: age})
				if err != nil {
					t.Fatal(err)
				}
				healthjobtest.AssertStatus(t, c, time.Second, tt.want)
				if age == 0 && tt.f.open.Load() != 0 {
					t.Errorf("ConnMaxAge 0: %d connections open after the run, want 0", tt.f.open.Load())
				}
				if err := c.Close(); err != nil {
					t.Errorf("Close() = %v", err)
				}
				if tt.f.closed {
					t.Errorf("the check closed its connector, which serves every run")
				}
			})
		}
	}
}

// run runs c once and fails the test unless it passed.
func run(t *testing.T, c *sqldb.Check) {
	t.Helper()
	healthjobtest.AssertStatus(t, c, 10*time.Second, "working")
}

// counts fails the test unless f made connects connections, of which open
// are still open.
func counts(t *testing.T, f *fake, connects, open int64) {
	t.Helper()
	if got, gotOpen := f.connects.Load(), f.open.Load(); got != connects || gotOpen != open {
		t.Errorf("%d connections made, %d open; want %d made, %d open", got, gotOpen, connects, open)
	}
}

// TestConnectionPerRun: with ConnMaxAge 0, every run connects and closes
// its connection before returning.
func TestConnectionPerRun(t *testing.T) {
	f := &fake{row: []driver.Value{int64(1)}}
	c, err := sqldb.New(sqldb.Config{Kind: sqldb.HeartBeat, Connector: f})
	if err != nil {
		t.Fatal(err)
	}
	for range 3 {
		run(t, c)
	}
	counts(t, f, 3, 0)
}

// TestKeptConnection runs a check that keeps its connection for a minute,
// on the fake clock of a synctest bubble: the runs within the minute share
// one connection; the first run after it opens a new one, and the old one is
// closed.
func TestKeptConnection(t *testing.T) {
	for _, kind := range []sqldb.Kind{sqldb.Backend, sqldb.HeartBeat} {
		synctest.Test(t, func(t *testing.T) {
			f := &fake{row: []driver.Value{int64(1)}}
			c, err := sqldb.New(sqldb.Config{Kind: kind, Connector: f, ConnMaxAge: time.Minute})
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close() // or the bubble's goroutines outlive it, and synctest fails the test
			start := time.Now()
			run(t, c)
			run(t, c)
			counts(t, f, 1, 1)
			time.Sleep(59*time.Second - time.Since(start))
			run(t, c)
			counts(t, f, 1, 1)
			time.Sleep(time.Minute + time.Millisecond - time.Since(start))
			run(t, c)
			counts(t, f, 2, 1)
			run(t, c)
			counts(t, f, 2, 1)
		})
	}
}

// TestKeptConnectionDropped: a kept connection that the server closed is
// replaced, and the run passes.
func TestKeptConnectionDropped(t *testing.T) {
	f := &fake{row: []driver.Value{int64(1)}}
	c, err := sqldb.New(sqldb.Config{Kind: sqldb.HeartBeat, Connector: f, ConnMaxAge: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	run(t, c)
	f.dropped.Store(true)
	run(t, c)
	counts(t, f, 2, 1)
}

// staleFake is a fake whose connections go stale on demand, as an SQLite
// connection to a replaced file does.
type staleFake struct {
	*fake
	stale atomic.Bool
}

func (f *staleFake) Stale() bool { return f.stale.Load() }

func TestStaleConnector(t *testing.T) {
	f := &staleFake{fake: &fake{row: []driver.Value{int64(1)}}}
	c, err := sqldb.New(sqldb.Config{Kind: sqldb.HeartBeat, Connector: f, ConnMaxAge: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	run(t, c)
	run(t, c)
	counts(t, f.fake, 1, 1)
	f.stale.Store(true)
	run(t, c)
	counts(t, f.fake, 2, 1)
	f.stale.Store(false)
	run(t, c)
	counts(t, f.fake, 2, 1)
}

// TestClose: Close closes the kept connection and leaves no goroutine of
// the pool behind; a later run opens another. Over a pool of the caller's,
// Close leaves the pool open.
func TestClose(t *testing.T) {
	before := goleak.IgnoreCurrent()
	f := &fake{row: []driver.Value{int64(1)}}
	c, err := sqldb.New(sqldb.Config{Kind: sqldb.HeartBeat, Connector: f, ConnMaxAge: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Close(); err != nil {
		t.Errorf("Close() before any run = %v", err)
	}
	run(t, c)
	if err := c.Close(); err != nil {
		t.Errorf("Close() = %v", err)
	}
	counts(t, f, 1, 0)
	goleak.VerifyNone(t, before)
	run(t, c)
	counts(t, f, 2, 1)
	if err := c.Close(); err != nil {
		t.Errorf("Close() after another run = %v", err)
	}
	if err := c.Close(); err != nil {
		t.Errorf("Close() again = %v", err)
	}
	counts(t, f, 2, 0)
	goleak.VerifyNone(t, before)

	db := sql.OpenDB(&fake{row: []driver.Value{int64(1)}})
	defer db.Close()
	callers, err := sqldb.New(sqldb.Config{Kind: sqldb.HeartBeat, DB: db})
	if err != nil {
		t.Fatal(err)
	}
	run(t, callers)
	if err := callers.Close(); err != nil {
		t.Errorf("Close() of a check over the caller's pool = %v", err)
	}
	if err := db.Ping(); err != nil {
		t.Errorf("the caller's pool after Close: Ping() = %v, want it open", err)
	}
}

// TestCallersPool checks a pool the caller owns: the check borrows it and
// leaves it open.
func TestCallersPool(t *testing.T) {
	db := sql.OpenDB(&fake{row: []driver.Value{int64(1)}})
	defer db.Close()
	c, err := sqldb.New(sqldb.Config{Kind: sqldb.HeartBeat, Dialect: dialect, DB: db})
	if err != nil {
		t.Fatal(err)
	}
	healthjobtest.AssertStatus(t, c, time.Second, "working")
	if err := db.Ping(); err != nil {
		t.Errorf("pool after the check: Ping() = %v, want it open", err)
	}
}

func TestNew(t *testing.T) {
	db := sql.OpenDB(&fake{})
	defer db.Close()
	tests := []struct {
		cfg  sqldb.Config
		name string // or the error
	}{
		{sqldb.Config{DB: db}, "DatabaseBackend"},
		{sqldb.Config{DB: db, Kind: sqldb.HeartBeat}, "DatabaseHeartBeatCheck"},
		{sqldb.Config{DB: db, Alias: "replica"}, "DatabaseBackend[replica]"},
		{sqldb.Config{DB: db, Alias: "replica", Name: "Replica DB"}, "Replica DB"},
		{sqldb.Config{}, "sqldb: set exactly one of DB and Connector"},
		{sqldb.Config{DB: db, Connector: &fake{}}, "sqldb: set exactly one of DB and Connector"},
		{sqldb.Config{DB: db, Kind: 7}, "sqldb: unknown kind 7"},
		{sqldb.Config{Connector: &fake{}, ConnMaxAge: -time.Second}, "sqldb: ConnMaxAge must be 0 or more, got -1s"},
		{sqldb.Config{DB: db, ConnMaxAge: time.Minute},
			"sqldb: ConnMaxAge is for a Connector; a DB of your own keeps its connections as you set it to (DB.SetConnMaxLifetime)"},
		{sqldb.Config{Connector: &fake{}, ConnMaxAge: time.Minute}, "DatabaseBackend"},
		{sqldb.Config{DB: db, Kind: sqldb.HeartBeat, Alias: "the-replica-in-the-other-region"},
			`name "DatabaseHeartBeatCheck[the-replica-in-the-other-region]" is longer than 50 characters; choose a shorter alias or set a name`},
	}
	for _, tt := range tests {
		c, err := sqldb.New(tt.cfg)
		got := ""
		if err != nil {
			got = err.Error()
		} else {
			got = c.Name()
		}
		if got != tt.name {
			t.Errorf("New(%+v): got %q, want %q", tt.cfg, got, tt.name)
		}
	}
}

func TestReason(t *testing.T) {
	refused := &net.OpError{Op: "dial", Net: "tcp", Err: errors.New("connect: connection refused")}
	expired, cancel := context.WithTimeout(context.Background(), 0)
	defer cancel()
	cancelled, cancel := context.WithCancel(context.Background())
	cancel()
	tests := []struct {
		ctx  context.Context
		err  error
		want string
	}{
		{context.Background(), errors.New("no such table: x"), "no such table: x"},
		{context.Background(), errors.Join(errors.New("failed to connect"), refused), "dial tcp: connect: connection refused"},
		{context.Background(), errors.Join(errors.New("failed to connect"), serverError{}), "FATAL: too many connections (SQLSTATE 53300)"},
		{expired, errors.New("i/o timeout"), "timed out"},
		{cancelled, context.Canceled, "cancelled"},
	}
	for _, tt := range tests {
		if got := sqldb.Reason(tt.ctx, tt.err); got != tt.want {
			t.Errorf("Reason(%v) = %q, want %q", tt.err, got, tt.want)
		}
	}
}

// serverError is an error the server sent, as pgconn.PgError is.
type serverError struct{}

func (serverError) Error() string    { return "FATAL: too many connections (SQLSTATE 53300)" }
func (serverError) SQLState() string { return "53300" }

func TestWithMargin(t *testing.T) {
	for _, tt := range []struct{ timeout, margin time.Duration }{
		{time.Second, 100 * time.Millisecond},
		{10 * time.Second, 250 * time.Millisecond},
	} {
		parent, cancel := context.WithTimeout(context.Background(), tt.timeout)
		ctx, cancelMargin := sqldb.WithMargin(parent)
		outer, _ := parent.Deadline()
		inner, _ := ctx.Deadline()
		if d := outer.Sub(inner); d < tt.margin-10*time.Millisecond || d > tt.margin {
			t.Errorf("WithMargin(ctx with %s left) ends %s before it, want %s", tt.timeout, d, tt.margin)
		}
		cancelMargin()
		cancel()
	}
	ctx, cancel := sqldb.WithMargin(context.Background())
	defer cancel()
	if _, ok := ctx.Deadline(); ok {
		t.Errorf("WithMargin(ctx without deadline) has a deadline")
	}
}

func TestWithBusyTimeout(t *testing.T) {
	for dsn, want := range map[string]string{
		"healthjob.db":                          "healthjob.db?_busy_timeout=3600000",
		":memory:":                              ":memory:?_busy_timeout=3600000",
		"file:app.db?mode=ro":                   "file:app.db?mode=ro&_busy_timeout=3600000",
		"app.db?_pragma=busy_timeout(100)":      "app.db?_pragma=busy_timeout(100)",
		"app.db?_timeout=100":                   "app.db?_timeout=100",
		"app.db?_busy_timeout=5&_txlock=exclus": "app.db?_busy_timeout=5&_txlock=exclus",
	} {
		if got := sqldb.WithBusyTimeout(dsn); got != want {
			t.Errorf("WithBusyTimeout(%q) = %q, want %q", dsn, got, want)
		}
	}
}
