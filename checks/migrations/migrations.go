// Package migrations checks that a database has every migration applied that
// its migration files define, as django-health-check's
// health_check.contrib.migrations does for Django (default name
// MigrationsHealthCheck). It reads three bookkeeping formats:
//
//   - goose: the version table (goose_db_version) against a directory of
//     goose files, NNN_name.sql or NNN_name.go; a version counts as applied
//     when its latest row says so, as goose reads it.
//   - migrate (golang-migrate): the one row of schema_migrations (version,
//     dirty) against a directory of NNN_name.up.sql files.
//   - django: the (app, name) rows of django_migrations against the
//     migration modules of each configured app: every .py file of its
//     migrations directory whose name starts with neither "_" nor "~", as
//     Django's loader finds them (so __init__.py is not one). Squashed
//     migrations count as files of their own: keep the squashed originals'
//     rows, as `manage.py migrate` records them.
//
// Each run reads the migration files afresh, then opens one connection
// under the run's deadline, closes it before returning, and:
//
//  1. finds the version table; a missing table means nothing is applied yet;
//  2. reads what is applied, and reports `unavailable: Database is not
//     ready: <reason>` when it cannot;
//  3. for golang-migrate, reports `unavailable: Migration N is dirty: fix it
//     and force the version` when the last migration failed half-way;
//  4. reports `unavailable: There are migrations to apply: <the first three>`
//     when a file's migration is not applied.
//
// The database's driver must be linked into the program: import the
// checks/postgres, checks/mysql or checks/sqlite package, or the driver.
package migrations

import (
	"cmp"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/healthjob/healthjob"
	"github.com/healthjob/healthjob/checks/sqldb"
)

// Format names a migration tool's bookkeeping.
type Format string

// The formats the check reads.
const (
	Goose   Format = "goose"
	Migrate Format = "migrate" // golang-migrate
	Django  Format = "django"
)

// defaultTables are the tools' own table names.
var defaultTables = map[Format]string{
	Goose:   "goose_db_version",
	Migrate: "schema_migrations",
	Django:  "django_migrations",
}

// Config configures a migrations check.
type Config struct {
	// Name overrides the default name, MigrationsHealthCheck.
	Name string
	// URL is the database's URL: sqlite:PATH, postgres://… or mysql://…
	URL    string
	Format Format
	// Dir is the directory of the migration files (goose and migrate).
	Dir string
	// Apps maps a Django app's label to its migrations directory (django).
	Apps map[string]string
	// Dirs lists Django migrations directories, each labelled by the name of
	// the directory above it: polls/migrations is the app polls (django).
	Dirs []string
	// Table overrides the format's table name, e.g. for goose's -table flag
	// or golang-migrate's x-migrations-table. It may be schema-qualified.
	Table string
}

func (cfg *Config) defaults() {
	if cfg.Name == "" {
		cfg.Name = "MigrationsHealthCheck"
	}
	if cfg.Table == "" {
		cfg.Table = defaultTables[cfg.Format]
	}
}

// Check is a migrations check: see the package documentation.
type Check struct {
	name        string
	driver, dsn string
	format      Format
	dir         string
	apps        map[string]string
	table       string
}

var _ healthjob.Check = (*Check)(nil)

