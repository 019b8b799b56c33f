// Package store keeps check results in SQL — SQLite, PostgreSQL or
// MySQL/MariaDB, chosen by the database URL's scheme: the records table of
// the spec, as Django creates it on that engine
// (django_health_check_job_heathcheckjob), plus healthjob's nullable
// columns, its indexes, and hourly roll-ups, under embedded numbered
// migrations per dialect. It reads records back for the admin and the
// records command (List, Count, Latest, Changes, Series, Distinct) and keeps
// them to a retention period (Rollup, Prune). It registers no driver: the
// binary and the tests import them.
package store

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"slices"
	"strings"
	"time"

	"github.com/healthjob/healthjob"
	"github.com/healthjob/healthjob/checks/sqldb"
	"github.com/pressly/goose/v3"
	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

// Table is the records table, named as Django names the HeathCheckJob model's.
const Table = "django_health_check_job_heathcheckjob"

// versionTable records the applied migrations; named so it cannot clash with
// a goose table the host application may keep in the same database.
const versionTable = "healthjob_schema_version"

//go:embed migrations
var migrations embed.FS

// ErrSchemaBehind is returned by Open when migrations are pending and
// automatic migration is off.
var ErrSchemaBehind = errors.New("the database schema is behind this healthjob; run `healthjob migrate` or set DATABASE_AUTO_MIGRATE=true")

// DB is an open store.
type DB struct {
	db      *sql.DB
	dialect *dialect
	url     string

	// Now is the clock for updated_at; tests replace it.
	Now func() time.Time
}

// Open opens the database named by url (see sqldb.ParseURL) and checks that
// it answers. It does not migrate; call Migrate or CheckSchema next.
func Open(ctx context.Context, url string) (*DB, error) {
	driver, dsn, err := sqldb.ParseURL(url)
	if err != nil {
		return nil, err
	}
	d := dialects[driver]
	db, err := sql.Open(driver, d.dsn(dsn))
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", sqldb.Redact(url), err)
	}
	d.configure(db)
	err = db.PingContext(ctx)
	// Turning WAL on in a new SQLite file that another process is opening
	// too is answered "busy" at once, whatever the busy timeout: try again.
	for tries := 0; isBusy(err) && tries < 500 && ctx.Err() == nil; tries++ {
		time.Sleep(10 * time.Millisecond)
		err = db.PingContext(ctx)
	}
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("open %s: %w", sqldb.Redact(url), oneLine(err))
	}
	return &DB{db: db, dialect: d, url: url, Now: time.Now}, nil
}

// isBusy tells whether err is SQLite's SQLITE_BUSY.
func isBusy(err error) bool {
	var se *sqlite.Error
	return errors.As(err, &se) && se.Code()&0xff == sqlite3.SQLITE_BUSY
}

// oneLine keeps a driver's error on one line: pgx reports each address it
// tried on a line of its own, often the same twice (with and without TLS).
func oneLine(err error) error {
	lines := strings.Split(err.Error(), "\n")
	if len(lines) == 1 {
		return err
	}
	var kept []string
	for _, l := range lines {
		if l = strings.TrimSpace(l); l != "" && !slices.Contains(kept, l) {
			kept = append(kept, l)
		}
	}
	return &lineError{strings.Join(kept, " "), err}
}

type lineError struct {
	msg string
	err error
}

func (e *lineError) Error() string { return e.msg }
func (e *lineError) Unwrap() error { return e.err }

// Close closes the database.
func (s *DB) Close() error { return s.db.Close() }

// SQL returns the underlying database handle.
func (s *DB) SQL() *sql.DB { return s.db }

func (s *DB) provider() (*goose.Provider, error) {
	fsys, err := fs.Sub(migrations, "migrations/"+s.dialect.name)
	if err != nil {
		return nil, err
	}
	opts := []goose.ProviderOption{goose.WithTableName(versionTable), goose.WithDisableGlobalRegistry(true)}
	if s.dialect.locker != nil {
		l, err := s.dialect.locker()
		if err != nil {
			return nil, err
		}
		opts = append(opts, goose.WithSessionLocker(l))
	}
	return goose.NewProvider(s.dialect.goose, s.db, fsys, opts...)
}

