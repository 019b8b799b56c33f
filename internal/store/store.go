// Package store keeps check results in SQL: the records table of the spec,
// as Django creates it (django_health_check_job_heathcheckjob), plus
// healthjob's nullable columns, under embedded numbered migrations per
// dialect. It imports no driver: the binary and the tests choose them.
package store

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"strings"
	"time"

	"github.com/healthjob/healthjob"
	"github.com/healthjob/healthjob/checks/sqldb"
	"github.com/pressly/goose/v3"
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
	dialect dialect
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
	d, ok := dialects[driver]
	if !ok {
		return nil, fmt.Errorf("open %s: the %s store is not supported by this build", sqldb.Redact(url), driver)
	}
	db, err := sql.Open(driver, d.dsn(dsn))
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", sqldb.Redact(url), err)
	}
	d.configure(db)
	s := &DB{db: db, dialect: d, url: url, Now: time.Now}
	if err := s.init(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("open %s: %w", sqldb.Redact(url), err)
	}
	return s, nil
}

func (s *DB) init(ctx context.Context) error {
	if err := s.db.PingContext(ctx); err != nil {
		return err
	}
	for _, stmt := range s.dialect.setup {
		if _, err := s.db.ExecContext(ctx, stmt); err != nil {
			return fmt.Errorf("%s: %w", stmt, err)
		}
	}
	return nil
}

// Close closes the database.
func (s *DB) Close() error { return s.db.Close() }

// SQL returns the underlying database handle.
func (s *DB) SQL() *sql.DB { return s.db }

func (s *DB) provider() (*goose.Provider, error) {
	fsys, err := fs.Sub(migrations, "migrations/"+s.dialect.name)
	if err != nil {
		return nil, err
	}
	return goose.NewProvider(s.dialect.goose, s.db, fsys,
		goose.WithTableName(versionTable), goose.WithDisableGlobalRegistry(true))
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

// rowsPerInsert bounds one multi-row INSERT below every engine's limit on
// bound parameters.
const rowsPerInsert = 500

// SaveRun writes one record per check of run in one transaction, with one
// multi-row insert per 500 checks: the spec's bulk_create.
func (s *DB) SaveRun(ctx context.Context, run *healthjob.Run) error {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("save run: %w", err)
	}
	defer tx.Rollback() //nolint:errcheck // a no-op after Commit
	if err := s.insertRecords(ctx, tx, run); err != nil {
		return fmt.Errorf("save run: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("save run: %w", err)
	}
	return nil
}

const columns = "name, status, message, created_at, updated_at, run_uuid, duration_ms, app_id, level, critical"

func (s *DB) insertRecords(ctx context.Context, tx *sql.Tx, run *healthjob.Run) error {
	created := s.dialect.time(run.Timestamp.Time)
	updated := s.dialect.time(s.Now())
	var app any
	if run.SyncAppID != "" {
		app = run.SyncAppID
	}
	for start := 0; start < len(run.Checks); start += rowsPerInsert {
		batch := run.Checks[start:min(start+rowsPerInsert, len(run.Checks))]
		var q strings.Builder
		q.WriteString("INSERT INTO " + Table + " (" + columns + ") VALUES ")
		args := make([]any, 0, len(batch)*10)
		for i, c := range batch {
			if i > 0 {
				q.WriteString(", ")
			}
			q.WriteString(s.dialect.row(len(args), 10))
			args = append(args, c.Name, c.Status, c.Message, created, updated,
				run.UUID, float64(c.Duration.Microseconds())/1000, app, string(c.Level), c.Critical)
		}
		if _, err := tx.ExecContext(ctx, q.String(), args...); err != nil {
			return err
		}
	}
	return nil
}

// Record is one stored row.
type Record struct {
	ID        int64
	Name      string
	Status    int
	Message   string
	CreatedAt time.Time
	UpdatedAt time.Time
	RunUUID   string
	AppID     string
	Level     string
	Duration  time.Duration
	Critical  bool
}

// Latest returns up to limit records, newest first.
func (s *DB) Latest(ctx context.Context, limit int) ([]Record, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT id, name, status, message, created_at, updated_at,
		COALESCE(run_uuid, ''), COALESCE(app_id, ''), COALESCE(level, ''), COALESCE(duration_ms, 0), COALESCE(critical, true)
		FROM `+Table+` ORDER BY id DESC LIMIT `+fmt.Sprint(limit))
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Record
	for rows.Next() {
		var r Record
		var created, updated any
		var ms float64
		if err := rows.Scan(&r.ID, &r.Name, &r.Status, &r.Message, &created, &updated, &r.RunUUID, &r.AppID, &r.Level, &ms, &r.Critical); err != nil {
			return nil, err
		}
		if r.CreatedAt, err = s.dialect.parseTime(created); err != nil {
			return nil, err
		}
		if r.UpdatedAt, err = s.dialect.parseTime(updated); err != nil {
			return nil, err
		}
		r.Duration = time.Duration(ms * float64(time.Millisecond))
		out = append(out, r)
	}
	return out, rows.Err()
}