// identifier is a table name that may be written into a statement as it is.
var identifier = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)?$`)

// driverImports names the package that links each driver in.
var driverImports = map[string]string{
	sqldb.DriverPostgres: "github.com/jackc/pgx/v5/stdlib",
	sqldb.DriverMySQL:    "github.com/go-sql-driver/mysql",
	sqldb.DriverSQLite:   "modernc.org/sqlite",
}

// New returns a migrations check. The directories must exist; the database
// is not opened until the check runs.
func New(cfg Config) (*Check, error) {
	cfg.defaults()
	driver, dsn, err := sqldb.ParseURL(cfg.URL)
	if err != nil {
		return nil, err
	}
	if !slices.Contains(sql.Drivers(), driver) {
		return nil, fmt.Errorf("database URL %q: its driver is not linked into this program; import %s", sqldb.Redact(cfg.URL), driverImports[driver])
	}
	if driver == sqldb.DriverSQLite {
		dsn = sqldb.WithBusyTimeout(dsn)
	}
	c := &Check{name: cfg.Name, driver: driver, dsn: dsn, format: cfg.Format, dir: cfg.Dir, table: cfg.Table}
	var dirs []string
	switch cfg.Format {
	case Goose, Migrate:
		if cfg.Dir == "" {
			return nil, fmt.Errorf("dir: missing; format %s needs the directory of its migration files", cfg.Format)
		}
		if len(cfg.Apps)+len(cfg.Dirs) > 0 {
			return nil, fmt.Errorf("apps, dirs: only format django reads apps; format %s reads dir", cfg.Format)
		}
		dirs = []string{cfg.Dir}
	case Django:
		if cfg.Dir != "" {
			return nil, errors.New("dir: format django reads apps or dirs, the migrations directory of each app")
		}
		c.apps = map[string]string{}
		for app, dir := range cfg.Apps {
			c.apps[app] = dir
		}
		for _, dir := range cfg.Dirs {
			app := filepath.Base(filepath.Dir(filepath.Clean(dir)))
			if _, dup := c.apps[app]; dup {
				return nil, fmt.Errorf("dirs: %s: app %s has its migrations directory given twice", dir, app)
			}
			c.apps[app] = dir
		}
		if len(c.apps) == 0 {
			return nil, errors.New("apps: missing; format django needs the migrations directory of at least one app")
		}
		for _, dir := range c.apps {
			dirs = append(dirs, dir)
		}
	case "":
		return nil, errors.New("format: missing; want goose, migrate or django")
	default:
		return nil, fmt.Errorf("format: want goose, migrate or django, got %q", cfg.Format)
	}
	if !identifier.MatchString(cfg.Table) {
		return nil, fmt.Errorf("table: %q is not a table name such as %s", cfg.Table, defaultTables[cfg.Format])
	}
	for _, dir := range dirs {
		if info, err := os.Stat(dir); err != nil || !info.IsDir() {
			return nil, fmt.Errorf("migrations directory %s: not a directory", dir)
		}
	}
	return c, nil
}

// Name returns the check's name.
func (c *Check) Name() string { return c.name }

// Check compares the database with the migration files once.
func (c *Check) Check(ctx context.Context) error {
	ctx, cancel := sqldb.WithMargin(ctx)
	defer cancel()
	files, err := c.files()
	if err != nil {
		return healthjob.Unavailable("Migration files cannot be read: %v", err)
	}
	db, err := sql.Open(c.driver, c.dsn)
	if err != nil {
		return healthjob.Unavailable("Database is not ready: %v", err)
	}
	db.SetMaxOpenConns(1)
	defer db.Close() // a failed close says nothing of the database's health

	pending, err := c.pending(ctx, db, files)
	var dirty dirtyError
	switch {
	case errors.As(err, &dirty):
		return healthjob.Unavailable("Migration %d is dirty: fix it and force the version", int64(dirty))
	case err != nil:
		return &healthjob.Error{Kind: healthjob.ErrUnavailable, Message: "Database is not ready: " + sqldb.Reason(ctx, err), Err: err}
	case len(pending) > 3:
		return healthjob.Unavailable("There are migrations to apply: %s and %d more", strings.Join(pending[:3], ", "), len(pending)-3)
	case len(pending) > 0:
		return healthjob.Unavailable("There are migrations to apply: %s", strings.Join(pending, ", "))
	}
	return nil
}

// dirtyError reports golang-migrate's dirty flag on a version.
type dirtyError int64

func (e dirtyError) Error() string { return fmt.Sprintf("migration %d is dirty", int64(e)) }

// migration is one migration file: its version (goose, migrate) or its
// app-qualified name (django), and the name an operator reads.
type migration struct {
	version int64
	key     string
	show    string
}

// gooseFile and migrateFile match the file names the tools read.
var (
	gooseFile   = regexp.MustCompile(`^(\d+)_.*\.(sql|go)$`)
	migrateFile = regexp.MustCompile(`^(\d+)_.*\.up\.[^.]+$`)
)

// files lists the migrations the files define, in the order they apply.
func (c *Check) files() ([]migration, error) {
	if c.format == Django {
		var all []migration
		for app, dir := range c.apps {
			entries, err := os.ReadDir(dir)
			if err != nil {
				return nil, err
			}
			for _, e := range entries {
				name, ok := strings.CutSuffix(e.Name(), ".py")
				if !ok || e.IsDir() || strings.HasPrefix(name, "_") || strings.HasPrefix(name, "~") {
					continue
				}
				all = append(all, migration{key: app + "." + name, show: app + "." + name})
			}
		}
		slices.SortFunc(all, func(a, b migration) int { return strings.Compare(a.key, b.key) })
		return all, nil
	}
	entries, err := os.ReadDir(c.dir)
	if err != nil {
		return nil, err
	}
	pattern := gooseFile
	if c.format == Migrate {
		pattern = migrateFile
	}
	var all []migration
	for _, e := range entries {
		m := pattern.FindStringSubmatch(e.Name())
		if m == nil || e.IsDir() || strings.HasSuffix(e.Name(), "_test.go") {
			continue
		}
		v, err := strconv.ParseInt(m[1], 10, 64)
		if err != nil || v < 1 {
			continue // goose and migrate skip such files too
		}
		all = append(all, migration{version: v, show: e.Name()})
	}
	slices.SortFunc(all, func(a, b migration) int { return cmp.Compare(a.version, b.version) })
	return all, nil
}

// pending returns the files' migrations the database has not applied.
func (c *Check) pending(ctx context.Context, db *sql.DB, files []migration) ([]string, error) {
	exists, err := c.tableExists(ctx, db)
	if err != nil {
		return nil, err
	}
	var applied func(migration) bool
	switch {
	case !exists:
		applied = func(migration) bool { return false }
	case c.format == Goose:
		applied, err = c.gooseApplied(ctx, db)
	case c.format == Migrate:
		applied, err = c.migrateApplied(ctx, db)
	default:
		applied, err = c.djangoApplied(ctx, db)
	}
	if err != nil {
		return nil, err
	}
	var pending []string
	for _, m := range files {
		if !applied(m) {
			pending = append(pending, m.show)
		}
	}
	return pending, nil
}

// gooseApplied reads goose's version table: the latest row of a version
// tells whether it is applied (a rollback adds a row with is_applied false).
func (c *Check) gooseApplied(ctx context.Context, db *sql.DB) (func(migration) bool, error) {
	rows, err := db.QueryContext(ctx, "SELECT version_id, is_applied FROM "+c.table+" ORDER BY id DESC")
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	applied := map[int64]bool{}
	for rows.Next() {
		var version int64
		var isApplied bool
		if err := rows.Scan(&version, &isApplied); err != nil {
			return nil, err
		}
		if _, seen := applied[version]; !seen {
			applied[version] = isApplied
		}
	}
	return func(m migration) bool { return applied[m.version] }, rows.Err()
}

// migrateApplied reads golang-migrate's one row: every version up to it is
// applied, unless it is dirty.
func (c *Check) migrateApplied(ctx context.Context, db *sql.DB) (func(migration) bool, error) {
	var version int64
	var dirty bool
	err := db.QueryRowContext(ctx, "SELECT version, dirty FROM "+c.table+" LIMIT 1").Scan(&version, &dirty)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return func(migration) bool { return false }, nil
	case err != nil:
		return nil, err
	case dirty:
		return nil, dirtyError(version)
	}
	return func(m migration) bool { return m.version <= version }, nil
}

// djangoApplied reads the (app, name) rows of django_migrations.
func (c *Check) djangoApplied(ctx context.Context, db *sql.DB) (func(migration) bool, error) {
	rows, err := db.QueryContext(ctx, "SELECT app, name FROM "+c.table)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	applied := map[string]bool{}
	for rows.Next() {
		var app, name string
		if err := rows.Scan(&app, &name); err != nil {
			return nil, err
		}
		applied[app+"."+name] = true
	}
	return func(m migration) bool { return applied[m.key] }, rows.Err()
}

// tableExists tells whether the version table exists, asking each engine's
// catalogue; a schema-qualified name looks in that schema only.
func (c *Check) tableExists(ctx context.Context, db *sql.DB) (bool, error) {
	schema, table, qualified := strings.Cut(c.table, ".")
	if !qualified {
		schema, table = "", c.table
	}
	var exists bool
	var err error
	switch c.driver {
	case sqldb.DriverPostgres:
		err = db.QueryRowContext(ctx, "SELECT to_regclass($1) IS NOT NULL", c.table).Scan(&exists)
	case sqldb.DriverMySQL:
		err = db.QueryRowContext(ctx, "SELECT COUNT(*) > 0 FROM information_schema.tables WHERE table_schema = COALESCE(NULLIF(?, ''), DATABASE()) AND table_name = ?", schema, table).Scan(&exists)
	default:
		err = db.QueryRowContext(ctx, "SELECT COUNT(*) > 0 FROM pragma_table_list WHERE type = 'table' AND name = ? AND (? = '' OR schema = ?)", table, schema, schema).Scan(&exists)
	}
	return exists, err
}