// Migrate applies the pending migrations, each in its own transaction, and
// returns how many it applied. A database whose schema is newer than this
// binary is refused untouched.
func (s *DB) Migrate(ctx context.Context) (int, error) {
	p, err := s.provider()
	if err != nil {
		return 0, err
	}
	if err := s.refuseNewer(ctx, p); err != nil {
		return 0, err
	}
	results, err := p.Up(ctx)
	if err != nil {
		return len(results), fmt.Errorf("migrate: %w", err)
	}
	return len(results), nil
}

// CheckSchema returns ErrSchemaBehind when migrations are pending, and an
// error when the schema is newer than this binary.
func (s *DB) CheckSchema(ctx context.Context) error {
	p, err := s.provider()
	if err != nil {
		return err
	}
	if err := s.refuseNewer(ctx, p); err != nil {
		return err
	}
	pending, err := p.HasPending(ctx)
	if err != nil {
		return fmt.Errorf("read schema version: %w", err)
	}
	if pending {
		return ErrSchemaBehind
	}
	return nil
}

func (s *DB) refuseNewer(ctx context.Context, p *goose.Provider) error {
	current, target, err := p.GetVersions(ctx)
	if err != nil {
		return fmt.Errorf("read schema version: %w", err)
	}
	if current > target {
		return fmt.Errorf("the database schema is at version %d, newer than this healthjob knows (%d): upgrade healthjob", current, target)
	}
	return nil
}

// Engine names the database engine: "sqlite", "postgres" or "mysql".
func (s *DB) Engine() string { return s.dialect.name }

// rowsPerInsert bounds one multi-row INSERT below every engine's limit on
// bound parameters.
const rowsPerInsert = 500

// copyFrom is the batch size from which PostgreSQL's COPY beats a
// multi-row INSERT (measured by BenchmarkSaveRun).
const copyFrom = 100

// columns are the records' columns a run writes, in the order of row.
var columns = []string{"name", "status", "message", "created_at", "updated_at", "run_uuid", "duration_ms", "app_id", "level", "critical"}

// SaveRun writes one record per check of run in one transaction: with COPY
// on PostgreSQL for large runs, else with one multi-row INSERT per 500
// checks — the spec's bulk_create.
func (s *DB) SaveRun(ctx context.Context, run *healthjob.Run) error {
	if err := s.saveRun(ctx, run); err != nil {
		return fmt.Errorf("save run: %w", err)
	}
	return nil
}

func (s *DB) saveRun(ctx context.Context, run *healthjob.Run) error {
	rows := s.rows(run)
	conn, err := s.db.Conn(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	tx, err := conn.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback() //nolint:errcheck // a no-op after Commit
	if s.dialect.copy != nil && len(rows) >= copyFrom {
		// COPY runs on the same connection, inside the transaction tx began.
		err = s.dialect.copy(ctx, conn, rows)
	} else {
		err = s.insert(ctx, tx, rows)
	}
	if err != nil {
		return err
	}
	return tx.Commit()
}

// rows renders run's checks as records in the order of columns.
func (s *DB) rows(run *healthjob.Run) [][]any {
	created := s.dialect.time(run.Timestamp.Time)
	updated := s.dialect.time(s.Now())
	var app any
	if run.SyncAppID != "" {
		app = run.SyncAppID
	}
	rows := make([][]any, len(run.Checks))
	for i, c := range run.Checks {
		rows[i] = []any{c.Name, c.Status, c.Message, created, updated,
			run.UUID, float64(c.Duration.Microseconds()) / 1000, app, string(c.Level), c.Critical}
	}
	return rows
}

func (s *DB) insert(ctx context.Context, tx *sql.Tx, rows [][]any) error {
	tuple := "(" + strings.TrimSuffix(strings.Repeat("?, ", len(columns)), ", ") + ")"
	for start := 0; start < len(rows); start += rowsPerInsert {
		batch := rows[start:min(start+rowsPerInsert, len(rows))]
		var q strings.Builder
		q.WriteString("INSERT INTO " + Table + " (" + strings.Join(columns, ", ") + ") VALUES ")
		args := make([]any, 0, len(batch)*len(columns))
		for i, r := range batch {
			if i > 0 {
				q.WriteString(", ")
			}
			q.WriteString(tuple)
			args = append(args, r...)
		}
		if _, err := tx.ExecContext(ctx, s.dialect.rebind(q.String()), args...); err != nil {
			return err
		}
	}
	return nil
}
